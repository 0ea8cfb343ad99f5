/// An exact unsigned 256-bit integer: an amount in a chain's base units (wei,
/// lamports). Ethereum values are at most 2²⁵⁶ − 1, so every amount a transaction can
/// carry fits; sums that would not fit are reported, never wrapped. No floating point.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Little-endian 64-bit limbs: `limbs.0` is the least significant.
    private var limbs: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = Amount(limbs: (0, 0, 0, 0))
    public static let max = Amount(limbs: (.max, .max, .max, .max))
    /// The longest decimal text an amount can have (2²⁵⁶ − 1 has 78 digits).
    public static let maxDecimalDigits = 78

    private init(limbs: (UInt64, UInt64, UInt64, UInt64)) {
        self.limbs = limbs
    }

    public init(_ value: UInt64) {
        limbs = (value, 0, 0, 0)
    }

    /// From big-endian bytes (leading zeros allowed); `nil` when the value needs more
    /// than 256 bits.
    public init?(bigEndian bytes: [UInt8]) {
        let significant = bytes.drop { $0 == 0 }
        guard significant.count <= 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in significant.reversed().enumerated() {
            words[i / 8] |= UInt64(b) << (UInt64(i % 8) * 8)
        }
        limbs = (words[0], words[1], words[2], words[3])
    }

    /// Parses a base-10 integer: ASCII digits only, no sign, no exponent, no fraction,
    /// no leading zeros (except `"0"` itself), below 2²⁵⁶. `nil` otherwise.
    public init?(decimal text: String) {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= Self.maxDecimalDigits, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              !(digits.count > 1 && digits[0] == 0x30)
        else { return nil }
        var value = Amount.zero
        for d in digits {
            guard let next = value.multipliedAdding(10, UInt64(d - 0x30)) else { return nil }
            value = next
        }
        self = value
    }

    private var words: [UInt64] { [limbs.0, limbs.1, limbs.2, limbs.3] }

    private init(words w: [UInt64]) {
        limbs = (w[0], w[1], w[2], w[3])
    }

    public var isZero: Bool { self == .zero }

    /// `self * m + a`, or `nil` on overflow.
    private func multipliedAdding(_ m: UInt64, _ a: UInt64) -> Amount? {
        var out: [UInt64] = [0, 0, 0, 0]
        var carry = a
        for (i, w) in words.enumerated() {
            let (high, low) = w.multipliedFullWidth(by: m)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            out[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        return carry == 0 ? Amount(words: out) : nil
    }

    /// `self + other`, or `nil` when the sum does not fit in 256 bits.
    public func adding(_ other: Amount) -> Amount? {
        var out: [UInt64] = [0, 0, 0, 0]
        var carry = false
        for (i, (a, b)) in zip(words, other.words).enumerated() {
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry ? 1 : 0)
            out[i] = s2
            carry = o1 || o2
        }
        return carry ? nil : Amount(words: out)
    }

    /// `self − other`, or `nil` when `other` is larger.
    public func subtracting(_ other: Amount) -> Amount? {
        guard other <= self else { return nil }
        var out: [UInt64] = [0, 0, 0, 0]
        var borrow = false
        for (i, (a, b)) in zip(words, other.words).enumerated() {
            let (d1, o1) = a.subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow ? 1 : 0)
            out[i] = d2
            borrow = o1 || o2
        }
        return Amount(words: out)
    }

    /// Minimal big-endian bytes (`[]` for zero), as `Quantity` and `SpendRequest` use.
    public var bigEndian: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in words.reversed() {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return Array(out.drop { $0 == 0 })
    }

    /// The decimal text (`init(decimal:)` reads it back).
    public var description: String {
        if isZero { return "0" }
        var w = words
        var digits: [UInt8] = []
        // Divide by 10^19 repeatedly, then print each chunk.
        let chunk: UInt64 = 10_000_000_000_000_000_000
        var chunks: [UInt64] = []
        while w.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for i in stride(from: 3, through: 0, by: -1) {
                let (q, r) = chunk.dividingFullWidth((high: remainder, low: w[i]))
                w[i] = q
                remainder = r
            }
            chunks.append(remainder)
        }
        for (i, c) in chunks.reversed().enumerated() {
            let text = Array(String(c).utf8)
            if i > 0 { digits.append(contentsOf: [UInt8](repeating: 0x30, count: 19 - text.count)) }
            digits.append(contentsOf: text)
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The value as eight 32-bit digits, least significant first: how the usage table
    /// stores it, so SQLite can sum each digit exactly (`Int64` holds 2³¹ of them).
    public var digits32: [UInt32] {
        words.flatMap { [UInt32(truncatingIfNeeded: $0), UInt32(truncatingIfNeeded: $0 >> 32)] }
    }

    /// Σ sums[i] · 2^(32·i) for per-digit sums (each below 2⁶³), or `nil` when the
    /// total does not fit in 256 bits or a sum is negative.
    public init?(digitSums sums: [Int64]) {
        guard sums.count <= 8, sums.allSatisfy({ $0 >= 0 }) else { return nil }
        var digits = [UInt64](repeating: 0, count: 8)
        var carry: UInt64 = 0
        for i in 0..<8 {
            let v = UInt64(i < sums.count ? sums[i] : 0) + carry  // < 2^63 + 2^32: no overflow
            digits[i] = v & 0xFFFF_FFFF
            carry = v >> 32
        }
        guard carry == 0 else { return nil }
        limbs = (digits[0] | digits[1] << 32, digits[2] | digits[3] << 32, digits[4] | digits[5] << 32, digits[6] | digits[7] << 32)
    }

    public static func < (a: Amount, b: Amount) -> Bool {
        for (x, y) in zip(a.words, b.words).reversed() where x != y { return x < y }
        return false
    }

    public static func == (a: Amount, b: Amount) -> Bool {
        a.limbs == b.limbs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
        hasher.combine(limbs.2)
        hasher.combine(limbs.3)
    }
}
