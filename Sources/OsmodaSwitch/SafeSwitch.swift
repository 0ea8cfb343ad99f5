import OsmodaCheck
import OsmodaCore
import OsmodaSystem

/// What `begin` needs: the state to try and how to judge it.
public struct BeginRequest: Sendable {
    public var backend: BackendSpec
    /// The generation number or store path (NixOS), or the state (command backend).
    public var target: String
    public var ttlMs: Int64
    public var intervalMs: Int64
    public var tolerance: Int
    public var confirm: Bool
    public var checks: CheckSource
    public var activationTimeoutMs: Int64

    public init(backend: BackendSpec, target: String, ttlMs: Int64, intervalMs: Int64, tolerance: Int, confirm: Bool,
                checks: CheckSource, activationTimeoutMs: Int64) {
        self.backend = backend
        self.target = target
        self.ttlMs = ttlMs
        self.intervalMs = intervalMs
        self.tolerance = tolerance
        self.confirm = confirm
        self.checks = checks
        self.activationTimeoutMs = activationTimeoutMs
    }
}

/// How a switch keeps its deadline when this process dies; provided by the command
/// layer, which can start detached processes and talk to systemd.
public struct DeadlineKeepers {
    /// Starts `osmoda-switch guard ID` detached; its pid, or nil when it could not.
    public var startGuardian: (String) -> Int32?
    /// Starts a transient systemd timer firing `osmoda-switch deadline ID` after the
    /// delay in ms; the unit's name, or nil where systemd does not run.
    public var startTimer: (String, Int64) -> String?

    public init(startGuardian: @escaping (String) -> Int32?, startTimer: @escaping (String, Int64) -> String?) {
        self.startGuardian = startGuardian
        self.startTimer = startTimer
    }
}

/// SafeSwitch: a change on probation, judged by checks, committed or rolled back to
/// the recorded state. Every process that acts on a switch (the driver, the guardian,
/// the timer, boot-check, an operator's commit or rollback) goes through this type,
/// and every transition happens under the state directory's lock with the state
/// re-read, so that exactly one of them carries it out.
public final class SafeSwitch {
    public let store: SwitchStore
    /// Receives every record (type, object) after it is journaled.
    let report: (String, JSONObject) -> Void
    /// How often a waiting process looks at the state file.
    public var pollMs: Int64 = 100
    /// What this process is, in records: driver, guardian, timer, operator, boot_check.
    public var role: String

    public init(store: SwitchStore, role: String, report: @escaping (String, JSONObject) -> Void) {
        self.store = store
        self.role = role
        self.report = report
    }

    // MARK: - Records

    func emit<R: Record>(_ record: R, id: String) {
        guard let value = try? record.jsonValue(at: Sys.now()), case .object(let object) = value else { return }
        var line: [UInt8] = []
        JSONWriter.write(value, into: &line)
        store.journal(id, line)
        report(R.type, object)
    }

    // MARK: - Begin

