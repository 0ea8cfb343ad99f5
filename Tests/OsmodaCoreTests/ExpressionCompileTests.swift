import OsmodaCore
import Testing

/// An expression that must not compile, with the column and message it must give.
struct CompileErrorCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var column: Int
    var message: String
    /// When set, `message` is only the start of the message (regex errors come from the toolchain).
    var prefixOnly: Bool
    init(_ expression: String, column: Int, _ message: String, prefixOnly: Bool = false) {
        self.expression = expression
        self.column = column
        self.message = message
        self.prefixOnly = prefixOnly
    }
    var testDescription: String { expression.debugDescription }
}

@Suite("Expression compilation")
struct ExpressionCompileTests {
    static let knownFunctions = "ascii_downcase, ascii_upcase, contains, endswith, exists, has, keys, length, not, startswith, test, tonumber, tostring, type"

    static let errors: [CompileErrorCase] = [
        CompileErrorCase("", column: 1, "empty expression"),
        CompileErrorCase("   ", column: 1, "empty expression"),
        CompileErrorCase(".x >", column: 5, "expected a value, found end of expression"),
        CompileErrorCase(".x = 5", column: 4, "'=' is not an operator; use '==' to compare"),
        CompileErrorCase(".x > 5 > 3", column: 8, "comparisons do not chain; combine them with 'and'"),
        CompileErrorCase(".x == 1 != 2", column: 9, "comparisons do not chain; combine them with 'and'"),
        CompileErrorCase("foo(1)", column: 1, "unknown function 'foo'; known: \(knownFunctions)"),
        CompileErrorCase(".x | bar", column: 6, "unknown function 'bar'; known: \(knownFunctions)"),
        CompileErrorCase("test(.x)", column: 1, "'test' needs a string literal as argument 1"),
        CompileErrorCase(".x | test(\"a\"; .y)", column: 6, "'test' needs a string literal as argument 2"),
        CompileErrorCase(".x | test(\"(\")", column: 6, "invalid regex \"(\": ", prefixOnly: true),
        CompileErrorCase(".x | test(\"[a-\")", column: 6, "invalid regex \"[a-\": ", prefixOnly: true),
        CompileErrorCase(".x | test(\"a\"; \"g\")", column: 6, "unknown regex flag 'g'; known: i (ignore case), x (extended)"),
        CompileErrorCase("test(\"a\"; \"i\"; \"x\")", column: 1, "'test' takes 1 or 2 argument(s), not 3"),
        CompileErrorCase("length(1)", column: 1, "'length' takes 0 argument(s), not 1"),
        CompileErrorCase("has", column: 1, "'has' takes 1 argument(s), not 0"),
        CompileErrorCase("has(.x)", column: 1, "'has' needs a string literal as argument 1"),
        CompileErrorCase(".x | startswith(.y)", column: 6, "'startswith' needs a string literal as argument 1"),
        CompileErrorCase("exists(1)", column: 1, "'exists' takes a path such as .a.b"),
        CompileErrorCase("exists(.)", column: 1, "'exists' takes a path such as .a.b"),
        CompileErrorCase(".x == \"abc", column: 7, "unterminated string"),
        CompileErrorCase("\"abc\\\"", column: 1, "unterminated string"),
        CompileErrorCase(".\"abc", column: 2, "unterminated string"),
        CompileErrorCase(".x == \"\\q\"", column: 8, "invalid string: invalid escape '\\q'"),
        CompileErrorCase(".x == \"a\\ud800\"", column: 9, "invalid string: lone surrogate in \\u escape"),
        CompileErrorCase("!x", column: 1, "'!' is not an operator; use '!=' or 'not'"),
        CompileErrorCase(".x ! = 1", column: 4, "'!' is not an operator; use '!=' or 'not'"),
        CompileErrorCase(".x in 5", column: 7, "expected '[' after 'in', found number"),
        CompileErrorCase(".x in [1, 2", column: 12, "expected ']', found end of expression"),
        CompileErrorCase(".a[1.5]", column: 4, "expected a string key or integer index in '[…]'"),
        CompileErrorCase(".a[", column: 4, "expected a string key or integer index in '[…]'"),
        CompileErrorCase(".a[]", column: 4, "expected a string key or integer index in '[…]'"),
        CompileErrorCase(".a[-x]", column: 5, "expected an integer index"),
        CompileErrorCase(".a[0", column: 5, "expected ']', found end of expression"),
        CompileErrorCase("(.x", column: 4, "expected ')', found end of expression"),
        CompileErrorCase(".x == 1)", column: 8, "unexpected ')'"),
        CompileErrorCase(".x == 1 2", column: 9, "unexpected number"),
        CompileErrorCase(".a.", column: 3, "unexpected '.'"),
        CompileErrorCase(".1", column: 2, "unexpected number"),
        CompileErrorCase("and", column: 1, "unexpected 'and'"),
        CompileErrorCase(".x and or", column: 8, "unexpected 'or'"),
        CompileErrorCase(".x | ", column: 6, "expected a value, found end of expression"),
        CompileErrorCase("1 +", column: 4, "expected a value, found end of expression"),
        CompileErrorCase("[1,", column: 4, "expected a value, found end of expression"),
        CompileErrorCase("1.2.3", column: 1, "invalid number '1.2.3'"),
        CompileErrorCase(".x > 1e", column: 6, "invalid number '1e'"),
        CompileErrorCase(".x > 01", column: 6, "invalid number '01'"),
        CompileErrorCase(".x @ 1", column: 4, "unexpected character '@'"),
        CompileErrorCase(".x == {}", column: 7, "unexpected character '{'"),
        CompileErrorCase(".x == $y", column: 7, "unexpected character '$'"),
    ]

