import OsmodaCore
import Testing

/// A malformed line and the exact error the reader must give for it.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    var bytes: [UInt8]
    var column: Int
    var message: String
    init(_ text: String, column: Int, _ message: String) {
        self.bytes = Array(text.utf8)
        self.column = column
        self.message = message
    }
    init(bytes: [UInt8], column: Int, _ message: String) {
        self.bytes = bytes
        self.column = column
        self.message = message
    }
    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

@Suite("JSONReader")
struct JSONReaderTests {
    // MARK: - Values

    @Test("scalars, arrays and objects parse to the expected values")
    func values() throws {
        let cases: [(String, JSONValue)] = [
            ("null", .null),
            ("true", .bool(true)),
            (" false ", .bool(false)),
            ("0", .int(0)),
            ("-0", .int(0)),
            ("-0.0", .double(-0.0)),
            ("42", .int(42)),
            ("-42", .int(-42)),
            ("1.5", .double(1.5)),
            ("1e2", .double(100)),
            ("1E+2", .double(100)),
            ("25e-1", .double(2.5)),
            ("\"\"", .string("")),
            ("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", .string("a\"b\\c/d\u{8}\u{C}\n\r\t")),
            ("\"\\u0041\\u00e9\\u65E5\"", .string("Aé日")),
            ("\"\\ud83d\\ude00\"", .string("😀")),
            ("\"\\u0000\"", .string("\u{0}")),
            ("\"é日😀\"", .string("é日😀")),
            ("[]", .array([])),
            ("[ 1 , [ 2 , [ ] ] ]", .array([.int(1), .array([.int(2), .array([])])])),
            ("{}", object([:])),
            ("\t\r\n{ \"a\" : 1 , \"b\" : [ null ] }\n", object(["a": .int(1), "b": .array([.null])])),
        ]
        for (text, expected) in cases {
            let v = try #require(parseResult(text).value, "\(text.debugDescription) was refused")
            #expect(identical(v, expected), "\(text.debugDescription) gave \(v)")
            // The String and [UInt8] entry points agree.
            #expect(identical(try JSONReader.parse(text), expected))
            #expect(identical(try JSONReader.parse(Array(text.utf8)), expected))
        }
    }

    @Test("duplicate keys are kept in order and lookups take the last")
    func duplicateKeys() throws {
        guard case .object(let o) = try JSONReader.parse(#"{"a":1,"b":2,"a":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["a", "b", "a"])
        #expect(o["a"] == .int(3))
        #expect(o["b"] == .int(2))
        #expect(o["c"] == nil)
    }

    @Test("integers in Int64 range stay exact integers", arguments: [
        Int64.max, Int64.max - 1, 9_200_000_000_000_000_000, 1_234_567_890_123_456_789, 999_999_999_999_999_999,
        1_000_000_000_000_000_000, 9_007_199_254_740_993, 0, -1, -9_007_199_254_740_993,
        -999_999_999_999_999_999, -1_000_000_000_000_000_000, -1_000_000_000_000_000_001, -1_234_567_890_123_456_789,
        -9_200_000_000_000_000_000, Int64.min + 1, Int64.min,
    ])
    func int64Exact(_ n: Int64) throws {
        let v = try JSONReader.parse(String(n))
        #expect(identical(v, .int(n)), "\(n) parsed as \(v)")
    }

    @Test("integers beyond Int64 become doubles", arguments: [
        ("9223372036854775808", 0x1p63),
        ("-9223372036854775809", -0x1p63),
        ("100000000000000000000", 1e20),
        ("-123123123123123123123123123123", -1.2312312312312312e29),
    ])
    func beyondInt64(_ text: String, _ expected: Double) throws {
        let v = try JSONReader.parse(text)
        #expect(identical(v, .double(expected)), "\(text) parsed as \(v)")
    }

    @Test("numbers with a fraction or exponent are doubles, even when integral")
    func doublesStayDoubles() throws {
        #expect(identical(try JSONReader.parse("1.0"), .double(1)))
        #expect(identical(try JSONReader.parse("1e0"), .double(1)))
        #expect(identical(try JSONReader.parse("-2.50"), .double(-2.5)))
    }

    @Test("underflow becomes zero; overflow is refused", arguments: ["1e-400", "-1e-400", "123e-10000000", "2.5e-400"])
    func underflow(_ text: String) throws {
        let v = try JSONReader.parse(text)
        #expect(v.number == 0, "\(text) parsed as \(v)")
    }

    @Test("numbers too large for a Double are refused at their first byte", arguments: ["1e309", "-1e309", "[1.5e+9999]", "{\"a\": 123123e100000}"])
    func overflow(_ text: String) throws {
        let e = try #require(parseResult(text).error)
        #expect(e.message == "number out of range")
        let start = Array(text.utf8).firstIndex { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) }
        #expect(e.offset == start)
    }

