import OsmodaCore
import Testing

/// String functions work byte for byte (equality, startswith, endswith, contains) or
/// by code point (test, length), never by grapheme cluster, so they agree with `==`.
struct ExpressionUnicodeTests {
    static let decomposed = "e\u{0301}"   // e + combining acute
    static let composed = "\u{00E9}"

    func eval(_ expr: String, _ s: String) throws -> JSONValue? {
        try Expression(expr).evaluate(.object(JSONObject(["s": .string(s)])))
    }

    @Test(arguments: [
        (".s | startswith(\"e\")", decomposed, true),
        (".s | startswith(\"\u{00E9}\")", decomposed, false),
        (".s | endswith(\"\u{0301}\")", decomposed, true),
        (".s | contains(\"e\")", decomposed, true),
        (".s | contains(\"\\n\")", "a\r\nb", true),
        (".s | test(\"^e$\")", decomposed, false),
        (".s | test(\"^e.$\")", decomposed, true),
        (".s | test(\"\\n\")", "a\r\nb", true),
        (".s == \"\u{00E9}\"", decomposed, false),
        (".s == \"\u{00E9}\"", composed, true),
    ])
    func byteAndCodePointSemantics(_ expr: String, _ input: String, _ expected: Bool) throws {
        #expect(try eval(expr, input) == .bool(expected), "\(expr) on \(input.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test func lengthCountsCodePoints() throws {
        #expect(try eval(".s | length", Self.decomposed) == .int(2))
        #expect(try eval(".s | length", Self.composed) == .int(1))
    }
}
