import OsmodaCore

/// A step the engine wants run: the executor runs it and reports back with
/// `WatchEngine.stepFinished`.
public struct StepOrder: Sendable, Equatable {
    public var watcher: Int
    public var name: String
    public var incident: Int
    public var stepIndex: Int
    public var attempt: Int
    public var step: LadderStep
    /// rollback: the generation to roll back to.
    public var generation: Int?
}

/// What the engine decided; the runner writes the records and runs the orders.
public enum Decision: Sendable, Equatable {
    case state(WatchStateRecord)
    case alert(WatchAlertRecord)
    /// A `watch.action` the engine writes itself (a skipped or interrupted step).
    case action(WatchActionRecord)
    /// Run this step now.
    case start(StepOrder)
    /// Learn the current generation of `profile` (the watcher is healthy).
    case learn(watcher: Int, profile: String, command: [String]?)
}

/// How a step ended.
public enum StepOutcome: Sendable, Equatable {
    case ok, failed, dryRun, interrupted
}

/// The watchers as a pure state machine: records and time in, decisions out.
///
/// No clock is read and nothing is run here: `feed` takes a record and the time it is
/// judged at, `tick` moves time-based phases (settle, back-off, the end of flapping),
/// and `stepFinished` reports a started step's outcome. The same inputs always give
/// the same decisions, which is what the golden streams test.
public final class WatchEngine {
    public let rules: Rules
    public private(set) var states: [WatcherState]
    /// Set when a counter changed; cleared by the runner after it saves.
    public var dirty = false
    /// How often a healthy watcher with a rollback step re-learns its generation.
    public var relearnMs: Int64 = 600_000
    /// How often a generation that could not be learnt is asked for again.
    public var retryLearnMs: Int64 = 60_000
    /// Watchers that saw a passing record in this run (generations are learnt only then).
    var sawPass: [Bool]

    /// Watchers indexed by the value their `match` requires of one top-level field
    /// (`.name == "nginx"`), so a record is judged only by the watchers it can match.
    let indexKey: String?
    let indexed: [String: [Int]]
    let unindexed: [Int]

    public init(rules: Rules, restoring saved: [String: WatcherState] = [:]) {
        self.rules = rules
        // The key whose required values tell the most watchers apart.
        var values: [String: Set<String>] = [:]
        for w in rules.watchers {
            for (k, v) in w.match.requiredStringEqualities { values[k, default: []].insert(v) }
        }
        let key = values.max { a, b in a.value.count != b.value.count ? a.value.count < b.value.count : a.key > b.key }
            .flatMap { $0.value.count > 1 ? $0.key : nil }
        var indexed: [String: [Int]] = [:]
        var unindexed: [Int] = []
        for (i, w) in rules.watchers.enumerated() {
            if let key, let v = w.match.requiredStringEqualities.first(where: { $0.key == key })?.value {
                indexed[v, default: []].append(i)
            } else {
                unindexed.append(i)
            }
        }
        self.indexKey = key
        self.indexed = indexed
        self.unindexed = unindexed
        self.states = rules.watchers.map { w in
            var s = saved[w.name] ?? WatcherState()
            // The generation in use may have changed while osmoda-watch was stopped:
            // learn it again at the first passing record of this run.
            s.learnedAt = nil
            if s.starts.count != w.ladder.count {
                s.starts = (0..<w.ladder.count).map { $0 < s.starts.count ? s.starts[$0] : [] }
            }
            // A ladder shortened since the state was saved: the ladder is over.
            if s.step >= w.ladder.count && s.phase != .idle {
                s.step = w.ladder.count
                s.phase = .idle
                s.deadline = nil
                if s.status == .failing { s.status = .failed }
            }
            return s
        }
        self.sawPass = Array(repeating: false, count: rules.watchers.count)
    }

    public var stateFile: StateFile {
        var ws: [String: WatcherState] = [:]
        for (i, w) in rules.watchers.enumerated() { ws[w.name] = states[i] }
        return StateFile(watchers: ws)
    }