    /// Records the state the system is in, activates the target without making it the
    /// default, and runs the probation to its end. Returns the final state.
    public func begin(_ req: BeginRequest, keepers: DeadlineKeepers) throws(GenError) -> SwitchState {
        let specs: [ProbeSpec]
        do { specs = try req.checks.specs() } catch {
            throw GenError(.badData, "checks: \(error)")
        }
        try store.prepare()
        let backend = req.backend.make()
        var lock: FileLock? = try store.lock(timeoutMs: 10_000)
        defer { lock?.unlock() }
        if let open = try store.all().first(where: { $0.phase.isOpen }) {
            throw GenError(.busy, "switch '\(open.id)' (\(open.from.label) → \(open.to.label)) is in \(open.phase.rawValue) until \(Timestamp(millisecondsSinceEpoch: open.deadlineMs).rfc3339); commit or roll it back first ('osmoda-switch status \(open.id)')")
        }
        // A failed rollback left the system in neither state: recording that as the
        // state to come back to would make the next rollback land there.
        if let failed = try store.all().last(where: { $0.phase == .rollbackFailed }) {
            throw GenError(.busy, "the rollback of switch '\(failed.id)' to \(failed.from.label) failed; retry it with 'osmoda-switch rollback \(failed.id)' before beginning another")
        }
        let from = try backend.current()
        let target: GenRef
        if let nix = backend as? NixOSBackend { target = try nix.resolve(req.target) } else { target = try backend.resolve(req.target) }
        if target == from || (target.number != nil && target.number == from.number && req.backend.kind == "nixos") {
            throw GenError(.usage, "\(target.label) is already the current state; nothing to try")
        }
        let now = Sys.now().millisecondsSinceEpoch
        var id = "sw-\(now)"
        if (try? store.load(id)) != nil { id += "-\(Sys.processID())" }
        var state = SwitchState(
            id: id, phase: .probation, backend: req.backend, from: from, to: target, createdMs: now,
            deadlineMs: now + req.activationTimeoutMs + req.ttlMs, ttlMs: req.ttlMs, intervalMs: req.intervalMs,
            tolerance: req.tolerance, confirm: req.confirm, confirmed: false, activationTimeoutMs: req.activationTimeoutMs,
            checks: req.checks, rounds: 0, consecutiveFailures: 0, lastRoundOK: nil,
            driverPid: Sys.processID(), driverStart: ProcessLife.startTime(Sys.processID()), bootID: ProcessLife.bootID())
        // The state is durable before anything changes: from here on, a crash is undone.
        try store.save(state)
        state.guardianPid = keepers.startGuardian(id)
        state.guardianStart = state.guardianPid.flatMap(ProcessLife.startTime)
        state.timerUnit = keepers.startTimer(id, req.activationTimeoutMs + req.ttlMs + 10_000)
        try store.save(state)

        // The lock is held until the activation's process group is recorded, so that no
        // other process can end the switch while an unrecorded activation runs; whoever
        // takes over if this process dies kills the recorded group first.
        let activation = backend.tryOut(target, timeoutMs: req.activationTimeoutMs) { pgid in
            state.activationPgid = pgid
            state.activationStart = ProcessLife.startTime(pgid)
            try? store.save(state)
            lock?.unlock()
            lock = nil
        }
        lock?.unlock()
        lock = nil
        do {
            let l = try store.lock(timeoutMs: lockWaitMs(state))
            defer { l.unlock() }
            state = try store.load(id)
            if state.activationPgid != nil || state.phase == .probation {
                state.activationPgid = nil
                state.activationStart = nil
                if state.phase == .probation {
                    state.deadlineMs = Sys.now().millisecondsSinceEpoch + req.ttlMs
                    if activation.ok { state.activatedMs = Sys.now().millisecondsSinceEpoch }
                }
                try store.save(state)
            }
        }
        emit(SwitchBeginRecord(
            id: id, backend: backend.kind, from: from.number, to: target.number, fromPath: from.path, toPath: target.path,
            action: activation.action, exitStatus: activation.exitStatus, result: activation.result.rawValue,
            detail: activation.detail.isEmpty ? nil : activation.detail, ttlMs: req.ttlMs, intervalMs: req.intervalMs,
            tolerance: req.tolerance, confirm: req.confirm, checks: specs.count,
            deadline: Timestamp(millisecondsSinceEpoch: state.deadlineMs).rfc3339,
            guardianPid: state.guardianPid, timerUnit: state.timerUnit), id: id)
        if !activation.ok {
            return finish(id, commit: false, reason: "activation_\(activation.result.rawValue)", verdictNanos: Sys.monotonicNanos())
        }
        return probation(id)
    }

    // MARK: - Probation

