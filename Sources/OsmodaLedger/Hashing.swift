import COpenSSL
import OsmodaCore

/// The ledger's hashes: the canonical encoding of an entry, its chain hash and its
/// Merkle leaf hash. `docs/ledger-format.md` gives the same rules byte for byte.
///
/// The chain hash and the leaf hash are the same value, `SHA-256(0x00 || encode(e))`:
/// one hash per entry both links the chain (it is the next entry's `prevHash`) and is
/// the entry's leaf in the RFC 6962 tree, so a verifier hashes each entry once.
///
/// These static functions allocate a digest context per call; code that hashes many
/// entries uses a `LedgerHasher`, which reuses one.
public enum LedgerHash {
    /// Bytes in a SHA-256 digest, and so in every hash of the ledger.
    public static let size = 32

    /// The first bytes of every version-1 encoding: the ASCII text
    /// `osmoda-ledger-entry-v1` and a terminating 0x00, so no later tag can extend it.
    public static let versionTag: [UInt8] = Array("osmoda-ledger-entry-v1".utf8) + [0]

    /// SHA-256 (FIPS 180-4) of `bytes`, through OpenSSL's EVP interface.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        let engine = SHA256Engine()
        return bytes.withUnsafeBytes { engine.digest($0) }
    }

    /// The canonical version-1 encoding of `e`: injective, so distinct entries never
    /// share one. Strings contribute their UTF-8 bytes as they are (no normalisation).
    public static func encode(_ e: LedgerEntry) -> [UInt8] {
        var out: [UInt8] = []
        encode(e, into: &out)
        return out
    }

    /// Appends the canonical encoding of `e` to `out`, so callers can reuse a buffer.
    public static func encode(_ e: LedgerEntry, into out: inout [UInt8]) {
        let start = out.count
        let size = encodedSize(e)
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            let written = write(e, to: base + start)
            precondition(written == size, "encodedSize and write disagree")
        }
    }

    /// The length of `encode(e)`.
    public static func encodedSize(_ e: LedgerEntry) -> Int {
        fixedSize + e.type.utf8.count + e.actor.exe.utf8.count + e.payload.count + e.prevHash.count
    }

    /// The tag and every fixed-width field and length prefix.
    static let fixedSize = versionTag.count + 8 + 8 + 4 + 4 + 4 + 4 + 4 + 4

    /// Writes the encoding of `e` at `p`, which must have room for `encodedSize(e)`
    /// bytes, and returns the number of bytes written. Every other form of the encoding
    /// goes through here, so there is one definition of the bytes.
    @inline(__always)
    static func write(_ e: LedgerEntry, to p: UnsafeMutableRawPointer) -> Int {
        var at = copy(versionTag, to: p)
        p.storeBytes(of: e.seq.bigEndian, toByteOffset: at, as: UInt64.self)
        p.storeBytes(of: e.ts.millisecondsSinceEpoch.bigEndian, toByteOffset: at + 8, as: Int64.self)
        at += 16
        at += copyLengthPrefixed(e.type, to: p + at)
        p.storeBytes(of: e.actor.uid.bigEndian, toByteOffset: at, as: UInt32.self)
        p.storeBytes(of: e.actor.gid.bigEndian, toByteOffset: at + 4, as: UInt32.self)
        p.storeBytes(of: e.actor.pid.bigEndian, toByteOffset: at + 8, as: Int32.self)
        at += 12
        at += copyLengthPrefixed(e.actor.exe, to: p + at)
        at += writeLength(e.payload.count, to: p + at)
        at += copy(e.payload, to: p + at)
        // Last, and so delimited by the end of the encoding: a malformed (not 32-byte)
        // prevHash still encodes injectively, and a verifier reports it rather than trapping.
        at += copy(e.prevHash, to: p + at)
        return at
    }

    @inline(__always)
    private static func copy(_ bytes: [UInt8], to p: UnsafeMutableRawPointer) -> Int {
        bytes.withUnsafeBytes { b in
            if let base = b.baseAddress { p.copyMemory(from: base, byteCount: b.count) }
            return b.count
        }
    }

    @inline(__always)
    private static func copyLengthPrefixed(_ s: String, to p: UnsafeMutableRawPointer) -> Int {
        var s = s
        return s.withUTF8 { b in
            let prefix = writeLength(b.count, to: p)
            if let base = b.baseAddress { (p + prefix).copyMemory(from: base, byteCount: b.count) }
            return prefix + b.count
        }
    }

    @inline(__always)
    private static func writeLength(_ count: Int, to p: UnsafeMutableRawPointer) -> Int {
        // A field of 4 GiB cannot be part of a 64 KiB-payload entry; trap rather than
        // write a length that would make the encoding ambiguous.
        guard let length = UInt32(exactly: count) else { preconditionFailure("ledger entry field longer than 4 GiB") }
        p.storeBytes(of: length.bigEndian, as: UInt32.self)
        return 4
    }

    /// The chain hash of `e`, which the next entry carries as its `prevHash`; equal to
    /// `leafHash(e)`.
    public static func entryHash(_ e: LedgerEntry) -> [UInt8] {
        LedgerHasher().entryHash(e)
    }

    /// The RFC 6962 leaf hash of `e`: `SHA-256(0x00 || encode(e))`.
    public static func leafHash(_ e: LedgerEntry) -> [UInt8] {
        LedgerHasher().entryHash(e)
    }

    /// Lowercase hexadecimal, as hashes appear in records and documents.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hexadecimal string (either case); `nil` otherwise.
    public static func bytes(hex: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return high == nil ? out : nil
    }

    @inline(__always)
    static func appendBigEndian<T: FixedWidthInteger & UnsignedInteger>(_ v: T, to out: inout [UInt8]) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            out.append(UInt8(truncatingIfNeeded: v >> shift))
            shift -= 8
        }
    }
}