    /// After a restart: a step that was running when the last run ended is reported
    /// as interrupted and counts as a failed attempt; the ladder goes on from there,
    /// judged by the next failing record (as after a settle): what the interrupted step
    /// did is unknown, so nothing is started on no evidence, and passes recover.
    public func resume(now: Int64) -> [Decision] {
        var out: [Decision] = []
        for i in states.indices where states[i].phase == .running {
            let w = rules.watchers[i]
            let s = states[i]
            if s.step < w.ladder.count {
                out.append(.action(WatchActionRecord(
                    watcher: w.name, incident: s.incident ?? 0, step: s.step, kind: w.ladder[s.step].action.kind,
                    attempt: s.attempts, phase: "end", target: Self.target(w.ladder[s.step].action, generation: s.lastGood),
                    result: "interrupted", detail: "osmoda-watch stopped while the step ran; counted as a failed attempt")))
            }
            states[i].phase = .awaiting
            states[i].deadline = nil
            states[i].failedSinceStep = nil
            dirty = true
        }
        return out
    }

    // MARK: Records

    /// Judges one record. `matched` is false when no watcher's `match` took it.
    public func feed(_ record: JSONObject, now: Int64) -> (matched: Bool, decisions: [Decision]) {
        var matched = false
        var out: [Decision] = []
        for i in candidates(for: record) {
            guard rules.watchers[i].match.matches(record) else { continue }
            matched = true
            observe(i, failed: rules.watchers[i].failWhen.matches(record), now: now, into: &out)
        }
        return (matched, out)
    }

    /// The watchers whose `match` may take `record`, in rules order: the unindexed ones,
    /// and those indexed under the record's value of the index key. Sound because a
    /// watcher is indexed only under a string its `match` requires with `and`-joined
    /// `==` (`Expression.requiredStringEqualities`): any other value makes it false.
    func candidates(for record: JSONObject) -> [Int] {
        guard let indexKey, case .string(let v)? = record[indexKey], let more = indexed[v] else { return unindexed }
        return unindexed.isEmpty ? more : (unindexed + more).sorted()
    }

    /// Whether any watcher is healthy (ok, or flapping over a healthy condition).
    func healthy(_ s: WatcherState) -> Bool {
        s.status == .ok || (s.status == .flapping && !s.underlyingFailing)
    }

    func observe(_ i: Int, failed: Bool, now: Int64, into out: inout [Decision]) {
        let w = rules.watchers[i]
        dirty = true
        if healthy(states[i]) {
            states[i].window.append(Sample(t: now, failed: failed))
            prune(i, now: now)
            if failed, let why = tripReason(i, now: now) {
                trip(i, now: now, reason: why, into: &out)
            } else if !failed && states[i].status == .ok {
                sawPass[i] = true
                learnIfDue(i, now: now, into: &out)
            }
            return
        }
        if failed {
            states[i].passes = 0
            if states[i].status == .failing && states[i].phase != .running && states[i].phase != .idle {
                states[i].failedSinceStep = true
                if states[i].phase == .awaiting { judge(i, now: now, into: &out) }
            }
        } else {
            states[i].passes += 1
            if states[i].phase == .settling || states[i].phase == .awaiting { states[i].failedSinceStep = false }
            if states[i].passes >= w.recoverPasses { recover(i, now: now, into: &out) }
        }
    }

    /// Drops samples that are outside both windows.
    func prune(_ i: Int, now: Int64) {
        let t = rules.watchers[i].trip
        let keepRecords = t.withinRecords ?? 0
        let cutoff = t.withinMs.map { now - $0 }
        // Older than the last `within_records`, a sample matters only as a failure
        // inside `within`: passes there are dropped, so the window (and the state file)
        // holds at most `within_records` + `failures` samples, however long `within` is.
        let older = states[i].window.count - keepRecords
        guard older > 0 else { return }
        let kept = states[i].window[..<older].filter { sample in sample.failed && (cutoff.map { sample.t > $0 } ?? false) }
        guard kept.count < older else { return }
        states[i].window.replaceSubrange(..<older, with: kept)
    }