    /// Runs check rounds until the deadline or a verdict, then commits or rolls back.
    /// Returns at once with the state when another process ended the switch.
    public func probation(_ id: String) -> SwitchState {
        guard var state = try? store.load(id) else { return failedLoad(id) }
        let specs = (try? state.checks.specs()) ?? []
        var nextRound = Sys.monotonicNanos()
        while true {
            guard let s = try? store.load(id) else { return failedLoad(id) }
            state = s
            guard state.phase == .probation else { return waitForEnd(id) }
            if Sys.now().millisecondsSinceEpoch >= state.deadlineMs { return decideAtDeadline(id, freshRound: false) }
            let mono = Sys.monotonicNanos()
            if mono >= nextRound {
                nextRound = mono &+ UInt64(max(1, state.intervalMs)) &* 1_000_000
                if !specs.isEmpty {
                    switch checkRound(id, specs) {
                    case .ended(let s): return s
                    case .verdict(let failures, let at):
                        if failures > state.tolerance {
                            return finish(id, commit: false, reason: "checks_failed", verdictNanos: at)
                        }
                    }
                }
            }
            let now = Sys.monotonicNanos()
            let untilRound = nextRound > now ? Int64((nextRound - now) / 1_000_000) : 0
            let untilDeadline = max(0, state.deadlineMs - Sys.now().millisecondsSinceEpoch)
            Sys.sleep(milliseconds: max(1, min(pollMs, untilRound, untilDeadline)))
        }
    }

    enum RoundOutcome {
        case ended(SwitchState)
        case verdict(consecutiveFailures: Int, atNanos: UInt64)
    }

    /// Runs the checks once, records the round in the state and a `switch.check` record.
    func checkRound(_ id: String, _ specs: [ProbeSpec]) -> RoundOutcome {
        let results = Probes.runAll(specs)
        let at = Sys.monotonicNanos()
        let failed = results.filter { !$0.ok }
        guard var state = try? store.load(id) else { return .ended(failedLoad(id)) }
        do {
            // Another actor may hold the lock through a whole activation: wait as long as that may take.
            let l = try store.lock(timeoutMs: lockWaitMs(state))
            defer { l.unlock() }
            state = try store.load(id)
            guard state.phase == .probation else { return .ended(state) }
            state.rounds += 1
            state.consecutiveFailures = failed.isEmpty ? 0 : state.consecutiveFailures + 1
            state.lastRoundOK = failed.isEmpty
            try store.save(state)
        } catch {
            // The round could not be recorded; whoever holds the switch decides.
            return .ended(waitForEnd(id))
        }
        emit(SwitchCheckRecord(
            id: id, round: state.rounds, ok: failed.isEmpty, passed: results.count - failed.count, failed: failed.count,
            failedChecks: failed.map(\.name), consecutiveFailures: state.consecutiveFailures, tolerance: state.tolerance,
            detail: failed.first.map { "\($0.name): \($0.detail)" }, by: role), id: id)
        return .verdict(consecutiveFailures: state.consecutiveFailures, atNanos: at)
    }

    /// At the deadline: roll back when a confirm was required and did not come, or
    /// when the checks are failing; commit otherwise.
    public func decideAtDeadline(_ id: String, freshRound: Bool) -> SwitchState {
        guard let state = try? store.load(id) else { return failedLoad(id) }
        guard state.phase == .probation else { return state.phase.isOpen ? finish(id, commit: false, reason: "interrupted", verdictNanos: nil, resume: true) : state }
        if state.confirm && !state.confirmed {
            return finish(id, commit: false, reason: "not_confirmed", verdictNanos: Sys.monotonicNanos())
        }
        let specs = (try? state.checks.specs()) ?? []
        var lastOK = state.lastRoundOK
        var verdictAt = Sys.monotonicNanos()
        if !specs.isEmpty && (freshRound || lastOK == nil) {
            switch checkRound(id, specs) {
            case .ended(let s): return s
            case .verdict(let failures, let at):
                lastOK = failures == 0
                verdictAt = at
            }
        }
        if !specs.isEmpty && lastOK != true {
            return finish(id, commit: false, reason: "checks_failing_at_deadline", verdictNanos: verdictAt)
        }
        return finish(id, commit: true, reason: specs.isEmpty ? "ttl_passed" : "checks_passed", verdictNanos: nil)
    }

