import OsmodaCore

/// `cron.next`: one upcoming fire time. Its `ts` is the fire time itself.
public struct CronNextRecord: Record, Equatable {
    public static let type = "cron.next"
    public var expression: String
    public var tz: String
    /// 1 for the first time after `--from`, 2 for the next, …
    public var n: Int
    /// The wall-clock time in the zone with its offset: `2026-03-08T03:00:00-04:00`.
    public var local: String
    public var utcOffsetS: Int
    public var dst: Bool

    enum CodingKeys: String, CodingKey {
        case expression, tz, n, local, utcOffsetS = "utc_offset_s", dst
    }

    public init(expression: String, tz: String, n: Int, at instant: Int64, zone: ZoneInfo) {
        let p = zone.period(at: instant)
        self.expression = expression
        self.tz = tz
        self.n = n
        self.local = Civil.format(instant + Int64(p.offset)) + Civil.formatOffset(p.offset)
        self.utcOffsetS = p.offset
        self.dst = p.isDST
    }
}

/// `cron.explain`: a plain-English reading. `ts` is the reference time (`--from`).
public struct CronExplainRecord: Record, Equatable {
    public static let type = "cron.explain"
    public var expression: String
    public var expanded: String
    public var text: String
    /// Whether the DST policy treats it as periodic (the hour field starts with `*`).
    public var periodic: Bool
    public var tz: String
    /// The first fire time after `ts`; absent for `@reboot`.
    public var next: String?

    enum CodingKeys: String, CodingKey { case expression, expanded, text, periodic, tz, next }

    public init(expression: String, expanded: String, text: String, periodic: Bool, tz: String, next: String?) {
        self.expression = expression
        self.expanded = expanded
        self.text = text
        self.periodic = periodic
        self.tz = tz
        self.next = next
    }
}

/// `cron.check`: whether an expression is valid. `ts` is the reference time (`--from`).
public struct CronCheckRecord: Record, Equatable {
    public static let type = "cron.check"
    public var expression: String
    public var ok: Bool
    /// Valid: the five fields a macro stands for (or the expression); `@reboot` stays itself.
    public var expanded: String?
    /// Valid: the first fire time after `ts` (absent for `@reboot`).
    public var next: String?
    /// Invalid: why, naming the field.
    public var error: String?
    /// Invalid: the 1-based column the error points at.
    public var column: Int?

    enum CodingKeys: String, CodingKey { case expression, ok, expanded, next, error, column }

    public init(expression: String, ok: Bool, expanded: String? = nil, next: String? = nil, error: String? = nil, column: Int? = nil) {
        self.expression = expression
        self.ok = ok
        self.expanded = expanded
        self.next = next
        self.error = error
        self.column = column
    }
}

/// Parses a `--from` time: RFC 3339 (`2026-03-08T00:00:00Z`, `…-05:00`), or a local
/// wall time without offset (`2026-03-08T01:30` or `2026-03-08 01:30:00`) read in `zone`
/// (its first occurrence when it is repeated, the transition when it is skipped).
public func parseCronTime(_ text: String, zone: ZoneInfo) -> Timestamp? {
    if let t = Timestamp(rfc3339: text) { return t }
    let b = Array(text.utf8)
    func num(_ at: Int, _ n: Int) -> Int? {
        guard at + n <= b.count else { return nil }
        var v = 0
        for i in at..<(at + n) {
            guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
            v = v * 10 + Int(b[i] - 0x30)
        }
        return v
    }
    guard b.count == 16 || b.count == 19, let y = num(0, 4), b[4] == 0x2D, let mo = num(5, 2), b[7] == 0x2D,
          let d = num(8, 2), b[10] == 0x54 || b[10] == 0x20, let h = num(11, 2), b[13] == 0x3A, let mi = num(14, 2),
          (1...12).contains(mo), d >= 1, d <= Civil.daysIn(month: mo, year: y), h < 24, mi < 60 else { return nil }
    var sec = 0
    if b.count == 19 {
        guard b[16] == 0x3A, let s = num(17, 2), s < 60 else { return nil }
        sec = s
    }
    let local = Civil.days(year: y, month: mo, day: d) * 86400 + Int64(h * 3600 + mi * 60 + sec)
    let instant: Int64
    switch zone.resolve(local) {
    case .unique(let i): instant = i
    case .repeated(let i, _): instant = i
    case .skipped(let t): instant = t
    }
    return Timestamp(millisecondsSinceEpoch: instant * 1000)
}

/// `cron.bench`: the figure `osmoda-cron bench` measures.
public struct CronBenchRecord: Record, Equatable {
    public static let type = "cron.bench"
    public var computations: Int
    public var seconds: Double
    public var perS: Int
    public var checksum: Int64

    enum CodingKeys: String, CodingKey { case computations, seconds, perS = "per_s", checksum }

    public init(computations: Int, seconds: Double, perS: Int, checksum: Int64) {
        self.computations = computations
        self.seconds = seconds
        self.perS = perS
        self.checksum = checksum
    }
}
