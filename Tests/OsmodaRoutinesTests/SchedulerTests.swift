import Foundation
import OsmodaCore
import OsmodaCron
@testable import OsmodaRoutines
import OsmodaSystem
import OsmodaTestSupport
import Testing

/// A clock the test moves by hand.
final class ManualClock: RoutineClock, @unchecked Sendable {
    private let lock = NSLock()
    private var ms: Int64
    init(_ ms: Int64) { self.ms = ms }
    func nowMs() -> Int64 { lock.withLock { ms } }
    func set(_ v: Int64) { lock.withLock { ms = v } }
    func advance(_ d: Int64) { lock.withLock { ms += d } }
}

/// Collects the records a scheduler emits.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [RoutineRunRecord] = []
    func add(_ r: RoutineRunRecord) { lock.withLock { items.append(r) } }
    var all: [RoutineRunRecord] { lock.withLock { items } }
    var finished: [RoutineRunRecord] { all.filter { $0.outcome != "running" } }
}

struct World {
    let dir: URL
    let store: StateStore
    let clock: ManualClock
    let records = Collected()

    init(at ms: Int64 = 1_767_225_600_000) throws {   // 2026-01-01T00:00:00Z
        dir = try ToolRunner.temporaryDirectory("osmoda-routines")
        store = try StateStore(directory: dir.path + "/state")
        clock = ManualClock(ms)
    }

    func routine(_ json: String, name: String = "r") throws -> RoutineDefinition {
        var f = try ValueDecoder.decode(RoutineFile.self, from: try JSONReader.parse(json))
        f.name = name
        return try RoutineDefinition(f, path: "\(name).json", defaultName: name)
    }

    func scheduler(_ routines: [RoutineDefinition], seed: UInt64 = 1, pid: Int32? = nil) -> Scheduler {
        var o = Scheduler.Options()
        o.seed = seed
        o.bootID = "test-boot"
        if let pid { o.pid = pid }
        let records = self.records
        return Scheduler(routines: routines, store: store, clock: clock, options: o, emit: { records.add($0) }, warn: { Issue.record(Comment(rawValue: $0)) })
    }

    func cleanup() { ToolRunner.removeTemporaryDirectory(dir) }
}

/// Whether a process is gone (or a zombie no one has reaped yet).
func isGone(_ pid: Int32) -> Bool {
    guard Processes.exists(pid) else { return true }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
}

func waitFor(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if cond() { return true }
        usleep(10_000)
    }
    return cond()
}

