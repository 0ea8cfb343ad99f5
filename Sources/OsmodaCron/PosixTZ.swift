import OsmodaCore
/// A POSIX TZ string as found in a TZif footer (RFC 8536 §3.3, POSIX.1 `TZ`):
/// `EST5EDT,M3.2.0,M11.1.0`, `<+1030>-10:30<+11>-11,M10.1.0,M4.1.0`.
///
/// Offsets are stored as seconds east of UTC (POSIX writes them west, hence the sign
/// flip). The version 3 extensions are accepted: transition times from -167 to 167 hours.
struct PosixTZ: Sendable, Equatable {
    struct DST: Sendable, Equatable {
        var name: String
        var offset: Int
        var start: DateRule
        var end: DateRule
    }

    enum Day: Sendable, Equatable {
        /// `Jn`: 1…365, February 29 never counted.
        case julian1(Int)
        /// `n`: 0…365, February 29 counted in leap years.
        case julian0(Int)
        /// `Mm.w.d`: day d (0 = Sunday) of week w (5 = the last) of month m.
        case monthWeekDay(Int, Int, Int)
    }

    struct DateRule: Sendable, Equatable {
        var day: Day
        /// Local time of day of the transition, in seconds (may be negative or past 24 h).
        var time: Int
    }

    var stdName: String
    var stdOffset: Int
    var dst: DST?

    init?(_ text: String) {
        var p = Scanner(Array(text.utf8))
        guard let std = p.name(), let so = p.offset() else { return nil }
        stdName = std
        stdOffset = -so
        if p.atEnd { dst = nil; return }
        guard let dn = p.name() else { return nil }
        var doff = stdOffset + 3600
        if !p.atEnd && p.peek != UInt8(ascii: ",") {
            guard let o = p.offset() else { return nil }
            doff = -o
        }
        var start = DateRule(day: .monthWeekDay(3, 2, 0), time: 7200)
        var end = DateRule(day: .monthWeekDay(11, 1, 0), time: 7200)
        if !p.atEnd {
            guard p.eat(","), let s = p.rule(), p.eat(","), let e = p.rule() else { return nil }
            start = s
            end = e
        }
        guard p.atEnd else { return nil }
        dst = DST(name: dn, offset: doff, start: start, end: end)
    }

    /// The day (days since the epoch) a rule names in `year`.
    static func day(_ d: Day, year: Int) -> Int64 {
        let jan1 = Civil.days(year: year, month: 1, day: 1)
        switch d {
        case .julian1(let n):
            return jan1 + Int64(n - 1) + (Civil.isLeap(year) && n >= 60 ? 1 : 0)
        case .julian0(let n):
            return jan1 + Int64(n)
        case .monthWeekDay(let m, let w, let wd):
            let first = Civil.days(year: year, month: m, day: 1)
            var d = first + Int64((wd - Civil.weekday(days: first) + 7) % 7) + Int64((w - 1) * 7)
            let limit = first + Int64(Civil.daysIn(month: m, year: year))
            while d >= limit { d -= 7 }
            return d
        }
    }

    /// The year's two transitions, in order: when DST starts (in standard time) and ends (in DST).
    func transitions(year: Int, dst r: DST) -> [(at: Int64, offset: Int, isDST: Bool)] {
        let s = Self.day(r.start.day, year: year) * 86400 + Int64(r.start.time) - Int64(stdOffset)
        let e = Self.day(r.end.day, year: year) * 86400 + Int64(r.end.time) - Int64(r.offset)
        let a = (at: s, offset: r.offset, isDST: true)
        let b = (at: e, offset: stdOffset, isDST: false)
        return s <= e ? [a, b] : [b, a]
    }

    /// The period containing `instant`, from the rule alone.
    func period(at instant: Int64, dst r: DST) -> ZonePeriod {
        let y = Civil.date(fromDays: Civil.floorDiv(instant + Int64(stdOffset), 86400)).year
        let ts = transitions(year: y - 1, dst: r) + transitions(year: y, dst: r) + transitions(year: y + 1, dst: r)
        var k = 0
        while k + 1 < ts.count && ts[k + 1].at <= instant { k += 1 }
        let cur = ts[k]
        let end = k + 1 < ts.count ? ts[k + 1].at : Int64.max
        return ZonePeriod(offset: cur.offset, start: cur.at, end: end, isDST: cur.isDST)
    }

    private struct Scanner {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }
        var atEnd: Bool { i >= b.count }
        var peek: UInt8 { b[i] }

        mutating func eat(_ c: Character) -> Bool {
            guard !atEnd, let a = c.asciiValue, b[i] == a else { return false }
            i += 1
            return true
        }

        mutating func name() -> String? {
            if eat("<") {
                let s = i
                while !atEnd && b[i] != UInt8(ascii: ">") { i += 1 }
                guard !atEnd, i - s >= 3 else { return nil }
                let n = String(decoding: b[s..<i], as: UTF8.self)
                i += 1
                return n
            }
            let s = i
            while !atEnd, (b[i] | 0x20) >= UInt8(ascii: "a"), (b[i] | 0x20) <= UInt8(ascii: "z") { i += 1 }
            return i - s >= 3 ? String(decoding: b[s..<i], as: UTF8.self) : nil
        }

        mutating func number(max: Int) -> Int? {
            let s = i
            var v = 0
            while !atEnd, b[i] >= 0x30, b[i] <= 0x39, i - s < 4 { v = v * 10 + Int(b[i] - 0x30); i += 1 }
            return i > s && v <= max ? v : nil
        }

        /// `[+-]hh[:mm[:ss]]` in seconds; hours up to 167 (version 3).
        mutating func offset() -> Int? {
            var sign = 1
            if eat("-") { sign = -1 } else { _ = eat("+") }
            guard let h = number(max: 167) else { return nil }
            var s = h * 3600
            if eat(":") {
                guard let m = number(max: 59) else { return nil }
                s += m * 60
                if eat(":") {
                    guard let sec = number(max: 59) else { return nil }
                    s += sec
                }
            }
            return sign * s
        }

        mutating func rule() -> DateRule? {
            let day: Day
            if eat("J") {
                guard let n = number(max: 365), n >= 1 else { return nil }
                day = .julian1(n)
            } else if eat("M") {
                guard let m = number(max: 12), m >= 1, eat("."), let w = number(max: 5), w >= 1, eat("."),
                      let d = number(max: 6) else { return nil }
                day = .monthWeekDay(m, w, d)
            } else {
                guard let n = number(max: 365) else { return nil }
                day = .julian0(n)
            }
            var time = 7200
            if eat("/") {
                guard let t = offset() else { return nil }
                time = t
            }
            return DateRule(day: day, time: time)
        }
    }
}
