import OsmodaCore
import OsmodaTestSupport
import Testing

/// A line that is broken only inside a member the projection skips.
struct SkippedBreakage: CustomTestStringConvertible, Sendable {
    var line: [UInt8]
    var column: Int
    var message: String
    init(_ text: String, column: Int, _ message: String) {
        line = Array(text.utf8)
        self.column = column
        self.message = message
    }
    init(bytes: [UInt8], column: Int, _ message: String) {
        line = bytes
        self.column = column
        self.message = message
    }
    var testDescription: String { String(decoding: line, as: UTF8.self).debugDescription }
}

@Suite("JSONReader.parseRecord")
struct ParseRecordTests {
    static let projections: [(String, KeyProjection?)] = [
        ("all", nil), ("none", KeyProjection.none), ("a", KeyProjection(["a"])), ("a,zz", KeyProjection(["a", "zz"])),
    ]

    @Test("projected members are exactly those asked for, in input order")
    func projectsExactly() throws {
        let line = #"{"type":"check.result","x":1,"ts":"2026-01-01T00:00:00.000Z","y":[1,{"z":2}],"host":"h"}"#
        let o = try #require(recordResult(line, projecting: KeyProjection(["ts", "type", "missing"])).value)
        #expect(o.keys == ["type", "ts"])
        #expect(o["type"] == .string("check.result"))
        #expect(o["ts"] == .string("2026-01-01T00:00:00.000Z"))
        #expect(o["x"] == nil)
        #expect(o["missing"] == nil)
    }

    @Test("nil projection keeps every member, duplicates included")
    func nilProjectionKeepsAll() throws {
        let o = try #require(recordResult(#"{"a":1,"b":{"c":[true,null]},"a":3}"#).value)
        #expect(identical(o, JSONObject(["a": .int(1), "b": object(["c": .array([.bool(true), .null])]), "a": .int(3)])))
    }

    @Test("KeyProjection.none materialises nothing but accepts a valid object")
    func noneProjection() throws {
        let o = try #require(recordResult(#"{"a":1,"b":[{"c":"d"}]}"#, projecting: KeyProjection.none).value)
        #expect(o.isEmpty)
    }

    @Test("duplicate projected keys are all kept; lookup takes the last")
    func duplicates() throws {
        let o = try #require(recordResult(#"{"a":1,"b":2,"a":3}"#, projecting: KeyProjection(["a", "a"])).value)
        #expect(o.keys == ["a", "a"])
        #expect(o["a"] == .int(3))
    }

