import Foundation
import OsmodaCore
import OsmodaCron
import OsmodaTestSupport
import Testing

/// A brute-force reference evaluator, written here from the documented policy and not
/// from the library's field walk: it tests minute after minute, and reads the zone only
/// through `offset(at:)`.
final class Reference {
    var offsetCache: [Int64: [Int]] = [:]
    let items: [[CronItem]]
    let domStar: Bool
    let dowStar: Bool
    let periodic: Bool
    let zone: ZoneInfo

    init(_ e: CronExpression, zone: ZoneInfo) {
        items = e.items
        domStar = e.dayOfMonthStar
        dowStar = e.dayOfWeekStar
        periodic = e.isPeriodic
        self.zone = zone
    }

    static func contains(_ items: [CronItem], _ v: Int, low: Int, high: Int, sundayIsSeven: Bool = false) -> Bool {
        for item in items {
            switch item {
            case .all(let step):
                if (v - low) % step == 0 { return true }
            case .value(let a):
                if a == v || (sundayIsSeven && a == 7 && v == 0) { return true }
            case .range(let a, let b, let step):
                for x in stride(from: a, through: b, by: step) where x == v || (sundayIsSeven && x == 7 && v == 0) { return true }
            }
        }
        return false
    }

    func dayMatches(_ local: Int64) -> Bool {
        let days = Int64((Double(local) / 86400).rounded(.down))
        let f = Civil.fields(local)
        guard Self.contains(items[3], f.month, low: 1, high: 12) else { return false }
        let dom = Self.contains(items[2], f.day, low: 1, high: 31)
        let dow = Self.contains(items[4], Civil.weekday(days: days), low: 0, high: 6, sundayIsSeven: true)
        return domStar || dowStar ? dom && dow : dom || dow
    }

    func hourMatches(_ local: Int64) -> Bool { Self.contains(items[1], Civil.fields(local).hour, low: 0, high: 23) }

    func matches(_ local: Int64) -> Bool {
        dayMatches(local) && hourMatches(local) && Self.contains(items[0], Civil.fields(local).minute, low: 0, high: 59)
    }

    func local(_ i: Int64) -> Int64 { i + Int64(zone.offset(at: i)) }

    /// The fire time of a wall-clock minute, by the policy: its first instant, or the
    /// first instant after the clock jumped over it.
    func fire(_ l: Int64) -> Int64 {
        let day = l / 86400
        let offsets: [Int]
        if let cached = offsetCache[day] { offsets = cached } else {
            var set: Set<Int> = []
            for k in stride(from: -2 * 86400, through: 3 * 86400, by: 900) { set.insert(zone.offset(at: day * 86400 + Int64(k))) }
            offsets = Array(set)
            offsetCache[day] = offsets
        }
        let solutions = offsets.map { l - Int64($0) }.filter { zone.offset(at: $0) == Int(l - $0) }
        if let first = solutions.min() { return first }
        var i = l - Int64(offsets.max() ?? 0) - 60
        while local(i) <= l { i += 60 }
        // The jump happened inside the last minute: find its second.
        var j = i - 60
        while local(j) <= l { j += 1 }
        return j
    }

    func next(after t: Int64, horizon: Int64) -> Int64? {
        if periodic {
            var i = (t / 60) * 60 + 60
            while i <= horizon {
                let l = local(i)
                // Skip a quarter hour whose local day or hour cannot match (offsets are
                // whole quarter hours in these zones, so local hours start on one).
                if i % 900 == 0 && !(dayMatches(l) && hourMatches(l)) { i += 900; continue }
                if matches(l) { return i }
                i += 60
            }
            return nil
        }
        var l = (local(t) / 60) * 60 - 3 * 3600
        let end = local(horizon) + 3 * 3600
        while l <= end {
            if l % 86400 == 0 && !dayMatches(l) { l += 86400; continue }
            if l % 3600 == 0 && !hourMatches(l) { l += 3600; continue }
            if matches(l) {
                let f = fire(l)
                if f > t { return f <= horizon ? f : nil }
            }
            l += 60
        }
        return nil
    }
}

struct CronReferenceTests {
    static let zoneNames = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

    static func randomField(_ rng: inout SplitMix64, low: Int, high: Int, names: [String] = [], nameBase: Int = 0, hot: [Int] = []) -> String {
        func value() -> String {
            let v = !hot.isEmpty && rng.chance(1, in: 2) ? rng.pick(hot) : rng.int(in: low...high)
            if !names.isEmpty, rng.chance(1, in: 3), v - nameBase >= 0, v - nameBase < names.count {
                let n = names[v - nameBase]
                return rng.bool() ? n : n.lowercased()
            }
            return String(v)
        }
        func item() -> String {
            switch rng.below(7) {
            case 0: return "*"
            case 1: return "*/\(rng.int(in: 1...max(1, (high - low) / 2)))"
            case 2, 3: return value()
            case 4:
                let a = rng.int(in: low...high), b = rng.int(in: a...high)
                return "\(a)-\(b)"
            case 5:
                let a = rng.int(in: low...high), b = rng.int(in: a...high)
                return "\(a)-\(b)/\(rng.int(in: 1...4))"
            default:
                return "\(rng.int(in: low...high))/\(rng.int(in: 1...6))"
            }
        }
        if rng.chance(1, in: 4) { return (0..<rng.int(in: 2...3)).map { _ in item() }.joined(separator: ",") }
        return item()
    }