    // MARK: - Depth

    @Test("nesting of exactly maxDepth is accepted, one more is refused")
    func depthLimit() throws {
        let limit = JSONReader.defaultMaxDepth
        #expect(limit == 256)
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(parseResult(ok).value != nil)
        let deep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        let e = try #require(parseResult(deep).error)
        #expect(e.message == "nesting deeper than 256")
        #expect(e.offset == limit)

        let objects = String(repeating: "{\"a\":", count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
        let oe = try #require(parseResult(objects).error)
        #expect(oe.message == "nesting deeper than 256")
        #expect(oe.offset == limit * 5)
    }

    @Test("a custom maxDepth is honoured")
    func customDepth() throws {
        #expect((try? JSONReader.parse("[[1]]", maxDepth: 2)) != nil)
        #expect(throws: JSONError("nesting deeper than 1", at: 1)) { try JSONReader.parse("[[1]]", maxDepth: 1) }
        #expect(throws: JSONError("nesting deeper than 0", at: 0)) { try JSONReader.parse("{}", maxDepth: 0) }
    }

    @Test("a very deep document fails cleanly instead of overflowing the stack")
    func hugeDepth() throws {
        let text = String(repeating: "[", count: 100_000)
        let e = try #require(parseResult(text).error)
        #expect(e.offset == 256)
        let rec = try #require(recordResult(String(repeating: "{\"a\":[", count: 50_000), projecting: KeyProjection.none).error)
        #expect(rec.message == "nesting deeper than 256")
    }

    // MARK: - Errors

    static let malformed: [MalformedCase] = [
        MalformedCase("", column: 1, "unexpected end of input, expected a value"),
        MalformedCase("   ", column: 4, "unexpected end of input, expected a value"),
        MalformedCase("{", column: 2, "unexpected end of input in object"),
        MalformedCase(#"{"a":"#, column: 6, "unexpected end of input, expected a value"),
        MalformedCase(#"{"a":1"#, column: 7, "unexpected end of input in object"),
        MalformedCase(#"{"a":1,}"#, column: 8, "expected a string key, found '}'"),
        MalformedCase(#"{'a':1}"#, column: 2, "expected a string key, found '''"),
        MalformedCase(#"{a:1}"#, column: 2, "expected a string key, found 'a'"),
        MalformedCase(#"{"a" 1}"#, column: 6, "expected ':' after key, found '1'"),
        MalformedCase(#"{"a":1,"b"}"#, column: 11, "expected ':' after key, found '}'"),
        MalformedCase(#"{"a":1 "b":2}"#, column: 8, "expected ',' or '}' in object, found '\"'"),
        MalformedCase(#"{"a":1;"b":2}"#, column: 7, "expected ',' or '}' in object, found ';'"),
        MalformedCase("[1,2", column: 5, "unexpected end of input in array"),
        MalformedCase("[1 2]", column: 4, "expected ',' or ']' in array, found '2'"),
        MalformedCase("[1,]", column: 4, "unexpected ']', expected a value"),
        MalformedCase(#"{"a":tru}"#, column: 6, "invalid literal"),
        MalformedCase(#"{"a":nul"#, column: 6, "invalid literal"),
        MalformedCase(#"{"a":True}"#, column: 6, "unexpected 'T', expected a value"),
        MalformedCase(#"{"a":"b"#, column: 6, "unterminated string"),
        MalformedCase(#"{"a":"b\"}"#, column: 6, "unterminated string"),
        MalformedCase(#"{"a":"\x"}"#, column: 7, "invalid escape '\\x'"),
        MalformedCase(bytes: Array(#"{"a":"\"#.utf8) + [0x01] + Array(#""}"#.utf8), column: 7, "invalid escape before byte 0x1"),
        MalformedCase(bytes: Array(#"{"a":"\"#.utf8) + [0xC3, 0xA9] + Array(#""}"#.utf8), column: 7, "invalid escape before byte 0xC3"),
        MalformedCase(#"{"a":"\ "}"#, column: 7, "invalid escape before byte 0x20"),
        MalformedCase(#"{"a":"\u12G4"}"#, column: 11, "invalid hex digit in \\u escape"),
        MalformedCase(#"{"a":"\u00"}"#, column: 11, "invalid hex digit in \\u escape"),
        MalformedCase(#""\u00"#, column: 2, "incomplete \\u escape"),
        MalformedCase(#""\"#, column: 2, "unterminated escape"),
        MalformedCase(#"{"a":"\ud800"}"#, column: 7, "lone surrogate in \\u escape"),
        MalformedCase(#"{"a":"\udc00"}"#, column: 7, "lone surrogate in \\u escape"),
        MalformedCase(#"{"a":"x\ud800\u0041"}"#, column: 8, "lone surrogate in \\u escape"),
        MalformedCase("{\"a\":\"\tb\"}", column: 7, "unescaped control character in string"),
        MalformedCase(bytes: Array(#"{"a":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8), column: 8, "invalid UTF-8 in string"),
        MalformedCase(bytes: Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), column: 7, "invalid UTF-8 in string"),
        MalformedCase(bytes: Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), column: 7, "invalid UTF-8 in string"),
        MalformedCase(bytes: Array(#"{"a":"日"#.utf8) + [0xE6, 0x97] + Array(#""}"#.utf8), column: 10, "invalid UTF-8 in string"),
        MalformedCase(bytes: [0xEF, 0xBB, 0xBF] + Array("{}".utf8), column: 1, "unexpected byte 0xEF, expected a value"),
        MalformedCase(#"{"a":01}"#, column: 6, "leading zero in number"),
        MalformedCase(#"{"a":-01}"#, column: 6, "leading zero in number"),
        MalformedCase(#"{"a":1.}"#, column: 8, "expected a digit after '.'"),
        MalformedCase(#"{"a":1.e5}"#, column: 8, "expected a digit after '.'"),
        MalformedCase(#"{"a":1e}"#, column: 8, "expected a digit in exponent"),
        MalformedCase(#"{"a":1e+}"#, column: 9, "expected a digit in exponent"),
        MalformedCase(#"{"a":-}"#, column: 6, "invalid number"),
        MalformedCase(#"{"a":-a}"#, column: 6, "invalid number"),
        MalformedCase(#"{"a":.5}"#, column: 6, "unexpected '.', expected a value"),
        MalformedCase(#"{"a":+1}"#, column: 6, "unexpected '+', expected a value"),
        MalformedCase(#"{"a":1e999}"#, column: 6, "number out of range"),
        MalformedCase(#"{"a":1} x"#, column: 9, "unexpected 'x' after the value"),
        MalformedCase(#"{"a":1}}"#, column: 8, "unexpected '}' after the value"),
        MalformedCase("{\"a\":1}\u{0}", column: 8, "unexpected byte 0x0 after the value"),
        MalformedCase("{\"a\":1}\u{7F}", column: 8, "unexpected byte 0x7F after the value"),
        MalformedCase("{\"a\":1}\u{C}", column: 8, "unexpected byte 0xC after the value"),
        MalformedCase("1 2", column: 3, "unexpected '2' after the value"),
        MalformedCase("[1]\n[2]", column: 5, "unexpected '[' after the value"),
    ]

    @Test("malformed input: exact message and column", arguments: malformed)
    func malformedInput(_ c: MalformedCase) throws {
        let e = try #require(parseResult(c.bytes).error, "accepted")
        #expect(e.message == c.message)
        #expect(e.column == c.column)
        #expect(e.offset == c.column - 1)
        #expect(e.description == "column \(c.column): \(c.message)")
    }

    @Test("JSONError's description and column")
    func errorDescription() {
        let e = JSONError("bad", at: 0)
        #expect(e.column == 1)
        #expect(e.description == "column 1: bad")
        #expect(JSONError("x", at: 4) == JSONError("x", at: 4))
        #expect(JSONError("x", at: 4) != JSONError("x", at: 5))
    }

    @Test("a buffer slice is read only within its bounds")
    func sliceBounds() throws {
        // The bytes after the slice would complete the value; the reader must not see them.
        let bytes = Array(#"[1,2]"#.utf8)
        let r = bytes.withUnsafeBufferPointer { buf in
            Result { () throws(JSONError) -> JSONValue in try JSONReader.parse(UnsafeBufferPointer(rebasing: buf[0..<4])) }
        }
        #expect(r.error == JSONError("unexpected end of input in array", at: 4))
    }
}
