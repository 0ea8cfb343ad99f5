import OsmodaCore
import OsmodaCron
import OsmodaSystem

/// SIGTERM's number on Linux (this module does not import Glibc).
let sigterm: Int32 = 15

/// The scheduler's idea of now, in milliseconds since the epoch; tests inject their own.
public protocol RoutineClock: Sendable {
    func nowMs() -> Int64
}

public struct SystemClock: RoutineClock {
    public init() {}
    public func nowMs() -> Int64 { Sys.now().millisecondsSinceEpoch }
}

/// Runs routines when they are due, applies the overlap policy, and keeps their state.
///
/// Timing, per trigger (times in the routine's zone for cron):
/// - cron: due at each time of the expression after the last one run. After downtime
///   the missed times collapse into one run (`catch-up`), like systemd's `Persistent=`;
///   with `catch_up: false` a time more than `graceMs` late is not run. A routine seen
///   for the first time starts counting from then.
/// - interval: first due when first seen, then `every` (plus a random part of `jitter`)
///   after each run started; downtime gives one catch-up run.
/// - reboot: due once in each boot after the one it was first seen in.
/// - event: never due by time; `event(_:)` fires it.
///
/// Each run is written to the state as `running` before the child starts, and
/// completed when it ends; `prepare()` marks runs left `running` by a dead scheduler
/// as `interrupted`.
public final class Scheduler: @unchecked Sendable {
    public struct Options: Sendable {
        public var graceMs: Int64 = 60_000
        /// Seed for the jitter; `nil` seeds from the monotonic clock.
        public var seed: UInt64?
        public var bootID: String = currentBootID()
        public var pid: Int32 = Sys.processID()
        /// This process's start time, kept with its runs (see `processStartTicks`).
        public var startTicks: UInt64? = processStartTicks(Sys.processID())
        /// The longest `serve` sleeps before looking at the clock again (wall-clock changes).
        public var maxSleepMs: Int64 = 900_000
        public init() {}
    }

    public let routines: [RoutineDefinition]
    let store: StateStore
    let clock: any RoutineClock
    let options: Options
    let emit: @Sendable (RoutineRunRecord) -> Void
    let warn: @Sendable (String) -> Void

    // Guarded by `monitor`.
    let monitor = ConditionMonitor()
    var running: [String: Int] = [:]
    var queued: [String: Int] = [:]
    var due: [String: Int64] = [:]
    var rng: UInt64
    var seq = 0
    var stopRequested = false
    /// `stop(terminateRuns: true)`: queued runs are dropped rather than started.
    var terminating = false
    /// The process groups of the runs going now, by run id.
    var children: [String: Int32] = [:]

    public init(routines: [RoutineDefinition], store: StateStore, clock: any RoutineClock = SystemClock(), options: Options = Options(),
                emit: @escaping @Sendable (RoutineRunRecord) -> Void, warn: @escaping @Sendable (String) -> Void) {
        self.routines = routines
        self.store = store
        self.clock = clock
        self.options = options
        self.emit = emit
        self.warn = warn
        self.rng = options.seed ?? Sys.monotonicNanos()
    }

    func random(below bound: Int64) -> Int64 {
        guard bound > 0 else { return 0 }
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int64((z ^ (z >> 31)) % UInt64(bound + 1))
    }

    static func cronNext(_ e: CronExpression, _ z: ZoneInfo, after ms: Int64) -> Int64? {
        let s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        return e.next(after: s, in: z).map { $0 * 1000 }
    }

    /// The latest fire time in `(after, upTo]`, or `nil` when there is none. Looks back
    /// over growing windows from `upTo`, so that years of downtime of an every-minute
    /// routine cost a few dozen steps, not one per missed time.
    static func latestCronTime(_ e: CronExpression, _ z: ZoneInfo, after: Int64, upTo now: Int64) -> Int64? {
        let day: Int64 = 86_400_000
        for window in [3_600_000, day, 32 * day, 367 * day, 5 * 367 * day, Int64.max] as [Int64] {
            let start = window >= now - after ? after : now - window
            var latest: Int64?
            var t = start
            while let n = cronNext(e, z, after: t), n <= now {
                latest = n
                t = n
            }
            if latest != nil || start == after { return latest }
        }
        return nil
    }

