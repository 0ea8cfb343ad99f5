/// Recursive Length Prefix, Ethereum's serialisation of transactions: an item is a byte
/// string or a list of items. Integers are big-endian with no leading zero bytes (zero
/// is the empty string).
public indirect enum RLP: Sendable, Equatable {
    case bytes([UInt8])
    case list([RLP])

    /// An unsigned integer.
    public static func uint(_ value: UInt64) -> RLP {
        .bytes(minimalBigEndian(value))
    }

    /// An unsigned integer given as big-endian bytes (any length; leading zeros dropped).
    public static func uint(bigEndian bytes: [UInt8]) -> RLP {
        .bytes(Array(bytes.drop { $0 == 0 }))
    }

    public static func string(_ text: String) -> RLP { .bytes(Array(text.utf8)) }

    static func minimalBigEndian(_ value: UInt64) -> [UInt8] {
        var out = [UInt8]()
        var v = value
        while v > 0 {
            out.append(UInt8(v & 0xff))
            v >>= 8
        }
        return out.reversed()
    }

    public var encoded: [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    public func encode(into out: inout [UInt8]) {
        switch self {
        case .bytes(let b):
            if b.count == 1, b[0] < 0x80 {
                out.append(b[0])
            } else {
                Self.header(b.count, offset: 0x80, into: &out)
                out += b
            }
        case .list(let items):
            var body = [UInt8]()
            for item in items { item.encode(into: &body) }
            Self.header(body.count, offset: 0xc0, into: &out)
            out += body
        }
    }

    static func header(_ length: Int, offset: UInt8, into out: inout [UInt8]) {
        if length < 56 {
            out.append(offset + UInt8(length))
        } else {
            let len = minimalBigEndian(UInt64(length))
            out.append(offset + 55 + UInt8(len.count))
            out += len
        }
    }

    /// Strict decoding: exactly one item, canonical lengths (no long form under 56, no
    /// leading zeros in a length, a single byte below 0x80 never wrapped), no trailing
    /// bytes, and at most `maxDepth` nested lists.
    public static func decode(_ bytes: [UInt8], maxDepth: Int = 64) throws(VaultError) -> RLP {
        var i = 0
        let item = try decodeItem(bytes, &i, end: bytes.count, depth: maxDepth)
        guard i == bytes.count else { throw VaultError("rlp.invalid", "\(bytes.count - i) trailing bytes after the item") }
        return item
    }

    private static func decodeItem(_ b: [UInt8], _ i: inout Int, end: Int, depth: Int) throws(VaultError) -> RLP {
        func bad(_ m: String) -> VaultError { VaultError("rlp.invalid", "\(m) at offset \(i)") }
        guard i < end else { throw bad("unexpected end") }
        let first = b[i]
        if first < 0x80 {
            i += 1
            return .bytes([first])
        }
        let isList = first >= 0xc0
        let offset: UInt8 = isList ? 0xc0 : 0x80
        var length: Int
        let short = Int(first - offset)
        if short < 56 {
            length = short
            i += 1
        } else {
            let n = short - 55
            guard n <= 8, i + 1 + n <= end else { throw bad("truncated length") }
            guard b[i + 1] != 0 else { throw bad("a length with a leading zero") }
            length = 0
            for k in 0..<n {
                guard length <= (Int.max >> 8) else { throw bad("length too large") }
                length = length << 8 | Int(b[i + 1 + k])
            }
            guard length >= 56 else { throw bad("a long-form length under 56") }
            i += 1 + n
        }
        guard length <= end - i else { throw bad("length \(length) runs past the end") }
        if !isList {
            let payload = Array(b[i..<(i + length)])
            guard !(length == 1 && payload[0] < 0x80) else { throw bad("a single byte below 0x80 wrapped in a string header") }
            i += length
            return .bytes(payload)
        }
        guard depth > 0 else { throw bad("lists nested too deep") }
        let listEnd = i + length
        var items = [RLP]()
        while i < listEnd { items.append(try decodeItem(b, &i, end: listEnd, depth: depth - 1)) }
        return .list(items)
    }
}

/// Unsigned integers of up to 256 bits as minimal big-endian bytes: wei amounts, gas
/// prices, chain ids. Parsed from decimal strings, never through floating point.
public enum Quantity {
    /// Decimal digits only (no sign, no exponent, no leading zeros except "0"), < 2²⁵⁶.
    public static func parse(decimal text: String) throws(VaultError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }), !(digits.count > 1 && digits[0] == 0x30) else {
            throw VaultError("quantity.invalid", "'\(text)' is not a non-negative decimal integer")
        }
        var value = [UInt8](repeating: 0, count: 32)  // big-endian
        for d in digits {
            var carry = Int(d - 0x30)
            for k in stride(from: 31, through: 0, by: -1) {
                let v = Int(value[k]) * 10 + carry
                value[k] = UInt8(v & 0xff)
                carry = v >> 8
            }
            guard carry == 0 else { throw VaultError("quantity.invalid", "'\(text)' does not fit in 256 bits") }
        }
        return Array(value.drop { $0 == 0 })
    }

    /// Minimal big-endian bytes as a decimal string.
    public static func decimal(_ bigEndian: [UInt8]) -> String {
        var n = Array(bigEndian.drop { $0 == 0 })
        if n.isEmpty { return "0" }
        var out = [UInt8]()
        while !n.isEmpty {
            var rem = 0
            var next = [UInt8]()
            for byte in n {
                let v = rem << 8 | Int(byte)
                let q = v / 10
                rem = v % 10
                if !(next.isEmpty && q == 0) { next.append(UInt8(q)) }
            }
            out.append(UInt8(0x30 + rem))
            n = next
        }
        return String(decoding: out.reversed(), as: UTF8.self)
    }
}