    /// Why the window trips, or `nil` when it does not.
    func tripReason(_ i: Int, now: Int64) -> String? {
        let t = rules.watchers[i].trip
        let s = states[i].window
        if let r = t.withinRecords {
            let n = s.suffix(r).filter(\.failed).count
            if n >= t.failures { return r == n ? "\(Self.plural(n, "failure")) in a row" : "\(Self.plural(n, "failure")) within the last \(r) records" }
        }
        if let ms = t.withinMs {
            let n = s.filter { $0.failed && $0.t > now - ms }.count
            if n >= t.failures { return "\(Self.plural(n, "failure")) within \(Self.duration(ms))" }
        }
        return nil
    }

    func learnIfDue(_ i: Int, now: Int64, into out: inout [Decision]) {
        guard let rb = rules.watchers[i].rollbackStep, sawPass[i] else { return }
        // Known: again every `relearnMs`. Not learnt yet (osmoda-gen failed): again after
        // `retryLearnMs`, not on every passing record.
        if let at = states[i].learnedAt, now - at < (states[i].lastGood == nil ? retryLearnMs : relearnMs) { return }
        states[i].learnedAt = now
        out.append(.learn(watcher: i, profile: rb.profile, command: rb.command))
    }

    /// The executor learnt the generation (or could not: `nil` keeps the old one).
    public func learned(watcher i: Int, generation: Int?) {
        if let generation { states[i].lastGood = generation }
        dirty = true
    }

    // MARK: Transitions

    func setStatus(_ i: Int, _ new: WatchStatus, reason: String, into out: inout [Decision]) {
        let prev = states[i].status
        states[i].status = new
        dirty = true
        out.append(.state(WatchStateRecord(watcher: rules.watchers[i].name, state: new.rawValue, previous: prev.rawValue,
                                           reason: reason, incident: states[i].incident)))
    }

    func alert(_ i: Int, _ kind: String, _ severity: String, _ message: String, into out: inout [Decision]) {
        out.append(.alert(WatchAlertRecord(watcher: rules.watchers[i].name, alert: kind, severity: severity,
                                           state: states[i].status.rawValue, incident: states[i].incident, message: message)))
    }

    /// Records a trip or recovery; true when that makes the watcher flap.
    func noteChange(_ i: Int, now: Int64) -> Bool {
        let f = rules.watchers[i].flapping
        guard f.changes > 0 else { return false }
        states[i].changes.append(now)
        states[i].changes.removeAll { $0 <= now - f.withinMs }
        return states[i].changes.count >= f.changes
    }

    func trip(_ i: Int, now: Int64, reason: String, into out: inout [Decision]) {
        states[i].window = []
        states[i].passes = 0
        if states[i].status == .flapping {
            states[i].underlyingFailing = true
            states[i].quietSince = now
            return
        }
        states[i].incidents += 1
        states[i].incident = states[i].incidents
        states[i].step = 0
        states[i].attempts = 0
        states[i].rolledBack = false
        states[i].phase = .idle
        states[i].deadline = nil
        if noteChange(i, now: now) {
            enterFlapping(i, now: now, underlyingFailing: true, into: &out)
            return
        }
        setStatus(i, .failing, reason: reason, into: &out)
        alert(i, "tripped", "warning", "\(rules.watchers[i].name) is failing: \(reason)", into: &out)
        tryStart(i, now: now, into: &out)
    }

    func recover(_ i: Int, now: Int64, into out: inout [Decision]) {
        let passes = states[i].passes
        states[i].passes = 0
        states[i].window = []
        if states[i].status == .flapping {
            states[i].underlyingFailing = false
            states[i].quietSince = now
            return
        }
        if noteChange(i, now: now) {
            enterFlapping(i, now: now, underlyingFailing: false, into: &out)
            return
        }
        closeIncident(i)
        setStatus(i, .ok, reason: "recovered after \(passes) passing record\(passes == 1 ? "" : "s")", into: &out)
        alert(i, "resolved", "info", "\(rules.watchers[i].name) recovered", into: &out)
        states[i].incident = nil
        sawPass[i] = true
        states[i].learnedAt = nil
        learnIfDue(i, now: now, into: &out)
    }