@Suite(.serialized)
struct SchedulerTests {
    @Test func timeoutKillsTheWholeProcessGroup() throws {
        let w = try World()
        defer { w.cleanup() }
        let pidFile = w.dir.path + "/grandchild.pid"
        let r = try w.routine(#"{"every":"1h","timeout":"1s","command":["sh","-c","sleep 30 & echo $! > \#(pidFile); wait"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        s.waitIdle()
        let done = try #require(w.records.finished.first)
        #expect(done.outcome == "timeout")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(waitFor(5) { isGone(pid) }, "grandchild \(pid) survived the timeout")
        let state = try w.store.load("r")
        #expect(state.runs.map(\.outcome) == ["timeout"])
        #expect(state.runs[0].ended != nil)
    }

    @Test func envCwdAndBoundedOutput() throws {
        let w = try World()
        defer { w.cleanup() }
        let cwd = w.dir.path
        let r = try w.routine(#"{"every":"1h","env":{"FOO":"bar"},"cwd":"\#(cwd)","output_limit_bytes":64,"command":["sh","-c","echo $FOO; pwd; head -c 5000 /dev/zero | tr '\\0' x >&2; exit 3"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        s.waitIdle()
        let done = try #require(w.records.finished.first)
        #expect(done.outcome == "failed")
        #expect(done.exitStatus == 3)
        let realCwd = URL(fileURLWithPath: cwd).resolvingSymlinksInPath().path
        #expect(done.stdoutTail == "bar\n\(realCwd)\n" || done.stdoutTail == "bar\n\(cwd)\n")
        #expect(done.stderrTail == String(repeating: "x", count: 64))
        #expect(w.records.all.first?.outcome == "running")
    }

    @Test(arguments: ["skip", "queue", "parallel"])
    func overlapPolicies(_ policy: String) throws {
        let w = try World()
        defer { w.cleanup() }
        let log = w.dir.path + "/log"
        let release = w.dir.path + "/release"
        // Each run logs its start, holds until the test creates `release` (at most 20 s),
        // then logs its end: no run can end before the test has fired both, however slow
        // the machine.
        let script = "echo start >> \(log); i=0; while [ ! -e \(release) ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done; echo end >> \(log)"
        let r = try w.routine(#"{"every":"1h","overlap":"\#(policy)","command":["sh","-c","\#(script)"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        #expect(s.runNow("r"))
        if policy == "parallel" {
            // Both are going at once: the second starts while the first is held.
            #expect(waitFor(20) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count == 2 })
        }
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        s.waitIdle()
        let outcomes = w.records.finished.map(\.outcome)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
        let events = lines.map { (String($0[0]), 0) }
        switch policy {
        case "skip":
            #expect(outcomes.sorted() == ["ok", "skipped"])
            #expect(events.count == 2)
        case "queue":
            #expect(outcomes == ["ok", "ok"])
            #expect(w.records.finished.map(\.trigger) == ["manual", "queued"])
            // The second started after the first ended.
            #expect(events.map(\.0) == ["start", "end", "start", "end"])
        default:
            #expect(outcomes == ["ok", "ok"])
            // Both started before either ended.
            #expect(events.map(\.0) == ["start", "start", "end", "end"])
        }
        #expect(try w.store.load("r").runs.count == 2)
    }

    /// A plain stop (the end of `serve --events` input) with a run queued: the queued
    /// run still happens and `waitIdle` returns (it used to wait for ever).
    @Test func stopWithARunQueuedStillEnds() throws {
        let w = try World()
        defer { w.cleanup() }
        let release = w.dir.path + "/release"
        let script = "i=0; while [ ! -e \(release) ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done"
        let r = try w.routine(#"{"every":"1h","overlap":"queue","command":["sh","-c","\#(script)"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        #expect(s.runNow("r"))
        s.stop()
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let idle = DispatchSemaphore(value: 0)
        Thread { s.waitIdle(); idle.signal() }.start()
        #expect(idle.wait(timeout: .now() + 30) == .success, "waitIdle did not return")
        #expect(w.records.finished.map(\.trigger) == ["manual", "queued"])
    }

    /// A terminating stop drops what is queued, and still ends.
    @Test func terminatingStopDropsQueuedRuns() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"every":"1h","overlap":"queue","command":["sleep","30"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        #expect(s.runNow("r"))
        #expect(waitFor(20) { (try? w.store.load("r").runs.first?.childPid) ?? nil != nil })
        s.stop(terminateRuns: true)
        let idle = DispatchSemaphore(value: 0)
        Thread { s.waitIdle(); idle.signal() }.start()
        #expect(idle.wait(timeout: .now() + 30) == .success, "waitIdle did not return")
        #expect(w.records.finished.map(\.outcome) == ["interrupted"])
    }

    @Test func missedCronTimesRunOnce() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"cron":"*/5 * * * *","tz":"UTC","command":["true"]}"#)
        var s = w.scheduler([r])
        s.prepare()
        #expect(s.nextDue("r") == Int64(1_767_225_900_000))
        // Down for a day: 288 times missed, one run, standing for the latest.
        w.clock.advance(86_400_000 + 60_000)
        s = w.scheduler([r])
        s.prepare()
        s.tick()
        s.waitIdle()
        #expect(w.records.finished.map(\.trigger) == ["catch-up"])
        #expect(w.records.finished.first?.scheduledFor == "2026-01-02T00:00:00.000Z")
        #expect(s.nextDue("r") == Int64(1_767_312_300_000))
        // Nothing more is due at the same time.
        s.tick()
        s.waitIdle()
        #expect(w.records.finished.count == 1)
        // On time: an ordinary cron run.
        w.clock.set(1_767_312_000_000 + 300_000 + 2_000)
        s.tick()
        s.waitIdle()
        #expect(w.records.finished.map(\.trigger) == ["catch-up", "cron"])
        #expect(try w.store.load("r").lastDue == 1_767_312_000_000 + 300_000)
    }

    /// Three years down (1.5 million missed minutes): still one run, for the latest
    /// time, and the next due time is in the future, not another catch-up.
    @Test func yearsOfDowntimeStillCatchUpOnce() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"cron":"* * * * *","tz":"Europe/London","command":["true"]}"#)
        w.scheduler([r]).prepare()
        let now: Int64 = 1_861_920_030_000       // 2029-01-01T00:00:30Z
        w.clock.set(now)
        let s = w.scheduler([r])
        s.prepare()
        let started = Date()
        s.tick()
        s.waitIdle()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(w.records.finished.map(\.trigger) == ["catch-up"])
        #expect(w.records.finished.first?.scheduledFor == "2029-01-01T00:00:00.000Z")
        #expect(s.nextDue("r") == now - 30_000 + 60_000)
        s.tick()
        s.waitIdle()
        #expect(w.records.finished.count == 1)
    }

