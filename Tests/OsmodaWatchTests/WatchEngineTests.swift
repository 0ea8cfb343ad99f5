import Foundation
import OsmodaCore
@testable import OsmodaWatch
import Testing

/// Drives the engine with a script of records and ticks, time injected, and keeps a
/// compact trace of its decisions: `state failing`, `start restart#1`, `skip rollback`,
/// `alert exhausted`, `learn`.
final class Harness {
    let engine: WatchEngine
    var trace: [String] = []
    /// How started steps end, by kind (default: ok).
    var outcomes: [String: StepOutcome] = [:]
    var generation: Int? = 41

    init(_ json: String, state: [String: WatcherState] = [:]) throws {
        engine = WatchEngine(rules: try Rules.parse(Array(json.utf8)), restoring: state)
    }

    func record(_ name: String, ok: Bool) -> JSONObject {
        JSONObject(["type": .string("check.result"), "name": .string(name), "ok": .bool(ok)])
    }

    func apply(_ ds: [Decision], now: Int64) {
        var queue = ds[...]
        while let d = queue.popFirst() {
            switch d {
            case .state(let r): trace.append("state \(r.state)")
            case .alert(let r): trace.append("alert \(r.alert)")
            case .action(let r): trace.append(r.phase == "skipped" ? "skip \(r.kind)" : "\(r.phase) \(r.kind) \(r.result ?? "")")
            case .learn(let i, _, _):
                trace.append("learn")
                engine.learned(watcher: i, generation: generation)
            case .start(let o):
                trace.append("start \(o.step.action.kind)#\(o.attempt)" + (o.generation.map { " to \($0)" } ?? ""))
                apply(engine.stepFinished(watcher: o.watcher, outcome: outcomes[o.step.action.kind] ?? .ok, now: now), now: now)
            }
        }
    }

    /// A record at `t` seconds: tick first, then feed, as the runner does.
    @discardableResult
    func at(_ t: Int64, _ name: String = "web", ok: Bool) -> Bool {
        apply(engine.tick(now: t * 1000), now: t * 1000)
        let (matched, ds) = engine.feed(record(name, ok: ok), now: t * 1000)
        apply(ds, now: t * 1000)
        return matched
    }

    func tick(_ t: Int64) { apply(engine.tick(now: t * 1000), now: t * 1000) }

    /// The trace since the last call.
    func take() -> [String] {
        defer { trace = [] }
        return trace
    }

    var state: WatcherState { engine.states[0] }
}

func rules(trip: String = #"{"failures": 1}"#, recover: Int = 1, flapping: String = #"{"changes": 0}"#, ladder: String = "[]") -> String {
    """
    {"watchers": [{"name": "web", "match": ".type == \\"check.result\\" and .name == \\"web\\"", "fail_when": ".ok == false",
      "trip": \(trip), "recover": {"passes": \(recover)}, "flapping": \(flapping), "ladder": \(ladder)}]}
    """
}

