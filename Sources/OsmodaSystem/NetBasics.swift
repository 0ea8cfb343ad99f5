#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A point on the monotonic clock by which an operation must be done, and the budget
/// it was made from (for messages such as `timed out after 5000 ms`).
public struct MonotonicDeadline: Sendable, Equatable {
    /// `CLOCK_MONOTONIC` nanoseconds.
    public let nanos: UInt64
    /// The budget the deadline was made from, in milliseconds.
    public let budgetMs: Int64

    /// A deadline `milliseconds` from now.
    public init(milliseconds: Int64) {
        budgetMs = max(0, milliseconds)
        nanos = Sys.monotonicNanos() &+ UInt64(budgetMs) &* 1_000_000
    }

    /// Whether the deadline has passed.
    public var hasPassed: Bool { Sys.monotonicNanos() >= nanos }

    /// Milliseconds left, rounded up so that a wait never ends just short of the
    /// deadline; 0 once it has passed.
    public var remainingMs: Int32 {
        let now = Sys.monotonicNanos()
        guard nanos > now else { return 0 }
        return Int32(clamping: (nanos - now + 999_999) / 1_000_000)
    }

    /// The error for running out of time in `stage`.
    public func timeout(_ stage: String) -> NetError {
        NetError(.timeout, stage, "timed out after \(budgetMs) ms")
    }
}

/// Why a network operation failed: a stable code, the stage it was in, and a message,
/// read together as `connect: Connection refused`.
public struct NetError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Name resolution failed.
        case resolve
        /// No connection could be made.
        case connect
        /// The deadline passed.
        case timeout
        /// The TLS layer failed (handshake, record layer).
        case tls
        /// The peer's certificate did not verify.
        case untrusted
        /// The peer broke the protocol (for HTTP, a malformed response).
        case `protocol`
        /// Sending or receiving failed, or the peer closed early.
        case io
    }

    public var code: Code
    public var stage: String
    public var message: String

    public init(_ code: Code, _ stage: String, _ message: String) {
        self.code = code
        self.stage = stage
        self.message = message
    }

    public var description: String { "\(stage): \(message)" }
}

/// A socket address as `getaddrinfo(3)` returns it, kept as bytes.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// `AF_INET` or `AF_INET6`.
    public let family: Int32
    /// The `sockaddr_in` or `sockaddr_in6` bytes.
    public let storage: [UInt8]

    public init(family: Int32, storage: [UInt8]) {
        self.family = family
        self.storage = storage
    }

    /// The numeric host, without brackets.
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok: Bool = storage.withUnsafeBytes { raw in
            if family == AF_INET6, raw.count >= MemoryLayout<sockaddr_in6>.size {
                var a = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
                return inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil
            }
            if family == AF_INET, raw.count >= MemoryLayout<sockaddr_in>.size {
                var a = raw.loadUnaligned(as: sockaddr_in.self).sin_addr
                return inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil
            }
            return false
        }
        guard ok else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The port, in host byte order.
    public var port: Int {
        storage.withUnsafeBytes { raw -> Int in
            if family == AF_INET6, raw.count >= MemoryLayout<sockaddr_in6>.size {
                return Int(UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in6.self).sin6_port))
            }
            if family == AF_INET, raw.count >= MemoryLayout<sockaddr_in>.size {
                return Int(UInt16(bigEndian: raw.loadUnaligned(as: sockaddr_in.self).sin_port))
            }
            return 0
        }
    }

    /// `127.0.0.1:80` or `[::1]:80`.
    public var description: String { NetAddressText.hostPort(host, port) }
}

/// How hosts and ports are written in messages and targets.
public enum NetAddressText {
    /// `host:port`, with an IPv6 address in brackets.
    public static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether `host` is a numeric IPv4 or IPv6 address (checked with `inet_pton(3)`).
    public static func isIPLiteral(_ host: String) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buf) == 1 || inet_pton(AF_INET6, host, &buf) == 1
    }
}

/// A connected byte stream with deadlines: a TCP connection or a TLS session over one.
public protocol ByteStream: AnyObject {
    /// Sends every byte, or throws.
    func send(_ bytes: [UInt8], deadline: MonotonicDeadline) throws(NetError)
    /// Receives up to `maxBytes`; an empty array means the peer closed the stream.
    func receive(upTo maxBytes: Int, deadline: MonotonicDeadline) throws(NetError) -> [UInt8]
}