    // MARK: - Ending

    func lockWaitMs(_ s: SwitchState) -> Int64 { 2 * s.activationTimeoutMs + 60_000 }

    /// Commits or rolls back, under the lock, if the switch is still open; returns the
    /// final state. `resume` also rolls back a switch left committing or rolling back
    /// (a crash mid-way) or whose rollback failed.
    public func finish(_ id: String, commit wantCommit: Bool, reason wantReason: String, verdictNanos: UInt64?, resume: Bool = false) -> SwitchState {
        var commit = wantCommit
        var reason = wantReason
        guard var state = try? store.load(id) else { return failedLoad(id) }
        let lock: FileLock
        do { lock = try store.lock(timeoutMs: lockWaitMs(state)) } catch { return state }
        defer { lock.unlock() }
        guard let s = try? store.load(id) else { return failedLoad(id) }
        state = s
        let allowed: Bool = commit ? state.phase == .probation
            : (state.phase == .probation || (resume && (state.phase.isOpen || state.phase == .rollbackFailed)))
        guard allowed else { return state }
        if commit && state.activatedMs == nil {
            // The new state was never seen to activate (its driver died before or
            // during the activation): committing would make an untried state the default.
            commit = false
            reason = "not_activated"
        } else if commit, let recorded = state.bootID, let now = ProcessLife.bootID(), recorded != now {
            // The machine rebooted into the boot default, the recorded state: the new
            // one is no longer active, and making it the default would leave the state
            // file saying committed while the system runs the old one.
            commit = false
            reason = "rebooted"
        } else if commit, wantReason == "confirmed", state.confirm, Sys.now().millisecondsSinceEpoch > state.deadlineMs {
            // A confirmation after the TTL is too late, like a lost operator's.
            commit = false
            reason = "not_confirmed"
        }
        // An activation left running by a process that died (or still running in the
        // driver while an operator ends the switch) must not finish after this.
        if let pgid = state.activationPgid {
            SafeSwitch.killActivation(pgid, start: state.activationStart, bootID: state.bootID)
            state.activationPgid = nil
            state.activationStart = nil
        }
        let startNanos = Sys.monotonicNanos()
        let verdictToStart = verdictNanos.map { (Double(startNanos &- $0) / 1000).rounded() / 1000 }
        state.phase = commit ? .committing : .rollingBack
        state.by = role
        state.reason = reason
        if commit && reason == "confirmed" { state.confirmed = true }
        var stateError: String?
        do { try store.save(state) } catch {
            // An undurable commit could be undone by nobody after a crash: roll back instead.
            if commit {
                lock.unlock()
                return finish(id, commit: false, reason: "state_unwritable", verdictNanos: Sys.monotonicNanos(), resume: true)
            }
            // A rollback goes ahead: returning is always safer than staying.
            stateError = error.message
        }
        let backend = state.backend.make()
        let target = commit ? state.to : state.from
        let started = Sys.now()
        let store = self.store
        let recordPgid: (Int32) -> Void = { pgid in
            // We hold the lock: if this process dies now, the next finisher kills it.
            var s = state
            s.activationPgid = pgid
            s.activationStart = ProcessLife.startTime(pgid)
            try? store.save(s)
        }
        var act = commit ? backend.makeDefault(target, timeoutMs: state.activationTimeoutMs, onStart: recordPgid)
            : backend.returnTo(target, timeoutMs: state.activationTimeoutMs, onStart: recordPgid)
        if !commit && act.ok, let now = try? backend.current(), now != state.from {
            act.result = .failed
            act.detail = "the return reported success but the current state is \(now.label), not \(state.from.label)"
        }
        let ended = Sys.now()
        state.endedMs = ended.millisecondsSinceEpoch
        state.detail = act.detail.isEmpty ? nil : act.detail
        if commit {
            state.phase = act.ok ? .committed : .probation
        } else {
            state.phase = act.ok ? .rolledBack : .rollbackFailed
        }
        do { try store.save(state) } catch { stateError = error.message }
        if let stateError { act.detail += (act.detail.isEmpty ? "" : "; ") + "the state file was not written: \(stateError)" }
        let from = commit ? state.from : state.to
        func record<K: TransitionKind>(_ k: K.Type) -> SwitchTransitionRecord<K> {
            SwitchTransitionRecord<K>(
                id: id, from: from.number, to: target.number, toPath: target.path, by: role, reason: reason,
                action: act.action, exitStatus: act.exitStatus, result: act.result.rawValue, detail: act.detail.isEmpty ? nil : act.detail,
                started: started.rfc3339, ended: ended.rfc3339, durationMs: act.durationMs, verdictToStartMs: verdictToStart)
        }
        if commit {
            emit(record(CommitKind.self), id: id)
            if !act.ok {
                // The new state could not be made the default: do not leave it half-committed.
                lock.unlock()
                return finish(id, commit: false, reason: "commit_failed", verdictNanos: Sys.monotonicNanos())
            }
        } else if act.ok {
            emit(record(RollbackKind.self), id: id)
        } else {
            emit(record(RollbackFailedKind.self), id: id)
        }
        return state
    }

