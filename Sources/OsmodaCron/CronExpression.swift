import OsmodaCore
/// Why a cron expression was refused: the field it is about and the 1-based column.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `field 3 (day of month): 32 is out of range 1-31`.
    public var message: String
    public var column: Int
    public init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }
    public var description: String { "column \(column): \(message)" }

    /// The expression with a caret under the offending column, for terminals.
    public func caret(in source: String) -> String {
        "  \(source)\n  \(String(repeating: " ", count: max(0, column - 1)))^"
    }
}

/// One of the five fields.
public enum CronField: Int, Sendable, CaseIterable {
    case minute = 1, hour, dayOfMonth, month, dayOfWeek

    public var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day of month"
        case .month: "month"
        case .dayOfWeek: "day of week"
        }
    }

    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    var names: [String] {
        switch self {
        case .month: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: []
        }
    }
}

/// One comma-separated item of a field, as written.
public enum CronItem: Sendable, Equatable {
    /// `*` or `*/step`.
    case all(step: Int)
    /// `5`.
    case value(Int)
    /// `a-b`, `a-b/step`, or `a/step` (from a to the field's maximum).
    case range(Int, Int, step: Int)
}

/// A parsed five-field cron expression (Vixie cron / cronie syntax) or a macro.
///
/// - Fields: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of
///   week 0-7 or SUN-SAT (0 and 7 are Sunday). Names are case-insensitive.
/// - Items: `*`, `n`, `a-b`, with `/step` after `*`, `a-b` or `a` (`a/step` runs from
///   `a` to the field's maximum). Lists join items with commas.
/// - Day of month and day of week: when both are restricted, a day matches when
///   *either* does. As in cronie, a field whose text starts with `*` (including `*/2`)
///   counts as unrestricted: then a day must match *both* (so `0 0 */2 * MON` is the odd
///   days of the month that are Mondays).
/// - Macros: `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly`,
///   and `@reboot`, which has no times.
///
/// An expression that can never fire (`0 0 30 2 *`) is refused.
public struct CronExpression: Sendable, Equatable {
    public let source: String
    /// `@reboot`: runs once when the system starts; no times.
    public let isReboot: Bool
    /// The five-field text a macro stands for, or the source itself.
    public let expanded: String
    /// The items of each field, in field order.
    public let items: [[CronItem]]
    let minutes: UInt64
    let hours: UInt32
    let days: UInt32
    let months: UInt16
    let weekdays: UInt8
    /// The field's text starts with `*` (cronie's DOM_STAR / DOW_STAR / HR_STAR).
    public let dayOfMonthStar: Bool
    public let dayOfWeekStar: Bool
    public let hourStar: Bool

    /// Parses an expression; the error names the field and the column (in characters,
    /// so that the caret lines up under non-ASCII text too).
    public init(_ source: String) throws(CronError) {
        do { try self.init(parsing: source) } catch {
            throw CronError(error.message, column: Self.characterColumn(byteColumn: error.column, in: source))
        }
    }

    /// The 1-based character column of a 1-based UTF-8 byte column.
    static func characterColumn(byteColumn: Int, in source: String) -> Int {
        let offset = max(0, byteColumn - 1)
        let utf8 = source.utf8
        guard offset < utf8.count else { return source.count + (offset - utf8.count) + 1 }
        let index = utf8.index(utf8.startIndex, offsetBy: offset)
        return source.distance(from: source.startIndex, to: index) + 1
    }

    /// The character that starts at byte `i` of `text`, for messages (never a lone byte).
    static func character(at i: Int, in text: [UInt8]) -> String {
        var end = i + 1
        while end < text.count && text[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: text[i..<end], as: UTF8.self)
    }

