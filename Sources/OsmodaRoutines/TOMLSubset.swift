import OsmodaCore

/// The small, strict subset of TOML that routine files may use:
///
/// - `key = value` lines with bare keys (`A-Z a-z 0-9 _ -`), `#` comments, blank lines;
/// - values: basic strings `"…"` (escapes `\" \\ \n \t \r \uXXXX`), literal strings
///   `'…'`, integers, `true`/`false`, and arrays of those (which may span lines);
/// - one level of tables, `[env]`, whose keys may also be quoted strings.
///
/// Anything else (dotted keys, inline tables, floats, dates, multi-line strings,
/// arrays of tables, a key given twice) is an error naming the line, not a guess.
public enum TOMLSubset {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var p = Parser(Array(text.utf8))
        return try p.document()
    }

    struct Parser {
        let b: [UInt8]
        var i = 0
        var line = 1
        init(_ b: [UInt8]) { self.b = b }

        func fail(_ m: String) -> Failure { Failure(line: line, message: m) }
        var atEnd: Bool { i >= b.count }

        mutating func skipBlanks() { while !atEnd, b[i] == 0x20 || b[i] == 0x09 { i += 1 } }

        /// Skips blanks, a comment, and the end of the line (or of the text).
        mutating func endOfLine() throws(Failure) {
            skipBlanks()
            if !atEnd && b[i] == UInt8(ascii: "#") { while !atEnd && b[i] != 0x0A { i += 1 } }
            if !atEnd && b[i] == 0x0D { i += 1 }
            if atEnd { return }
            guard b[i] == 0x0A else { throw fail("unexpected '\(Character(Unicode.Scalar(b[i])))' after the value") }
            i += 1
            line += 1
        }

        /// Skips blanks, comments and newlines (inside arrays and between lines).
        mutating func skipSpace() {
            while !atEnd {
                switch b[i] {
                case 0x20, 0x09, 0x0D: i += 1
                case 0x0A: i += 1; line += 1
                case UInt8(ascii: "#"): while !atEnd && b[i] != 0x0A { i += 1 }
                default: return
                }
            }
        }

        mutating func document() throws(Failure) -> JSONValue {
            var root = JSONObject()
            var table: String?
            var sub = JSONObject()
            func close(_ root: inout JSONObject, _ table: String?, _ sub: JSONObject) {
                if let table { root.append(table, .object(sub)) }
            }
            while true {
                skipSpace()
                if atEnd { break }
                if b[i] == UInt8(ascii: "[") {
                    i += 1
                    let name = try bareKey()
                    guard !atEnd, b[i] == UInt8(ascii: "]") else { throw fail("expected ']' after the table name") }
                    i += 1
                    guard name == "env" else { throw fail("unknown table [\(name)]; only [env] is allowed") }
                    guard table == nil, root[name] == nil else { throw fail("table [\(name)] given twice") }
                    close(&root, table, sub)
                    table = name
                    sub = JSONObject()
                    try endOfLine()
                    continue
                }
                let key = table == nil ? try bareKey() : try anyKey()
                skipBlanks()
                guard !atEnd, b[i] == UInt8(ascii: "=") else { throw fail("expected '=' after '\(key)'") }
                i += 1
                skipBlanks()
                let v = try value()
                if table == nil {
                    guard root[key] == nil else { throw fail("'\(key)' is given twice") }
                    root.append(key, v)
                } else {
                    guard sub[key] == nil else { throw fail("'\(key)' is given twice in [\(table ?? "")]") }
                    sub.append(key, v)
                }
                try endOfLine()
            }
            close(&root, table, sub)
            return .object(root)
        }

        mutating func bareKey() throws(Failure) -> String {
            skipBlanks()
            let s = i
            while !atEnd, b[i] == 0x5F || b[i] == 0x2D || (b[i] >= 0x30 && b[i] <= 0x39) || (b[i] | 0x20 >= 0x61 && b[i] | 0x20 <= 0x7A) { i += 1 }
            guard i > s else { throw fail(atEnd ? "expected a key" : "expected a key, found '\(Character(Unicode.Scalar(b[i])))'") }
            if !atEnd && b[i] == UInt8(ascii: ".") { throw fail("dotted keys are not supported") }
            return String(decoding: b[s..<i], as: UTF8.self)
        }

        mutating func anyKey() throws(Failure) -> String {
            skipBlanks()
            if !atEnd, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                guard case .string(let s) = try value() else { throw fail("expected a key") }
                return s
            }
            return try bareKey()
        }

        mutating func value() throws(Failure) -> JSONValue {
            guard !atEnd else { throw fail("expected a value") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { return .string(try basicString()) }
            if c == UInt8(ascii: "'") {
                i += 1
                let s = i
                while !atEnd && b[i] != UInt8(ascii: "'") && b[i] != 0x0A { i += 1 }
                guard !atEnd, b[i] == UInt8(ascii: "'") else { throw fail("unterminated string") }
                i += 1
                return .string(String(decoding: b[s..<(i - 1)], as: UTF8.self))
            }
            if c == UInt8(ascii: "[") {
                i += 1
                var items: [JSONValue] = []
                while true {
                    skipSpace()
                    guard !atEnd else { throw fail("unterminated array") }
                    if b[i] == UInt8(ascii: "]") { i += 1; break }
                    // No nesting: it is not needed, and `[[[[…` must not recurse a million deep.
                    if b[i] == UInt8(ascii: "[") { throw fail("nested arrays are not supported") }
                    items.append(try value())
                    skipSpace()
                    guard !atEnd else { throw fail("unterminated array") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard b[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
                }
                return .array(items)
            }
            let s = i
            while !atEnd, b[i] != 0x20, b[i] != 0x09, b[i] != 0x0A, b[i] != 0x0D, b[i] != UInt8(ascii: ","),
                  b[i] != UInt8(ascii: "]"), b[i] != UInt8(ascii: "#") { i += 1 }
            let word = String(decoding: b[s..<i], as: UTF8.self)
            if word == "true" { return .bool(true) }
            if word == "false" { return .bool(false) }
            var digits = Substring(word)
            if digits.hasPrefix("+") || digits.hasPrefix("-") { digits = digits.dropFirst() }
            if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int64(word.hasPrefix("+") ? String(word.dropFirst()) : word) {
                return .int(v)
            }
            throw fail(word.isEmpty ? "expected a value" : "'\(word)' is not a supported value (strings, integers, booleans and arrays only)")
        }

        mutating func basicString() throws(Failure) -> String {
            i += 1
            if i + 1 < b.count && b[i] == UInt8(ascii: "\"") && b[i + 1] == UInt8(ascii: "\"") {
                throw fail("multi-line strings are not supported")
            }
            var out: [UInt8] = []
            while true {
                guard !atEnd, b[i] != 0x0A else { throw fail("unterminated string") }
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard !atEnd else { throw fail("unterminated string") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "u"):
                    guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw fail("bad \\u escape") }
                    i += 4
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("unknown escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