    func closeIncident(_ i: Int) {
        states[i].phase = .idle
        states[i].deadline = nil
        states[i].step = 0
        states[i].attempts = 0
        states[i].failedSinceStep = nil
        states[i].rolledBack = false
    }

    func enterFlapping(_ i: Int, now: Int64, underlyingFailing: Bool, into out: inout [Decision]) {
        states[i].underlyingFailing = underlyingFailing
        states[i].quietSince = now
        let f = rules.watchers[i].flapping
        let why = "\(states[i].changes.count) state changes within \(Self.duration(f.withinMs)); actions paused"
        setStatus(i, .flapping, reason: why, into: &out)
        alert(i, "flapping", "warning", "\(rules.watchers[i].name) is flapping: \(why)", into: &out)
    }

    // MARK: Time

    /// Moves every time-based phase whose deadline has passed.
    public func tick(now: Int64) -> [Decision] {
        var out: [Decision] = []
        for i in states.indices {
            let s = states[i]
            switch s.status {
            case .flapping:
                let within = rules.watchers[i].flapping.withinMs
                if let q = s.quietSince, now - q >= within { leaveFlapping(i, now: now, into: &out) }
            case .failing:
                guard let d = s.deadline, now >= d else { continue }
                if s.phase == .settling {
                    states[i].deadline = nil
                    if s.failedSinceStep == true {
                        judge(i, now: now, into: &out)
                    } else {
                        states[i].phase = .awaiting
                        dirty = true
                    }
                } else if s.phase == .backoff {
                    states[i].deadline = nil
                    tryStart(i, now: now, into: &out)
                }
            case .ok, .failed:
                continue
            }
        }
        return out
    }

    /// The earliest deadline, so a runner knows when to wake without records.
    public var nextDeadline: Int64? {
        var best: Int64?
        for (i, s) in states.enumerated() {
            var d: Int64?
            if s.status == .failing { d = s.deadline }
            if s.status == .flapping, let q = s.quietSince { d = q + rules.watchers[i].flapping.withinMs }
            if let d, best.map({ d < $0 }) ?? true { best = d }
        }
        return best
    }

    func leaveFlapping(_ i: Int, now: Int64, into out: inout [Decision]) {
        states[i].changes = []
        states[i].quietSince = nil
        if states[i].underlyingFailing {
            states[i].underlyingFailing = false
            if states[i].incident == nil {
                states[i].incidents += 1
                states[i].incident = states[i].incidents
            }
            setStatus(i, .failing, reason: "no longer flapping; still failing, the ladder resumes", into: &out)
            states[i].deadline = nil
            judge(i, now: now, into: &out)
        } else {
            closeIncident(i)
            setStatus(i, .ok, reason: "no longer flapping; healthy", into: &out)
            states[i].incident = nil
        }
    }

    // MARK: The ladder

    /// Whether step `k` may be attempted now: its per-incident count and its cap window.
    func capAllows(_ i: Int, _ k: Int, now: Int64) -> String? {
        let step = rules.watchers[i].ladder[k]
        if k == states[i].step && states[i].attempts >= step.cap.max {
            return "attempted \(states[i].attempts) time\(states[i].attempts == 1 ? "" : "s") in this incident (cap \(step.cap.max))"
        }
        if let per = step.cap.perMs {
            states[i].starts[k].removeAll { $0 <= now - per }
            if states[i].starts[k].count >= step.cap.max {
                return "cap reached: \(step.cap.max) in \(Self.duration(per))"
            }
        }
        return nil
    }

    /// After a step failed or settled without recovery: the same step again (after
    /// its back-off) while its cap allows, else the next one.
    func judge(_ i: Int, now: Int64, into out: inout [Decision]) {
        let w = rules.watchers[i]
        guard states[i].step < w.ladder.count else { exhausted(i, into: &out); return }
        if states[i].attempts == 0 { tryStart(i, now: now, into: &out); return }
        let step = w.ladder[states[i].step]
        if step.action.kind != "rollback" && capAllows(i, states[i].step, now: now) == nil {
            if step.backoffMs > 0 {
                states[i].phase = .backoff
                states[i].deadline = now + step.backoffMs
                dirty = true
            } else {
                tryStart(i, now: now, into: &out)
            }
            return
        }
        states[i].step += 1
        states[i].attempts = 0
        tryStart(i, now: now, into: &out)
    }

