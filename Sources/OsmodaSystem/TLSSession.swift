#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import COpenSSL
import OsmodaCore

/// The client `SSL_CTX`: TLS 1.2 and later (OpenSSL 3's defaults), trusting the
/// system CA store (`SSL_CTX_set_default_verify_paths`).
///
/// `@unchecked Sendable`: after setup the context is only read, and OpenSSL makes
/// `SSL_new` on a shared context thread-safe.
private final class TLSClientContext: @unchecked Sendable {
    let ctx: OpaquePointer

    init?() {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { return nil }
        self.ctx = ctx
        // Verification runs in every handshake but never aborts it: callers read the
        // result (`TLSSession.verification`) and decide, so that an expiry check can
        // still see the certificate of a server it does not trust.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        _ = SSL_CTX_set_default_verify_paths(ctx)
    }

    deinit { SSL_CTX_free(ctx) }

    static let shared = TLSClientContext()
}

/// What the handshake made of the server's certificate chain and name.
public enum TLSVerification: Sendable, Equatable {
    /// The chain leads to a trusted root and the certificate names the host.
    case trusted
    /// It does not; the reason is OpenSSL's (`self-signed certificate`,
    /// `hostname mismatch`, `certificate has expired`, …).
    case untrusted(String)

    public var isTrusted: Bool { self == .trusted }
}

/// Facts about a certificate the probes report.
public struct TLSCertificateInfo: Sendable, Equatable {
    /// The end of the validity period (`notAfter`).
    public var notAfter: Timestamp
    /// Seconds from now to `notAfter` (negative once expired), by `ASN1_TIME_diff`.
    public var secondsLeft: Int64

    public init(notAfter: Timestamp, secondsLeft: Int64) {
        self.notAfter = notAfter
        self.secondsLeft = secondsLeft
    }

    /// Whole days left, rounded down: 0 on the last day, -1 once expired.
    public var daysLeft: Int {
        let d = secondsLeft / 86400
        return Int(secondsLeft < 0 && secondsLeft % 86400 != 0 ? d - 1 : d)
    }
}

/// A TLS client session over a TCP connection.
///
/// OpenSSL works on memory BIOs and this class moves the bytes over the socket, so
/// every wait is bounded by the caller's deadline and no write can raise `SIGPIPE`.
public final class TLSSession: ByteStream {
    private let tcp: TCPConnection
    private let context: TLSClientContext
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    /// The verification result, settled by the handshake.
    public private(set) var verification: TLSVerification = .untrusted("no handshake")

    private init(tcp: TCPConnection, context: TLSClientContext, ssl: OpaquePointer, input: OpaquePointer, output: OpaquePointer) {
        self.tcp = tcp
        self.context = context
        self.ssl = ssl
        self.input = input
        self.output = output
    }

    deinit { SSL_free(ssl) }

    /// The TCP connection underneath.
    public var connection: TCPConnection { tcp }

