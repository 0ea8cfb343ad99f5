/// Why a JSON text was refused, and where.
///
/// `offset` is the 0-based byte offset into the text; `column` is 1-based, in bytes,
/// as editors and compilers count it.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }
    public var column: Int { offset + 1 }
    public var description: String { "column \(column): \(message)" }

    /// The 1-based line and byte column of `offset` in `bytes`, for a file's messages.
    public func lineAndColumn(in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }
}

/// A strict RFC 8259 parser that works on UTF-8 bytes.
///
/// What it refuses beyond the grammar: invalid UTF-8, a byte-order mark, `\u` escapes
/// that leave a lone surrogate, numbers too large for a `Double`, and nesting deeper
/// than `maxDepth`. A number too small for a `Double` becomes 0. Duplicate keys are kept.
///
/// `parseRecord(projecting:)` validates a whole object but materialises only the
/// top-level members a caller asked for; the rest is checked and skipped without
/// allocating, which is what makes the filters fast.
public struct JSONReader {
    public static let defaultMaxDepth = 256

    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline var pos: Int = 0
    @usableFromInline let maxDepth: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSONReader.defaultMaxDepth) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses one complete JSON text: a value with only whitespace around it.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        var r = JSONReader(bytes, maxDepth: maxDepth)
        r.skipWhitespace()
        let v = try r.parseValue(depth: 0)
        try r.expectEnd()
        return v
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        var copy = text
        let result = copy.withUTF8 { buf in Result { () throws(JSONError) -> JSONValue in try parse(buf, maxDepth: maxDepth) } }
        return try result.get()
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buf in Result { () throws(JSONError) -> JSONValue in try parse(buf, maxDepth: maxDepth) } }
        return try result.get()
    }

    /// Parses one record line: a JSON object, validated in full.
    ///
    /// - Parameter projecting: the top-level keys to materialise, or `nil` for all.
    /// - Returns: the object with only the projected members (all, when `nil`).
    public static func parseRecord(_ bytes: UnsafeBufferPointer<UInt8>, projecting keys: KeyProjection?, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONObject {
        var r = JSONReader(bytes, maxDepth: maxDepth)
        r.skipWhitespace()
        guard r.pos < bytes.count else { throw JSONError("empty line", at: 0) }
        guard bytes[r.pos] == UInt8(ascii: "{") else {
            // Validate first, so a broken line is reported as broken rather than as "not an object".
            let v = try r.parseValue(depth: 0)
            try r.expectEnd()
            throw JSONError("record is a JSON \(v.typeName), not an object", at: 0)
        }
        let obj = try r.parseObject(depth: 0, projecting: keys)
        try r.expectEnd()
        return obj
    }

    // MARK: - Grammar

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if pos < bytes.count {
            throw JSONError("unexpected \(describeByte(at: pos)) after the value", at: pos)
        }
    }

    func describeByte(at i: Int) -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x\(String(b, radix: 16, uppercase: true))"
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard pos < bytes.count else { throw JSONError("unexpected end of input, expected a value", at: pos) }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth, projecting: nil))
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw JSONError("unexpected \(describeByte(at: pos)), expected a value", at: pos)
        }
    }

    /// Validates a value without building it.
    mutating func skipValue(depth: Int) throws(JSONError) {
        guard pos < bytes.count else { throw JSONError("unexpected end of input, expected a value", at: pos) }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            _ = try parseObject(depth: depth, projecting: KeyProjection.none)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw JSONError("nesting deeper than \(maxDepth)", at: pos) }
            pos += 1
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard pos < bytes.count else { throw JSONError("unexpected end of input in array", at: pos) }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; return }
                throw JSONError("expected ',' or ']' in array, found \(describeByte(at: pos))", at: pos)
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw JSONError("unexpected \(describeByte(at: pos)), expected a value", at: pos)
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        let start = pos
        guard bytes.count - pos >= n else { throw JSONError("invalid literal", at: start) }
        let w = word.utf8Start
        for i in 0..<n where bytes[pos + i] != w[i] {
            throw JSONError("invalid literal", at: start)
        }
        pos += n
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < maxDepth else { throw JSONError("nesting deeper than \(maxDepth)", at: pos) }
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw JSONError("unexpected end of input in array", at: pos) }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw JSONError("expected ',' or ']' in array, found \(describeByte(at: pos))", at: pos)
        }
    }

    mutating func parseObject(depth: Int, projecting keys: KeyProjection?) throws(JSONError) -> JSONObject {
        guard depth < maxDepth else { throw JSONError("nesting deeper than \(maxDepth)", at: pos) }
        pos += 1
        var obj = JSONObject()
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return obj }
        while true {
            skipWhitespace()
            guard pos < bytes.count else { throw JSONError("unexpected end of input in object", at: pos) }
            guard bytes[pos] == UInt8(ascii: "\"") else {
                throw JSONError("expected a string key, found \(describeByte(at: pos))", at: pos)
            }
            // Keys are matched on their raw bytes when they hold no escape, so a
            // projected parse allocates nothing for the members it skips.
            let keyStart = pos + 1
            let hadEscape = try scanStringBody()
            let keyEnd = pos - 1
            var wanted: String? = nil
            if let keys {
                if keys.isNone {
                    wanted = nil
                } else if hadEscape {
                    var sub = JSONReader(UnsafeBufferPointer(rebasing: bytes[(keyStart - 1)..<pos]), maxDepth: maxDepth)
                    let k = try sub.parseString()
                    wanted = keys.contains(k) ? k : nil
                } else {
                    wanted = keys.match(UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd]))
                }
            } else {
                if hadEscape {
                    var sub = JSONReader(UnsafeBufferPointer(rebasing: bytes[(keyStart - 1)..<pos]), maxDepth: maxDepth)
                    wanted = try sub.parseString()
                } else {
                    wanted = String(decoding: UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd]), as: UTF8.self)
                }
            }
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw JSONError("expected ':' after key, found \(describeByte(at: pos))", at: pos)
            }
            pos += 1
            skipWhitespace()
            if let wanted {
                obj.append(wanted, try parseValue(depth: depth + 1))
            } else {
                try skipValue(depth: depth + 1)
            }
            skipWhitespace()
            guard pos < bytes.count else { throw JSONError("unexpected end of input in object", at: pos) }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return obj }
            throw JSONError("expected ',' or '}' in object, found \(describeByte(at: pos))", at: pos)
        }
    }

    // MARK: - Strings

    mutating func skipString() throws(JSONError) {
        _ = try scanStringBody()
    }

    /// Validates a string starting at its opening quote and leaves `pos` after the
    /// closing quote. Returns whether it contained an escape.
    @inlinable
    mutating func scanStringBody() throws(JSONError) -> Bool {
        let open = pos
        pos += 1
        var escaped = false
        let n = bytes.count
        while pos < n {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") { pos += 1; return escaped }
            if b == UInt8(ascii: "\\") {
                escaped = true
                try scanEscape()
                continue
            }
            if b < 0x20 { throw JSONError("unescaped control character in string", at: pos) }
            if b < 0x80 { pos += 1; continue }
            try validateUTF8Sequence()
        }
        throw JSONError("unterminated string", at: open)
    }

    /// Checks one escape sequence at `pos` (the backslash) and moves past it.
    @usableFromInline
    mutating func scanEscape() throws(JSONError) {
        _ = try decodeEscape()
    }

    /// Decodes the escape at `pos` (a backslash) into a scalar, pairing surrogates.
    mutating func decodeEscape() throws(JSONError) -> Unicode.Scalar {
        let start = pos
        guard pos + 1 < bytes.count else { throw JSONError("unterminated escape", at: start) }
        let c = bytes[pos + 1]
        pos += 2
        switch c {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let hi = try hex4(at: start)
            if hi >= 0xD800 && hi < 0xDC00 {
                guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw JSONError("lone surrogate in \\u escape", at: start)
                }
                let second = pos
                pos += 2
                let lo = try hex4(at: second)
                guard lo >= 0xDC00 && lo < 0xE000 else { throw JSONError("lone surrogate in \\u escape", at: start) }
                let v = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                guard let scalar = Unicode.Scalar(v) else { throw JSONError("invalid \\u escape", at: start) }
                return scalar
            }
            guard let scalar = Unicode.Scalar(hi) else { throw JSONError("lone surrogate in \\u escape", at: start) }
            return scalar
        default:
            let shown = c >= 0x21 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "before byte 0x\(String(c, radix: 16, uppercase: true))"
            throw JSONError("invalid escape \(shown)", at: start)
        }
    }

    mutating func hex4(at escapeStart: Int) throws(JSONError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw JSONError("incomplete \\u escape", at: escapeStart) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw JSONError("invalid hex digit in \\u escape", at: pos)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    /// Validates the multi-byte UTF-8 sequence at `pos` and moves past it.
    @usableFromInline
    mutating func validateUTF8Sequence() throws(JSONError) {
        let b0 = bytes[pos]
        let n = bytes.count
        @inline(__always) func cont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i < n && bytes[i] >= lo && bytes[i] <= hi
        }
        let ok: Bool
        let len: Int
        switch b0 {
        case 0xC2...0xDF: len = 2; ok = cont(pos + 1)
        case 0xE0: len = 3; ok = cont(pos + 1, 0xA0, 0xBF) && cont(pos + 2)
        case 0xE1...0xEC, 0xEE...0xEF: len = 3; ok = cont(pos + 1) && cont(pos + 2)
        case 0xED: len = 3; ok = cont(pos + 1, 0x80, 0x9F) && cont(pos + 2)
        case 0xF0: len = 4; ok = cont(pos + 1, 0x90, 0xBF) && cont(pos + 2) && cont(pos + 3)
        case 0xF1...0xF3: len = 4; ok = cont(pos + 1) && cont(pos + 2) && cont(pos + 3)
        case 0xF4: len = 4; ok = cont(pos + 1, 0x80, 0x8F) && cont(pos + 2) && cont(pos + 3)
        default: len = 1; ok = false
        }
        guard ok else { throw JSONError("invalid UTF-8 in string", at: pos) }
        pos += len
    }

    mutating func parseString() throws(JSONError) -> String {
        let start = pos + 1
        let escaped = try scanStringBody()
        let end = pos - 1
        let body = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if !escaped { return String(decoding: body, as: UTF8.self) }
        // Unescape into UTF-8 bytes, then make the string once.
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        var sub = self
        while i < end {
            if bytes[i] == UInt8(ascii: "\\") {
                sub.pos = i
                let scalar = try sub.decodeEscape()
                i = sub.pos
                appendUTF8(scalar, to: &out)
            } else {
                // Copy the run up to the next escape as already-validated UTF-8.
                var j = i
                while j < end && bytes[j] != UInt8(ascii: "\\") { j += 1 }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<j]))
                i = j
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Numbers

    /// Validates a number's grammar and moves past it; returns whether it is an integer.
    @discardableResult
    mutating func scanNumber() throws(JSONError) -> Bool {
        let start = pos
        let n = bytes.count
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 else {
            throw JSONError("invalid number", at: start)
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { throw JSONError("leading zero in number", at: start) }
        } else {
            while pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
        }
        var integer = true
        if pos < n, bytes[pos] == UInt8(ascii: ".") {
            integer = false
            pos += 1
            guard pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 else { throw JSONError("expected a digit after '.'", at: pos) }
            while pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
        }
        if pos < n, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            integer = false
            pos += 1
            if pos < n, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 else { throw JSONError("expected a digit in exponent", at: pos) }
            while pos < n, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
        }
        return integer
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = pos
        let integer = try scanNumber()
        let text = UnsafeBufferPointer(rebasing: bytes[start..<pos])
        if integer {
            let neg = text[0] == UInt8(ascii: "-")
            // Accumulate towards the sign so Int64.min fits; overflow falls back to Double.
            var v: Int64 = 0
            var overflow = false
            for i in (neg ? 1 : 0)..<text.count {
                let d = Int64(text[i] - 0x30)
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { overflow = true; break }
                v = a
            }
            if !overflow { return .int(v) }
        }
        return .double(try finiteDouble(text, at: start))
    }

    /// The number's value as a `Double`; refuses one that overflows.
    func finiteDouble(_ text: UnsafeBufferPointer<UInt8>, at start: Int) throws(JSONError) -> Double {
        guard let d = Double(String(decoding: text, as: UTF8.self)), d.isFinite else {
            throw JSONError("number out of range", at: start)
        }
        return d
    }

    /// Validates a number that is skipped, range included, without building it.
    mutating func skipNumber() throws(JSONError) {
        let start = pos
        let integer = try scanNumber()
        // Only an exponent or a very long mantissa can overflow a Double.
        if !integer || pos - start > 300 {
            let text = UnsafeBufferPointer(rebasing: bytes[start..<pos])
            var hasExponent = !integer
            if !integer { hasExponent = text.contains(UInt8(ascii: "e")) || text.contains(UInt8(ascii: "E")) }
            if hasExponent || text.count > 300 { _ = try finiteDouble(text, at: start) }
        }
    }
}

/// The set of top-level keys a projected parse materialises.
public struct KeyProjection: Sendable {
    @usableFromInline let keys: [[UInt8]]
    @usableFromInline let names: [String]

    public init(_ keys: some Sequence<String>) {
        let unique = Array(Set(keys)).sorted()
        self.names = unique
        self.keys = unique.map { Array($0.utf8) }
    }

    /// A projection that keeps nothing: the object is validated only.
    public static let none = KeyProjection([String]())

    @inlinable var isNone: Bool { keys.isEmpty }

    @inlinable func contains(_ k: String) -> Bool { names.contains { $0.utf8.elementsEqual(k.utf8) } }

    @inlinable
    func match(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        for (i, k) in keys.enumerated() where k.count == raw.count {
            if k.withUnsafeBufferPointer({ kb in memcmpEqual(kb, raw) }) { return names[i] }
        }
        return nil
    }
}

@inlinable @inline(__always)
func memcmpEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}

/// Appends the UTF-8 encoding of `scalar`.
@inline(__always)
func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
    let v = scalar.value
    switch v {
    case 0..<0x80:
        out.append(UInt8(v))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (v >> 6)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (v >> 12)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (v >> 18)))
        out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    }
}