    /// Waits for whoever is carrying out a transition to finish it.
    func waitForEnd(_ id: String) -> SwitchState {
        guard let s = try? store.load(id) else { return failedLoad(id) }
        if !s.phase.isOpen { return s }
        guard let l = try? store.lock(timeoutMs: lockWaitMs(s)) else { return s }
        defer { l.unlock() }
        return (try? store.load(id)) ?? s
    }

    func failedLoad(_ id: String) -> SwitchState {
        SwitchState(id: id, phase: .rollbackFailed, backend: BackendSpec(kind: "unknown"), from: GenRef(number: nil, path: ""),
                    to: GenRef(number: nil, path: ""), createdMs: 0, deadlineMs: 0, ttlMs: 0, intervalMs: 0, tolerance: 0,
                    confirm: false, confirmed: false, activationTimeoutMs: 0,
                    checks: CheckSource(probeFile: nil, flags: [], flagTimeoutMs: 0), rounds: 0, consecutiveFailures: 0,
                    reason: "state_unreadable", detail: "the state file of '\(id)' cannot be read")
    }

    // MARK: - Operators, the guardian, the timer, boot

    /// `commit ID`: the operator's confirmation; commits now.
    public func commit(_ id: String) throws(GenError) -> SwitchState {
        let s = try store.load(id)
        if s.phase != .probation { return waitForEnd(id) }
        return finish(id, commit: true, reason: "confirmed", verdictNanos: nil)
    }

    /// `rollback ID`: returns to the recorded state now (also retries a failed rollback).
    public func rollback(_ id: String) throws(GenError) -> SwitchState {
        let s = try store.load(id)
        if s.phase == .committed { throw GenError(.usage, "switch '\(id)' is committed; use 'osmoda-gen rollback --to \(s.from.label)' to go back") }
        return finish(id, commit: false, reason: "operator", verdictNanos: Sys.monotonicNanos(), resume: true)
    }

