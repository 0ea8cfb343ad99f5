/// Base58 with the Bitcoin alphabet, as Solana writes addresses and signatures. No
/// checksum. Leading zero bytes are leading '1's.
public enum Base58 {
    static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()
    /// The conversion is quadratic; inputs are keys and signatures, so bound them.
    public static let maxDecodedLength = 256

    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
        var digits = [UInt8]()
        digits.reserveCapacity(bytes.count * 137 / 100 + 1)
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            for i in digits.indices {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        out.reserveCapacity(zeros + digits.count)
        for d in digits.reversed() { out.append(alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for a character outside the alphabet (0, O, I, l, anything non-ASCII) or an
    /// input that would decode past `maxDecodedLength`.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count <= maxDecodedLength * 138 / 100 + 1 else { return nil }
        let ones = chars.prefix { $0 == alphabet[0] }.count
        var bytes = [UInt8]()  // least significant first
        for c in chars[ones...] {
            let v = values[Int(c)]
            guard v >= 0 else { return nil }
            var carry = Int(v)
            for i in bytes.indices {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        guard ones + bytes.count <= maxDecodedLength else { return nil }
        return [UInt8](repeating: 0, count: ones) + bytes.reversed()
    }
}
