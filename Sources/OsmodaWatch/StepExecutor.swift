import OsmodaCore
import OsmodaSystem

/// How an executed step ended, for its `watch.action` end record.
public struct StepReport: Sendable, Equatable {
    public var outcome: StepOutcome
    /// `ok`, `failed`, `timeout` or `dry_run`.
    public var result: String
    public var detail: String
    public var exitStatus: Int?
    public var durationMs: Double
}

/// Runs ladder steps for real: child processes (argv, no shell, own process group,
/// killed with their group at the timeout) and HTTP POSTs.
public struct StepExecutor: Sendable {
    /// The `osmoda-gen` program (argv prefix) for rollback steps without a `command`.
    public var genCommand: [String]
    /// The environment children inherit (notify commands get the alert added).
    public var environment: [String: String]
    /// Decide without acting.
    public var dryRun: Bool

    public init(genCommand: [String], environment: [String: String], dryRun: Bool) {
        self.genCommand = genCommand
        self.environment = environment
        self.dryRun = dryRun
    }

    /// The argv a step runs (nil for an HTTP notify).
    public func argv(_ order: StepOrder) -> [String]? {
        switch order.step.action {
        case .restartUnit(let unit): return ["systemctl", "restart", unit]
        case .restartCommand(let c), .run(let c), .notifyCommand(let c): return c
        case .rollback(let profile, let command):
            return (command ?? genCommand) + ["rollback", "--to", String(order.generation ?? 0), "--profile", profile]
        case .notifyHTTP: return nil
        }
    }

    /// Runs the step; `alert` is the body of a notify.
    public func run(_ order: StepOrder, alert: WatchAlertRecord, now: Timestamp) -> StepReport {
        if dryRun { return StepReport(outcome: .dryRun, result: "dry_run", detail: "not run (--dry-run)", exitStatus: nil, durationMs: 0) }
        let started = Sys.monotonicNanos()
        let body = (try? alert.jsonLine(at: now)) ?? []
        var report: StepReport
        let tries = order.step.action.kind == "notify" ? order.step.retries + 1 : 1
        var n = 0
        repeat {
            if n > 0 { Sys.sleep(milliseconds: Int64(min(n, 5)) * 500) }
            n += 1
            if case .notifyHTTP(let url) = order.step.action {
                report = post(url, body: body, timeoutMs: order.step.timeoutMs)
            } else {
                var env = environment
                if case .notifyCommand = order.step.action {
                    env["OSMODA_WATCH_ALERT"] = String(decoding: body, as: UTF8.self)
                    env["OSMODA_WATCH_WATCHER"] = order.name
                    env["OSMODA_WATCH_INCIDENT"] = String(order.incident)
                }
                report = spawn(argv(order) ?? [], env: env, timeoutMs: order.step.timeoutMs)
            }
        } while report.outcome != .ok && n < tries
        if n > 1 { report.detail += " (attempt \(n) of \(tries))" }
        report.durationMs = Self.ms(Sys.monotonicNanos() - started)
        return report
    }

    static func ms(_ nanos: UInt64) -> Double { (Double(nanos / 1000) / 1000).rounded(toPlaces: 3) }

    func spawn(_ argv: [String], env: [String: String], timeoutMs: Int64) -> StepReport {
        let result: SpawnResult
        do {
            result = try Spawn.run(SpawnOptions(argv: argv, env: env, timeoutMs: timeoutMs, outputLimit: 2048))
        } catch {
            return StepReport(outcome: .failed, result: "failed", detail: "cannot start '\(argv.first ?? "")': \(error.message)",
                              exitStatus: nil, durationMs: 0)
        }
        let tail = Self.lastLine(result.stderrTail.isEmpty ? result.stdoutTail : result.stderrTail)
        if result.timedOut {
            return StepReport(outcome: .failed, result: "timeout", detail: "did not finish within \(WatchEngine.duration(timeoutMs)); its process group was killed",
                              exitStatus: nil, durationMs: 0)
        }
        let status = result.exitStatus.map { Int($0) }
        if status == 0 { return StepReport(outcome: .ok, result: "ok", detail: "exit status 0", exitStatus: 0, durationMs: 0) }
        var detail = result.statusDescription
        if !tail.isEmpty { detail += ": " + tail }
        return StepReport(outcome: .failed, result: "failed", detail: detail, exitStatus: status, durationMs: 0)
    }

    func post(_ text: String, body: [UInt8], timeoutMs: Int64) -> StepReport {
        let url: HTTPURL
        do { url = try HTTPURL(parsing: text) } catch {
            return StepReport(outcome: .failed, result: "failed", detail: "bad URL: \(error.message)", exitStatus: nil, durationMs: 0)
        }
        do {
            let r = try HTTPClient.post(url, body: body, deadline: MonotonicDeadline(milliseconds: timeoutMs))
            if (200..<300).contains(r.status) {
                return StepReport(outcome: .ok, result: "ok", detail: "HTTP \(r.status)", exitStatus: nil, durationMs: 0)
            }
            return StepReport(outcome: .failed, result: "failed", detail: "HTTP \(r.status)", exitStatus: nil, durationMs: 0)
        } catch {
            let timedOut = error.code == .timeout
            return StepReport(outcome: .failed, result: timedOut ? "timeout" : "failed", detail: error.description, exitStatus: nil, durationMs: 0)
        }
    }

    /// Asks `osmoda-gen current --profile DIR` for the generation in use; `nil` with a
    /// reason when it cannot be learnt.
    public func currentGeneration(profile: String, command: [String]?) -> (Int?, String?) {
        let argv = (command ?? genCommand) + ["current", "--profile", profile]
        let result: SpawnResult
        do {
            result = try Spawn.run(SpawnOptions(argv: argv, env: environment, timeoutMs: 30_000, outputLimit: 16 << 10))
        } catch {
            return (nil, "cannot start '\(argv[0])': \(error.message)")
        }
        guard result.exitStatus == 0 else { return (nil, "\(argv.joined(separator: " ")): \(result.statusDescription)") }
        // The last record line with an integer `number`.
        let lines = result.stdoutTail.split(separator: 0x0A)
        for line in lines.reversed() {
            guard let v = try? JSONReader.parse(Array(line)), case .object(let o) = v, case .int(let n)? = o["number"] else { continue }
            return (Int(n), nil)
        }
        return (nil, "\(argv.joined(separator: " ")) printed no record with an integer 'number'")
    }

    static func lastLine(_ bytes: [UInt8]) -> String {
        let lines = bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self).trimmingSpaces }.filter { !$0.isEmpty }
        guard let last = lines.last else { return "" }
        return last.count > 300 ? String(last.prefix(300)) + "…" : last
    }
}

extension Double {
    func rounded(toPlaces n: Int) -> Double {
        var m = 1.0
        for _ in 0..<n { m *= 10 }
        return (self * m).rounded() / m
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