    /// The guardian: waits while the driver lives; when it dies, carries the probation
    /// on (checks and deadline) itself. A driver alive but silent past the deadline
    /// and a grace is overruled.
    public func guardSwitch(_ id: String) -> SwitchState {
        while true {
            guard let state = try? store.load(id) else { return failedLoad(id) }
            if !state.phase.isOpen { return state }
            let driverAlive = state.driverPid.map { ProcessLife.alive($0, start: state.driverStart, bootID: state.bootID) } ?? false
            if !driverAlive {
                if state.phase != .probation || state.activationPgid != nil || state.activatedMs == nil {
                    // Died mid-activation (or mid-transition): the outcome is unknown; go back.
                    return finish(id, commit: false, reason: "interrupted", verdictNanos: nil, resume: true)
                }
                return probation(id)
            }
            let maxProbe = Int64(((try? state.checks.specs()) ?? []).map(\.timeoutMs).max() ?? 0)
            let grace = 5_000 + state.intervalMs + maxProbe + Int64(Probes.watchdogGraceMs)
            if state.phase == .probation && Sys.now().millisecondsSinceEpoch > state.deadlineMs + grace {
                return decideAtDeadline(id, freshRound: true)
            }
            Sys.sleep(milliseconds: pollMs)
        }
    }

    /// `deadline ID`, fired by the systemd timer: ends a switch still open after its deadline.
    public func enforceDeadline(_ id: String) throws(GenError) -> SwitchState {
        let s = try store.load(id)
        guard s.phase.isOpen else { return s }
        if s.phase != .probation { return finish(id, commit: false, reason: "interrupted", verdictNanos: nil, resume: true) }
        if Sys.now().millisecondsSinceEpoch < s.deadlineMs { return s }
        return decideAtDeadline(id, freshRound: true)
    }

    /// `boot-check`: every switch left open by a crash or a reboot is rolled back to
    /// its recorded state, and a failed rollback is retried; one still driven by a live
    /// process is left to it.
    public func bootCheck() throws(GenError) -> [SwitchState] {
        var out: [SwitchState] = []
        for s in try store.all() where s.phase.isOpen || s.phase == .rollbackFailed {
            let driven = [(s.driverPid, s.driverStart), (s.guardianPid, s.guardianStart)].contains { pid, start in
                pid.map { ProcessLife.alive($0, start: start, bootID: s.bootID) && $0 != Sys.processID() } ?? false
            }
            if driven { out.append(s); continue }
            out.append(finish(s.id, commit: false, reason: s.phase == .rollbackFailed ? "retry_at_boot" : "open_at_boot",
                              verdictNanos: nil, resume: true))
        }
        return out
    }
}

extension SafeSwitch {
    /// Kills the process group of an activation recorded in a state file, unless its
    /// leader's pid now belongs to another process or the record is from another boot,
    /// and waits (up to 5 s) for the leader to be gone.
    static func killActivation(_ pgid: Int32, start: String?, bootID recorded: String?) {
        guard pgid > 1 else { return }
        if let recorded, let now = ProcessLife.bootID(), recorded != now { return }
        if let start, let now = ProcessLife.startTime(pgid), now != start { return }
        try? Processes.signalGroup(pgid, 9)  // SIGKILL
        let end = Sys.monotonicNanos() &+ 5_000_000_000
        while ProcessLife.startTime(pgid) != nil && Sys.monotonicNanos() < end { Sys.sleep(milliseconds: 10) }
    }
}

/// Whether a process is the one recorded: alive, not a zombie, same start time.
public enum ProcessLife {
    /// Field 22 of `/proc/PID/stat` (start time in clock ticks since boot), or nil for
    /// a process that is gone or a zombie.
    public static func startTime(_ pid: Int32) -> String? {
        guard let stat = Sys.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return String(fields[19])
    }

    /// Whether `pid` is the process recorded with `start` during boot `bootID`: a pid
    /// from another boot, or reused by another process, is not.
    public static func alive(_ pid: Int32, start: String?, bootID recorded: String?) -> Bool {
        if let recorded, let current = bootID(), recorded != current { return false }
        guard pid > 0, let now = startTime(pid) else { return false }
        return start == nil || start == now
    }

    /// `/proc/sys/kernel/random/boot_id`: a new value at every boot.
    public static func bootID() -> String? {
        Sys.readText("/proc/sys/kernel/random/boot_id").map(trimmed).flatMap { $0.isEmpty ? nil : $0 }
    }
}
