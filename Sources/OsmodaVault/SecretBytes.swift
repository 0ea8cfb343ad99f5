import CSodium

/// libsodium is initialised once, before the first secret is allocated or any
/// libsodium primitive runs. `sodium_init` is idempotent and thread-safe.
let sodiumReady: Bool = sodium_init() >= 0

/// Key material: held in libsodium's guarded allocation (guard pages, canary, `mlock`ed
/// so it is never swapped), zeroed and freed on deinit. It never appears in a `String`:
/// `description`, `debugDescription` and the mirror redact it, and there is no
/// conversion to text or to `[UInt8]`. The bytes are written only while the value is
/// being built (by the initialiser's closure), then read-only — hence `Sendable`.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let pointer: UnsafeMutableRawPointer
    public let count: Int

    /// `count` bytes, filled by `fill` (which receives zeroed memory).
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(sodiumReady, "libsodium failed to initialise")
        precondition(count >= 0)
        guard let p = sodium_malloc(max(count, 1)) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory or mlock limit")
        }
        sodium_memzero(p, max(count, 1))
        // Filled before `self` is initialised, so a throwing `fill` frees the memory here
        // and deinit never runs on it.
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            sodium_free(p)
            throw error
        }
        pointer = p
        self.count = count
    }

    /// A copy of `bytes`. The caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { dst in
            if let src = bytes.baseAddress, bytes.count > 0 { dst.baseAddress!.copyMemory(from: src, byteCount: bytes.count) }
        }
    }

    /// A copy of `bytes` (test vectors, passphrases typed by a person). Prefer building
    /// secrets in place with `init(count:fill:)` where the source is not already a value.
    public convenience init(copying bytes: some Collection<UInt8>) {
        var array = Array(bytes)
        defer { wipe(&array) }
        self.init(count: array.count) { dst in
            array.withUnsafeBytes { src in
                if src.count > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: src.count) }
            }
        }
    }

    /// `count` bytes from libsodium's CSPRNG (getrandom).
    public convenience init(randomCount count: Int) {
        self.init(count: count) { dst in
            if count > 0 { randombytes_buf(dst.baseAddress!, count) }
        }
    }

    deinit {
        // sodium_free zeroes the whole allocation before unmapping it.
        sodium_free(pointer)
    }

    /// Read access; do not let the pointer escape the closure.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Read access as a never-nil byte pointer (valid even for zero bytes), for C APIs.
    func withBytePointer<R, E: Error>(_ body: (UnsafePointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try body(UnsafePointer(pointer.assumingMemoryBound(to: UInt8.self)))
    }

    /// Constant-time comparison (sodium_memcmp).
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return sodium_memcmp(pointer, other.pointer, count) == 0
    }

    /// A new secret holding bytes `range` of this one.
    public func slice(_ range: Range<Int>) -> SecretBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return SecretBytes(count: range.count) { dst in
            if range.count > 0 { dst.baseAddress!.copyMemory(from: pointer + range.lowerBound, byteCount: range.count) }
        }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [(label: String?, value: Any)](), displayStyle: .class) }
}

/// Zeroes a scratch buffer that held secret bytes.
@inline(never)
func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { b in
        if let p = b.baseAddress { sodium_memzero(p, b.count) }
    }
}

/// Public random bytes (salts, nonces, IVs) from libsodium's CSPRNG.
func randomBytes(_ count: Int) -> [UInt8] {
    precondition(sodiumReady, "libsodium failed to initialise")
    var out = [UInt8](repeating: 0, count: count)
    if count > 0 { out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) } }
    return out
}

/// Constant-time equality of two equal-length byte arrays (MACs).
func sodium_memcmp_bytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}

extension SecretBytes {
    /// Zeroes a caller's scratch buffer that held secret bytes (`sodium_memzero`, which
    /// the optimiser does not remove).
    public static func zeroize(_ bytes: inout [UInt8]) { wipe(&bytes) }
}