    /// Marks interrupted runs and works out when each enabled routine is next due.
    public func prepare() {
        let now = clock.nowMs()
        monitor.withLock {
            for r in routines where r.enabled {
                do {
                    for run in try store.markInterrupted(r.name, bootID: options.bootID, isAlive: schedulerAlive) {
                        emit(RoutineRunRecord(name: r.name, entry: run))
                    }
                    let s = try store.load(r.name)
                    switch r.trigger {
                    case .cron(let e, let z):
                        let last = s.lastDue ?? now
                        due[r.name] = Self.cronNext(e, z, after: last)
                        if s.lastDue == nil || s.nextDue != due[r.name] {
                            let d = due[r.name]
                            try store.update(r.name) { $0.lastDue = last; $0.nextDue = d }
                        }
                    case .interval(let every, let jitter):
                        // A stored time from a longer interval (the definition was edited)
                        // comes no later than one new interval after the last run.
                        if let n = s.nextDue, let last = s.lastDue, n > last + every + jitter {
                            let d = last + every + random(below: jitter)
                            due[r.name] = d
                            try store.update(r.name) { $0.nextDue = d }
                        } else if let n = s.nextDue { due[r.name] = n } else {
                            let d = now + random(below: jitter)
                            due[r.name] = d
                            try store.update(r.name) { $0.nextDue = d }
                        }
                    case .reboot:
                        if s.bootID == nil {
                            let b = options.bootID
                            try store.update(r.name) { $0.bootID = b }
                        } else if s.bootID != options.bootID {
                            due[r.name] = now
                        }
                    case .event:
                        break
                    }
                } catch {
                    warn("\(r.name): \(error)")
                }
            }
        }
    }

    /// When each routine is next due (ms), for `list`.
    public func nextDue(_ name: String) -> Int64? { monitor.withLock { due[name] } }

    /// Starts every routine that is due now; returns when the next one is due.
    @discardableResult
    public func tick() -> Int64? {
        monitor.withLock { tickLocked() }
    }

    func tickLocked() -> Int64? {
        let now = clock.nowMs()
        for r in routines where r.enabled {
            guard let d = due[r.name], d <= now else { continue }
            switch r.trigger {
            case .cron(let e, let z):
                // The latest time due, found without walking every missed one.
                let latest = Self.latestCronTime(e, z, after: d, upTo: now)
                let last = latest ?? d
                let missed = latest != nil || now - d > options.graceMs
                let nextAfter = Self.cronNext(e, z, after: last)
                due[r.name] = nextAfter
                let lastDue = last
                let change: (inout RoutineState) -> Void = { $0.lastDue = lastDue; $0.nextDue = nextAfter }
                if missed && !r.catchUp && now - last > options.graceMs {
                    save(r.name, change)
                    continue
                }
                fire(r, trigger: missed ? "catch-up" : "cron", scheduledFor: last, change: change)
            case .interval(let every, let jitter):
                let late = now - d > max(options.graceMs, every)
                let nextAt = now + every + random(below: jitter)
                due[r.name] = nextAt
                let change: (inout RoutineState) -> Void = { $0.lastDue = now; $0.nextDue = nextAt }
                if late && !r.catchUp {
                    save(r.name, change)
                    continue
                }
                fire(r, trigger: late ? "catch-up" : "interval", scheduledFor: d, change: change)
            case .reboot:
                due[r.name] = nil
                let b = options.bootID
                fire(r, trigger: "reboot", scheduledFor: nil, change: { $0.bootID = b })
            case .event:
                due[r.name] = nil
            }
        }
        return routines.filter(\.enabled).compactMap { due[$0.name] }.min()
    }

    func save(_ name: String, _ change: (inout RoutineState) -> Void) {
        do { try store.update(name, change) } catch { warn("\(name): cannot save state: \(error)") }
    }

