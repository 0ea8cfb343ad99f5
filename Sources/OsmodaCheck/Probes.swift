import OsmodaCore
import OsmodaSystem

/// Runs probes: one at a time or many at once.
public enum Probes {
    /// How long past its own timeout a probe may run before the runner gives up on it.
    ///
    /// Probes bound themselves by `timeout_ms` (a command also has one second of kill
    /// grace); this catches what cannot be bounded, such as `statvfs(3)` on a hung
    /// network mount.
    public static let watchdogGraceMs = 3000

    /// How many probes run at the same time by default.
    public static let defaultConcurrency = 32

    /// Runs one probe. It never throws: every failure is a result with `ok` false and
    /// a detail that says what went wrong.
    public static func run(_ spec: ProbeSpec) -> CheckResult {
        runAll([spec]).first ?? runHere(spec)
    }

    /// Runs probes concurrently, each on its own thread (at most `maxConcurrent` at a
    /// time), and returns their results in the order of `specs`.
    ///
    /// A probe that has not returned `watchdogGraceMs` after its timeout is reported
    /// as timed out and left to finish alone.
    public static func runAll(_ specs: [ProbeSpec], maxConcurrent: Int = defaultConcurrency) -> [CheckResult] {
        WorkerThreads.map(
            count: specs.count, maxThreads: maxConcurrent,
            budgetNanos: { UInt64(specs[$0].timeoutMs + watchdogGraceMs) * 1_000_000 },
            abandoned: { stuck(specs[$0]) },
            { runHere(specs[$0]) })
    }

    /// Runs a probe on the caller's thread, with no watchdog.
    public static func runHere(_ spec: ProbeSpec) -> CheckResult {
        let start = Sys.monotonicNanos()
        let deadline = MonotonicDeadline(milliseconds: Int64(spec.timeoutMs))
        var r = CheckResult(name: spec.name, kind: spec.kind.rawValue, target: spec.target)
        switch spec.probe {
        case .systemd(let p): SystemdCheck.run(p, timeoutMs: spec.timeoutMs, into: &r)
        case .tcp(let p): p.run(deadline: deadline, into: &r)
        case .http(let p): p.run(deadline: deadline, into: &r)
        case .command(let p): p.run(timeoutMs: spec.timeoutMs, into: &r)
        case .process(let p): p.run(into: &r)
        case .file(let p): p.run(deadline: deadline, into: &r)
        case .disk(let p): p.run(into: &r)
        case .cert(let p): p.run(deadline: deadline, into: &r)
        }
        r.latencyMs = Format.milliseconds(Sys.monotonicNanos() &- start)
        return r
    }

    /// The result for a probe the watchdog gave up on.
    static func stuck(_ spec: ProbeSpec) -> CheckResult {
        let waited = spec.timeoutMs + watchdogGraceMs
        var r = CheckResult(name: spec.name, kind: spec.kind.rawValue, target: spec.target, ok: false, latencyMs: Double(waited),
                            detail: "no result after \(waited) ms: the probe is stuck (e.g. in a system call on a hung mount)")
        r.timedOut = true
        return r
    }
}

/// Runs one probe; the same as `Probes.run(_:)`.
public func run(_ spec: ProbeSpec) -> CheckResult {
    Probes.run(spec)
}

/// Number formatting for details and fields, without Foundation.
enum Format {
    /// Nanoseconds as milliseconds rounded to 0.001.
    static func milliseconds(_ nanos: UInt64) -> Double {
        (Double(nanos) / 1000).rounded() / 1000
    }

    static func rounded(_ value: Double, decimals: Int) -> Double {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    /// `value` with at most `decimals` decimals, trailing zeros dropped: `92.31`, `90`.
    static func number(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded())
        var whole = String(scaled / scale)
        var fraction = String(scaled % scale)
        if decimals > 0 {
            fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
        } else {
            fraction = ""
        }
        if value < 0 && scaled != 0 { whole = "-" + whole }
        return fraction.isEmpty ? whole : "\(whole).\(fraction)"
    }

    /// `1 day`, `3 days`.
    static func count(_ n: Int, _ singular: String, _ plural: String) -> String {
        "\(n) \(abs(n) == 1 ? singular : plural)"
    }

    /// At most `limit` characters of untrusted text on one line, for a detail.
    static func snippet(_ text: String, limit: Int = 200) -> String {
        let oneLine = String(text.map { $0.isNewline ? " " : $0 })
        return oneLine.count > limit ? String(oneLine.prefix(limit)) + "…" : oneLine
    }
}