    private init(parsing source: String) throws(CronError) {
        self.source = source
        let trimmed = source.drop(while: { $0 == " " || $0 == "\t" })
        let lead = source.utf8.count - trimmed.utf8.count
        if trimmed.hasPrefix("@") {
            let word = trimmed.prefix(while: { $0 != " " && $0 != "\t" })
            let rest = trimmed.dropFirst(word.count)
            if let junk = rest.firstIndex(where: { $0 != " " && $0 != "\t" }) {
                let col = source.utf8.distance(from: source.startIndex, to: junk) + 1
                throw CronError("unexpected text after \(word)", column: col)
            }
            let text: String
            switch word.lowercased() {
            case "@yearly", "@annually": text = "0 0 1 1 *"
            case "@monthly": text = "0 0 1 * *"
            case "@weekly": text = "0 0 * * 0"
            case "@daily", "@midnight": text = "0 0 * * *"
            case "@hourly": text = "0 * * * *"
            case "@reboot": text = ""
            default:
                throw CronError("unknown macro '\(word)'; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @reboot", column: lead + 1)
            }
            if text.isEmpty {
                isReboot = true
                expanded = "@reboot"
                items = []
                minutes = 0; hours = 0; days = 0; months = 0; weekdays = 0
                dayOfMonthStar = true; dayOfWeekStar = true; hourStar = false
                return
            }
            let inner = try CronExpression(text)
            isReboot = false
            expanded = text
            items = inner.items
            minutes = inner.minutes; hours = inner.hours; days = inner.days; months = inner.months; weekdays = inner.weekdays
            dayOfMonthStar = inner.dayOfMonthStar; dayOfWeekStar = inner.dayOfWeekStar; hourStar = inner.hourStar
            return
        }
        // Split on blanks, keeping each field's starting column.
        let bytes = Array(source.utf8)
        var fields: [(text: [UInt8], column: Int)] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1; continue }
            let s = i
            while i < bytes.count && bytes[i] != 0x20 && bytes[i] != 0x09 { i += 1 }
            fields.append((Array(bytes[s..<i]), s + 1))
        }
        guard fields.count == 5 else {
            if fields.count > 5 {
                throw CronError("expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)", column: fields[5].column)
            }
            throw CronError("expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)", column: bytes.count + 1)
        }
        var parsed: [[CronItem]] = []
        var sets: [UInt64] = []
        for (k, f) in fields.enumerated() {
            let field = CronField(rawValue: k + 1) ?? .minute
            let (its, set) = try Self.parseField(f.text, field: field, column: f.column)
            parsed.append(its)
            sets.append(set)
        }
        isReboot = false
        expanded = fields.map { String(decoding: $0.text, as: UTF8.self) }.joined(separator: " ")
        items = parsed
        minutes = sets[0]
        hours = UInt32(truncatingIfNeeded: sets[1])
        days = UInt32(truncatingIfNeeded: sets[2])
        months = UInt16(truncatingIfNeeded: sets[3])
        weekdays = UInt8(truncatingIfNeeded: sets[4])
        hourStar = fields[1].text.first == UInt8(ascii: "*")
        dayOfMonthStar = fields[2].text.first == UInt8(ascii: "*")
        dayOfWeekStar = fields[4].text.first == UInt8(ascii: "*")
        try checkReachable(column: fields[2].column)
    }

    /// Refuses a day of month that no selected month has (`0 0 31 4 *`), where the day
    /// of week cannot rescue it.
    private func checkReachable(column: Int) throws(CronError) {
        guard dayOfWeekStar, !dayOfMonthStar else { return }
        let firstDay = days.trailingZeroBitCount
        for m in 1...12 where months & (1 << m) != 0 {
            if firstDay <= Civil.daysIn(month: m, year: 2000) { return }
        }
        throw CronError("field 3 (day of month): no selected day occurs in the selected months, so this never runs", column: column)
    }

    private static func parseField(_ text: [UInt8], field: CronField, column: Int) throws(CronError) -> ([CronItem], UInt64) {
        let r = field.range
        let hi = field == .dayOfWeek ? 6 : r.upperBound
        func fail(_ msg: String, _ at: Int) -> CronError {
            CronError("field \(field.rawValue) (\(field.name)): \(msg)", column: column + at)
        }
        var items: [CronItem] = []
        var set: UInt64 = 0
        var i = 0
        while true {
            let itemStart = i
            func number(endOfRange: Bool) throws(CronError) -> Int {
                let s = i
                if i < text.count, text[i] >= 0x30 && text[i] <= 0x39 {
                    var v = 0
                    while i < text.count, text[i] >= 0x30 && text[i] <= 0x39 {
                        v = min(v * 10 + Int(text[i] - 0x30), 1_000_000)
                        i += 1
                    }
                    guard r.contains(v) else { throw fail("\(v) is out of range \(r.lowerBound)-\(r.upperBound)", s) }
                    return v
                }
                while i < text.count, (text[i] | 0x20) >= 0x61 && (text[i] | 0x20) <= 0x7A { i += 1 }
                guard i > s else {
                    let what = i < text.count ? "'\(Self.character(at: i, in: text))'" : "the end"
                    throw fail("expected a number\(field.names.isEmpty ? "" : " or a name") at \(what)", s)
                }
                let word = String(decoding: text[s..<i], as: UTF8.self).uppercased()
                guard let idx = field.names.firstIndex(of: word) else {
                    if field.names.isEmpty { throw fail("'\(word.lowercased())' is not a number", s) }
                    throw fail("unknown name '\(String(decoding: text[s..<i], as: UTF8.self))'; expected \(field.names.first ?? "")-\(field.names.last ?? "")", s)
                }
                let v = field == .month ? idx + 1 : idx
                return v
            }
            func step() throws(CronError) -> Int {
                let s = i
                var v = 0
                while i < text.count, text[i] >= 0x30 && text[i] <= 0x39 {
                    v = min(v * 10 + Int(text[i] - 0x30), 1_000_000)
                    i += 1
                }
                guard i > s else { throw fail("expected a step after '/'", s) }
                guard v >= 1 else { throw fail("step 0 is not allowed", s) }
                guard v <= r.upperBound - r.lowerBound + 1 else { throw fail("step \(v) is larger than the field's range \(r.lowerBound)-\(r.upperBound)", s) }
                return v
            }
            let item: CronItem
            if i < text.count && text[i] == UInt8(ascii: "*") {
                i += 1
                var st = 1
                if i < text.count && text[i] == UInt8(ascii: "/") { i += 1; st = try step() }
                item = .all(step: st)
                var v = r.lowerBound
                while v <= hi { set |= 1 << UInt64(v); v += st }
            } else {
                let a = try number(endOfRange: false)
                var b = a
                var st = 1
                var isRange = false
                if i < text.count && text[i] == UInt8(ascii: "-") {
                    i += 1
                    let bs = i
                    b = try number(endOfRange: true)
                    // SUN at the end of a range is 7 (`FRI-SUN`).
                    if field == .dayOfWeek && b == 0 && a > 0 { b = 7 }
                    guard b >= a else { throw fail("range \(a)-\(b) is backwards; write it as a list of two ranges", bs) }
                    isRange = true
                }
                if i < text.count && text[i] == UInt8(ascii: "/") {
                    i += 1
                    st = try step()
                    if !isRange { b = r.upperBound; isRange = true }
                }
                item = isRange ? .range(a, b, step: st) : .value(a)
                var v = a
                while v <= b { set |= 1 << UInt64(field == .dayOfWeek && v == 7 ? 0 : v); v += st }
            }
            items.append(item)
            if i == text.count { break }
            guard text[i] == UInt8(ascii: ",") else {
                throw fail("unexpected '\(Self.character(at: i, in: text))'", i)
            }
            i += 1
            guard i < text.count, text[i] != UInt8(ascii: ",") else { throw fail("empty item in a list", i) }
            _ = itemStart
        }
        return (items, set)
    }

    // MARK: Matching

    @inline(__always)
    func dayMatches(day: Int, weekday: Int) -> Bool {
        let d = days & (1 << UInt32(day)) != 0
        let w = weekdays & (1 << UInt8(weekday)) != 0
        return dayOfMonthStar || dayOfWeekStar ? (d && w) : (d || w)
    }

    /// Whether a wall-clock time (seconds since the local epoch; seconds ignored) matches.
    public func matches(local: Int64) -> Bool {
        guard !isReboot else { return false }
        let dayNumber = Civil.floorDiv(local, 86400)
        let rem = Int(local - dayNumber * 86400)
        let (_, mo, d) = Civil.date(fromDays: dayNumber)
        return minutes & (1 << UInt64(rem % 3600 / 60)) != 0
            && hours & (1 << UInt32(rem / 3600)) != 0
            && months & (1 << UInt16(mo)) != 0
            && dayMatches(day: d, weekday: Civil.weekday(days: dayNumber))
    }

    /// Whether a calendar day (days since the epoch) can hold a match.
    public func matches(day dayNumber: Int64) -> Bool {
        guard !isReboot else { return false }
        let (_, mo, d) = Civil.date(fromDays: dayNumber)
        return months & (1 << UInt16(mo)) != 0 && dayMatches(day: d, weekday: Civil.weekday(days: dayNumber))
    }

    @inline(__always)
    static func nextBit(_ set: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let m = set & (~UInt64(0) << UInt64(from))
        return m == 0 ? nil : m.trailingZeroBitCount
    }

    /// The first matching wall-clock minute at or after `local` (rounded up to a
    /// minute), walking the fields; `nil` when none comes within 30 years.
    public func nextLocal(atOrAfter local: Int64) -> Int64? {
        guard !isReboot else { return nil }
        let aligned = Civil.floorDiv(local + 59, 60) * 60
        var dayNumber = Civil.floorDiv(aligned, 86400)
        let rem = Int(aligned - dayNumber * 86400)
        var (y, mo, d) = Civil.date(fromDays: dayNumber)
        let limit = y + 30
        var h = rem / 3600
        var mi = rem % 3600 / 60
        let mset = UInt64(months), hset = UInt64(hours)
        while true {
            if months & (1 << UInt16(mo)) == 0 {
                if let n = Self.nextBit(mset, from: mo + 1) { mo = n } else {
                    y += 1
                    if y > limit { return nil }
                    mo = Self.nextBit(mset, from: 1) ?? 1
                }
                d = 1; h = 0; mi = 0
                dayNumber = Civil.days(year: y, month: mo, day: 1)
                continue
            }
            if d > Civil.daysIn(month: mo, year: y) {
                mo += 1
                if mo > 12 {
                    mo = 1
                    y += 1
                    if y > limit { return nil }
                }
                d = 1; h = 0; mi = 0
                dayNumber = Civil.days(year: y, month: mo, day: 1)
                continue
            }
            if !dayMatches(day: d, weekday: Civil.weekday(days: dayNumber)) {
                // With either day field unrestricted the day of month must match, so jump
                // to its next value; with both restricted (OR) step a day at a time.
                if dayOfMonthStar || dayOfWeekStar {
                    let nd = Self.nextBit(UInt64(days), from: d + 1) ?? 32
                    dayNumber += Int64(nd - d)
                    d = nd
                } else {
                    d += 1; dayNumber += 1
                }
                h = 0; mi = 0
                continue
            }
            if hours & (1 << UInt32(h)) == 0 {
                guard let n = Self.nextBit(hset, from: h + 1) else {
                    d += 1; dayNumber += 1; h = 0; mi = 0
                    continue
                }
                h = n
                mi = 0
            }
            guard let m = Self.nextBit(minutes, from: mi) else {
                h += 1
                mi = 0
                if h > 23 { d += 1; dayNumber += 1; h = 0 }
                continue
            }
            return dayNumber * 86400 + Int64(h * 3600 + m * 60)
        }
    }
}
