#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import COpenSSL

/// SHA-256 through OpenSSL's EVP interface (the library the TLS code already links).
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    /// A fresh hash; `nil` only when OpenSSL cannot allocate one.
    public init?() {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            return nil
        }
        self.ctx = ctx
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        _ = EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest; the hasher is spent afterwards.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(ctx, &digest, &length)
        return Array(digest.prefix(Int(length)))
    }

    /// Lowercase hexadecimal.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a file could not be hashed.
    public enum FileError: Error, Sendable, Equatable, CustomStringConvertible {
        case system(SystemError)
        /// The deadline passed after `bytesRead` bytes.
        case timedOut(bytesRead: Int64)

        public var description: String {
            switch self {
            case .system(let e): return e.description
            case .timedOut(let n): return "timed out after reading \(n) bytes"
            }
        }
    }

    /// The SHA-256 of a file, read in 64 KiB pieces (never whole into memory) until
    /// end of file or until the monotonic time `deadlineNanos`.
    public static func hashFile(_ path: String, deadlineNanos: UInt64?) throws(FileError) -> [UInt8] {
        let fd: Int32
        do { fd = try Sys.open(path, O_RDONLY) } catch { throw .system(error) }
        defer { Sys.close(fd) }
        guard let hasher = SHA256Hasher() else { throw .system(SystemError("EVP_DigestInit_ex", code: ENOMEM, subject: path)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var total: Int64 = 0
        while true {
            if let deadlineNanos, Sys.monotonicNanos() >= deadlineNanos { throw .timedOut(bytesRead: total) }
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) -> Int in try Sys.read(fd, into: raw) }
                }.get()
            } catch {
                throw .system(SystemError("read", code: error.code, subject: path))
            }
            if n == 0 { return hasher.finish() }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
        }
    }
}