    static func randomExpression(_ rng: inout SplitMix64) -> String {
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        let minute = randomField(&rng, low: 0, high: 59, hot: [0, 15, 30, 45])
        let hour = randomField(&rng, low: 0, high: 23, hot: [1, 2, 3])
        let dom = rng.chance(1, in: 2) ? "*" : randomField(&rng, low: 1, high: 31)
        let month = rng.chance(2, in: 3) ? "*" : randomField(&rng, low: 1, high: 12, names: months, nameBase: 1, hot: [3, 4, 10, 11])
        let dow = rng.chance(1, in: 2) ? "*" : randomField(&rng, low: 0, high: 7, names: days, hot: [0, 7])
        return "\(minute) \(hour) \(dom) \(month) \(dow)"
    }

    /// Instants near the DST transitions of the zone in 2024-2030, and some anywhere.
    static func startPoints(_ zone: ZoneInfo, _ rng: inout SplitMix64) -> [Int64] {
        var transitions: [Int64] = []
        var t = Int64(1_704_067_200) // 2024-01-01
        while t < 1_924_992_000 {    // 2031
            let p = zone.period(at: t)
            if p.end == Int64.max { break }
            transitions.append(p.end)
            t = p.end
        }
        return (0..<6).map { _ in
            if !transitions.isEmpty && rng.chance(3, in: 4) {
                return rng.pick(transitions) + rng.int64(in: -3 * 86400...3 * 86400)
            }
            return rng.int64(in: 1_704_067_200...1_924_992_000)
        }
    }

    @Test(arguments: zoneNames)
    func agreesWithBruteForce(_ zoneName: String) throws {
        let zone = try ZoneInfo.load(zoneName)
        var rng = SplitMix64(seed: 0xC0FFEE ^ UInt64(zoneName.utf8.count))
        var compared = 0
        var expressions = 0
        while expressions < 700 {
            let text = Self.randomExpression(&rng)
            guard let e = try? CronExpression(text) else { continue }
            expressions += 1
            let ref = Reference(e, zone: zone)
            for start in Self.startPoints(zone, &rng).prefix(2) {
                var t = start
                for _ in 0..<3 {
                    let horizon = t + 120 * 86400
                    let expected = ref.next(after: t, horizon: horizon)
                    let got = e.next(after: t, in: zone)
                    if let expected {
                        #expect(got == expected, "\(text) in \(zoneName) after \(t)")
                        if got != expected { return }
                        t = expected
                        compared += 1
                    } else {
                        #expect(got == nil || got! > horizon, "\(text) in \(zoneName) after \(t): \(got.map(String.init) ?? "nil")")
                        break
                    }
                }
            }
        }
        #expect(compared > 1500)
    }

    /// The written DST policy, case by case.
    @Test func dstPolicy() throws {
        let ny = try ZoneInfo.load("America/New_York")
        let spring = Civil.days(year: 2026, month: 3, day: 8) * 86400   // 02:00 EST -> 03:00 EDT at 07:00Z
        let fall = Civil.days(year: 2026, month: 11, day: 1) * 86400    // 02:00 EDT -> 01:00 EST at 06:00Z
        func times(_ expr: String, _ from: Int64, _ n: Int, _ zone: ZoneInfo) throws -> [Int64] {
            try CronExpression(expr).nextTimes(after: from, count: n, in: zone)
        }
        // Skipped 02:30 runs once, at the transition; 03:30 as usual.
        #expect(try times("30 2 * * *", spring - 86400, 2, ny) == [spring - 86400 + 7 * 3600 + 1800, spring + 7 * 3600])
        // Every skipped minute of a fixed hour collapses into one run at the transition.
        #expect(try times("* 2 * * *", spring, 2, ny) == [spring + 7 * 3600, spring + 86400 + 6 * 3600])
        // Repeated 01:30 runs once, at the first occurrence (EDT, 05:30Z).
        #expect(try times("30 1 * * *", fall, 2, ny) == [fall + 5 * 3600 + 1800, fall + 86400 + 6 * 3600 + 1800])
        // A periodic job runs in both hours.
        #expect(try times("*/30 * * * *", fall + 4 * 3600 + 1800, 5, ny) == [5, 5.5, 6, 6.5, 7].map { fall + Int64($0 * 3600) })
        // and does not make up the hour that was skipped.
        #expect(try times("30 * * * *", spring + 6 * 3600, 2, ny) == [spring + 6 * 3600 + 1800, spring + 7 * 3600 + 1800])
        // Lord Howe moves by 30 minutes: 02:15 on 2026-10-04 runs at 02:30 (+11), 15:30Z the day before.
        let lh = try ZoneInfo.load("Australia/Lord_Howe")
        let lday = Civil.days(year: 2026, month: 10, day: 4) * 86400
        #expect(try times("15 2 * * *", lday - 86400, 1, lh) == [lday - 8 * 3600 - 1800])
        // and in April 01:45 happens twice (+11, then +10:30): once, the first time.
        let aday = Civil.days(year: 2026, month: 4, day: 5) * 86400
        #expect(try times("45 1 * * *", aday - 86400, 1, lh) == [aday + 6300 - 11 * 3600])
    }

    @Test func neverFiringIsRefusedAndSparseStillFires() throws {
        // Feb 29 on a Monday comes every 28 years or so; the OR rule makes this daily in February anyway,
        // so pin the day-of-week to be unrestricted to get the true sparse case.
        let leap = try CronExpression("0 0 29 2 *")
        #expect(leap.next(after: Civil.days(year: 2029, month: 1, day: 1) * 86400, in: .utc) == Civil.days(year: 2032, month: 2, day: 29) * 86400)
        let sundayLeap = try CronExpression("0 12 29 2 */7")   // */7 in dow = {0}: Feb 29 that is a Sunday (AND)
        #expect(sundayLeap.next(after: 0, in: .utc) == Civil.days(year: 1976, month: 2, day: 29) * 86400 + 12 * 3600)
    }
}
