/// An IPv4 or IPv6 address.
///
/// `init?(_:)` reads only the standard text forms (what `inet_pton` accepts: dotted-quad
/// decimal IPv4, RFC 4291 IPv6); the legacy `inet_aton` forms a client might put in a
/// request (`0x7f.1`, `2130706433`) are `HostParser`'s business, not this type's.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Host byte order: 127.0.0.1 is `0x7f00_0001`.
    case v4(UInt32)
    /// Exactly 16 bytes, network order.
    case v6([UInt8])

    /// Parses dotted-quad IPv4 (`1.2.3.4`, no leading zeros) or RFC 4291 IPv6 text
    /// (`::1`, `2001:DB8::1`, `::ffff:1.2.3.4`), without brackets or zone identifiers.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        if let v4 = IPText.parseDottedQuad(b[...]) {
            self = .v4(v4)
        } else if let v6 = IPText.parseIPv6(b[...]) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// An IPv6 address from 16 bytes; nil for any other count.
    public init?(v6 bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self = .v6(bytes)
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    /// The address as network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return [UInt8(a >> 24), UInt8((a >> 16) & 0xff), UInt8((a >> 8) & 0xff), UInt8(a & 0xff)]
        case .v6(let b): return b
        }
    }

    /// The unspecified address of the same family (`0.0.0.0` or `::`).
    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): return a == 0
        case .v6(let b): return b.allSatisfy { $0 == 0 }
        }
    }

    /// The text `inet_ntop` gives: dotted quad, or RFC 5952 IPv6 (lower case, leading
    /// zeros dropped, the longest run of two or more zero groups shortened to `::`),
    /// with glibc's dotted tail for IPv4-mapped and IPv4-compatible addresses.
    public var description: String {
        switch self {
        case .v4(let a): return IPText.dottedQuad(a)
        case .v6(let b): return IPText.formatIPv6(b)
        }
    }
}

