/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01, without Foundation.
///
/// Local wall-clock times are carried as seconds since the local epoch (1970-01-01
/// 00:00 on the wall clock), so that "local minus offset" is the instant.
public enum Civil {
    /// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm.
    @inlinable
    public static func date(fromDays z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    /// (year, month 1-12, day 1-31) to days since 1970-01-01.
    @inlinable
    public static func days(year y0: Int, month m: Int, day d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    @inlinable
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    @inlinable
    public static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
    @inlinable
    public static func weekday(days: Int64) -> Int {
        let r = Int((days + 4) % 7)
        return r < 0 ? r + 7 : r
    }

    /// Floor division, for seconds before the epoch.
    @inlinable
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// A wall-clock time (seconds since the local epoch) broken down.
    public static func fields(_ local: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let days = floorDiv(local, 86400)
        let rem = Int(local - days * 86400)
        let (y, m, d) = date(fromDays: days)
        return (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// `2026-03-29T02:30:00` (no offset), for messages and records.
    public static func format(_ local: Int64) -> String {
        let f = fields(local)
        return "\(pad(f.year, 4))-\(pad(f.month, 2))-\(pad(f.day, 2))T\(pad(f.hour, 2)):\(pad(f.minute, 2)):\(pad(f.second, 2))"
    }

    /// `+05:30`, `-04:00`, `Z` is not used: records carry the numeric offset.
    public static func formatOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        var s = "\(sign)\(pad(a / 3600, 2)):\(pad(a % 3600 / 60, 2))"
        if a % 60 != 0 { s += ":\(pad(a % 60, 2))" }
        return s
    }

    static func pad(_ v: Int, _ n: Int) -> String {
        let s = String(v)
        return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
    }
}
