import Foundation
import OsmodaCore
import OsmodaCron
import OsmodaTestSupport
import Testing

/// The TZif reader against Foundation's TimeZone (ICU's own copy of the rules), and
/// against facts about the zones.
struct ZoneTests {
    static let zones = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

    @Test(arguments: zones)
    func offsetsAgreeWithFoundation(_ name: String) throws {
        let zone = try ZoneInfo.load(name)
        let tz = try #require(TimeZone(identifier: name))
        var rng = SplitMix64(seed: 0x7A1F)
        let from = Int64(631_152_000)   // 1990
        let to = Int64(2_366_841_600)   // 2045
        for _ in 0..<3000 {
            let t = rng.int64(in: from...to)
            #expect(zone.offset(at: t) == tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))), "\(name) at \(t)")
        }
        // Every transition Foundation knows in 2000-2045 is a period boundary here.
        var d = Date(timeIntervalSince1970: 946_684_800)
        var count = 0
        while let n = tz.nextDaylightSavingTimeTransition(after: d), n.timeIntervalSince1970 < Double(to) {
            let at = Int64(n.timeIntervalSince1970)
            #expect(zone.period(at: at).start == at, "\(name): transition at \(at)")
            #expect(zone.period(at: at - 1).end == at, "\(name): period ending at \(at)")
            d = n
            count += 1
        }
        if name == "Europe/London" { #expect(count >= 88) }
    }

    @Test func resolvesGapsAndOverlaps() throws {
        let ny = try ZoneInfo.load("America/New_York")
        // 2026-03-08 02:30 does not exist in New York; the clock jumped at 07:00Z.
        let gap = Civil.days(year: 2026, month: 3, day: 8) * 86400 + 2 * 3600 + 1800
        #expect(ny.resolve(gap) == .skipped(transition: Civil.days(year: 2026, month: 3, day: 8) * 86400 + 7 * 3600))
        // 2026-11-01 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
        let day = Civil.days(year: 2026, month: 11, day: 1) * 86400
        #expect(ny.resolve(day + 5400) == .repeated(day + 5 * 3600 + 1800, day + 6 * 3600 + 1800))
        #expect(ny.resolve(day + 3 * 3600) == .unique(day + 8 * 3600))
        // Lord Howe moves 30 minutes: 02:00 to 02:30 on 2026-10-04, at 15:30Z the day before.
        let lh = try ZoneInfo.load("Australia/Lord_Howe")
        let lday = Civil.days(year: 2026, month: 10, day: 4) * 86400
        #expect(lh.resolve(lday + 2 * 3600 + 900) == .skipped(transition: lday - 8 * 3600 - 1800))
        #expect(lh.abbreviation(at: lday - 86400) == "+1030")
        #expect(lh.abbreviation(at: lday) == "+11")
    }

    @Test func footerRuleBeyondTheTable() throws {
        let ny = try ZoneInfo.load("America/New_York")
        // 2300-07-01 is in daylight time by the footer rule, 2300-01-01 is not.
        #expect(ny.offset(at: Civil.days(year: 2300, month: 7, day: 1) * 86400) == -4 * 3600)
        #expect(ny.offset(at: Civil.days(year: 2300, month: 1, day: 1) * 86400) == -5 * 3600)
    }

    @Test func posixStringsAndErrors() throws {
        let z = try ZoneInfo.load("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", directory: "/nonexistent")
        #expect(z.offset(at: Civil.days(year: 2026, month: 1, day: 1) * 86400) == 11 * 3600)
        #expect(z.offset(at: Civil.days(year: 2026, month: 6, day: 1) * 86400) == 10 * 3600 + 1800)
        #expect(throws: ZoneError.self) { try ZoneInfo.load("Mars/Olympus_Mons") }
        #expect(throws: ZoneError.self) { try ZoneInfo.load("../etc/passwd") }
        #expect(throws: ZoneError.self) { try ZoneInfo.parse(Array("TZif2 not really".utf8), name: "x") }
        // A truncated file is refused, not half read.
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/Europe/London")))
        #expect(throws: ZoneError.self) { try ZoneInfo.parse(Array(bytes.prefix(bytes.count / 2)), name: "x") }
        // Version 1 data alone (the 32-bit block of a v2 file, with a v1 header) still loads.
        var v1 = bytes
        v1[4] = 0
        let old = try ZoneInfo.parse(v1, name: "v1")
        #expect(old.offset(at: 1_750_000_000) == 3600)
    }
}

extension ZoneTests {
    /// Damaged files are refused or read, never a crash: truncations and flipped bytes.
    @Test func damagedFilesNeverCrash() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/Australia/Lord_Howe")))
        var rng = SplitMix64(seed: 0xDA7A)
        var refused = 0
        for round in 0..<1500 {
            var b = bytes
            if round % 3 == 0 {
                b = Array(b.prefix(rng.below(b.count)))
            } else {
                for _ in 0..<rng.int(in: 1...4) { b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            do {
                let z = try ZoneInfo.parse(b, name: "fuzz")
                for t in [Int64(0), 1_700_000_000, 4_200_000_000, -2_000_000_000] {
                    _ = z.offset(at: t)
                    _ = z.resolve(t)
                }
                _ = try CronExpression("30 2 * * *").next(after: 1_700_000_000, in: z)
            } catch {
                refused += 1
            }
        }
        #expect(refused > 100)
        #expect(throws: ZoneError.self) { try ZoneInfo.load("/etc/passwd") }
    }
}
