/// Keccak-256 as Ethereum uses it: Keccak-f[1600], rate 136 bytes, the original
/// Keccak padding (0x01 … 0x80), not SHA-3's (0x06 … 0x80). Written in Swift because
/// neither OpenSSL 3.0 nor any Debian library offers it (DESIGN §7).
///
/// Streaming: `var h = Keccak256(); h.update(a); h.update(b); let d = h.finalize()`.
/// One-shot: `Keccak256.hash(bytes)`.
public struct Keccak256: Sendable {
    public static let rate = 136
    public static let digestCount = 32

    /// 25 lanes, lane (x, y) at index x + 5y, little-endian as in the specification.
    private var state = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                         UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                         UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                         UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                         UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    /// A partial block (up to 135 bytes) waiting for more input.
    private var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                          UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                          UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    private var buffered = 0
    /// The first padding byte: 0x01 for Keccak, 0x06 for SHA3-256 (used only by the
    /// tests, to check the sponge against FIPS 202 values from another implementation).
    private let domain: UInt8

    public init() { domain = 0x01 }

    init(sha3Padding: Void) { domain = 0x06 }

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var h = Keccak256()
        h.update(bytes)
        return h.finalize()
    }

    /// The digest of raw memory in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var h = Keccak256()
        h.update(bytes)
        return h.finalize()
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    public mutating func update(_ input: UnsafeRawBufferPointer) {
        guard var p = input.baseAddress, input.count > 0 else { return }
        var remaining = input.count
        let rate = Keccak256.rate
        if buffered > 0 {
            let take = min(rate - buffered, remaining)
            let at = buffered
            withUnsafeMutableBytes(of: &buffer) { b in
                (b.baseAddress! + at).copyMemory(from: p, byteCount: take)
            }
            buffered += take
            p += take
            remaining -= take
            if buffered < rate { return }
            let block = buffer
            withUnsafeBytes(of: block) { absorb(block: $0.baseAddress!) }
            buffered = 0
        }
        while remaining >= rate {
            absorb(block: p)
            p += rate
            remaining -= rate
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &buffer) { b in
                b.baseAddress!.copyMemory(from: p, byteCount: remaining)
            }
            buffered = remaining
        }
    }

    /// Pads, absorbs the last block and returns the 32-byte digest. The hasher is spent.
    public mutating func finalize() -> [UInt8] {
        let count = buffered
        let domain = self.domain
        withUnsafeMutableBytes(of: &buffer) { b in
            for i in count..<Keccak256.rate { b[i] = 0 }
            b[count] ^= domain
            b[Keccak256.rate - 1] ^= 0x80
        }
        let block = buffer
        withUnsafeBytes(of: block) { absorb(block: $0.baseAddress!) }
        buffered = 0
        var out = [UInt8](repeating: 0, count: Keccak256.digestCount)
        withUnsafeBytes(of: state) { s in
            for lane in 0..<4 {
                let v = s.load(fromByteOffset: lane * 8, as: UInt64.self)
                for i in 0..<8 { out[lane * 8 + i] = UInt8(truncatingIfNeeded: v &>> UInt64(8 * i)) }
            }
        }
        return out
    }

    @inline(__always)
    private mutating func absorb(block: UnsafeRawPointer) {
        withUnsafeMutableBytes(of: &state) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            for i in 0..<(Keccak256.rate / 8) {
                s[i] ^= UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            }
            Keccak256.permute(s)
        }
    }

    @inline(__always)
    private static func rotl(_ v: UInt64, _ n: UInt64) -> UInt64 { (v &<< n) | (v &>> (64 - n)) }

    private static let roundConstants: [UInt64] = [
        0x0000000000000001,
        0x0000000000008082,
        0x800000000000808A,
        0x8000000080008000,
        0x000000000000808B,
        0x0000000080000001,
        0x8000000080008081,
        0x8000000000008009,
        0x000000000000008A,
        0x0000000000000088,
        0x0000000080008009,
        0x000000008000000A,
        0x000000008000808B,
        0x800000000000008B,
        0x8000000000008089,
        0x8000000000008003,
        0x8000000000008002,
        0x8000000000000080,
        0x000000000000800A,
        0x800000008000000A,
        0x8000000080008081,
        0x8000000000008080,
        0x0000000080000001,
        0x8000000080008008
    ]

    // Generated from the Keccak reference: rho offsets r[x][y], pi (x,y) -> (y, 2x+3y).
    @inline(__always)
    static func permute(_ s: UnsafeMutablePointer<UInt64>) {
        var a00 = s[0]
        var a10 = s[1]
        var a20 = s[2]
        var a30 = s[3]
        var a40 = s[4]
        var a01 = s[5]
        var a11 = s[6]
        var a21 = s[7]
        var a31 = s[8]
        var a41 = s[9]
        var a02 = s[10]
        var a12 = s[11]
        var a22 = s[12]
        var a32 = s[13]
        var a42 = s[14]
        var a03 = s[15]
        var a13 = s[16]
        var a23 = s[17]
        var a33 = s[18]
        var a43 = s[19]
        var a04 = s[20]
        var a14 = s[21]
        var a24 = s[22]
        var a34 = s[23]
        var a44 = s[24]
        let k = roundConstants
        for round in 0..<24 {
            let c0 = a00 ^ a01 ^ a02 ^ a03 ^ a04
            let c1 = a10 ^ a11 ^ a12 ^ a13 ^ a14
            let c2 = a20 ^ a21 ^ a22 ^ a23 ^ a24
            let c3 = a30 ^ a31 ^ a32 ^ a33 ^ a34
            let c4 = a40 ^ a41 ^ a42 ^ a43 ^ a44
            let d0 = c4 ^ ((c1 &<< 1) | (c1 &>> 63))
            let d1 = c0 ^ ((c2 &<< 1) | (c2 &>> 63))
            let d2 = c1 ^ ((c3 &<< 1) | (c3 &>> 63))
            let d3 = c2 ^ ((c4 &<< 1) | (c4 &>> 63))
            let d4 = c3 ^ ((c0 &<< 1) | (c0 &>> 63))
            let b00 = (a00 ^ d0)
            let b10 = rotl((a11 ^ d1), 44)
            let b20 = rotl((a22 ^ d2), 43)
            let b30 = rotl((a33 ^ d3), 21)
            let b40 = rotl((a44 ^ d4), 14)
            let b01 = rotl((a30 ^ d3), 28)
            let b11 = rotl((a41 ^ d4), 20)
            let b21 = rotl((a02 ^ d0), 3)
            let b31 = rotl((a13 ^ d1), 45)
            let b41 = rotl((a24 ^ d2), 61)
            let b02 = rotl((a10 ^ d1), 1)
            let b12 = rotl((a21 ^ d2), 6)
            let b22 = rotl((a32 ^ d3), 25)
            let b32 = rotl((a43 ^ d4), 8)
            let b42 = rotl((a04 ^ d0), 18)
            let b03 = rotl((a40 ^ d4), 27)
            let b13 = rotl((a01 ^ d0), 36)
            let b23 = rotl((a12 ^ d1), 10)
            let b33 = rotl((a23 ^ d2), 15)
            let b43 = rotl((a34 ^ d3), 56)
            let b04 = rotl((a20 ^ d2), 62)
            let b14 = rotl((a31 ^ d3), 55)
            let b24 = rotl((a42 ^ d4), 39)
            let b34 = rotl((a03 ^ d0), 41)
            let b44 = rotl((a14 ^ d1), 2)
            a00 = b00 ^ (~b10 & b20)
            a10 = b10 ^ (~b20 & b30)
            a20 = b20 ^ (~b30 & b40)
            a30 = b30 ^ (~b40 & b00)
            a40 = b40 ^ (~b00 & b10)
            a01 = b01 ^ (~b11 & b21)
            a11 = b11 ^ (~b21 & b31)
            a21 = b21 ^ (~b31 & b41)
            a31 = b31 ^ (~b41 & b01)
            a41 = b41 ^ (~b01 & b11)
            a02 = b02 ^ (~b12 & b22)
            a12 = b12 ^ (~b22 & b32)
            a22 = b22 ^ (~b32 & b42)
            a32 = b32 ^ (~b42 & b02)
            a42 = b42 ^ (~b02 & b12)
            a03 = b03 ^ (~b13 & b23)
            a13 = b13 ^ (~b23 & b33)
            a23 = b23 ^ (~b33 & b43)
            a33 = b33 ^ (~b43 & b03)
            a43 = b43 ^ (~b03 & b13)
            a04 = b04 ^ (~b14 & b24)
            a14 = b14 ^ (~b24 & b34)
            a24 = b24 ^ (~b34 & b44)
            a34 = b34 ^ (~b44 & b04)
            a44 = b44 ^ (~b04 & b14)
            a00 ^= k[round]
        }
        s[0] = a00
        s[1] = a10
        s[2] = a20
        s[3] = a30
        s[4] = a40
        s[5] = a01
        s[6] = a11
        s[7] = a21
        s[8] = a31
        s[9] = a41
        s[10] = a02
        s[11] = a12
        s[12] = a22
        s[13] = a32
        s[14] = a42
        s[15] = a03
        s[16] = a13
        s[17] = a23
        s[18] = a33
        s[19] = a43
        s[20] = a04
        s[21] = a14
        s[22] = a24
        s[23] = a34
        s[24] = a44
    }
}