@Suite struct WatchWindowTests {
    @Test func recordWindowTripsOnXFailuresWithinYRecords() throws {
        let h = try Harness(rules(trip: #"{"failures": 2, "within_records": 3}"#))
        h.at(0, ok: false)
        h.at(1, ok: true)
        h.at(2, ok: true)
        h.at(3, ok: false)   // last 3: P P F — one failure
        #expect(h.take() == [])
        h.at(4, ok: true)
        h.at(5, ok: false)   // last 3: F P F — two
        #expect(h.take() == ["state failing", "alert tripped", "state failed", "alert exhausted"])
    }

    @Test func timeWindowTripsOnXFailuresWithinYSeconds() throws {
        let h = try Harness(rules(trip: #"{"failures": 3, "within": "10s"}"#))
        h.at(0, ok: false)
        h.at(5, ok: false)
        h.at(11, ok: false)  // the failure at 0 has aged out: 2 within (1, 11]
        #expect(h.take() == [])
        #expect(h.state.window.count == 2)
        h.at(12, ok: false)  // 5, 11, 12
        #expect(h.take().first == "state failing")
    }

    /// A long `within` does not make the window (and the state file) grow with every
    /// passing record: older than the last `within_records`, only failures are kept.
    @Test func aLongTimeWindowKeepsOnlyItsFailures() throws {
        let h = try Harness(rules(trip: #"{"failures": 3, "within_records": 5, "within": "1h"}"#))
        h.at(0, ok: false)
        for t in 1...1000 { h.at(Int64(t), ok: true) }
        #expect(h.state.window.count == 6)   // the failure at 0 and the last 5 records
        h.at(1001, ok: false)
        #expect(h.take() == [])
        h.at(1002, ok: false)                // 0, 1001, 1002: three within the hour
        #expect(h.take().first == "state failing")
    }

    @Test func eitherWindowTrips() throws {
        let h = try Harness(rules(trip: #"{"failures": 2, "within_records": 2, "within": "60s"}"#))
        h.at(0, ok: false)
        h.at(1, ok: true)
        h.at(2, ok: true)
        h.at(3, ok: false)   // by records: P F — one; by time: 0 and 3 — two
        #expect(h.take().first == "state failing")
    }

    @Test func withoutAWindowXFailuresMustBeInARow() throws {
        let h = try Harness(rules(trip: #"{"failures": 3}"#))
        h.at(0, ok: false)
        h.at(1, ok: false)
        h.at(2, ok: true)
        h.at(3, ok: false)
        h.at(4, ok: false)
        #expect(h.take() == [])
        h.at(5, ok: false)
        #expect(h.take().first == "state failing")
    }

    @Test func windowIsEmptiedOnTripAndOnRecovery() throws {
        let h = try Harness(rules(trip: #"{"failures": 2, "within_records": 5}"#))
        h.at(0, ok: false)
        h.at(1, ok: false)
        #expect(h.state.status == .failed)
        #expect(h.state.window.isEmpty)
        h.at(2, ok: true)
        #expect(h.state.status == .ok)
        #expect(h.state.window.isEmpty)
        h.at(3, ok: false)   // the failures before the recovery do not count
        #expect(h.state.status == .ok)
        h.at(4, ok: false)
        #expect(h.state.status == .failed)
    }

    @Test func passCounterIsResetByAFailure() throws {
        let h = try Harness(rules(recover: 3))
        h.at(0, ok: false)
        _ = h.take()
        h.at(1, ok: true)
        h.at(2, ok: true)
        h.at(3, ok: false)
        #expect(h.state.passes == 0)
        h.at(4, ok: true)
        h.at(5, ok: true)
        #expect(h.state.status == .failed)
        h.at(6, ok: true)
        #expect(h.take() == ["state ok", "alert resolved"])
        #expect(h.state.incident == nil)
    }

    @Test func unmatchedRecordsTouchNothing() throws {
        let h = try Harness(rules())
        let before = h.state
        #expect(h.at(0, "db", ok: false) == false)
        #expect(h.state == before)
        #expect(h.at(1, "web", ok: true) == true)
    }
}

@Suite struct WatchLadderTests {
    let restart3 = #"[{"kind": "restart", "command": ["x"], "cap": {"max": 3, "per": "10m"}, "backoff": "5s", "settle": "10s"}]"#

    @Test func settleThenBackoffThenRetryThenExhausted() throws {
        let h = try Harness(rules(ladder: restart3))
        h.at(0, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        #expect(h.state.phase == .settling)
        h.at(5, ok: false)     // during settle: nothing yet
        #expect(h.take() == [])
        h.tick(10)             // settled, still failing: back-off 5s
        #expect(h.state.phase == .backoff)
        h.tick(14)
        #expect(h.take() == [])
        h.tick(15)
        #expect(h.take() == ["start restart#2"])
        h.at(26, ok: false)    // settle ended at 25 with no record since: judged by this one
        h.tick(31)
        #expect(h.take() == ["start restart#3"])
        h.at(42, ok: false)
        #expect(h.take() == ["state failed", "alert exhausted"])
        // Exhausted: nothing is repeated, whatever comes.
        for t in Int64(43)...Int64(100) { h.at(t, ok: false) }
        h.tick(1000)
        #expect(h.take() == [])
        #expect(h.state.status == .failed)
    }

    @Test func noRecordAfterSettleWaitsForTheNextFailure() throws {
        let h = try Harness(rules(ladder: restart3))
        h.at(0, ok: false)
        _ = h.take()
        h.tick(60)
        #expect(h.state.phase == .awaiting)
        #expect(h.take() == [])
        h.at(61, ok: false)
        #expect(h.state.phase == .backoff)
    }

    @Test func failedStepIsJudgedAtOnce() throws {
        let h = try Harness(rules(ladder: restart3))
        h.outcomes["restart"] = .failed
        h.at(0, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        #expect(h.state.phase == .backoff)
        #expect(h.state.deadline == 5000)
    }

    @Test func capCountsAcrossIncidents() throws {
        let h = try Harness(rules(ladder: restart3))
        h.outcomes["restart"] = .failed
        h.at(0, ok: false)
        h.tick(5)
        h.tick(10)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1", "start restart#2", "start restart#3", "state failed", "alert exhausted"])
        h.at(20, ok: true)
        _ = h.take()
        // A new incident 5 minutes later: the cap (3 in 10m) is used up.
        h.at(300, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "skip restart", "state failed", "alert exhausted"])
        // After 10 minutes the attempts have aged out.
        h.at(700, ok: true)
        _ = h.take()
        h.at(701, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        #expect(h.state.phase == .backoff)
    }

    @Test func recoveryInTheMiddleOfTheLadder() throws {
        let ladder = #"[{"kind": "restart", "command": ["x"], "settle": "10s"}, {"kind": "notify", "command": ["n"]}]"#
        let h = try Harness(rules(recover: 2, ladder: ladder))
        h.at(0, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        h.at(3, ok: true)
        h.at(4, ok: true)
        #expect(h.take() == ["state ok", "alert resolved"])
        #expect(h.state.step == 0 && h.state.phase == .idle)
        // The next incident starts at the bottom of the ladder again.
        h.at(30, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        #expect(h.state.incident == 2)
    }

    @Test func rollbackRunsOncePerIncidentToTheLastGoodGeneration() throws {
        let ladder = #"""
            [{"kind": "restart", "command": ["x"], "settle": "0s"},
             {"kind": "rollback", "profile": "/p", "settle": "0s"},
             {"kind": "rollback", "profile": "/p"},
             {"kind": "notify", "url": "http://127.0.0.1:1/"}]
            """#
        let h = try Harness(rules(ladder: ladder))
        h.at(0, ok: true)
        #expect(h.take() == ["learn"])
        #expect(h.state.lastGood == 41)
        h.generation = 40   // what osmoda-gen would say later must not matter while failing
        h.at(1, ok: false)
        // A settle of 0 is judged on evidence, not at once: the next failing record.
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        #expect(h.state.phase == .awaiting)
        h.at(2, ok: false)
        #expect(h.take() == ["start rollback#1 to 41"])
        #expect(h.state.rolledBack)
        h.at(3, ok: false)
        #expect(h.take() == ["skip rollback", "start notify#1", "state failed", "alert exhausted"])
        h.at(4, ok: false)
        #expect(h.take() == [])
    }

    /// A restart with `settle: "0"` that succeeded is not followed by the next step
    /// unless a failing record says it did not help; passes recover the watcher.
    @Test func zeroSettleNeverEscalatesWithoutEvidence() throws {
        let ladder = #"[{"kind": "restart", "command": ["x"], "settle": "0"}, {"kind": "run", "command": ["y"]}]"#
        let h = try Harness(rules(ladder: ladder))
        h.at(0, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1"])
        h.tick(100)
        #expect(h.take() == [])
        h.at(101, ok: true)
        #expect(h.take() == ["state ok", "alert resolved"])
        h.at(200, ok: false)
        h.at(201, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "start restart#1", "start run#1"])
    }

    /// When osmoda-gen cannot tell the generation, it is asked again after
    /// `retryLearnMs`, not on every passing record.
    @Test func aGenerationThatCannotBeLearntIsRetriedSparingly() throws {
        let h = try Harness(rules(ladder: #"[{"kind": "rollback", "profile": "/p"}]"#))
        h.generation = nil
        h.at(0, ok: true)
        h.at(1, ok: true)
        h.at(59, ok: true)
        #expect(h.take() == ["learn"])
        h.generation = 7
        h.at(60, ok: true)
        #expect(h.take() == ["learn"])
        #expect(h.state.lastGood == 7)
        h.at(61, ok: true)
        #expect(h.take() == [])
    }

    /// Cap windows keep only what `cap.per` can count: the state does not grow with
    /// every incident of a long-lived watcher.
    @Test func capWindowsStayBounded() throws {
        let ladder = #"[{"kind": "restart", "command": ["x"], "cap": {"max": 2, "per": "1m"}}, {"kind": "run", "command": ["y"]}]"#
        let h = try Harness(rules(ladder: ladder))
        for n in 0..<50 {
            h.at(Int64(n * 10), ok: false)
            h.at(Int64(n * 10 + 1), ok: true)
        }
        #expect(h.state.starts[0].count <= 2)
        #expect(h.state.starts[1].isEmpty)   // no `per`: nothing to remember
        #expect(h.state.incidents == 50)
    }

    @Test func rollbackWithoutAKnownGoodGenerationIsSkipped() throws {
        let ladder = #"[{"kind": "rollback", "profile": "/p"}, {"kind": "notify", "command": ["n"]}]"#
        let h = try Harness(rules(ladder: ladder))
        h.at(0, ok: false)   // failing from the first record: nothing was ever learnt
        #expect(h.take() == ["state failing", "alert tripped", "skip rollback", "start notify#1", "state failed", "alert exhausted"])
    }

    @Test func generationIsRelearntOnRecoveryAndNotMoreOftenThanRelearnMs() throws {
        let ladder = #"[{"kind": "rollback", "profile": "/p"}]"#
        let h = try Harness(rules(ladder: ladder))
        h.at(0, ok: true)
        h.at(1, ok: true)
        #expect(h.take() == ["learn"])
        h.at(700, ok: true)
        #expect(h.take() == ["learn"])
    }
}

@Suite struct WatchFlappingTests {
    @Test func tooManyChangesPauseActionsUntilQuiet() throws {
        let ladder = #"[{"kind": "restart", "command": ["x"], "settle": "1s", "cap": {"max": 9}}]"#
        let h = try Harness(rules(flapping: #"{"changes": 4, "within": "60s"}"#, ladder: ladder))
        h.at(0, ok: false)
        h.at(1, ok: true)
        h.at(2, ok: false)
        _ = h.take()
        h.at(3, ok: true)    // the 4th change within 60 s
        #expect(h.take() == ["state flapping", "alert flapping"])
        // While flapping nothing runs, whatever the records say.
        h.at(4, ok: false)
        h.at(5, ok: true)
        h.at(6, ok: false)
        h.tick(30)
        #expect(h.take() == [])
        #expect(h.state.status == .flapping)
        // Quiet for 60 s since the last underlying change (at 6): the ladder resumes.
        h.tick(65)
        #expect(h.take() == [])
        // The incident open when it began flapping goes on: its second attempt.
        h.tick(66)
        #expect(h.take() == ["state failing", "start restart#2"])
    }

    @Test func flappingEndsHealthy() throws {
        let h = try Harness(rules(flapping: #"{"changes": 2, "within": "10s"}"#))
        h.at(0, ok: false)
        #expect(h.take() == ["state failing", "alert tripped", "state failed", "alert exhausted"])
        h.at(1, ok: true)    // the 2nd change within 10 s
        #expect(h.take() == ["state flapping", "alert flapping"])
        h.tick(10)
        #expect(h.take() == [])
        h.tick(11)
        #expect(h.take() == ["state ok"])
        #expect(h.state.incident == nil && h.state.changes.isEmpty)
    }
}

@Suite struct WatchPersistenceTests {
    @Test func stateFileRoundTrips() throws {
        let h = try Harness(rules(ladder: #"[{"kind": "restart", "command": ["x"], "cap": {"max": 2, "per": "1h"}}]"#))
        h.at(0, ok: false)
        let bytes = h.engine.stateFile.encoded()
        let back = try StateFile.decode(bytes)
        #expect(back.watchers["web"] == h.state)
    }

    @Test func aStepRunningAtACrashCountsAsAnInterruptedAttempt() throws {
        let json = rules(ladder: #"[{"kind": "restart", "command": ["x"], "cap": {"max": 2}}, {"kind": "notify", "command": ["n"]}]"#)
        let h = try Harness(json)
        // Start a step and "crash" before it ends: save the state while running.
        let (_, ds) = h.engine.feed(h.record("web", ok: false), now: 0)
        #expect(ds.contains { if case .start = $0 { return true } else { return false } })
        let saved = try StateFile.decode(h.engine.stateFile.encoded()).watchers
        #expect(saved["web"]?.phase == .running)

        let again = try Harness(json, state: saved)
        again.outcomes["restart"] = .failed
        again.apply(again.engine.resume(now: 1000), now: 1000)
        // Nothing is started on no evidence: the next failing record judges the
        // interrupted attempt.
        #expect(again.take() == ["end restart interrupted"])
        again.tick(100)
        #expect(again.take() == [])
        // The ladder goes on from attempt 2 of the same incident, not from the start.
        again.at(101, ok: false)
        #expect(again.take() == ["start restart#2", "start notify#1", "state failed", "alert exhausted"])
        #expect(again.state.incident == 1 && again.state.incidents == 1)
    }

    /// An interrupted step followed by passing records: the watcher recovers and
    /// nothing more runs.
    @Test func anInterruptedStepThenPassesRecovers() throws {
        let json = rules(ladder: #"[{"kind": "restart", "command": ["x"], "cap": {"max": 2}}]"#)
        let h = try Harness(json)
        _ = h.engine.feed(h.record("web", ok: false), now: 0)
        let again = try Harness(json, state: try StateFile.decode(h.engine.stateFile.encoded()).watchers)
        again.apply(again.engine.resume(now: 1000), now: 1000)
        again.at(2, ok: true)
        #expect(again.take() == ["end restart interrupted", "state ok", "alert resolved"])
    }
}

@Suite struct WatchRulesTests {
    func error(_ json: String) -> String {
        do { _ = try Rules.parse(Array(json.utf8)); return "" } catch { return error.description }
    }

    @Test func errorsNameTheWatcherAndTheField() {
        let base = #"{"name": "nginx", "match": ".name == \"nginx\"", "fail_when": ".ok == false""#
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "notify", "command": ["n"]}, {"kind": "restart", "unit": "nginx", "cap": 3}]}]}"#)
                == #"watcher "nginx": ladder[1].cap: expected an object such as {"max": 3, "per": "10m"}, found number"#)
        #expect(error(#"{"watchers": [\#(base), "trip": {"failures": 2, "within_recs": 5}}]}"#)
                == #"watcher "nginx": trip.within_recs: unknown field"#)
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "restart", "unit": "x", "cap": {"max": 1, "per": "ten"}}]}]}"#)
                == #"watcher "nginx": ladder[0].cap.per: invalid duration 'ten': expected e.g. 500ms, 10s, 5m, 1h30m"#)
        #expect(error(#"{"watchers": [{"match": ".a", "fail_when": ".b"}]}"#) == "watchers[0]: name: missing required field")
        #expect(error(#"{"watchers": [\#(base)}, \#(base)}]}"#) == #"watcher "nginx": name: duplicate name"#)
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "reboot"}]}]}"#)
                == #"watcher "nginx": ladder[0].kind: expected restart, rollback, notify or run, found "reboot""#)
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "rollback", "profile": "/p", "cap": {"max": 2}}]}]}"#)
                .hasPrefix(#"watcher "nginx": ladder[0].cap.max: a rollback runs at most once"#))
        #expect(error(#"{"watcher": []}"#) == "watcher: unknown field (a rules file has only 'watchers')")
        // Bounded inputs: windows, retries, ladders, watchers.
        #expect(error(#"{"watchers": [\#(base), "trip": {"failures": 2, "within_records": 20000}}]}"#)
                == #"watcher "nginx": trip.within_records: expected an integer from 1 to 10000, found 20000"#)
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "notify", "command": ["n"], "retries": 11}]}]}"#)
                == #"watcher "nginx": ladder[0].retries: expected an integer from 0 to 10, found 11"#)
        #expect(error(#"{"watchers": [\#(base), "ladder": [{"kind": "run", "command": ["x"], "timeout": "2h"}]}]}"#)
                == #"watcher "nginx": ladder[0].timeout: must be at most 1h (steps run one at a time)"#)
        let steps = Array(repeating: #"{"kind": "run", "command": ["x"]}"#, count: 65).joined(separator: ",")
        #expect(error(#"{"watchers": [\#(base), "ladder": [\#(steps)]}]}"#) == #"watcher "nginx": ladder: 65 steps; at most 64"#)
        let many = (0...Rules.maxWatchers).map { #"{"name": "w\#($0)", "match": "true", "fail_when": "false"}"# }.joined(separator: ",")
        #expect(error(#"{"watchers": [\#(many)]}"#) == "watchers: 10001 watchers; at most 10000")
        #expect(error("{\n  \"watchers\": [,]}") == "line 2, column 16: unexpected ',', expected a value" || error("{\n  \"watchers\": [,]}").hasPrefix("line 2"))
    }

    @Test func expressionErrorsShowTheCaret() {
        let e = error(#"{"watchers": [{"name": "w", "match": ".a ==", "fail_when": ".b"}]}"#)
        #expect(e.hasPrefix(#"watcher "w": match: invalid expression: column"#))
        #expect(e.contains("\n  .a ==\n"))
        #expect(e.hasSuffix("^"))
    }
}

@Suite struct WatchIndexTests {
    /// Watchers are indexed by the value their match requires of one field; a record
    /// still reaches every watcher it matches, in rules order, and no other.
    @Test func indexedAndUnindexedWatchersBothSeeTheirRecords() throws {
        let json = #"""
            {"watchers": [
              {"name": "any", "match": ".type == \"check.result\" and .ok == false", "fail_when": "true"},
              {"name": "x", "match": ".name == \"x\"", "fail_when": ".ok == false"},
              {"name": "y", "match": ".type == \"check.result\" and .name == \"y\"", "fail_when": ".ok == false"},
              {"name": "regex", "match": ".name | test(\"^x\")", "fail_when": ".ok == false"}]}
            """#
        let engine = WatchEngine(rules: try Rules.parse(Array(json.utf8)))
        #expect(engine.indexKey == "name")
        func tripped(_ r: JSONObject) -> [String] {
            engine.feed(r, now: 0).decisions.compactMap { if case .state(let s) = $0, s.state == "failing" { return s.watcher } else { return nil } }
        }
        #expect(tripped(JSONObject(["type": .string("check.result"), "name": .string("x"), "ok": .bool(false)])) == ["any", "x", "regex"])
        #expect(tripped(JSONObject(["type": .string("check.result"), "name": .string("y"), "ok": .bool(false)])) == ["y"])
        #expect(engine.feed(JSONObject(["type": .string("other"), "name": .int(3)]), now: 0).matched == false)
    }

    @Test func requiredEqualitiesComeFromTheTopLevelAndChain() throws {
        #expect(try Expression(#".type == "a" and ("b" == .name and .x > 1)"#).requiredStringEqualities.map { "\($0.key)=\($0.value)" } == ["type=a", "name=b"])
        #expect(try Expression(#".type == "a" or .name == "b""#).requiredStringEqualities.isEmpty)
        #expect(try Expression(#".a.b == "c""#).requiredStringEqualities.isEmpty)
    }
}

@Suite struct WatchRulesChangeTests {
    /// A state saved mid-ladder and read back with a shorter ladder does not crash and
    /// does not start the ladder over: the incident is at its end, `failed`.
    @Test func aShorterLadderEndsTheIncident() throws {
        let long = rules(ladder: #"[{"kind": "run", "command": ["a"]}, {"kind": "run", "command": ["b"]}]"#)
        let h = try Harness(long)
        h.outcomes["run"] = .failed
        _ = h.engine.feed(h.record("web", ok: false), now: 0)
        var saved = h.engine.stateFile.watchers
        saved["web"]?.step = 1
        saved["web"]?.phase = .running
        let short = try Harness(rules(ladder: #"[{"kind": "run", "command": ["a"]}]"#), state: saved)
        #expect(short.state.status == .failed && short.state.phase == .idle)
        short.apply(short.engine.resume(now: 1000), now: 1000)
        short.at(2, ok: false)
        #expect(short.take() == [])
    }
}

@Suite struct WatchExampleTests {
    /// The shipped examples parse, with every step the README promises.
    @Test func examplesParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let demo = try Rules.parse(Array(try Data(contentsOf: root.appendingPathComponent("examples/watch/demo.json"))))
        #expect(demo.watchers.map(\.name) == ["demo-web"])
        let nginx = try Rules.parse(Array(try Data(contentsOf: root.appendingPathComponent("examples/watch/nginx.json"))))
        #expect(nginx.watchers.first?.ladder.map(\.action.kind) == ["restart", "rollback", "notify", "notify"])
        #expect(nginx.watchers.first?.ladder.first?.cap == StepCap(max: 3, perMs: 600_000))
    }
}

/// The index must never hide a record from a watcher whose `match` takes it: random
/// expressions (`and`, `or`, `not`, `in`, nested paths, numbers vs strings, Unicode
/// look-alikes) against random records, the indexed candidates against every watcher.
@Suite struct WatchIndexPropertyTests {
    /// A small deterministic generator (SplitMix64), so a failure is reproducible.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
    }

    static let keys = ["name", "type", "kind", "n"]
    /// Strings that are equal as numbers or canonically equivalent but differ in bytes.
    static let strings = ["a", "b", "web", "1", "01", "true", "null", "", "\u{E9}", "e\u{301}"]

    static func literal(_ g: inout SplitMix) -> String {
        switch g.below(6) {
        case 0: return "1"
        case 1: return "true"
        case 2: return "null"
        default: return "\"" + g.pick(strings).unicodeScalars.map { $0.isASCII ? String($0) : "\\u\(String(format: "%04x", $0.value))" }.joined() + "\""
        }
    }

    static func path(_ g: inout SplitMix) -> String {
        g.below(5) == 0 ? ".\(g.pick(keys)).\(g.pick(keys))" : ".\(g.pick(keys))"
    }

    static func expression(_ g: inout SplitMix, depth: Int) -> String {
        let leaf = depth == 0 || g.below(3) == 0
        if leaf {
            switch g.below(5) {
            case 0: return "\(literal(&g)) == \(path(&g))"
            case 1: return "\(path(&g)) in [\(literal(&g)), \(literal(&g))]"
            case 2: return "\(path(&g)) != \(literal(&g))"
            default: return "\(path(&g)) == \(literal(&g))"
            }
        }
        switch g.below(4) {
        case 0: return "(\(expression(&g, depth: depth - 1)) or \(expression(&g, depth: depth - 1)))"
        case 1: return "not (\(expression(&g, depth: depth - 1)))"
        default: return "(\(expression(&g, depth: depth - 1)) and \(expression(&g, depth: depth - 1)))"
        }
    }

    static func value(_ g: inout SplitMix, depth: Int) -> JSONValue {
        switch g.below(depth > 0 ? 7 : 6) {
        case 0: return .int(Int64(g.below(3)))
        case 1: return .bool(g.below(2) == 0)
        case 2: return .null
        case 3: return .double(1.0)
        case 6: return .object(record(&g, depth: depth - 1))
        default: return .string(g.pick(strings))
        }
    }

    static func record(_ g: inout SplitMix, depth: Int) -> JSONObject {
        var o = JSONObject()
        for k in keys where g.below(5) != 0 { o.append(k, value(&g, depth: depth)) }
        // The reader keeps duplicate keys: the index must read the one `match` reads.
        if g.below(8) == 0 { o.append(g.pick(keys), value(&g, depth: depth)) }
        return o
    }

    @Test func theIndexNeverSkipsARecordAWatcherMatches() throws {
        var g = SplitMix(state: 20261124)
        var indexedRuns = 0, checkedMatches = 0
        for round in 0..<60 {
            var watchers: [String] = []
            for w in 0..<25 {
                // Most watchers carry a required equality (so an index is built), wrapped in
                // random structure that may or may not keep it required.
                var match = Self.expression(&g, depth: 3)
                if g.below(3) != 0 { match = "\(Self.path(&g)) == \(Self.literal(&g)) and \(match)" }
                let escaped = match.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                watchers.append(#"{"name": "w\#(w)", "match": "\#(escaped)", "fail_when": "false"}"#)
            }
            let json = #"{"watchers": [\#(watchers.joined(separator: ","))]}"#
            let engine = WatchEngine(rules: try Rules.parse(Array(json.utf8)))
            if engine.indexKey != nil { indexedRuns += 1 }
            for _ in 0..<300 {
                let r = Self.record(&g, depth: 1)
                let candidates = engine.candidates(for: r)
                #expect(candidates == candidates.sorted(), "round \(round): candidates out of rules order")
                for (i, w) in engine.rules.watchers.enumerated() where w.match.matches(r) {
                    checkedMatches += 1
                    #expect(candidates.contains(i), "round \(round): \(w.name) (\(json)) matches \(r) but the index skipped it")
                }
                // The engine's own answer agrees with matching every watcher.
                let any = engine.rules.watchers.contains { $0.match.matches(r) }
                #expect(engine.feed(r, now: 0).matched == any)
            }
        }
        // The property is only worth something if the index was in use and records matched.
        #expect(indexedRuns > 40)
        #expect(checkedMatches > 1000)
    }
}