    /// Fires the event routines whose expression matches `record`; returns how many.
    @discardableResult
    public func event(_ record: JSONObject) -> Int {
        monitor.withLock {
            var n = 0
            for r in routines where r.enabled {
                if case .event(let e) = r.trigger, e.matches(record) {
                    fire(r, trigger: "event", scheduledFor: nil, change: { _ in })
                    n += 1
                }
            }
            return n
        }
    }

    /// Runs a routine now (`run NAME`), whatever its trigger, under its overlap policy.
    public func runNow(_ name: String) -> Bool {
        monitor.withLock {
            guard let r = routines.first(where: { $0.name == name }) else { return false }
            fire(r, trigger: "manual", scheduledFor: nil, change: { _ in })
            return true
        }
    }

    /// Whether the scheduler process that started a run is still there: another process,
    /// with that pid, and (when the run kept it) the same start time, so that a pid reused
    /// since does not keep a dead scheduler's run "running" for ever.
    func schedulerAlive(_ e: RunEntry) -> Bool {
        guard e.schedulerPid != options.pid, Processes.exists(e.schedulerPid) else { return false }
        guard let start = e.schedulerStart else { return true }
        return processStartTicks(e.schedulerPid) == start
    }

    /// A run of `name` by another live scheduler process, if the state shows one.
    func runningElsewhere(_ name: String) -> RunEntry? {
        guard let s = try? store.load(name) else { return nil }
        return s.runs.last(where: { $0.outcome == "running" && $0.bootID == options.bootID && schedulerAlive($0) })
    }

    /// Applies the overlap policy and starts a run. Called with the lock held.
    func fire(_ r: RoutineDefinition, trigger: String, scheduledFor: Int64?, change: @escaping (inout RoutineState) -> Void) {
        let now = clock.nowMs()
        let busyHere = running[r.name, default: 0] > 0
        let elsewhere = busyHere ? nil : runningElsewhere(r.name)
        if busyHere || elsewhere != nil {
            if r.overlap == .queue && busyHere {
                if queued[r.name, default: 0] < RoutineDefinition.queueLimit {
                    queued[r.name, default: 0] += 1
                    save(r.name, change)
                    return
                }
            }
            if r.overlap != .parallel || elsewhere != nil {
                seq += 1
                let why = elsewhere.map { "the run \($0.id) of scheduler pid \($0.schedulerPid) is still going" }
                    ?? (r.overlap == .queue ? "the previous run is still going and \(RoutineDefinition.queueLimit) runs are queued" : "the previous run is still going (overlap: skip)")
                let entry = RunEntry(id: "\(r.name)-\(now)-\(options.pid)-\(seq)", trigger: trigger, scheduledFor: scheduledFor, started: now,
                                     ended: now, outcome: "skipped", durationMs: 0, detail: why, schedulerPid: options.pid, bootID: options.bootID,
                                     schedulerStart: options.startTicks)
                save(r.name) { change(&$0); $0.runs.append(entry) }
                emit(RoutineRunRecord(name: r.name, entry: entry))
                return
            }
        }
        seq += 1
        let entry = RunEntry(id: "\(r.name)-\(now)-\(options.pid)-\(seq)", trigger: trigger, scheduledFor: scheduledFor, started: now,
                             outcome: "running", schedulerPid: options.pid, bootID: options.bootID,
                             schedulerStart: options.startTicks)
        // The started run is on disk before the child exists.
        do { try store.update(r.name) { change(&$0); $0.runs.append(entry) } } catch {
            warn("\(r.name): cannot save state, not running: \(error)")
            return
        }
        running[r.name, default: 0] += 1
        emit(RoutineRunRecord(name: r.name, entry: entry))
        let started = WorkerThreads.detach { [self] in self.execute(r, entry) }
        if !started {
            monitor.unlock()
            execute(r, entry)
            monitor.lock()
        }
    }

