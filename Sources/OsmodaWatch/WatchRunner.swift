import OsmodaCore
import OsmodaSystem

/// Carries out the engine's decisions: writes the records, runs the steps through the
/// executor, records them in the ledger and saves the state file.
///
/// Steps run one at a time, in the reading thread: while one runs, records wait in
/// the pipe (ADR 0020).
public final class WatchRunner {
    public let engine: WatchEngine
    let executor: StepExecutor
    /// The time decisions are taken at (the wall clock, or the current record's `ts`).
    let clock: () -> Timestamp
    let emit: (JSONObject) throws -> Void
    let ledger: (String, JSONObject) throws -> Void
    let save: (StateFile) throws -> Void
    let warn: (String) -> Void
    var lastSave: Int64 = 0
    /// How often counter-only changes (no transition) are saved.
    public var saveEveryMs: Int64 = 1000

    public init(engine: WatchEngine, executor: StepExecutor, clock: @escaping () -> Timestamp,
                emit: @escaping (JSONObject) throws -> Void, ledger: @escaping (String, JSONObject) throws -> Void,
                save: @escaping (StateFile) throws -> Void, warn: @escaping (String) -> Void) {
        self.engine = engine
        self.executor = executor
        self.clock = clock
        self.emit = emit
        self.ledger = ledger
        self.save = save
        self.warn = warn
    }

    /// Reports steps a previous run left running, then judges what is due.
    public func start() throws {
        let now = clock()
        try handle(engine.resume(now: now.millisecondsSinceEpoch))
        try tick()
    }

    /// Judges one record; returns whether a watcher matched it.
    public func record(_ object: JSONObject) throws -> Bool {
        let now = clock()
        try handle(engine.tick(now: now.millisecondsSinceEpoch))
        let (matched, decisions) = engine.feed(object, now: clock().millisecondsSinceEpoch)
        try handle(decisions)
        return matched
    }

    /// Moves time-based phases; saves counters that changed.
    public func tick() throws {
        try handle(engine.tick(now: clock().millisecondsSinceEpoch))
        try saveIfDirty(force: false)
    }

    public func saveIfDirty(force: Bool) throws {
        guard engine.dirty else { return }
        let now = Sys.monotonicNanos() / 1_000_000
        if !force && Int64(now) - lastSave < saveEveryMs { return }
        try save(engine.stateFile)
        engine.dirty = false
        lastSave = Int64(now)
    }

    func write<R: Record>(_ r: R) throws -> JSONObject {
        guard case .object(let o) = try r.jsonValue(at: clock()) else { return JSONObject() }
        try emit(o)
        return o
    }

    func handle(_ initial: [Decision]) throws {
        var queue = initial[...]
        var transitioned = !initial.isEmpty
        while let d = queue.popFirst() {
            transitioned = true
            switch d {
            case .state(let r): _ = try write(r)
            case .alert(let r): _ = try write(r)
            case .action(let r):
                let o = try write(r)
                if !executor.dryRun { try ledger(WatchActionRecord.type, o) }
            case .learn(let i, let profile, let command):
                if executor.dryRun { continue }
                let (n, why) = executor.currentGeneration(profile: profile, command: command)
                if let why { warn("watcher \"\(engine.rules.watchers[i].name)\": cannot learn the current generation: \(why)") }
                engine.learned(watcher: i, generation: n)
            case .start(let order):
                // The state says "running" before anything runs, so a crash now is
                // seen as an interrupted attempt, never as a step not yet taken.
                try save(engine.stateFile)
                engine.dirty = false
                queue.append(contentsOf: try run(order)[...])
            }
        }
        if transitioned { try saveIfDirty(force: true) }
    }

    func run(_ order: StepOrder) throws -> [Decision] {
        let target = WatchEngine.target(order.step.action, generation: order.generation)
        var rec = WatchActionRecord(watcher: order.name, incident: order.incident, step: order.stepIndex, kind: order.step.action.kind,
                                    attempt: order.attempt, phase: "start", target: target, generation: order.generation,
                                    dryRun: executor.dryRun ? true : nil)
        let started = try write(rec)
        // A dry run acts on nothing, so it leaves nothing in the audit ledger.
        if !executor.dryRun { try ledger(WatchActionRecord.type, started) }
        let alert = WatchAlertRecord(
            watcher: order.name, alert: "notify", severity: "critical", state: WatchStatus.failing.rawValue, incident: order.incident,
            message: "\(order.name) is failing (incident \(order.incident)); escalated to step \(order.stepIndex) of its ladder")
        let report = executor.run(order, alert: alert, now: clock())
        rec.phase = "end"
        rec.result = report.result
        rec.detail = report.detail
        rec.exitStatus = report.exitStatus
        rec.durationMs = executor.dryRun ? nil : report.durationMs
        let ended = try write(rec)
        if !executor.dryRun { try ledger(WatchActionRecord.type, ended) }
        return engine.stepFinished(watcher: order.watcher, outcome: report.outcome, now: clock().millisecondsSinceEpoch)
    }
}
