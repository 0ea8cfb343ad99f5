import OsmodaCore
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    static func written(_ v: JSONValue) -> String { JSONWriter.serialize(v) }

    @Test("control characters are escaped: \\n \\r \\t by name, the rest as \\u00xx", arguments: 0..<0x20)
    func controlCharacters(_ code: Int) throws {
        let scalar = try #require(Unicode.Scalar(code))
        let expected: String
        switch code {
        case 0x0A: expected = #""\n""#
        case 0x0D: expected = #""\r""#
        case 0x09: expected = #""\t""#
        default:
            let hex = String(code, radix: 16)
            expected = "\"\\u00" + (hex.count == 1 ? "0" + hex : hex) + "\""
        }
        let out = Self.written(.string(String(Character(scalar))))
        #expect(out == expected)
        // And the reader gets the character back.
        #expect(try JSONReader.parse(out) == .string(String(Character(scalar))))
    }

    @Test("quotes, backslashes and DEL are escaped; slash and non-ASCII are raw", arguments: [
        ("\"", #""\"""#),
        ("\\", #""\\""#),
        ("\u{7F}", #""\u007f""#),
        ("a\"b\\c", #""a\"b\\c""#),
        ("/", #""/""#),
        ("é日😀", "\"é日😀\""),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ("\u{80}", "\"\u{80}\""),
        ("", #""""#),
        ("plain text", #""plain text""#),
    ])
    func stringEscaping(_ input: String, _ expected: String) throws {
        #expect(Self.written(.string(input)) == expected)
        #expect(try JSONReader.parse(expected) == .string(input))
    }

    @Test("non-ASCII is written as its raw UTF-8 bytes")
    func rawUTF8() {
        var out: [UInt8] = []
        JSONWriter.writeString("é😀", into: &out)
        #expect(out == [0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x22])
    }

    @Test("object keys are escaped like strings")
    func keyEscaping() {
        #expect(Self.written(object(["a\"\n\u{7F}": .null])) == #"{"a\"\n\u007f":null}"#)
    }

    @Test("non-finite doubles become null, wherever they are", arguments: [Double.nan, .infinity, -.infinity, .signalingNaN])
    func nonFinite(_ d: Double) {
        #expect(Self.written(.double(d)) == "null")
        #expect(Self.written(.array([.double(d), .int(1)])) == "[null,1]")
        #expect(Self.written(object(["x": .double(d)])) == #"{"x":null}"#)
    }

    @Test("integers stay integers, exactly", arguments: [
        (Int64(0), "0"), (-1, "-1"), (42, "42"), (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
        (1_000_000_000_000_000_000, "1000000000000000000"),
    ])
    func integers(_ n: Int64, _ expected: String) {
        #expect(Self.written(.int(n)) == expected)
    }

    @Test("doubles: integral values below 1e15 print as integers, others in shortest form", arguments: [
        (2.0, "2"), (-0.0, "0"), (-3.0, "-3"), (0.1, "0.1"), (1.5, "1.5"), (-2.25, "-2.25"), (123.456, "123.456"),
        (999_999_999_999_999.0, "999999999999999"),
    ])
    func doubles(_ d: Double, _ expected: String) {
        #expect(Self.written(.double(d)) == expected)
    }

    @Test("every double the writer prints reads back as the same number", arguments: [
        1e-5, 1e15, 1e16, 1e21, 1.5e300, .leastNonzeroMagnitude, 1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308,
        0.30000000000000004, 1_000_000_000_000_000.5,
    ])
    func doublesReadBack(_ d: Double) throws {
        let text = Self.written(.double(d))
        let v = try JSONReader.parse(text)
        #expect(v.number == d, "\(d) written as \(text) read back as \(v)")
        #expect(!text.contains("inf") && !text.contains("nan"))
    }

    @Test("structures are compact, keep member order and duplicates")
    func structures() {
        #expect(Self.written(.array([])) == "[]")
        #expect(Self.written(object([:])) == "{}")
        #expect(Self.written(.null) == "null")
        #expect(Self.written(.bool(true)) == "true")
        #expect(Self.written(.bool(false)) == "false")
        let v = object(["z": .int(1), "a": .array([.null, .bool(false), object(["k": .string("v")])]), "z": .double(0.5)])
        #expect(Self.written(v) == #"{"z":1,"a":[null,false,{"k":"v"}],"z":0.5}"#)
    }

    @Test("write appends to the existing buffer")
    func appends() {
        var out = Array("x".utf8)
        JSONWriter.write(.array([.int(1)]), into: &out)
        JSONWriter.write(.string("y"), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"x[1]"y""#)
    }
}

@Suite("JSONValue and JSONObject")
struct JSONValueTests {
    @Test("1 and 1.0 are equal numbers; other kinds never equal")
    func equality() {
        #expect(JSONValue.int(1) == .double(1.0))
        #expect(JSONValue.double(2.5) == .double(2.5))
        #expect(JSONValue.int(1) != .string("1"))
        #expect(JSONValue.null != .bool(false))
        #expect(JSONValue.array([.int(1)]) == .array([.double(1)]))
        #expect(JSONValue.array([.int(1)]) != .array([.int(1), .int(1)]))
    }

    @Test("object equality is by last-wins pairs, ignoring order")
    func objectEquality() {
        #expect(JSONObject(["a": .int(1), "b": .int(2)]) == JSONObject(["b": .int(2), "a": .int(1)]))
        #expect(JSONObject(["a": .int(1), "a": .int(2)]) == JSONObject(["a": .int(2)]))
        #expect(JSONObject(["a": .int(1)]) != JSONObject(["a": .int(1), "b": .null]))
        #expect(JSONObject(["a": .int(1)]) != JSONObject(["a": .int(2)]))
    }

    @Test("keys are compared byte for byte, without Unicode normalisation")
    func keysByteForByte() {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        let both = JSONObject([composed: .int(1), decomposed: .int(2)])
        #expect(both[composed] == .int(1))
        #expect(both[decomposed] == .int(2))
        #expect(JSONObject([composed: .int(1)])[decomposed] == nil)
        #expect(both != JSONObject([composed: .int(1)]))
        #expect(JSONValue.string(composed) != .string(decomposed))
    }

    @Test("subscripts: last duplicate wins, set replaces the last, nil removes it")
    func subscripts() {
        var o = JSONObject(["a": .int(1), "b": .int(2), "a": .int(3)])
        #expect(o["a"] == .int(3))
        #expect(JSONValue.object(o)["b"] == .int(2))
        #expect(JSONValue.array([])["a"] == nil)
        o["a"] = .int(4)
        #expect(o.keys == ["a", "b", "a"])
        #expect(o.members[0].value == .int(1))
        #expect(o["a"] == .int(4))
        o["a"] = nil
        #expect(o.keys == ["a", "b"])
        #expect(o["a"] == .int(1))
        o["c"] = .null
        #expect(o.keys == ["a", "b", "c"])
        o["missing"] = nil
        #expect(o.keys == ["a", "b", "c"])
        o.append("a", .bool(true))
        #expect(o["a"] == .bool(true))
        #expect(!o.isEmpty)
        #expect(JSONObject().isEmpty)
    }

    @Test("number, truthiness and type names")
    func accessors() {
        #expect(JSONValue.int(3).number == 3)
        #expect(JSONValue.double(2.5).number == 2.5)
        #expect(JSONValue.string("3").number == nil)
        let truthy: [(JSONValue, Bool)] = [
            (.null, false), (.bool(false), false), (.bool(true), true), (.int(0), true), (.string(""), true),
            (.array([]), true), (.object(JSONObject()), true),
        ]
        for (v, t) in truthy { #expect(v.isTruthy == t, "\(v)") }
        let names: [(JSONValue, String)] = [
            (.null, "null"), (.bool(true), "boolean"), (.int(1), "number"), (.double(1), "number"),
            (.string(""), "string"), (.array([]), "array"), (.object(JSONObject()), "object"),
        ]
        for (v, n) in names { #expect(v.typeName == n) }
    }
}
