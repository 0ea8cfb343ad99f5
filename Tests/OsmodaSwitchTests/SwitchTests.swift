import Foundation
import OsmodaCheck
import OsmodaCore
@testable import OsmodaSwitch
import OsmodaSystem
import OsmodaTestSupport
import Testing

struct ProfileTests {
    @Test func readsGenerationsAndReplacesTheLinkAtomically() throws {
        let fx = try GenerationFixture(generations: 3, current: 2)
        defer { fx.remove() }
        let loader = fx.root.appendingPathComponent("loader.conf").path
        let profile = NixProfile(path: fx.profile, bootedPath: fx.storePath(1), loaderConf: loader)
        #expect(try profile.numbers() == [1, 2, 3])
        #expect(try profile.currentNumber() == 2)
        #expect(try profile.storePath(3) == fx.storePath(3))
        let gens = try profile.list()
        #expect(gens.map(\.current) == [false, true, false])
        #expect(gens.map(\.booted) == [true, false, false])
        #expect(gens.map(\.bootDefault) == [false, true, false], "without loader.conf the profile's current generation")
        try Data("timeout 3\ndefault nixos-generation-3.conf\n".utf8).write(to: URL(fileURLWithPath: loader))
        #expect(try profile.list().map(\.bootDefault) == [false, false, true])

        try profile.setCurrent(3)
        #expect(fx.current() == 3)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: fx.profile) == "system-3-link", "relative, as nix writes it")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fx.root.appendingPathComponent("profiles").path).allSatisfy { !$0.contains("tmp") })
        #expect(throws: GenError.self) { try profile.setCurrent(9) }
        #expect(fx.current() == 3, "a missing generation leaves the link alone")

        // A store path no generation holds becomes the next generation, the profile unchanged.
        let n = try profile.addGeneration(fx.storePath(1))
        #expect(n == 4 && fx.current() == 3)
        #expect(try profile.number(forStorePath: fx.storePath(2)) == 2)
    }

    @Test func switchToConfigurationExitCodes() {
        #expect(ActivationResult.nixos(exitStatus: 0, timedOut: false) == .ok)
        #expect(ActivationResult.nixos(exitStatus: 1, timedOut: false) == .preSwitchFailed)
        #expect(ActivationResult.nixos(exitStatus: 2, timedOut: false) == .activationFailed)
        #expect(ActivationResult.nixos(exitStatus: 4, timedOut: false) == .unitsFailed)
        #expect(ActivationResult.nixos(exitStatus: 3, timedOut: false) == .failed)
        #expect(ActivationResult.nixos(exitStatus: nil, timedOut: false) == .failed)
        #expect(ActivationResult.nixos(exitStatus: nil, timedOut: true) == .timeout)
    }