    @Test("compile errors: exact message and column", arguments: errors)
    func compileError(_ c: CompileErrorCase) throws {
        let e = try #require(compile(c.expression).error, "compiled")
        #expect(e.column == c.column)
        if c.prefixOnly {
            #expect(e.message.hasPrefix(c.message), "message: \(e.message)")
            #expect(e.message.count > c.message.count, "the toolchain's reason is missing")
        } else {
            #expect(e.message == c.message)
        }
        #expect(e.description == "column \(e.column): \(e.message)")
    }

    @Test("an unexpected non-ASCII character is named as itself", arguments: [
        (".x == é", 7, "unexpected character 'é'"),
        (".x == 日本", 7, "unexpected character '日'"),
        (".x ≥ 1", 4, "unexpected character '≥'"),
        (".é == 1", 2, "unexpected character 'é'"),
    ])
    func nonASCIICharacter(_ source: String, _ column: Int, _ message: String) throws {
        let e = try #require(compile(source).error)
        #expect(e.column == column)
        #expect(e.message == message)
    }

    @Test("the caret points at the column")
    func caret() throws {
        let source = ".x = 5"
        let e = try #require(compile(source).error)
        #expect(e.caret(in: source) == "  .x = 5\n     ^")
        #expect(ExpressionError("m", column: 1).caret(in: "x") == "  x\n  ^")
        #expect(ExpressionError("m", column: 0).caret(in: "x") == "  x\n  ^")
    }

    @Test("requiredKeys: the record keys an expression reads, or nil for the whole record", arguments: [
        (".x > 5", ["x"] as [String]?),
        ("has(\"k\") and .y == 1", ["k", "y"]),
        (".b > 1 and .a < 2", ["a", "b"]),
        (".x == .x", ["x"]),
        (".a.b == 1 or .c[0] > 2", ["a", "c"]),
        (".msg | test(\"^err\")", ["msg"]),
        (".a | .b", ["a"]),
        (".a | has(\"k\")", ["a"]),
        (".a | length > 2", ["a"]),
        ("exists(.a.b)", ["a"]),
        (".x in [.y, 1]", ["x", "y"]),
        ("not .x", ["x"]),
        (".x | not", ["x"]),
        ("-.x + .y * 2", ["x", "y"]),
        ("[.a, .b] | length == 2", ["a", "b"]),
        (#".["key with space"] == 1"#, ["key with space"]),
        (#"."q" == 1"#, ["q"]),
        ("true", []),
        ("1 + 2 == 3", []),
        (". == null", nil),
        (".", nil),
        ("length > 2", nil),
        ("keys == []", nil),
        ("type == \"object\"", nil),
        ("not", nil),
        (".[0] == 1", nil),
        ("test(\"x\")", nil),
        (".x == 1 and length > 2", nil),
        ("(. | .a) == 1", nil),
    ])
    func requiredKeys(_ source: String, _ keys: [String]?) throws {
        let expr = try compile(source).get()
        #expect(expr.requiredKeys == keys)
    }
}