/// A network prefix: an address and a prefix length.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `10.0.0.0/8`, `fe80::/10`; a bare address is a /32 or /128. Refuses host
    /// bits set after the prefix (`10.0.0.1/8`): a typo there usually means a wider or
    /// narrower range than the writer thought.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maxLength = address.isIPv4 ? 32 : 128
        var length = maxLength
        if parts.count == 2 {
            let digits = parts[1].utf8
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(parts[1]), n <= maxLength,
                  !(digits.count > 1 && digits.first == 0x30) else { return nil }
            length = n
        }
        self.init(address: address, prefixLength: length)
        guard self.address == address else { return nil }
    }

    /// The prefix containing `address`, host bits cleared. `prefixLength` is clamped to
    /// the family's range.
    public init(address: IPAddress, prefixLength: Int) {
        let maxLength = address.isIPv4 ? 32 : 128
        let length = min(max(prefixLength, 0), maxLength)
        self.prefixLength = length
        switch address {
        case .v4(let a):
            self.address = .v4(length == 0 ? 0 : a & (UInt32.max << UInt32(32 - length)))
        case .v6(let b):
            self.address = .v6(CIDR.mask(b, length))
        }
    }

    /// Whether `a` lies inside this prefix. An address of the other family never does:
    /// `::ffff:10.0.0.1` is not in `10.0.0.0/8` (the address policy refuses mapped
    /// addresses on their own account).
    public func contains(_ a: IPAddress) -> Bool {
        switch (address, a) {
        case (.v4(let net), .v4(let x)):
            return prefixLength == 0 || (x & (UInt32.max << UInt32(32 - prefixLength))) == net
        case (.v6(let net), .v6(let x)):
            // Byte by byte, without building the masked copy: this runs for every
            // resolved address against every special range.
            var bits = prefixLength
            var i = 0
            while bits >= 8 {
                if x[i] != net[i] { return false }
                bits -= 8
                i += 1
            }
            if bits == 0 { return true }
            let m = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            return x[i] & m == net[i]
        default:
            return false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func mask(_ b: [UInt8], _ length: Int) -> [UInt8] {
        var out = b
        for i in 0..<16 {
            let bits = length - i * 8
            if bits >= 8 { continue }
            out[i] = bits <= 0 ? 0 : b[i] & UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
        return out
    }
}

/// Standard (inet_pton) address text, both ways.
enum IPText {
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    /// Exactly four decimal parts 0…255, no leading zeros, nothing else (inet_pton).
    static func parseDottedQuad(_ b: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var i = b.startIndex
        while parts < 4 {
            let start = i
            var n: UInt32 = 0
            while i < b.endIndex, isDigit(b[i]), i - start < 3 {
                n = n * 10 + UInt32(b[i] - 0x30)
                i += 1
            }
            let len = i - start
            guard len > 0, n <= 255, !(len > 1 && b[start] == 0x30) else { return nil }
            value = value << 8 | n
            parts += 1
            if parts < 4 {
                guard i < b.endIndex, b[i] == 0x2E else { return nil }
                i += 1
            }
        }
        return i == b.endIndex ? value : nil
    }

    /// RFC 4291 §2.2 text: up to eight groups of 1–4 hex digits, one `::`, an optional
    /// dotted-quad tail in the last 32 bits.
    static func parseIPv6(_ b: ArraySlice<UInt8>) -> [UInt8]? {
        guard b.count >= 2, b.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var gapAt: Int? = nil
        var i = b.startIndex
        if b[i] == 0x3A {
            guard b[i + 1] == 0x3A else { return nil }
            gapAt = 0
            i += 2
            if i == b.endIndex { return [UInt8](repeating: 0, count: 16) }
        }
        while i < b.endIndex {
            // A dotted-quad tail: digits followed by '.' before the next ':'.
            var j = i
            while j < b.endIndex, hexValue(b[j]) != nil { j += 1 }
            if j < b.endIndex, b[j] == 0x2E {
                guard groups.count + 2 <= 8, let v4 = parseDottedQuad(b[i...]) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xffff))
                i = b.endIndex
                break
            }
            let len = j - i
            guard len >= 1, len <= 4, groups.count < 8 else { return nil }
            var g: UInt32 = 0
            for k in i..<j { g = g << 4 | (hexValue(b[k]) ?? 0) }
            groups.append(UInt16(g))
            i = j
            if i == b.endIndex { break }
            guard b[i] == 0x3A else { return nil }
            i += 1
            if i < b.endIndex, b[i] == 0x3A {
                guard gapAt == nil else { return nil }
                gapAt = groups.count
                i += 1
                if i == b.endIndex { break }
            } else if i == b.endIndex {
                return nil  // a single trailing ':'
            }
        }
        if let gap = gapAt {
            // '::' stands for at least one zero group.
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: [UInt16](repeating: 0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for g in groups { out.append(UInt8(g >> 8)); out.append(UInt8(g & 0xff)) }
        return out
    }

    static func dottedQuad(_ a: UInt32) -> String {
        "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
    }

    static func formatIPv6(_ b: [UInt8]) -> String {
        var words = [Int](repeating: 0, count: 8)
        for k in 0..<8 { words[k] = Int(b[2 * k]) << 8 | Int(b[2 * k + 1]) }
        // The longest run of zero words, first on a tie; runs of one are not shortened.
        var best = (base: -1, len: 0)
        var cur = (base: -1, len: 0)
        for k in 0..<8 {
            if words[k] == 0 {
                if cur.base == -1 { cur = (k, 1) } else { cur.len += 1 }
            } else if cur.base != -1 {
                if cur.len > best.len { best = cur }
                cur = (-1, 0)
            }
        }
        if cur.base != -1, cur.len > best.len { best = cur }
        if best.len < 2 { best = (-1, 0) }
        var s = ""
        var k = 0
        while k < 8 {
            if best.base != -1, k == best.base {
                s += "::"
                k += best.len
                continue
            }
            if k > 0, !s.hasSuffix(":") { s += ":" }
            // glibc prints IPv4-compatible (::a.b.c.d) and mapped (::ffff:a.b.c.d) tails dotted.
            if k == 6, best.base == 0, best.len == 6 || (best.len == 5 && words[5] == 0xffff) {
                s += dottedQuad(UInt32(words[6]) << 16 | UInt32(words[7]))
                break
            }
            s += String(words[k], radix: 16)
            k += 1
        }
        return s
    }
}
