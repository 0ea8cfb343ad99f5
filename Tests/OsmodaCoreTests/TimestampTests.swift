import OsmodaCore
import OsmodaTestSupport
import Testing

@Suite("Timestamp")
struct TimestampTests {
    @Test("known instants format as RFC 3339 UTC with milliseconds", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (1_000_000_000_000, "2001-09-09T01:46:40.000Z"),
        (1_764_016_023_123, "2025-11-24T20:27:03.123Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-999, "1969-12-31T23:59:59.001Z"),
        (-1000, "1969-12-31T23:59:59.000Z"),
        (-1001, "1969-12-31T23:59:58.999Z"),
        (-86_400_000, "1969-12-31T00:00:00.000Z"),
        (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
        (32_503_680_000_000, "3000-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatting(_ ms: Int64, _ text: String) {
        let t = Timestamp(millisecondsSinceEpoch: ms)
        #expect(t.rfc3339 == text)
        #expect(t.description == text)
        #expect(Timestamp(rfc3339: text) == t)
    }

    @Test("components are the civil UTC date and time")
    func components() {
        let c = Timestamp(millisecondsSinceEpoch: -1).components
        #expect(c.year == 1969 && c.month == 12 && c.day == 31)
        #expect(c.hour == 23 && c.minute == 59 && c.second == 59 && c.millisecond == 999)
        let d = Timestamp(millisecondsSinceEpoch: 951_782_400_000).components
        #expect(d.year == 2000 && d.month == 2 && d.day == 29 && d.hour == 0 && d.millisecond == 0)
    }

    @Test("parsing accepts fractions and offsets", arguments: [
        ("2000-02-29T00:00:00Z", Int64(951_782_400_000)),
        ("2000-02-29T00:00:00.5Z", 951_782_400_500),
        ("2000-02-29T00:00:00.05Z", 951_782_400_050),
        ("2000-02-29T00:00:00.123Z", 951_782_400_123),
        ("2000-02-29T00:00:00.123999Z", 951_782_400_123),
        ("2000-02-29T00:00:00.000000001Z", 951_782_400_000),
        ("2000-02-29t00:00:00z", 951_782_400_000),
        ("2000-02-29 00:00:00Z", 951_782_400_000),
        ("2000-02-29T01:00:00+01:00", 951_782_400_000),
        ("2000-02-28T19:30:00-04:30", 951_782_400_000),
        ("2000-02-29T05:45:00.250+05:45", 951_782_400_250),
        ("2000-02-29T00:00:00+00:00", 951_782_400_000),
        ("2000-02-29T00:00:00-00:00", 951_782_400_000),
        ("1970-01-01T00:00:00.000Z", 0),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ])
    func parsing(_ text: String, _ ms: Int64) {
        #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == ms)
    }

    @Test("malformed timestamps are refused", arguments: [
        "", "2026", "2026-11-24", "2026-11-24T20:27:03", "2026-11-24T20:27:03.123", "2026-11-24T20:27Z",
        "2026-11-24X20:27:03Z", "2026/11/24T20:27:03Z", "2026-11-24T20.27.03Z", "26-11-24T20:27:03Z",
        "+2026-11-24T20:27:03Z", "2026-1-24T20:27:03Z", "2026-11-24T20:27:3Z",
        "2026-00-24T20:27:03Z", "2026-13-24T20:27:03Z", "2026-11-00T20:27:03Z", "2026-11-32T20:27:03Z",
        "2026-11-24T24:00:00Z", "2026-11-24T20:60:00Z", "2026-11-24T20:27:61Z",
        "2026-11-24T20:27:03.Z", "2026-11-24T20:27:03.1.2Z", "2026-11-24T20:27:03,123Z",
        "2026-11-24T20:27:03+0100", "2026-11-24T20:27:03+01", "2026-11-24T20:27:03+01:0", "2026-11-24T20:27:03+1:00",
        "2026-11-24T20:27:03ZZ", "2026-11-24T20:27:03Z ", " 2026-11-24T20:27:03Z", "2026-11-24T20:27:03UTC",
        "２０２６-11-24T20:27:03Z", "2026-11-24T20:27:03.12aZ",
    ])
    func refused(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text.debugDescription) was accepted")
    }

    @Test("dates that do not exist are refused", arguments: [
        "2021-02-29T00:00:00Z", "2021-02-30T00:00:00Z", "2000-02-30T00:00:00Z", "2026-04-31T00:00:00Z",
        "1900-02-29T00:00:00Z", "2026-06-31T12:00:00Z",
    ])
    func impossibleDates(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text) was accepted as \(Timestamp(rfc3339: text).map(\.rfc3339) ?? "")")
    }

    @Test("offsets beyond ±23:59 are refused", arguments: [
        "2026-11-24T20:27:03+24:00", "2026-11-24T20:27:03-99:00", "2026-11-24T20:27:03+01:60", "2026-11-24T20:27:03+99:99",
    ])
    func impossibleOffsets(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text) was accepted as \(Timestamp(rfc3339: text).map(\.rfc3339) ?? "")")
    }

    @Test("formatting then parsing gives the same instant, for years 0000 to 9999")
    func roundTrip() {
        var rng = SplitMix64(seed: 0x7135_0001)
        let range: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999
        for i in 0..<20_000 {
            // Half the cases near the epoch, where the sign handling matters.
            let ms = i % 2 == 0 ? rng.int64(in: range) : rng.int64(in: -100_000_000_000...100_000_000_000)
            let t = Timestamp(millisecondsSinceEpoch: ms)
            let text = t.rfc3339
            #expect(text.utf8.count == 24, "\(ms) → \(text)")
            #expect(Timestamp(rfc3339: text) == t, "\(ms) → \(text)")
        }
    }

    @Test("formatting is monotonic: later instants sort later as text")
    func textOrder() {
        var rng = SplitMix64(seed: 0x7135_0002)
        for _ in 0..<2000 {
            let a = rng.int64(in: -62_167_219_200_000...253_402_300_799_999)
            let b = rng.int64(in: -62_167_219_200_000...253_402_300_799_999)
            let (ta, tb) = (Timestamp(millisecondsSinceEpoch: a), Timestamp(millisecondsSinceEpoch: b))
            #expect((ta < tb) == (ta.rfc3339 < tb.rfc3339), "\(a) vs \(b)")
        }
    }

    @Test("seconds since the epoch round down to the millisecond")
    func fromSeconds() {
        #expect(Timestamp(secondsSinceEpoch: 1.5).millisecondsSinceEpoch == 1500)
        #expect(Timestamp(secondsSinceEpoch: 1.0019).millisecondsSinceEpoch == 1001)
        #expect(Timestamp(secondsSinceEpoch: -0.0005).millisecondsSinceEpoch == -1)
        #expect(Timestamp(secondsSinceEpoch: 0).millisecondsSinceEpoch == 0)
    }

    @Test("ordering and hashing follow the instant")
    func comparable() {
        let a = Timestamp(millisecondsSinceEpoch: -5), b = Timestamp(millisecondsSinceEpoch: 7)
        #expect(a < b && !(b < a) && a != b)
        #expect(Set([a, b, Timestamp(millisecondsSinceEpoch: 7)]).count == 2)
        #expect(Timestamp(rfc3339: "2000-02-29T01:00:00+01:00") == Timestamp(rfc3339: "2000-02-29T00:00:00Z"))
    }
}
