/// Lower-case hexadecimal, for public values (addresses, signatures, hashes).
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>, prefix: Bool = false) -> String {
        var out: [UInt8] = prefix ? [0x30, 0x78] : []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of one hex digit, either case.
    @inline(__always)
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Decodes an even number of hex digits, with an optional `0x` prefix; nil for
    /// anything else.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        if utf8.count >= 2, utf8[0] == 0x30, utf8[1] == 0x78 || utf8[1] == 0x58 { utf8.removeFirst(2) }
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Decodes hex straight into secret memory, so a private key given as hex (a
    /// keystore's test vector, an import) never lands in an ordinary array.
    public static func decodeSecret(_ text: some StringProtocol) -> SecretBytes? {
        var utf8 = Substring(text).utf8[...]
        if utf8.starts(with: [0x30, 0x78]) { utf8 = utf8.dropFirst(2) }
        guard utf8.count % 2 == 0 else { return nil }
        var ok = true
        let secret = SecretBytes(count: utf8.count / 2) { dst in
            var it = utf8.makeIterator()
            var i = 0
            while let a = it.next(), let b = it.next() {
                guard let hi = nibble(a), let lo = nibble(b) else { ok = false; return }
                dst[i] = hi << 4 | lo
                i += 1
            }
        }
        return ok ? secret : nil
    }
}