/// Hashes many entries with one reused OpenSSL digest context and one reused encoding
/// buffer: no allocation per entry beyond the returned digest.
///
/// Not `Sendable`: give each task its own.
public final class LedgerHasher {
    let engine = SHA256Engine()
    /// `0x00 || encoding`, rebuilt for every entry.
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int

    public init() {
        capacity = 1024
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The chain hash of `e`, which is also its Merkle leaf hash.
    public func entryHash(_ e: LedgerEntry) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: LedgerHash.size) { out, count in
            guard let base = out.baseAddress else { return }
            entryHash(e, into: UnsafeMutableRawPointer(base))
            count = LedgerHash.size
        }
    }

    /// SHA-256 of `bytes`.
    public func sha256(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { engine.digest($0) }
    }

    /// The chain hash of `e` as a value that needs no allocation.
    func entryDigest(_ e: LedgerEntry) -> Digest32 {
        var d = Digest32()
        withUnsafeMutableBytes(of: &d) { out in
            if let base = out.baseAddress { entryHash(e, into: base) }
        }
        return d
    }

    /// Writes the 32-byte chain (and leaf) hash of `e` to `out`.
    func entryHash(_ e: LedgerEntry, into out: UnsafeMutableRawPointer) {
        let needed = 1 + LedgerHash.encodedSize(e)
        if needed > capacity {
            buffer.deallocate()
            capacity = max(needed, capacity * 2)
            buffer = .allocate(byteCount: capacity, alignment: 16)
        }
        buffer.storeBytes(of: 0x00, as: UInt8.self)
        let written = 1 + LedgerHash.write(e, to: buffer + 1)
        engine.digest(UnsafeRawBufferPointer(start: buffer, count: written), into: out)
    }
}

/// A 32-byte hash held inline, so the verifier's per-entry state allocates nothing.
struct Digest32: Equatable {
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    private var w3: UInt64 = 0

    init() {}

    /// The digest in `bytes`, or `nil` unless they are exactly 32.
    init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        bytes.withUnsafeBytes { b in
            w0 = b.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            w1 = b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            w2 = b.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            w3 = b.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        }
    }

    /// Whether `bytes` are this digest's 32 bytes.
    @inline(__always)
    func equals(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 32 else { return false }
        return bytes.withUnsafeBytes { b in
            b.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == w0
                && b.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == w1
                && b.loadUnaligned(fromByteOffset: 16, as: UInt64.self) == w2
                && b.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == w3
        }
    }

    var bytes: [UInt8] {
        var copy = self
        return withUnsafeBytes(of: &copy) { Array($0) }
    }
}

/// One OpenSSL `EVP_MD_CTX` set up for SHA-256 and reinitialised for each digest, which
/// costs about half of what `SHA256()` or `EVP_Digest()` do per call on OpenSSL 3
/// (they fetch the algorithm and allocate a context every time).
final class SHA256Engine {
    private let ctx: OpaquePointer

    init() {
        // Only allocation failure makes these fail; the ledger cannot go on without hashes.
        guard let ctx = EVP_MD_CTX_new() else { fatalError("OpenSSL: EVP_MD_CTX_new failed") }
        guard EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else { fatalError("OpenSSL: EVP_DigestInit_ex(SHA-256) failed") }
        self.ctx = ctx
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// SHA-256 of `bytes`, written as 32 bytes at `out`.
    @inline(__always)
    func digest(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        // A NULL type reuses the context's digest, skipping OpenSSL 3's implicit fetch.
        var ok = EVP_DigestInit_ex(ctx, nil, nil) == 1
        if let base = bytes.baseAddress, bytes.count > 0 {
            ok = ok && EVP_DigestUpdate(ctx, base, bytes.count) == 1
        }
        var length: UInt32 = 0
        ok = ok && EVP_DigestFinal_ex(ctx, out.assumingMemoryBound(to: UInt8.self), &length) == 1
        guard ok, length == 32 else { fatalError("OpenSSL: SHA-256 digest failed") }
    }

    func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            digest(bytes, into: UnsafeMutableRawPointer(base))
            count = 32
        }
    }

    /// `SHA-256(0x01 || left || right)` for two 32-byte hashes, the RFC 6962 interior node.
    @inline(__always)
    func node(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            guard let base = buffer.baseAddress else { return }
            base.storeBytes(of: 0x01, as: UInt8.self)
            (base + 1).copyMemory(from: left, byteCount: 32)
            (base + 33).copyMemory(from: right, byteCount: 32)
            digest(UnsafeRawBufferPointer(buffer), into: out)
        }
    }
}
