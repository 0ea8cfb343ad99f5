import OsmodaCore
import Testing

/// The record most cases run against.
let sampleRecord = #"""
{"a":{"b":2,"c":[10,20,30]},"n":5,"d":2.5,"s":"hello","e":"","t":true,"f":false,"z":null,"arr":[1,2,3],
"key with space":7,"quoted":"q","msg":"ERROR: disk full","big":9223372036854775807,"neg":-3,"obj":{},"x":3,
"numstr":"42","dup":1,"dup":2}
"""#.split(separator: "\n").joined()

/// An expression, a record, and whether the record matches.
struct MatchCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var matches: Bool
    var record: String
    init(_ expression: String, _ matches: Bool, record: String = sampleRecord) {
        self.expression = expression
        self.matches = matches
        self.record = record
    }
    var testDescription: String {
        "\(expression) \(matches ? "matches" : "does not match")\(record == sampleRecord ? "" : " \(record)")"
    }
}

/// An expression and the value it evaluates to on the sample record (`nil`: missing).
struct ValueCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var value: JSONValue?
    init(_ expression: String, _ value: JSONValue?) {
        self.expression = expression
        self.value = value
    }
    var testDescription: String { "\(expression) → \(value.map { JSONWriter.serialize($0) } ?? "missing")" }
}

func compile(_ source: String) -> Result<Expression, ExpressionError> {
    Result { () throws(ExpressionError) -> Expression in try Expression(source) }
}

@Suite("Expression evaluation")
struct ExpressionTests {
    static let matchCases: [MatchCase] = [
        // Paths.
        MatchCase(".a.b == 2", true),
        MatchCase(".a.c[0] == 10", true),
        MatchCase(".a.c[2] == 30", true),
        MatchCase(".a.c[-1] == 30", true),
        MatchCase(".a.c[-3] == 10", true),
        MatchCase(".a.c[ -1 ] == 30", true),
        MatchCase(".a.c[3] == 40", false),
        MatchCase(".a.c[-4] == 10", false),
        MatchCase(#".["key with space"] == 7"#, true),
        MatchCase(#"."quoted" == "q""#, true),
        MatchCase(#".a."b" == 2"#, true),
        MatchCase(#".a["b"] == 2"#, true),
        MatchCase(#".["a"]["c"][1] == 20"#, true),
        MatchCase(".arr[1] == 2", true),
        MatchCase(".dup == 2", true),
        MatchCase(".a.b.c == 1", false),
        MatchCase(".s[0] == \"h\"", false),
        MatchCase(".arr.x == 1", false),
        MatchCase(".n", true),
        MatchCase(".e", true),
        MatchCase(".obj", true),
        MatchCase(".t", true),
        MatchCase(".f", false),
        MatchCase(".z", false),
        MatchCase(".missing", false),
        MatchCase(".missing.deeper", false),
        MatchCase(".", true),
        MatchCase(".a.c", true),
        MatchCase("[1, 2][1] == 2", true),

        // Literals.
        MatchCase("true", true),
        MatchCase("false", false),
        MatchCase("null", false),
        MatchCase("0", true),
        MatchCase("\"\"", true),
        MatchCase("[]", true),
        MatchCase("1 == 1.0", true),
        MatchCase("1e2 == 100", true),
        MatchCase("-1 < 0", true),
        MatchCase("\"a\\tb\" == \"a\\u0009b\"", true),

        // Comparisons of numbers.
        MatchCase(".n == 5", true),
        MatchCase(".n == 5.0", true),
        MatchCase(".n == 4", false),
        MatchCase(".n != 4", true),
        MatchCase(".n != 5", false),
        MatchCase(".n < 6", true),
        MatchCase(".n < 5", false),
        MatchCase(".n <= 5", true),
        MatchCase(".n <= 4", false),
        MatchCase(".n > 4", true),
        MatchCase(".n > 5", false),
        MatchCase(".n >= 5", true),
        MatchCase(".n >= 6", false),
        MatchCase(".d == 2.5", true),
        MatchCase(".d < 3", true),
        MatchCase(".d > 2", true),
        MatchCase(".d >= 2.5", true),
        MatchCase(".d <= 2.4", false),
        MatchCase(".n > .d", true),
        MatchCase(".d < .n", true),
        MatchCase(".x < .n", true),
        MatchCase(".neg < 0", true),
        MatchCase(".neg > -4", true),
        MatchCase(".neg == -3", true),
        MatchCase(".big == 9223372036854775807", true),
        MatchCase(".big > 9223372036854775806", true),
        MatchCase(".big != 9223372036854775806", true),
        MatchCase(".x == 3", true, record: #"{"x":3.0}"#),
        MatchCase(".x < 3.5", true, record: #"{"x":3}"#),

        // Comparisons of strings and other values.
        MatchCase(".s == \"hello\"", true),
        MatchCase(".s != \"hello\"", false),
        MatchCase(".s < \"help\"", true),
        MatchCase(".s > \"hell\"", true),
        MatchCase(".s >= \"hello\"", true),
        MatchCase(".s <= \"hello\"", true),
        MatchCase(".s > \"hello\"", false),
        MatchCase(".s < \"Hello\"", false),
        MatchCase(".e < \"a\"", true),
        MatchCase(#""é" > "z""#, true),
        MatchCase(#""😀" > "\uffff""#, true),
        MatchCase(".t == true", true),
        MatchCase(".f == false", true),
        MatchCase(".z == null", true),
        MatchCase(".z != null", false),
        MatchCase(".arr == [1, 2, 3]", true),
        MatchCase(".arr == [1, 2]", false),
        MatchCase(".arr != [1, 2]", true),
        MatchCase(".a == .a", true),
        MatchCase(".obj == .obj", true),
        MatchCase(".n == \"5\"", false),
        MatchCase(".n != \"5\"", true),
        MatchCase(".z == false", false),
        MatchCase(".t == 1", false),

        // Missing fields never match, whatever the operator; `not` of that does.
        MatchCase(".missing == 1", false),
        MatchCase(".missing != 1", false),
        MatchCase(".missing == null", false),
        MatchCase(".missing != null", false),
        MatchCase(".missing < 1", false),
        MatchCase(".missing <= 1", false),
        MatchCase(".missing > 1", false),
        MatchCase(".missing >= 1", false),
        MatchCase("1 > .missing", false),
        MatchCase(".missing == .missing", false),
        MatchCase(".missing != .other", false),
        MatchCase(".a.x == 1", false),
        MatchCase(".a.x != 1", false),
        MatchCase("not (.missing == 1)", true),
        MatchCase("not (.missing != 1)", true),
        MatchCase("not (.missing > 1)", true),
        MatchCase("not .missing", true),
        MatchCase(".missing | not", true),
        MatchCase(".a.x | not", true),

        // Ordering across types is false both ways.
        MatchCase(".s > 1", false),
        MatchCase(".s < 1", false),
        MatchCase(".n < \"a\"", false),
        MatchCase(".n > \"a\"", false),
        MatchCase(".t > false", false),
        MatchCase(".t < false", false),
        MatchCase(".arr > 1", false),
        MatchCase(".arr < [2]", false),
        MatchCase(".z < 1", false),
        MatchCase(".n >= null", false),
        MatchCase(".obj <= .obj", false),
        MatchCase("not (.s > 1)", true),

        // Arithmetic.
        MatchCase(".n + 1 == 6", true),
        MatchCase(".n - 10 == -5", true),
        MatchCase(".n * 2 == 10", true),
        MatchCase(".n / 2 == 2.5", true),
        MatchCase(".n % 3 == 2", true),
        MatchCase(".d * 2 == 5", true),
        MatchCase(".n-1 == 4", true),
        MatchCase("1 + 2 * 3 == 7", true),
        MatchCase("(1 + 2) * 3 == 9", true),
        MatchCase("10 - 2 - 3 == 5", true),
        MatchCase("24 / 4 / 2 == 3", true),
        MatchCase("-.n == -5", true),
        MatchCase("- .n < 0", true),
        MatchCase("--.n == 5", true),
        MatchCase(".s + \"!\" == \"hello!\"", true),
        MatchCase(".arr + [4] == [1, 2, 3, 4]", true),
        MatchCase(".big + 1 > 9223372036854775000", true),
        MatchCase(".n / 0 == 1", false),
        MatchCase(".n / 0 != 1", false),
        MatchCase("not (.n / 0 == 1)", true),
        MatchCase(".n % 0 == 0", false),
        MatchCase(".d / 0 > 0", false),
        MatchCase(".missing + 1 == 1", false),
        MatchCase(".s + 1 == 1", false),
        MatchCase(".s - \"h\" == \"ello\"", false),

        // and, or, not, and their precedence.
        MatchCase(".t and .n == 5", true),
        MatchCase(".t and .f", false),
        MatchCase(".f or .t", true),
        MatchCase(".missing or .t", true),
        MatchCase(".missing and .t", false),
        MatchCase(".t or .f and .f", true),
        MatchCase("(.t or .f) and .f", false),
        MatchCase(".f and .f or .t", true),
        MatchCase("not .t or .t", true),
        MatchCase("not (.t or .t)", false),
        MatchCase("not .f and .f", false),
        MatchCase("not not .t", true),
        MatchCase("not .n == 5", false),
        MatchCase("not .n == 4", true),
        MatchCase(".n == 5 and not .missing", true),
        MatchCase(".n > 1 and .n < 10 and .s == \"hello\"", true),
        MatchCase(".n > 1 and (.n > 10 or .s == \"hello\")", true),
        MatchCase(".t | not", false),
        MatchCase(".f | not", true),
        MatchCase(".n == 5 | not", false),

        // in.
        MatchCase(".x in [1, 2, 3]", true),
        MatchCase(".x in [4, 5]", false),
        MatchCase(".x in []", false),
        MatchCase(".x in [3.0]", true),
        MatchCase(".s in [\"a\", \"hello\"]", true),
        MatchCase(".d in [2.5]", true),
        MatchCase(".x in [.n, 3]", true),
        MatchCase(".n in [.x]", false),
        MatchCase(".missing in [1]", false),
        MatchCase(".missing in [.missing]", false),
        MatchCase("not (.missing in [1])", true),
        MatchCase(".x in [1, 2, 3] and .n in [5]", true),
        MatchCase(".arr in [[1, 2, 3]]", true),

        // test.
        MatchCase(".msg | test(\"^err\"; \"i\")", true),
        MatchCase(".msg | test(\"^err\")", false),
        MatchCase(".msg | test(\"^ERR\")", true),
        MatchCase(#".msg | test("disk\\s+full$")"#, true),
        MatchCase(".msg | test(\"ERR.*FULL\"; \"i\")", true),
        MatchCase(".msg | test(\"^ E R R\"; \"x\")", true),
        MatchCase(".msg | test(\"^ e r r\"; \"xi\")", true),
        MatchCase(".n | test(\"5\")", false),
        MatchCase(".missing | test(\".\")", false),
        MatchCase(".s | test(\"\")", true),

        // has and exists.
        MatchCase("has(\"n\")", true),
        MatchCase("has(\"z\")", true),
        MatchCase("has(\"missing\")", false),
        MatchCase("has(\"key with space\")", true),
        MatchCase(".a | has(\"b\")", true),
        MatchCase(".a | has(\"n\")", false),
        MatchCase(".arr | has(\"x\")", false),
        MatchCase("exists(.a.b)", true),
        MatchCase("exists(.a.x)", false),
        MatchCase("exists(.z)", true),
        MatchCase("exists(.a.c[2])", true),
        MatchCase("exists(.a.c[-3])", true),
        MatchCase("exists(.a.c[3])", false),
        MatchCase("exists(.missing)", false),
        MatchCase("not exists(.missing)", true),

        // String functions.
        MatchCase(".s | startswith(\"he\")", true),
        MatchCase(".s | startswith(\"lo\")", false),
        MatchCase(".s | endswith(\"lo\")", true),
        MatchCase(".s | endswith(\"he\")", false),
        MatchCase(".s | contains(\"ell\")", true),
        MatchCase(".s | contains(\"xyz\")", false),
        MatchCase(".s | contains(\"\")", true),
        MatchCase(".e | contains(\"\")", true),
        MatchCase(".n | startswith(\"5\")", false),
        MatchCase(".n | contains(\"5\")", false),
        MatchCase(".msg | ascii_downcase == \"error: disk full\"", true),
        MatchCase(".s | ascii_upcase == \"HELLO\"", true),
        MatchCase(".msg | ascii_downcase | startswith(\"error\")", true),
        MatchCase(".n | ascii_downcase == 5", false),

        // length, type, tonumber, tostring, keys.
        MatchCase(".s | length == 5", true),
        MatchCase(".e | length == 0", true),
        MatchCase(".arr | length == 3", true),
        MatchCase(".obj | length == 0", true),
        MatchCase(".a | length == 2", true),
        MatchCase(".z | length == 0", true),
        MatchCase(".neg | length == 3", true),
        MatchCase(".t | length == 0", false),
        MatchCase("length > 2", true),
        MatchCase("length == 2", true, record: #"{"a":1,"a":2,"b":3}"#),
        MatchCase(".n | type == \"number\"", true),
        MatchCase(".d | type == \"number\"", true),
        MatchCase(".s | type == \"string\"", true),
        MatchCase(".z | type == \"null\"", true),
        MatchCase(".t | type == \"boolean\"", true),
        MatchCase(".arr | type == \"array\"", true),
        MatchCase(".a | type == \"object\"", true),
        MatchCase("type == \"object\"", true),
        MatchCase(".missing | type == \"null\"", false),
        MatchCase(".numstr | tonumber == 42", true),
        MatchCase(".numstr | tonumber > 41", true),
        MatchCase(".numstr == 42", false),
        MatchCase(".s | tonumber == 0", false),
        MatchCase(".n | tonumber == 5", true),
        MatchCase(".t | tonumber == 1", false),
        MatchCase(".n | tostring == \"5\"", true),
        MatchCase(".s | tostring == \"hello\"", true),
        MatchCase(".arr | tostring == \"[1,2,3]\"", true),
        MatchCase(".a | keys == [\"b\", \"c\"]", true),

        // Pipes.
        MatchCase(".a | .b == 2", true),
        MatchCase(".a | .c | .[1] == 20", true),
        MatchCase(".a | .c[1] == 20", true),
        MatchCase(".a | .b | . == 2", true),
        MatchCase("(.a | .b) == 2", true),
        MatchCase("(.a | .b) + 1 == 3", true),
        MatchCase(".missing | .b == 2", false),
        MatchCase(".a | .b == 2 and .c[0] == 10", true),

        // Whitespace is free.
        MatchCase("  .n==5  ", true),
        MatchCase(".n\t>\n4", true),
    ]

    @Test("matching", arguments: matchCases)
    func matching(_ c: MatchCase) throws {
        let expr = try compile(c.expression).get()
        let record = try recordResult(c.record).get()
        #expect(expr.matches(record) == c.matches)
        #expect(expr.source == c.expression)
        // The keys it declares are enough: the projected record gives the same answer.
        if let keys = expr.requiredKeys {
            let projected = try recordResult(c.record, projecting: KeyProjection(keys)).get()
            #expect(expr.matches(projected) == c.matches, "with only \(keys)")
        }
    }

    static let valueCases: [ValueCase] = [
        ValueCase(".n + 1", .int(6)),
        ValueCase(".n - 7", .int(-2)),
        ValueCase(".n * .x", .int(15)),
        ValueCase(".n / 5", .int(1)),
        ValueCase(".n / 2", .double(2.5)),
        ValueCase("-7 / 2", .double(-3.5)),
        ValueCase(".n % 3", .int(2)),
        ValueCase("-7 % 3", .int(-1)),
        ValueCase(".d + .d", .double(5)),
        ValueCase(".n - .d", .double(2.5)),
        ValueCase("5.5 % 2", .double(1.5)),
        ValueCase(".big + 1", .double(9_223_372_036_854_775_808.0)),
        ValueCase(".big * 2", .double(18_446_744_073_709_551_614.0)),
        ValueCase("-9223372036854775807 - 2", .double(-9_223_372_036_854_775_809.0)),
        ValueCase("-(.big)", .int(-Int64.max)),
        ValueCase("-(.big) - 1", .int(Int64.min)),
        ValueCase("(-(.big) - 1) % -1", nil),
        ValueCase("-(-(.big) - 1)", .double(9_223_372_036_854_775_808.0)),
        ValueCase(".n / 0", nil),
        ValueCase(".n % 0", nil),
        ValueCase(".d / 0", nil),
        ValueCase(".d % 0", nil),
        ValueCase("0 / 0", nil),
        ValueCase(".missing + 1", nil),
        ValueCase("1 - .missing", nil),
        ValueCase(".z + 1", nil),
        ValueCase(".s + 1", nil),
        ValueCase("-.s", nil),
        ValueCase("-.missing", nil),
        ValueCase(".s + \"x\"", .string("hellox")),
        ValueCase(".arr + [4]", .array([.int(1), .int(2), .int(3), .int(4)])),
        ValueCase(".a.c[-1]", .int(30)),
        ValueCase(".a.c[-3]", .int(10)),
        ValueCase(".a.c[-4]", nil),
        ValueCase(".a.c[3]", nil),
        ValueCase(".z", .null),
        ValueCase(".missing", nil),
        ValueCase(".dup", .int(2)),
        ValueCase(".a | .b", .int(2)),
        ValueCase("[.n, .s]", .array([.int(5), .string("hello")])),
        ValueCase("[.n, .missing]", nil),
        ValueCase(".x in [1, 2, 3]", .bool(true)),
        ValueCase(".missing == 1", .bool(false)),
        ValueCase("has(\"n\")", .bool(true)),
        ValueCase("exists(.a.x)", .bool(false)),
        ValueCase(".s | length", .int(5)),
        ValueCase("\"日本\" | length", .int(2)),
        ValueCase("\"e\\u0301😀\" | length", .int(3)),
        ValueCase(".d | length", .double(2.5)),
        ValueCase(".neg | length", .int(3)),
        ValueCase(".t | length", nil),
        ValueCase(".s | ascii_upcase", .string("HELLO")),
        ValueCase("\"ÄBC-é\" | ascii_downcase", .string("Äbc-é")),
        ValueCase(".n | ascii_upcase", nil),
        ValueCase(".a | keys", .array([.string("b"), .string("c")])),
        ValueCase(".arr | keys", nil),
        ValueCase("type", .string("object")),
        ValueCase(".missing | type", nil),
        ValueCase("\"12.5\" | tonumber", .double(12.5)),
        ValueCase("\"12\" | tonumber", .int(12)),
        ValueCase("\"abc\" | tonumber", nil),
        ValueCase("\"1e400\" | tonumber", nil),
        ValueCase("\"[1]\" | tonumber", nil),
        ValueCase(".arr | tostring", .string("[1,2,3]")),
        ValueCase(".z | tostring", .string("null")),
        ValueCase(".s | tostring", .string("hello")),
        ValueCase("not", .bool(false)),
        ValueCase(".z | not", .bool(true)),
        ValueCase(".n > 1 and .n < 10", .bool(true)),
        ValueCase(".missing or .z", .bool(false)),
        ValueCase("[1, \"a\", null, true]", .array([.int(1), .string("a"), .null, .bool(true)])),
    ]

    @Test("values", arguments: valueCases)
    func values(_ c: ValueCase) throws {
        let expr = try compile(c.expression).get()
        let record = try parseResult(sampleRecord).get()
        let v = expr.evaluate(record)
        switch (v, c.value) {
        case (nil, nil): break
        case (let got?, let want?): #expect(identical(got, want), "got \(got)")
        default: Issue.record("got \(v.map { JSONWriter.serialize($0) } ?? "missing")")
        }
    }

    @Test("evaluate works on any value, not only records")
    func nonRecordInput() throws {
        #expect(try compile(". + 1").get().evaluate(.int(2)) == .int(3))
        #expect(try compile(".[1]").get().evaluate(.array([.int(7), .int(8)])) == .int(8))
        #expect(try compile(".a").get().evaluate(.int(2)) == nil)
        #expect(try compile("test(\"b\")").get().evaluate(.string("abc")) == .bool(true))
        #expect(try compile("length").get().evaluate(.string("é😀")) == .int(2))
    }

    // Int64.min / -1 traps in `a % b` before the guard against exactly that case, so
    // it runs in a child process: the crash fails this test only.
    @Test("Int64.min / -1 is a double, not a crash")
    func int64MinDividedByMinusOne() async {
        await #expect(processExitsWith: .success) {
            let expr = try Expression("(-(.big) - 1) / -1")
            let v = expr.evaluate(object(["big": .int(Int64.max)]))
            guard case .double(9_223_372_036_854_775_808.0)? = v else { fatalError("got \(String(describing: v))") }
        }
    }

    @Test("a key in another Unicode normalisation form gives the same answer with and without projection", arguments: [
        "{\"e\u{301}\":1}",
        #"{"e\u0301":1}"#,
        "{\"\u{E9}\":1}",
    ])
    func normalisedKeys(_ line: String) throws {
        let expr = try compile(#"."\u00e9" == 1"#).get()
        let keys = try #require(expr.requiredKeys)
        #expect(keys == ["\u{E9}"])
        let full = try recordResult(line).get()
        let projected = try recordResult(line, projecting: KeyProjection(keys)).get()
        #expect(expr.matches(full) == expr.matches(projected), "full: \(expr.matches(full)), projected: \(expr.matches(projected))")
    }

    @Test("length and keys count keys byte for byte, like lookups")
    func keysNotNormalised() throws {
        let record = try recordResult(#"{"\u00e9":1,"e\u0301":2}"#).get()
        #expect(try compile("length").get().evaluate(.object(record)) == .int(2))
        #expect(try compile("keys | length").get().evaluate(.object(record)) == .int(2))
        #expect(try compile(#"."e\u0301" == 2"#).get().matches(record))
    }

    @Test("string ordering is UTF-8 byte order, the same in both directions", arguments: [
        (#""\u00e9" > "e\u0301""#, true),
        (#""e\u0301" < "\u00e9""#, true),
        (#""\u00e9" <= "e\u0301""#, false),
        (#""e\u0301" >= "\u00e9""#, false),
    ])
    func byteOrder(_ source: String, _ expected: Bool) throws {
        let expr = try compile(source).get()
        #expect(expr.matches(JSONObject()) == expected)
    }
}