    @Test("keys written with escapes match their decoded form", arguments: [
        (#"{"\u0078":1,"y":2}"#, "x"),
        (#"{"y":2,"x\u0000":0,"\u0078":1}"#, "x"),
        (#"{"a\"b":1}"#, "a\"b"),
        (#"{"a\\b":1}"#, "a\\b"),
        (#"{"\u00e9t\u00E9":1}"#, "été"),
        (#"{"été":1}"#, "été"),
        (#"{"\ud83d\ude00":1}"#, "😀"),
        (#"{"tab\there":1}"#, "tab\there"),
        (#"{"\/":1}"#, "/"),
    ])
    func escapedKeys(_ line: String, _ key: String) throws {
        let o = try #require(recordResult(line, projecting: KeyProjection([key])).value, "refused")
        #expect(o.keys == [key])
        #expect(o[key] == .int(1))
    }

    @Test("an escaped key that decodes to a different name is not projected")
    func escapedKeyNotWanted() throws {
        let o = try #require(recordResult(#"{"\u0079":1,"xx":2,"X":3}"#, projecting: KeyProjection(["x"])).value)
        #expect(o.isEmpty)
    }

    // MARK: - Full validation of skipped members

    static let skippedBreakage: [SkippedBreakage] = [
        SkippedBreakage(#"{"a":1,"skip":[1,{"x":tru}]}"#, column: 23, "invalid literal"),
        SkippedBreakage(#"{"a":1,"skip":"\q"}"#, column: 16, "invalid escape '\\q'"),
        SkippedBreakage(#"{"a":1,"skip":"\u12x4"}"#, column: 20, "invalid hex digit in \\u escape"),
        SkippedBreakage(#"{"a":1,"skip":"\ud800"}"#, column: 16, "lone surrogate in \\u escape"),
        SkippedBreakage(bytes: Array(#"{"a":1,"skip":""#.utf8) + [0xF5, 0x80, 0x80, 0x80] + Array(#""}"#.utf8), column: 16, "invalid UTF-8 in string"),
        SkippedBreakage("{\"a\":1,\"skip\":\"\u{1}\"}", column: 16, "unescaped control character in string"),
        SkippedBreakage(#"{"a":1,"skip":"open}"#, column: 15, "unterminated string"),
        SkippedBreakage(#"{"a":1,"skip":01}"#, column: 15, "leading zero in number"),
        SkippedBreakage(#"{"a":1,"skip":1.}"#, column: 17, "expected a digit after '.'"),
        SkippedBreakage(#"{"a":1,"skip":1e999}"#, column: 15, "number out of range"),
        SkippedBreakage(#"{"a":1,"skip":[-1e400]}"#, column: 16, "number out of range"),
        SkippedBreakage(#"{"a":1,"skip":1"# + String(repeating: "0", count: 400) + "}", column: 15, "number out of range"),
        SkippedBreakage(#"{"a":1,"skip":-1"# + String(repeating: "0", count: 309) + ".5}", column: 15, "number out of range"),
        SkippedBreakage(#"{"a":1,"skip":[1 2]}"#, column: 18, "expected ',' or ']' in array, found '2'"),
        SkippedBreakage(#"{"a":1,"skip":[1,]}"#, column: 18, "unexpected ']', expected a value"),
        SkippedBreakage(#"{"a":1,"skip":{"k" 1}}"#, column: 20, "expected ':' after key, found '1'"),
        SkippedBreakage(#"{"a":1,"skip":{"k":1,}}"#, column: 22, "expected a string key, found '}'"),
        SkippedBreakage(#"{"a":1,"\q":1}"#, column: 9, "invalid escape '\\q'"),
        SkippedBreakage(#"{"a":1,"skip":}"#, column: 15, "unexpected '}', expected a value"),
        SkippedBreakage(#"{"a":1,"skip":[1"#, column: 17, "unexpected end of input in array"),
        SkippedBreakage(
            #"{"a":1,"skip":"# + String(repeating: "[", count: 256) + String(repeating: "]", count: 256) + "}",
            column: 15 + 255, "nesting deeper than 256"
        ),
        SkippedBreakage(
            #"{"a":1,"skip":"# + String(repeating: #"{"k":"#, count: 256) + "1" + String(repeating: "}", count: 257),
            column: 15 + 255 * 5, "nesting deeper than 256"
        ),
    ]

    @Test("a broken value in a skipped member is an error at its exact column", arguments: skippedBreakage)
    func skippedMembersAreValidated(_ c: SkippedBreakage) throws {
        for (name, projection) in Self.projections {
            switch recordResult(c.line, projecting: projection) {
            case .success(let o): Issue.record("projection \(name): accepted as \(o)")
            case .failure(let e):
                #expect(e.message == c.message, "projection \(name)")
                #expect(e.column == c.column, "projection \(name)")
            }
        }
        // parse gives the same error as parseRecord.
        #expect(parseResult(c.line).error == JSONError(c.message, at: c.column - 1))
    }

    @Test("long numbers within range in a skipped member are accepted", arguments: [
        "1" + String(repeating: "0", count: 305),
        "-1" + String(repeating: "0", count: 307) + ".25",
        "0." + String(repeating: "0", count: 400) + "1",
        "1" + String(repeating: "0", count: 400) + "e-400",
        "123e-100000",
        "9223372036854775808",
    ])
    func skippedLongNumbers(_ number: String) throws {
        let line = #"{"a":1,"skip":"# + number + "}"
        for (name, projection) in Self.projections {
            #expect(recordResult(line, projecting: projection).value != nil, "projection \(name)")
        }
    }

    @Test("nesting up to the limit in a skipped member is accepted")
    func skippedDepthWithinLimit() throws {
        let line = #"{"a":1,"skip":"# + String(repeating: "[", count: 255) + String(repeating: "]", count: 255) + "}"
        for (name, projection) in Self.projections {
            #expect(recordResult(line, projecting: projection).value != nil, "projection \(name)")
        }
    }

    // MARK: - Not an object

    @Test("a valid non-object line is 'record is a JSON … not an object' at column 1", arguments: [
        ("[1,2]", "array"), ("\"s\"", "string"), ("1", "number"), (" -1.5e3 ", "number"), ("null", "null"),
        ("true", "boolean"), ("false", "boolean"), ("[]", "array"),
    ])
    func notAnObject(_ line: String, _ type: String) throws {
        for (name, projection) in Self.projections {
            let e = try #require(recordResult(line, projecting: projection).error, "projection \(name)")
            #expect(e == JSONError("record is a JSON \(type), not an object", at: 0), "projection \(name)")
        }
    }

    @Test("a broken non-object line is reported as broken, not as 'not an object'", arguments: [
        ("[1,", 4, "unexpected end of input, expected a value"),
        ("\"abc", 1, "unterminated string"),
        ("1 2", 3, "unexpected '2' after the value"),
        ("[1]x", 4, "unexpected 'x' after the value"),
        ("nul", 1, "invalid literal"),
        ("x", 1, "unexpected 'x', expected a value"),
    ])
    func brokenNonObject(_ line: String, _ column: Int, _ message: String) throws {
        let e = try #require(recordResult(line).error)
        #expect(e == JSONError(message, at: column - 1))
    }

    @Test("an empty or blank line is 'empty line' at column 1", arguments: ["", " ", "\t", "\r\n", "   \n  "])
    func emptyLine(_ line: String) throws {
        for (name, projection) in Self.projections {
            let e = try #require(recordResult(line, projecting: projection).error, "projection \(name)")
            #expect(e == JSONError("empty line", at: 0))
            #expect(e.column == 1)
        }
    }

    @Test("surrounding whitespace is allowed; trailing content is not")
    func trailing() throws {
        #expect(recordResult(" \t{\"a\":1} \r\n", projecting: KeyProjection(["a"])).value?["a"] == .int(1))
        #expect(recordResult(#"{"a":1} {"b":2}"#).error == JSONError("unexpected '{' after the value", at: 8))
        #expect(recordResult(#"{"a":1},"#, projecting: KeyProjection.none).error == JSONError("unexpected ',' after the value", at: 7))
    }

    // MARK: - Projection agrees with a full parse

    @Test("a projected record equals the full record restricted to the projected keys")
    func projectionIsARestriction() throws {
        var gen = JSONGenerator(seed: 0x5EED_0003)
        for _ in 0..<500 {
            let record = gen.record()
            let line = serialize(.object(record))
            let full = try #require(recordResult(line, projecting: nil).value)
            // Ask for some present keys and some absent ones.
            var wanted = Set<String>()
            for m in record.members where gen.rng.bool() { wanted.insert(m.key) }
            wanted.insert("absent")
            let projected = try #require(recordResult(line, projecting: KeyProjection(wanted)).value)
            let expected = JSONObject(full.members.filter { wanted.contains($0.key) })
            #expect(identical(projected, expected), "line \(String(decoding: line, as: UTF8.self))")
        }
    }
}