    /// The latest missed time is found the same way whatever the distance (windowed
    /// search versus a walk over every time).
    @Test func latestCronTimeAgreesWithAWalk() throws {
        let zone = try ZoneInfo.load("America/New_York")
        let start: Int64 = 1_772_323_200_000     // 2026-03-01T00:00:00Z
        for expr in ["30 2 * * *", "*/7 * * * *", "0 0 29 2 *", "0 9 * * MON-FRI", "15 1 * 3,11 SUN"] {
            let e = try CronExpression(expr)
            for hours in [0, 1, 5, 30, 24 * 40, 24 * 400, 24 * 2000] as [Int64] {
                let now = start + hours * 3_600_000 + 1_234
                var walked: Int64?
                var t = start
                while let n = e.next(after: t / 1000, in: zone).map({ $0 * 1000 }), n <= now { walked = n; t = n }
                #expect(Scheduler.latestCronTime(e, zone, after: start, upTo: now) == walked, "\(expr) +\(hours)h")
            }
        }
    }

    /// However large output_limit_bytes, the history keeps at most 4096 bytes of each
    /// tail (cut on a character boundary); the record carries the whole tail.
    @Test func historyTailsAreBounded() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"every":"1h","output_limit_bytes":100000,"command":["sh","-c","head -c 9999 /dev/zero | tr '\\0' x; printf 'é%.0s' $(seq 3000)"]}"#)
        let s = w.scheduler([r])
        #expect(s.runNow("r"))
        s.waitIdle()
        let done = try #require(w.records.finished.first)
        #expect(done.stdoutTail?.utf8.count == 9999 + 6000)
        let kept = try #require(try w.store.load("r").runs.first?.stdoutTail)
        #expect(kept.utf8.count <= StateStore.historyTailLimit && kept.utf8.count >= StateStore.historyTailLimit - 1)
        #expect(kept == String(repeating: "é", count: kept.utf8.count / 2))
    }

    @Test func catchUpFalseSkipsMissedTimes() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"cron":"0 * * * *","tz":"UTC","catch_up":false,"command":["true"]}"#)
        w.scheduler([r]).prepare()
        w.clock.advance(5 * 3_600_000 + 600_000)
        let s = w.scheduler([r])
        s.prepare()
        s.tick()
        s.waitIdle()
        #expect(w.records.all.isEmpty)
        #expect(s.nextDue("r") == Int64(1_767_247_200_000))
    }

    @Test func intervalJitterIsSeededAndBounded() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"every":"10m","jitter":"1m","command":["true"]}"#)
        var dues: [Int64] = []
        for seed in [7, 7, 8] as [UInt64] {
            let w2 = try World()
            defer { w2.cleanup() }
            let s = w2.scheduler([r], seed: seed)
            s.prepare()
            s.tick()           // the first run, at once (plus jitter)
            s.waitIdle()
            w2.clock.advance(60_000)
            s.tick()
            s.waitIdle()
            let next = try #require(s.nextDue("r"))
            dues.append(next)
            #expect(w2.records.finished.count == 1)
        }
        #expect(dues[0] == dues[1], "the same seed gives the same jitter")
        #expect(dues[0] != dues[2])
        for d in dues { #expect(d >= 1_767_225_600_000 + 600_000 && d <= 1_767_225_600_000 + 60_000 + 660_000) }
        _ = w
    }

    /// An interval shortened in the definition takes effect at the next start, not
    /// after the old, longer interval.
    @Test func shortenedIntervalIsNotHeldBackByTheStoredTime() throws {
        let w = try World()
        defer { w.cleanup() }
        let daily = try w.routine(#"{"every":"1d","command":["true"]}"#)
        let s1 = w.scheduler([daily])
        s1.prepare()
        s1.tick()
        s1.waitIdle()
        #expect(s1.nextDue("r") == Int64(1_767_225_600_000 + 86_400_000))
        let often = try w.routine(#"{"every":"5m","command":["true"]}"#)
        let s2 = w.scheduler([often])
        s2.prepare()
        #expect(s2.nextDue("r") == Int64(1_767_225_600_000 + 300_000))
        #expect(try w.store.load("r").nextDue == Int64(1_767_225_600_000 + 300_000))
    }

    @Test func rebootRunsOncePerBoot() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"cron":"@reboot","command":["true"]}"#)
        let s1 = w.scheduler([r])
        s1.prepare()
        s1.tick()
        s1.waitIdle()
        #expect(w.records.all.isEmpty, "not in the boot it was first seen in")
        var o = Scheduler.Options()
        o.bootID = "next-boot"
        let records = w.records
        for _ in 0..<2 {
            let s2 = Scheduler(routines: [r], store: w.store, clock: w.clock, options: o, emit: { records.add($0) }, warn: { _ in })
            s2.prepare()
            s2.tick()
            s2.waitIdle()
        }
        #expect(w.records.finished.map(\.trigger) == ["reboot"])
    }

    @Test func eventFiresOnTheFirstMatchingRecord() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"event":".type == \"check.result\" and .ok == false","command":["true"]}"#)
        let s = w.scheduler([r])
        s.prepare()
        #expect(s.event(JSONObject(["type": .string("check.result"), "ok": .bool(true)])) == 0)
        #expect(s.event(JSONObject(["type": .string("health.sample")])) == 0)
        #expect(w.records.all.isEmpty)
        #expect(s.event(JSONObject(["type": .string("check.result"), "ok": .bool(false)])) == 1)
        s.waitIdle()
        #expect(w.records.finished.map(\.trigger) == ["event"])
    }

    /// A run left `running` by a scheduler that is gone is marked interrupted at the next start.
    @Test func interruptedRunsAreMarked() throws {
        let w = try World()
        defer { w.cleanup() }
        let r = try w.routine(#"{"every":"1h","command":["true"]}"#)
        // A dead scheduler's run: pid 2^22+1 is above pid_max's default and does not exist.
        let dead = RunEntryFixture.running(pid: 4_194_305)
        try w.store.update("r") { $0.runs = [dead]; $0.nextDue = 1_767_225_600_000 + 3_600_000 }
        let s = w.scheduler([r])
        s.prepare()
        #expect(w.records.all.map(\.outcome) == ["interrupted"])
        #expect(try w.store.load("r").runs.map(\.outcome) == ["interrupted"])
        // A run by a live scheduler (this process) is left alone.
        try w.store.update("r") { $0.runs = [RunEntryFixture.running(pid: getpid())] }
        w.scheduler([r], pid: 1).prepare()
        #expect(try w.store.load("r").runs.map(\.outcome) == ["running"])
        // The same pid with another start time is a later process that reused the pid.
        var reused = RunEntryFixture.running(pid: getpid())
        reused.schedulerStart = try #require(processStartTicks(getpid())) + 1
        try w.store.update("r") { $0.runs = [reused] }
        w.scheduler([r], pid: 1).prepare()
        #expect(try w.store.load("r").runs.map(\.outcome) == ["interrupted"])
        var same = RunEntryFixture.running(pid: getpid())
        same.schedulerStart = processStartTicks(getpid())
        try w.store.update("r") { $0.runs = [same] }
        w.scheduler([r], pid: 1).prepare()
        #expect(try w.store.load("r").runs.map(\.outcome) == ["running"])
    }
}

enum RunEntryFixture {
    static func running(pid: Int32) -> RunEntry {
        let json = #"{"id":"r-1-\#(pid)-1","trigger":"interval","started_ms":1767225600000,"outcome":"running","scheduler_pid":\#(pid),"boot_id":"test-boot"}"#
        // swiftlint:disable:next force_try
        return try! ValueDecoder.decode(RunEntry.self, from: try! JSONReader.parse(json))
    }
}