    /// Performs the client handshake over `tcp`.
    ///
    /// - Parameters:
    ///   - serverName: sent as SNI; ignored when it is an IP address (RFC 6066).
    ///   - verifyHost: the name (or IP address) the certificate must carry, checked
    ///     with `SSL_set1_host`; `nil` checks the chain only.
    /// - Throws: `NetError` with code `.tls` when the handshake fails and `.timeout`
    ///   when the deadline passes. An untrusted certificate is not an error here:
    ///   see `verification`.
    public static func handshake(over tcp: TCPConnection, serverName: String?, verifyHost: String?,
                                 deadline: MonotonicDeadline) throws(NetError) -> TLSSession {
        guard let context = TLSClientContext.shared else { throw NetError(.tls, "tls", openSSLError()) }
        guard let ssl = SSL_new(context.ctx) else { throw NetError(.tls, "tls", openSSLError()) }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw NetError(.tls, "tls", "cannot allocate a BIO")
        }
        SSL_set_bio(ssl, input, output)
        let session = TLSSession(tcp: tcp, context: context, ssl: ssl, input: input, output: output)
        SSL_set_connect_state(ssl)
        if let serverName, !serverName.isEmpty, !NetAddressText.isIPLiteral(serverName) {
            _ = osmoda_ssl_set_sni(ssl, serverName)
        }
        if let verifyHost, !verifyHost.isEmpty, SSL_set1_host(ssl, verifyHost) != 1 {
            throw NetError(.tls, "tls", "cannot check the name '\(verifyHost)'")
        }
        _ = try session.drive("tls handshake", deadline: deadline, eofIsError: true) { SSL_connect(ssl) }
        let code = SSL_get_verify_result(ssl)
        if code == X509_V_OK {
            session.verification = .trusted
        } else {
            session.verification = .untrusted(String(cString: X509_verify_cert_error_string(code)))
        }
        return session
    }

    /// The server's leaf certificate, or `nil` when it sent none.
    public func peerCertificate() -> TLSCertificateInfo? {
        guard let cert = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(cert) }
        guard let notAfter = X509_get0_notAfter(cert) else { return nil }
        var days: Int32 = 0
        var seconds: Int32 = 0
        guard ASN1_TIME_diff(&days, &seconds, nil, notAfter) == 1 else { return nil }
        var t = tm()
        guard ASN1_TIME_to_tm(notAfter, &t) == 1 else { return nil }
        let epoch = Int64(timegm(&t))
        return TLSCertificateInfo(notAfter: Timestamp(millisecondsSinceEpoch: epoch * 1000),
                                  secondsLeft: Int64(days) * 86400 + Int64(seconds))
    }

    public func send(_ bytes: [UInt8], deadline: MonotonicDeadline) throws(NetError) {
        var offset = 0
        while offset < bytes.count {
            let n = try bytes.withUnsafeBytes { raw in
                Result { () throws(NetError) -> Int32 in
                    let chunk = Int32(clamping: raw.count - offset)
                    return try drive("send", deadline: deadline, eofIsError: true) {
                        SSL_write(ssl, raw.baseAddress.map { $0 + offset }, chunk)
                    }
                }
            }.get()
            offset += Int(n)
        }
    }

    public func receive(upTo maxBytes: Int, deadline: MonotonicDeadline) throws(NetError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, maxBytes))
        let n = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(NetError) -> Int32 in
                try drive("receive", deadline: deadline, eofIsError: false) {
                    SSL_read(ssl, raw.baseAddress, Int32(clamping: raw.count))
                }
            }
        }.get()
        buffer.removeLast(buffer.count - Int(max(0, n)))
        return buffer
    }

    /// Runs an SSL call until it succeeds, feeding it from the socket while it wants
    /// input and sending whatever it produced. Returns 0 for a clean close (or, when
    /// `eofIsError` is false, the peer closing the socket without `close_notify`).
    private func drive(_ stage: String, deadline: MonotonicDeadline, eofIsError: Bool, _ call: () -> Int32) throws(NetError) -> Int32 {
        while true {
            ERR_clear_error()
            let r = call()
            let error = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, r)
            try flush(deadline: deadline, stage: stage)
            switch error {
            case SSL_ERROR_NONE:
                return r
            case SSL_ERROR_WANT_READ:
                let bytes: [UInt8]
                do { bytes = try tcp.receive(upTo: 16384, deadline: deadline) } catch {
                    throw NetError(error.code, stage, error.message)
                }
                if bytes.isEmpty {
                    if eofIsError { throw NetError(.tls, stage, "connection closed by the server") }
                    return 0
                }
                _ = bytes.withUnsafeBytes { BIO_write(input, $0.baseAddress, Int32($0.count)) }
            case SSL_ERROR_WANT_WRITE:
                continue
            case SSL_ERROR_ZERO_RETURN:
                if eofIsError { throw NetError(.tls, stage, "connection closed by the server") }
                return 0
            default:
                throw NetError(.tls, stage, Self.openSSLError())
            }
        }
    }

    /// Sends what OpenSSL wrote into the output BIO.
    private func flush(deadline: MonotonicDeadline, stage: String) throws(NetError) {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while BIO_ctrl_pending(output) > 0 {
            let n = chunk.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
            guard n > 0 else { return }
            do { try tcp.send(Array(chunk[0..<Int(n)]), deadline: deadline) } catch {
                throw NetError(error.code, stage, error.message)
            }
        }
    }

    /// The reason of the oldest error on this thread's OpenSSL error queue.
    static func openSSLError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown TLS error" }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