    /// Starts the current step, skipping those that may not run; exhausts the ladder
    /// when none is left.
    func tryStart(_ i: Int, now: Int64, into out: inout [Decision]) {
        let w = rules.watchers[i]
        dirty = true
        while states[i].step < w.ladder.count {
            let k = states[i].step
            let step = w.ladder[k]
            var skip: String?
            if case .rollback = step.action {
                if states[i].rolledBack {
                    skip = "a rollback already ran in this incident"
                } else if states[i].lastGood == nil {
                    skip = "no known-good generation has been learnt"
                }
            }
            if skip == nil { skip = capAllows(i, k, now: now) }
            if let skip {
                out.append(.action(WatchActionRecord(
                    watcher: w.name, incident: states[i].incident ?? 0, step: k, kind: step.action.kind, attempt: 0,
                    phase: "skipped", target: Self.target(step.action, generation: states[i].lastGood),
                    result: "skipped", detail: skip)))
                states[i].step += 1
                states[i].attempts = 0
                continue
            }
            states[i].attempts += 1
            // Starts are kept only for a `cap.per` window, and only the last `cap.max`
            // of them can matter: the state file does not grow with every incident.
            if step.cap.perMs != nil {
                states[i].starts[k].append(now)
                if states[i].starts[k].count > step.cap.max { states[i].starts[k].removeFirst(states[i].starts[k].count - step.cap.max) }
            }
            states[i].phase = .running
            states[i].deadline = nil
            states[i].failedSinceStep = nil
            var generation: Int?
            if case .rollback = step.action {
                states[i].rolledBack = true
                generation = states[i].lastGood
            }
            out.append(.start(StepOrder(watcher: i, name: w.name, incident: states[i].incident ?? 0, stepIndex: k,
                                        attempt: states[i].attempts, step: step, generation: generation)))
            return
        }
        exhausted(i, into: &out)
    }

    func exhausted(_ i: Int, into out: inout [Decision]) {
        states[i].phase = .idle
        states[i].deadline = nil
        let n = rules.watchers[i].ladder.count
        let why = n == 0 ? "no ladder; nothing to try" : "ladder exhausted; no step is repeated until it recovers"
        setStatus(i, .failed, reason: why, into: &out)
        alert(i, "exhausted", "critical", "\(rules.watchers[i].name) is still failing: \(why)", into: &out)
    }

    /// A started step ended.
    public func stepFinished(watcher i: Int, outcome: StepOutcome, now: Int64) -> [Decision] {
        var out: [Decision] = []
        guard states[i].phase == .running else { return out }
        dirty = true
        let step = rules.watchers[i].ladder[states[i].step]
        switch outcome {
        case .ok, .dryRun:
            states[i].phase = .settling
            states[i].deadline = now + step.settleMs
            states[i].failedSinceStep = nil
            if step.settleMs == 0 {
                states[i].deadline = nil
                if step.action.kind == "notify" {
                    // A notify heals nothing: there is nothing to wait for.
                    judge(i, now: now, into: &out)
                } else {
                    // Settled at once, but judged only on evidence: the next failing record.
                    states[i].phase = .awaiting
                }
            }
        case .failed, .interrupted:
            judge(i, now: now, into: &out)
        }
        return out
    }

    /// A short description of what a step acts on.
    public static func target(_ a: StepAction, generation: Int?) -> String {
        switch a {
        case .restartUnit(let u): return u
        case .restartCommand(let c), .notifyCommand(let c), .run(let c): return c.joined(separator: " ")
        case .notifyHTTP(let u): return u
        case .rollback(let p, _): return generation.map { "\(p) to generation \($0)" } ?? p
        }
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    /// `250ms`, `90s`, `10m`, `2h`.
    public static func duration(_ ms: Int64) -> String {
        if ms % 1000 != 0 { return "\(ms)ms" }
        let s = ms / 1000
        if s > 0 && s % 3600 == 0 { return "\(s / 3600)h" }
        if s > 0 && s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }
}
