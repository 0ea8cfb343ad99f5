import OsmodaCore
/// Next fire times of a cron expression in a time zone, with a written DST policy.
///
/// Two kinds of expression behave differently across a daylight-saving change:
///
/// - **Wall-clock jobs** (the hour field does not start with `*`: `30 2 * * *`,
///   `0 9-17 * * MON-FRI`) name times of day. A time skipped at spring-forward runs
///   once, at the instant of the transition (several skipped times collapse into that
///   one run). A time repeated at fall-back runs once, at its first occurrence.
/// - **Periodic jobs** (the hour field starts with `*`: `*/5 * * * *`, `15 * * * *`,
///   `@hourly`) are about elapsed time. They run at every instant whose wall-clock time
///   matches: during a repeated hour they run in both hours, and times that do not exist
///   are not made up (cronie treats its wildcard jobs the same way).
///
/// Fire times are whole minutes of the local clock.
extension CronExpression {
    /// Whether the expression is periodic in the sense of the DST policy above.
    public var isPeriodic: Bool { hourStar }

    /// The first fire time strictly after `instant` (seconds since the epoch), or `nil`
    /// for `@reboot` and when nothing comes within about 30 years.
    public func next(after instant: Int64, in zone: ZoneInfo) -> Int64? {
        if isReboot { return nil }
        if hourStar {
            var t0 = Civil.floorDiv(instant, 60) * 60 + 60
            for _ in 0..<100_000 {
                let p = zone.period(at: t0)
                guard let m = nextLocal(atOrAfter: t0 + Int64(p.offset)) else { return nil }
                let i = m - Int64(p.offset)
                if i < p.end { return i }
                t0 = p.end
            }
            return nil
        }
        var m0 = zone.local(instant) + 1
        for _ in 0..<100_000 {
            guard let m = nextLocal(atOrAfter: m0) else { return nil }
            let fire: Int64
            switch zone.resolve(m) {
            case .unique(let i): fire = i
            case .repeated(let first, _): fire = first
            case .skipped(let transition): fire = transition
            }
            if fire > instant { return fire }
            m0 = m + 60
        }
        return nil
    }

    /// The next `count` fire times after `instant`.
    public func nextTimes(after instant: Int64, count: Int, in zone: ZoneInfo) -> [Int64] {
        var out: [Int64] = []
        var t = instant
        while out.count < count, let n = next(after: t, in: zone) {
            out.append(n)
            t = n
        }
        return out
    }
}