    @Test func commandConfigIsStrict() throws {
        let ok = try CommandConfig.parse(Array(#"{"current":["/bin/true"],"apply":["a","{target}"],"return":["r","{target}"]}"#.utf8), source: "c.json")
        #expect(ok.commit == nil && ok.returnTo == ["r", "{target}"])
        #expect(CommandBackend(config: ok).argv(ok.apply, GenRef(number: nil, path: "v2")) == ["a", "v2"])
        for (text, needle) in [(#"{"current":["x"],"apply":["a"],"return":["r"],"extra":1}"#, "extra"),
                               (#"{"current":[],"apply":["a"],"return":["r"]}"#, "field 'current'"),
                               (#"{"current":["x"],"apply":["a"]}"#, "return"),
                               ("{", "c.json")] {
            do {
                _ = try CommandConfig.parse(Array(text.utf8), source: "c.json")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.kind == .badData)
                #expect(error.message.contains(needle), "\(error.message)")
            }
        }
    }
}

struct SwitchStoreTests {
    func state(_ id: String, fx: GenerationFixture, phase: SwitchPhase = .probation, file: String? = nil) -> SwitchState {
        SwitchState(id: id, phase: phase, backend: BackendSpec(kind: "nixos", profile: fx.profile, booted: "/nonexistent"),
                    from: GenRef(number: 1, path: fx.storePath(1)), to: GenRef(number: 2, path: fx.storePath(2)),
                    createdMs: 1, deadlineMs: 0, ttlMs: 1000, intervalMs: 100, tolerance: 0, confirm: false, confirmed: false,
                    activationTimeoutMs: 5000,
                    checks: CheckSource(probeFile: nil, flags: file.map { [["file", $0]] } ?? [], flagTimeoutMs: 1000),
                    rounds: 0, consecutiveFailures: 0, activatedMs: 1)
    }

    @Test func stateRoundTripsAndIdsAreSafe() throws {
        let fx = try GenerationFixture()
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        let s = state("sw-1", fx: fx)
        try store.save(s)
        #expect(try store.load("sw-1") == s)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: store.directory + "/sw-0.json"))
        #expect(try store.all().map(\.id) == ["sw-1"], "an unreadable file is skipped")
        for bad in ["", "../etc/passwd", "a/b", "-x", String(repeating: "a", count: 65)] { #expect(!SwitchStore.validID(bad)) }
        #expect(throws: GenError.self) { try store.load("../x") }
        #expect(SwitchStore.defaultDirectory(env: { $0 == "OSMODA_SWITCH_DIR" ? "/d" : nil }, euid: 0) == "/d")
        #expect(SwitchStore.defaultDirectory(env: { _ in nil }, euid: 0) == "/var/lib/osmoda/switch")
        #expect(SwitchStore.defaultDirectory(env: { $0 == "XDG_STATE_HOME" ? "/x" : nil }, euid: 1000) == "/x/osmoda/switch")
        #expect(SwitchStore.defaultDirectory(env: { $0 == "HOME" ? "/h" : nil }, euid: 1000) == "/h/.local/state/osmoda/switch")
    }

    @Test func finishActsOnceAndGoesToTheRecordedGeneration() throws {
        let fx = try GenerationFixture(generations: 2, current: 1)
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        try store.save(state("sw-2", fx: fx))
        try fx.setCurrent(try fx.addGeneration())
        var seen: [String] = []
        let engine = SafeSwitch(store: store, role: "operator") { type, _ in seen.append(type) }
        let end = engine.finish("sw-2", commit: false, reason: "operator", verdictNanos: nil)
        #expect(end.phase == .rolledBack)
        #expect(fx.current() == 1)
        // A second actor finds it ended and does nothing.
        let again = engine.finish("sw-2", commit: true, reason: "confirmed", verdictNanos: nil)
        #expect(again.phase == .rolledBack)
        #expect(fx.calls().map(\.action) == ["switch"])
        #expect(seen == ["switch.rollback"])
        #expect(throws: GenError.self) { try engine.rollback("nope") }
    }

    @Test func aRecordedProcessIsOursOnlyInTheSameBootWithTheSameStartTime() throws {
        let me = getpid()
        let start = try #require(ProcessLife.startTime(me))
        #expect(ProcessLife.alive(me, start: start, bootID: ProcessLife.bootID()))
        #expect(!ProcessLife.alive(me, start: start, bootID: "another-boot"), "after a reboot a pid is someone else's")
        #expect(!ProcessLife.alive(me, start: start + "0", bootID: nil), "a reused pid has another start time")
        #expect(!ProcessLife.alive(0, start: nil, bootID: nil))
    }

    @Test func deadlineDecisions() throws {
        let fx = try GenerationFixture(generations: 2, current: 1)
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        let healthy = fx.root.appendingPathComponent("healthy").path
        let engine = SafeSwitch(store: store, role: "timer") { _, _ in }

        // Healthy at the deadline, no confirm needed: commit.
        _ = FileManager.default.createFile(atPath: healthy, contents: nil)
        try store.save(state("sw-a", fx: fx, file: healthy))
        #expect(engine.decideAtDeadline("sw-a", freshRound: true).phase == .committed)
        #expect(fx.current() == 2)

        // Confirm required and missing: rollback, however healthy.
        try fx.setCurrent(1)
        var s = state("sw-b", fx: fx, file: healthy)
        s.confirm = true
        try store.save(s)
        let b = engine.decideAtDeadline("sw-b", freshRound: true)
        #expect(b.phase == .rolledBack && b.reason == "not_confirmed")

        // Failing at the deadline: rollback.
        try FileManager.default.removeItem(atPath: healthy)
        try store.save(state("sw-c", fx: fx, file: healthy))
        let c = engine.decideAtDeadline("sw-c", freshRound: true)
        #expect(c.phase == .rolledBack && c.reason == "checks_failing_at_deadline")

        // The recorded generation's switch fails: rollback_failed.
        try fx.control(1, .fail(4), action: "switch")
        try store.save(state("sw-d", fx: fx, file: healthy))
        let d = engine.decideAtDeadline("sw-d", freshRound: true)
        #expect(d.phase == .rollbackFailed && d.detail?.contains("exit status 4") == true)
        // boot-check retries it (and fails loudly again while the cause stays).
        let retried = try engine.bootCheck()
        #expect(retried.map(\.phase) == [.rollbackFailed] && retried.first?.reason == "retry_at_boot")
        // An operator's retry works once the cause is fixed.
        try fx.control(1, .succeed)
        #expect(try engine.rollback("sw-d").phase == .rolledBack)
        #expect(try engine.bootCheck().isEmpty, "nothing left to do")
    }

    @Test func aSwitchFromAnotherBootIsNeverCommitted() throws {
        let fx = try GenerationFixture(generations: 2, current: 1)
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        var s = state("sw-r", fx: fx)
        s.bootID = "a-boot-before-this-one"
        s.deadlineMs = Int64(Date().timeIntervalSince1970 * 1000) + 600_000
        try store.save(s)
        let engine = SafeSwitch(store: store, role: "operator") { _, _ in }
        // The machine booted the old default: committing now would make a generation that
        // is not running the default while the state says committed.
        let end = try engine.commit("sw-r")
        #expect(end.phase == .rolledBack && end.reason == "rebooted")
        #expect(fx.current() == 1)
        #expect(fx.calls().map(\.action) == ["switch"])
    }

    @Test func aConfirmAfterTheTTLIsTooLate() throws {
        let fx = try GenerationFixture(generations: 2, current: 1)
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        var s = state("sw-late", fx: fx)
        s.confirm = true
        s.deadlineMs = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        try store.save(s)
        let engine = SafeSwitch(store: store, role: "operator") { _, _ in }
        let end = try engine.commit("sw-late")
        #expect(end.phase == .rolledBack && end.reason == "not_confirmed")
        #expect(fx.current() == 1)

        // In time, the same confirm commits.
        s.id = "sw-ok"
        s.deadlineMs = Int64(Date().timeIntervalSince1970 * 1000) + 600_000
        try store.save(s)
        #expect(try engine.commit("sw-ok").phase == .committed)
        #expect(fx.current() == 2)

        // Never seen to activate (its driver died before the activation ended): never committed.
        s.id = "sw-never"
        s.activatedMs = nil
        try fx.setCurrent(1)
        try store.save(s)
        let never = try engine.commit("sw-never")
        #expect(never.phase == .rolledBack && never.reason == "not_activated")
        #expect(fx.current() == 1)
    }

    @Test func anActivationLeftByADeadDriverIsKilledBeforeTheRollback() throws {
        let fx = try GenerationFixture(generations: 2, current: 1)
        defer { fx.remove() }
        let store = SwitchStore(directory: fx.root.appendingPathComponent("state").path)
        try store.prepare()
        // A switch-to-configuration test still running (its own process group) whose
        // driver is gone: it must not be able to finish after the rollback.
        let orphan = try Spawn.start(SpawnOptions(argv: ["/bin/sh", "-c", "sleep 1000 & wait"]))
        var s = state("sw-o", fx: fx)
        s.deadlineMs = Int64(Date().timeIntervalSince1970 * 1000) + 600_000
        s.driverPid = nil
        s.bootID = ProcessLife.bootID()
        s.activationPgid = orphan.pid
        s.activationStart = ProcessLife.startTime(orphan.pid)
        try store.save(s)
        let engine = SafeSwitch(store: store, role: "guardian") { _, _ in }
        let end = engine.guardSwitch("sw-o")
        #expect(end.phase == .rolledBack && end.reason == "interrupted")
        #expect(end.activationPgid == nil)
        #expect(orphan.wait().signal == 9, "the orphaned activation's group was killed")
        #expect(liveMembers(ofGroup: orphan.pid).isEmpty, "no member of its group is left running")
        #expect(fx.current() == 1)
        #expect(fx.calls().map(\.action) == ["switch"])
    }

    /// The pids of processes in group `pgid` that are not zombies (a killed member may
    /// wait to be reaped by init).
    func liveMembers(ofGroup pgid: Int32) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> Int32? in
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let f = stat[stat.index(after: close)...].split(separator: " ")
            guard f.count > 2, f[0] != "Z", f[0] != "X", Int32(f[2]) == pgid else { return nil }
            return pid
        }
    }
}
