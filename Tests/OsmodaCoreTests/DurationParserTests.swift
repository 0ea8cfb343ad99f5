import OsmodaCore
import Testing

@Suite("DurationParser")
struct DurationParserTests {
    @Test("durations in milliseconds", arguments: [
        ("500ms", Int64(500)),
        ("1ms", 1),
        ("10s", 10_000),
        ("5m", 300_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
        ("1h30m", 5_400_000),
        ("1m30s", 90_000),
        ("1h1m1s1ms", 3_661_001),
        ("1.5s", 1_500),
        ("0.5m", 30_000),
        ("1.5ms", 2),
        ("10", 10_000),
        ("0.25", 250),
        ("007s", 7_000),
        ("30s30s", 60_000),
    ])
    func valid(_ text: String, _ ms: Int64) throws {
        #expect(try DurationParser.milliseconds(text) == ms)
    }

    @Test("malformed, zero and negative durations are refused", arguments: [
        "", "10x", "0s", "0", "0ms", "0.4ms", "-1s", "-1", "s", "ms", "10 s", " 10s", "10s ", "1.2.3s", ".", "1e3",
        "10S", "1hh", "1h-30m", "+5s", "1,5s", "five", "10sec", "1h 30m", "99999999999999d",
    ])
    func refused(_ text: String) throws {
        let failure = try #require(throws: DurationParser.Failure.self) { try DurationParser.milliseconds(text) }
        #expect(failure.text == text)
        #expect(failure.description == "invalid duration '\(text)': expected e.g. 500ms, 10s, 5m, 1h30m")
    }
}
