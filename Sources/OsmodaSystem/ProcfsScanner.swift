/// A forward-only cursor over the bytes of a /proc or /sys file, for the
/// whitespace-separated numbers and words those files are made of.
///
/// It never allocates except where a caller asks for a `String`, which is what keeps
/// a health sample cheap. "Space" here means a blank or a tab; newlines end lines and
/// are only crossed by `skipLine()` and `nextLine()`.
package struct ProcfsScanner {
    package let bytes: UnsafeBufferPointer<UInt8>
    package var index: Int

    package init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    package var atEnd: Bool { index >= bytes.count }

    /// The byte under the cursor, or `nil` at the end.
    package var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Whether the cursor is at the end of a line (a newline or the end of the file).
    package var atLineEnd: Bool { index >= bytes.count || bytes[index] == 0x0A }

    /// Skips blanks and tabs, but not newlines.
    package mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
    }

    /// Moves past the next newline (or to the end).
    package mutating func skipLine() {
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            if b == 0x0A { return }
        }
    }

    /// The rest of the current line without its newline, moving past the newline;
    /// `nil` at the end of the file.
    package mutating func nextLine() -> UnsafeBufferPointer<UInt8>? {
        guard index < bytes.count else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != 0x0A { index += 1 }
        let line = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if index < bytes.count { index += 1 }
        return line
    }

    /// Whether the bytes at the cursor are `literal` (the cursor does not move).
    package func hasPrefix(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[index + i] != p[i] { return false }
        return true
    }

    /// Moves past `literal` when the cursor is on it.
    package mutating func skip(_ literal: StaticString) -> Bool {
        guard hasPrefix(literal) else { return false }
        index += literal.utf8CodeUnitCount
        return true
    }

    /// Moves past one byte when it is `byte`.
    package mutating func skip(byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Moves to the next occurrence of `byte` on this line; false (at the line end)
    /// when there is none.
    package mutating func seek(to byte: UInt8) -> Bool {
        while index < bytes.count {
            let b = bytes[index]
            if b == byte { return true }
            if b == 0x0A { return false }
            index += 1
        }
        return false
    }

    /// Skips spaces, then reads a decimal unsigned integer.
    package mutating func unsigned() -> UInt64? {
        skipSpaces()
        var v: UInt64 = 0
        var digits = 0
        while index < bytes.count {
            let d = bytes[index] &- 0x30
            guard d < 10 else { break }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            v = s
            digits += 1
            index += 1
        }
        return digits > 0 ? v : nil
    }

    /// Skips spaces, then reads a decimal integer with an optional minus sign.
    package mutating func signed() -> Int64? {
        skipSpaces()
        let negative = skip(byte: UInt8(ascii: "-"))
        guard let u = unsigned(), u <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(u) : Int64(u)
    }

    /// Skips spaces, then reads a hexadecimal unsigned integer (no `0x`).
    package mutating func hex() -> UInt64? {
        skipSpaces()
        var v: UInt64 = 0
        var digits = 0
        while index < bytes.count, let d = ProcfsScanner.hexValue(bytes[index]) {
            guard digits < 16 else { return nil }
            v = v << 4 | UInt64(d)
            digits += 1
            index += 1
        }
        return digits > 0 ? v : nil
    }

    /// Skips spaces, then reads a plain decimal such as `0.10` or `12345.67`.
    ///
    /// The digits are gathered into one integer and divided once by a power of ten,
    /// so the result is the double nearest the written value, as a literal would be.
    package mutating func decimal() -> Double? {
        skipSpaces()
        let negative = skip(byte: UInt8(ascii: "-"))
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        var seenPoint = false
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
                index += 1
                continue
            }
            let d = b &- 0x30
            guard d < 10 else { break }
            if mantissa < (1 << 53) / 10, scale < 22 {
                mantissa = mantissa * 10 + UInt64(d)
                if seenPoint { scale += 1 }
            } else if !seenPoint {
                return nil
            }
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        var v = Double(mantissa)
        if scale > 0 { v /= ProcfsScanner.powersOfTen[scale] }
        return negative ? -v : v
    }

    /// Skips spaces, then returns the bytes up to the next space, tab or newline.
    package mutating func word() -> UnsafeBufferPointer<UInt8>? {
        skipSpaces()
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x20 || b == 0x09 || b == 0x0A { break }
            index += 1
        }
        return index > start ? UnsafeBufferPointer(rebasing: bytes[start..<index]) : nil
    }

    /// Skips spaces, then reads a word as a `String`.
    package mutating func string() -> String? {
        word().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Skips `count` words on the current line; false when the line ends first.
    package mutating func skipWords(_ count: Int) -> Bool {
        for _ in 0..<count where word() == nil { return false }
        return true
    }

    package static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    private static let powersOfTen: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }

    /// Whether `bytes` equal `literal`.
    package static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard bytes.count == n else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[i] != p[i] { return false }
        return true
    }
}