    /// Runs the child to its end and completes the run. Called without the lock.
    func execute(_ r: RoutineDefinition, _ entry: RunEntry) {
        var env: [String: String]? = nil
        if let extra = r.env {
            var e = Sys.environment()
            for (k, v) in extra { e[k] = v }
            env = e
        }
        let opts = SpawnOptions(argv: r.command, env: env, cwd: r.cwd, timeoutMs: r.timeoutMs, outputLimit: r.outputLimit)
        var done = entry
        do {
            let child = try Spawn.start(opts)
            let stopping = monitor.withLock { () -> Bool in
                children[entry.id] = child.pid
                return stopRequested
            }
            if stopping { child.signalGroup(sigterm) }
            save(r.name) { s in
                if let k = s.runs.lastIndex(where: { $0.id == entry.id }) { s.runs[k].childPid = child.pid }
            }
            let res = child.wait()
            let stopped = monitor.withLock { () -> Bool in
                children[entry.id] = nil
                return stopRequested
            }
            done.childPid = child.pid
            done.exitStatus = res.exitStatus.map(Int.init)
            done.signal = res.signal.map(Int.init)
            done.durationMs = Int64(res.durationNanos / 1_000_000)
            done.stdoutTail = res.stdoutTail.isEmpty ? nil : String(decoding: res.stdoutTail, as: UTF8.self)
            done.stderrTail = res.stderrTail.isEmpty ? nil : String(decoding: res.stderrTail, as: UTF8.self)
            if stopped && res.signal != nil {
                done.outcome = "interrupted"
                done.detail = "the scheduler was stopped during the run; its process group got SIGTERM (\(res.statusDescription))"
            } else if res.timedOut {
                done.outcome = "timeout"
                done.detail = "timed out after \(r.timeoutMs) ms; its process group was killed"
            } else {
                done.outcome = res.exitStatus == 0 ? "ok" : "failed"
                done.detail = res.statusDescription
            }
        } catch {
            done.outcome = "error"
            done.detail = "cannot start: \(error.description)"
        }
        let end = clock.nowMs()
        done.ended = max(end, entry.started)
        if done.durationMs == nil { done.durationMs = done.ended.map { $0 - entry.started } }
        let finished = done
        save(r.name) { s in
            if let k = s.runs.lastIndex(where: { $0.id == finished.id }) { s.runs[k] = finished } else { s.runs.append(finished) }
        }
        emit(RoutineRunRecord(name: r.name, entry: finished))
        monitor.withLock {
            running[r.name, default: 1] -= 1
            // A queued run starts even after a plain stop (the end of --events input), so
            // that `waitIdle` ends with nothing left queued; a terminating stop drops it.
            if queued[r.name, default: 0] > 0 && running[r.name, default: 0] == 0 {
                if terminating {
                    queued[r.name] = 0
                } else {
                    queued[r.name, default: 0] -= 1
                    fire(r, trigger: "queued", scheduledFor: nil, change: { _ in })
                }
            }
            monitor.broadcast()
        }
    }

    /// Waits until no run is going and none is queued.
    public func waitIdle() {
        monitor.withLock {
            while running.values.contains(where: { $0 > 0 }) || queued.values.contains(where: { $0 > 0 }) {
                monitor.wait(untilNanos: nil)
            }
        }
    }

    /// How many runs are going now.
    public var runningCount: Int { monitor.withLock { running.values.reduce(0, +) } }

    /// Runs until `stop()`: sleeps until the next due time (or an event, or the end of
    /// a run), never on a fixed tick. Then waits for the runs in flight.
    public func serve() {
        monitor.withLock {
            while !stopRequested {
                let wake = tickLocked()
                if stopRequested { break }
                let now = clock.nowMs()
                let sleepMs = min(wake.map { $0 - now } ?? options.maxSleepMs, options.maxSleepMs)
                if sleepMs > 0 {
                    monitor.wait(untilNanos: Sys.monotonicNanos() &+ UInt64(sleepMs) &* 1_000_000)
                }
            }
        }
        waitIdle()
    }

    /// Ends `serve()` after the runs in flight and those queued behind them; with `terminateRuns`, their process
    /// groups get SIGTERM and such runs end as `interrupted` (a child that ignores it
    /// is left to its timeout). Queued runs are dropped.
    public func stop(terminateRuns: Bool = false) {
        monitor.withLock {
            stopRequested = true
            if terminateRuns {
                terminating = true
                for k in queued.keys { queued[k] = 0 }
                for pid in children.values { try? Processes.signalGroup(pid, sigterm) }
            }
            monitor.broadcast()
        }
    }
}
