import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// A tool running in the background with its output in files, for tests that act
/// while it runs (kill it, stop a server, commit).
final class BackgroundTool {
    let process = Process()
    let outURL: URL
    let errURL: URL

    init(_ tool: String, _ args: [String], in dir: URL, environment: [String: String] = [:]) throws {
        outURL = dir.appendingPathComponent("bg-\(UUID().uuidString).out")
        errURL = dir.appendingPathComponent("bg-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = ToolRunner.productsDirectory.appendingPathComponent(tool)
        process.arguments = args
        process.environment = ToolRunner.cleanEnvironment(environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    var records: [JSONObject] { parseLines((try? String(contentsOf: outURL, encoding: .utf8)) ?? "") }
    var stderr: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

    /// Waits for the exit; the status, or nil at the timeout (then it is killed).
    func wait(timeout: TimeInterval) -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }
}

func parseLines(_ text: String) -> [JSONObject] {
    text.split(separator: "\n").compactMap { line in
        if case .object(let o)? = try? JSONReader.parse(String(line)) { return o }
        return nil
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

extension JSONObject {
    func string(_ k: String) -> String? { if case .string(let s)? = self[k] { return s } else { return nil } }
    func int(_ k: String) -> Int? { if case .int(let i)? = self[k] { return Int(i) } else { return nil } }
}

/// A fixture, a loopback service and a state directory for one scenario.
struct SwitchWorld {
    let fx: GenerationFixture
    let server: HealthHTTPService
    var stateDir: String { fx.root.appendingPathComponent("switch-state").path }

    init(generations: Int = 2, current: Int = 1) throws {
        fx = try GenerationFixture(generations: generations, current: current)
        server = try HealthHTTPService()
    }

    func args(_ sub: [String], ledger: [String] = ["--ledger", "off"]) -> [String] {
        // status and list only read: they take no --ledger.
        sub + ["--state-dir", stateDir] + (["status", "list"].contains(sub.first ?? "") ? [] : ledger)
    }

    func beginArgs(_ target: String, _ extra: [String], ledger: [String] = ["--ledger", "off"]) -> [String] {
        args(["begin", target, "--profile", fx.profile, "--booted", fx.root.appendingPathComponent("none").path,
              "--http", server.url, "--check-timeout", "1s", "--timer", "off"] + extra, ledger: ledger)
    }

    func switchTool(_ sub: [String]) throws -> ToolRunner.Result {
        try ToolRunner.run("osmoda-switch", args(sub))
    }

    /// The records every process wrote for switch `id` (the journal in the state dir).
    func journal(_ id: String) -> [JSONObject] {
        parseLines((try? String(contentsOfFile: "\(stateDir)/\(id).jsonl", encoding: .utf8)) ?? "")
    }

    /// The id of the only switch in the state dir, once begin has written it.
    func onlyID() -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDir)) ?? []
        return names.first { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
    }

    func state(_ id: String) -> JSONObject? {
        guard let text = try? String(contentsOfFile: "\(stateDir)/\(id).json", encoding: .utf8),
              case .object(let o)? = try? JSONReader.parse(text) else { return nil }
        return o
    }

    func remove() {
        server.stop()
        fx.remove()
    }
}

@Suite(.serialized) struct GenEndToEndTests {
    @Test func listCurrentSwitchRollback() throws {
        let fx = try GenerationFixture(generations: 3, current: 1)
        defer { fx.remove() }
        let list = try ToolRunner.run("osmoda-gen", ["list", "--profile", fx.profile, "--booted", fx.storePath(2), "--format", "json"])
        #expect(list.status == 0, "\(list.stderrText)")
        let gens = parseLines(list.stdoutText)
        #expect(gens.map { $0.int("number") } == [1, 2, 3])
        #expect(gens.first?.keys == ["type", "ts", "number", "store_path", "created", "nixos_version", "kernel", "current", "booted", "boot_default"])
        #expect(gens.map { $0["current"] } == [.bool(true), .bool(false), .bool(false)])
        #expect(gens.map { $0["booted"] } == [.bool(false), .bool(true), .bool(false)])
        #expect(gens[1].string("nixos_version") == "24.05.2" && gens[1].string("kernel") == "6.6.2")
        #expect(gens[2].string("store_path") == fx.storePath(3))
        for g in gens { #expect(try RecordSchemaTests.undocumentedFields(g) == []) }

        let current = try ToolRunner.run("osmoda-gen", ["current", "--profile", fx.profile])
        #expect(current.status == 0)
        #expect(parseLines(current.stdoutText).count == 1)
        #expect(parseLines(current.stdoutText).first?.int("number") == 1)
        // OSMODA_PROFILE names the profile too.
        let byEnv = try ToolRunner.run("osmoda-gen", ["current"], environment: ["OSMODA_PROFILE": fx.profile])
        #expect(parseLines(byEnv.stdoutText).first?.int("number") == 1)

        let sw = try ToolRunner.run("osmoda-gen", ["switch", "3", "--profile", fx.profile, "--ledger", "off"])
        #expect(sw.status == 0, "\(sw.stderrText)")
        let rec = try #require(parseLines(sw.stdoutText).first)
        #expect(rec.string("type") == "gen.switch" && rec.int("from") == 1 && rec.int("to") == 3 && rec.string("result") == "ok")
        #expect(rec.string("action") == "switch" && rec.int("exit_status") == 0)
        #expect(try RecordSchemaTests.undocumentedFields(rec) == [])
        #expect(fx.current() == 3)
        #expect(fx.calls().map { "\($0.action) \($0.generation)" } == ["switch 3"])

        // A newer generation appears; rollback --to goes to the number given, not "one back".
        try fx.addGeneration()
        try fx.control(1, .fail(2))
        let rb = try ToolRunner.run("osmoda-gen", ["rollback", "--to", "1", "--profile", fx.profile, "--ledger", "off"])
        #expect(rb.status == 1, "activation failed: \(rb.stderrText)")
        let rbRec = try #require(parseLines(rb.stdoutText).first)
        #expect(rbRec.string("result") == "activation_failed" && rbRec.int("exit_status") == 2 && rbRec.int("to") == 1)
        #expect(fx.current() == 1)
        #expect(rb.stderrText.contains("activation_failed"))

        for (code, result) in [(1, "pre_switch_failed"), (4, "units_failed"), (3, "failed")] {
            try fx.control(2, .fail(Int32(code)))
            let r = try ToolRunner.run("osmoda-gen", ["switch", "2", "--profile", fx.profile, "--ledger", "off"])
            #expect(r.status == 1)
            #expect(parseLines(r.stdoutText).first?.string("result") == result)
        }

        // A hang is killed at the timeout and reported.
        try fx.control(3, .hang)
        let started = Date()
        let hung = try ToolRunner.run("osmoda-gen", ["switch", "3", "--profile", fx.profile, "--timeout", "500ms", "--ledger", "off"])
        #expect(hung.status == 1)
        #expect(parseLines(hung.stdoutText).first?.string("result") == "timeout")
        #expect(Date().timeIntervalSince(started) < 10)

        let missing = try ToolRunner.run("osmoda-gen", ["switch", "9", "--profile", fx.profile, "--ledger", "off"])
        #expect(missing.status == 66, "\(missing.stderrText)")
        #expect(missing.stderrText.contains("generation 9 does not exist"))
    }

    @Test func diffNeedsNix() throws {
        let fx = try GenerationFixture(generations: 2)
        defer { fx.remove() }
        let empty = fx.root.appendingPathComponent("emptybin")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try ToolRunner.run("osmoda-gen", ["diff", "1", "2", "--profile", fx.profile], environment: ["PATH": empty.path])
        #expect(r.status == 69)
        #expect(r.stderrText.contains("nix is not installed"))

        // A stand-in nix that prints what nix store diff-closures prints.
        let bin = fx.root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let nix = bin.appendingPathComponent("nix")
        try Data("#!/bin/sh\n[ \"$4 $5\" = \"diff-closures \(fx.storePath(1))\" ] || exit 9\nprintf 'firefox: 119.0 \\342\\206\\222 120.0, +1234.5 KiB\\nhello: \\342\\210\\205 \\342\\206\\222 2.12\\n'\n".utf8).write(to: nix)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: nix.path)
        let d = try ToolRunner.run("osmoda-gen", ["diff", "1", "2", "--profile", fx.profile, "--format", "json"], environment: ["PATH": bin.path + ":/usr/bin:/bin"])
        #expect(d.status == 0, "\(d.stderrText)")
        let recs = parseLines(d.stdoutText)
        #expect(recs.map { $0.string("package") } == ["firefox", "hello"])
        #expect(recs.first?.string("change") == "119.0 → 120.0, +1234.5 KiB")
        for r in recs { #expect(try RecordSchemaTests.undocumentedFields(r) == []) }
    }

    @Test func commandBackend() throws {
        let dir = try ToolRunner.temporaryDirectory("osmoda-cmd")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let stateFile = dir.appendingPathComponent("state").path
        try Data("v1\n".utf8).write(to: URL(fileURLWithPath: stateFile))
        let config = dir.appendingPathComponent("backend.json")
        try Data("""
            {"current": ["/bin/cat", "\(stateFile)"],
             "apply": ["/bin/sh", "-c", "echo \\"$1\\" > \(stateFile)", "apply", "{target}"],
             "return": ["/bin/sh", "-c", "echo \\"$1\\" > \(stateFile)", "return", "{target}"]}
            """.utf8).write(to: config)
        let cur = try ToolRunner.run("osmoda-gen", ["current", "--backend", "command", "--config", config.path])
        #expect(cur.status == 0, "\(cur.stderrText)")
        #expect(parseLines(cur.stdoutText).first?.string("store_path") == "v1")
        let sw = try ToolRunner.run("osmoda-gen", ["switch", "v2", "--backend", "command", "--config", config.path, "--ledger", "off"])
        #expect(sw.status == 0, "\(sw.stderrText)")
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == "v2\n")

        // SafeSwitch on top of it: the check fails, so it returns to v2.
        let begin = try ToolRunner.run("osmoda-switch", ["begin", "v3", "--backend", "command", "--config", config.path,
                                                         "--tcp", "127.0.0.1:1", "--ttl", "5s", "--interval", "100ms",
                                                         "--state-dir", dir.appendingPathComponent("sw").path, "--ledger", "off", "--timer", "off"])
        #expect(begin.status == 1, "\(begin.stderrText)")
        let rb = try #require(parseLines(begin.stdoutText).last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("to_path") == "v2" && rb.string("action") == "return")
        #expect(try String(contentsOfFile: stateFile, encoding: .utf8) == "v2\n")

        try Data("{\"current\": [], \"apply\": [\"x\"], \"return\": [\"y\"]}".utf8).write(to: config)
        let bad = try ToolRunner.run("osmoda-gen", ["current", "--backend", "command", "--config", config.path])
        #expect(bad.status == 78)
        #expect(bad.stderrText.contains("field 'current'"))
    }
}

@Suite(.serialized) struct SwitchEndToEndTests {
    @Test func happyCommit() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let r = try ToolRunner.run("osmoda-switch", w.beginArgs("2", ["--ttl", "1500ms", "--interval", "200ms"]))
        #expect(r.status == 0, "\(r.stderrText)")
        let recs = parseLines(r.stdoutText)
        #expect(recs.first?.string("type") == "switch.begin")
        #expect(recs.first?.string("action") == "test" && recs.first?.string("result") == "ok")
        #expect(recs.filter { $0.string("type") == "switch.check" }.count >= 3)
        let commit = try #require(recs.last)
        #expect(commit.string("type") == "switch.commit" && commit.string("reason") == "checks_passed" && commit.string("action") == "boot")
        #expect(w.fx.current() == 2)
        #expect(w.fx.calls().map { "\($0.action) \($0.generation)" } == ["test 2", "boot 2"])
        for rec in recs { #expect(try RecordSchemaTests.undocumentedFields(rec) == [], "\(rec)") }

        let id = try #require(recs.first?.string("id"))
        let status = try w.switchTool(["status", id, "--format", "json"])
        let st = try #require(parseLines(status.stdoutText).first)
        #expect(st.string("phase") == "committed")
        #expect(try RecordSchemaTests.undocumentedFields(st) == [])
        // The journal holds the same records as stdout.
        #expect(w.journal(id).count == recs.count)
        let list = try w.switchTool(["list", "--format", "json"])
        #expect(parseLines(list.stdoutText).map { $0.string("id") } == [id])
    }

    @Test func failingCheckReturnsToTheRecordedGenerationThoughANewerOneAppeared() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "30s", "--interval", "200ms", "--tolerance", "1"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.check" } })
        // Meanwhile someone builds generation 3 and makes it the profile's current one.
        let three = try w.fx.addGeneration()
        try w.fx.setCurrent(three)
        w.server.stop()
        let status = bg.wait(timeout: 30)
        #expect(status == 1, "a rolled-back switch never exits 0: \(bg.stderr)")
        let recs = bg.records
        let checks = recs.filter { $0.string("type") == "switch.check" }
        #expect(checks.suffix(2).map { $0["ok"] } == [.bool(false), .bool(false)], "tolerance 1: the second failure in a row decides")
        let rb = try #require(recs.last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("reason") == "checks_failed")
        #expect(rb.int("from") == 2 && rb.int("to") == 1 && rb.string("action") == "switch")
        #expect(w.fx.current() == 1, "back to the recorded generation, not to \(three) nor one back from it")
        #expect(w.fx.calls().last.map { "\($0.action) \($0.generation)" } == "switch 1")
    }

    @Test func confirmRequiredAndMissingRollsBackAtTheTTL() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let started = Date()
        let r = try ToolRunner.run("osmoda-switch", w.beginArgs("2", ["--ttl", "1500ms", "--interval", "300ms", "--confirm"]))
        #expect(r.status == 1, "\(r.stderrText)")
        #expect(Date().timeIntervalSince(started) >= 1.5)
        let rb = try #require(parseLines(r.stdoutText).last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("reason") == "not_confirmed")
        #expect(w.fx.current() == 1)
        #expect(w.fx.calls().map { "\($0.action) \($0.generation)" } == ["test 2", "switch 1"])
    }

    @Test func confirmCommitsAndASecondBeginIsRefused() throws {
        let w = try SwitchWorld(generations: 3)
        defer { w.remove() }
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "30s", "--interval", "200ms", "--confirm"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.begin" } })
        let id = try #require(bg.records.first?.string("id"))
        let second = try ToolRunner.run("osmoda-switch", w.beginArgs("3", ["--ttl", "5s"]))
        #expect(second.status == 75)
        #expect(second.stderrText.contains("switch '\(id)'") && second.stderrText.contains("probation"))
        let commit = try w.switchTool(["commit", id])
        #expect(commit.status == 0, "\(commit.stderrText)")
        #expect(parseLines(commit.stdoutText).last?.string("reason") == "confirmed")
        #expect(bg.wait(timeout: 10) == 0)
        #expect(w.fx.current() == 2)
        #expect(w.fx.calls().map { "\($0.action) \($0.generation)" } == ["test 2", "boot 2"])
    }

    @Test func killedDriverStillRollsBackByTheDeadline() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "3s", "--interval", "200ms"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.begin" } })
        let begin = try #require(bg.records.first)
        let id = try #require(begin.string("id"))
        let deadline = try #require(begin.string("deadline").flatMap { Timestamp(rfc3339: $0) })
        #expect(begin.int("guardian_pid") != nil)
        kill(bg.process.processIdentifier, SIGKILL)
        #expect(bg.wait(timeout: 5) == 128 + SIGKILL || bg.process.terminationReason == .uncaughtSignal)
        w.server.stop()
        // The state file is final before the record reaches the journal: wait for the record.
        #expect(eventually(15) { w.state(id)?.string("phase") == "rolled_back" && w.journal(id).last?.string("type") == "switch.rollback" }, "the guardian rolled back: \(w.journal(id))")
        let rb = try #require(w.journal(id).last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("by") == "guardian" && rb.int("to") == 1)
        let ended = try #require(rb.string("ended").flatMap { Timestamp(rfc3339: $0) })
        // By the deadline, give or take the guardian's poll and a loaded machine.
        #expect(ended.millisecondsSinceEpoch <= deadline.millisecondsSinceEpoch + 2000, "by the deadline")
        #expect(w.fx.current() == 1)
        #expect(w.fx.calls().last.map { "\($0.action) \($0.generation)" } == "switch 1")
    }

    @Test func rebootDuringProbationIsUndoneByBootCheck() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "60s", "--interval", "500ms"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.begin" } })
        let begin = try #require(bg.records.first)
        let id = try #require(begin.string("id"))
        // A reboot: every process is gone at once, the state file stays.
        if let g = begin.int("guardian_pid") { kill(Int32(g), SIGKILL) }
        kill(bg.process.processIdentifier, SIGKILL)
        _ = bg.wait(timeout: 5)
        if let g = begin.int("guardian_pid") { #expect(eventually(5) { kill(Int32(g), 0) != 0 }) }
        #expect(w.state(id)?.string("phase") == "probation")
        #expect(w.fx.current() == 1, "probation never touched the boot default")

        let check = try w.switchTool(["boot-check"])
        #expect(check.status == 1, "a switch was rolled back: \(check.stderrText)")
        let rb = try #require(parseLines(check.stdoutText).last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("by") == "boot_check" && rb.string("reason") == "open_at_boot")
        #expect(w.state(id)?.string("phase") == "rolled_back")
        #expect(w.fx.calls().last.map { "\($0.action) \($0.generation)" } == "switch 1")
        // Nothing left to do the second time.
        #expect(try w.switchTool(["boot-check"]).status == 0)
    }

    @Test func hangingActivationIsKilledAtTheTimeoutAndRolledBack() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        try w.fx.control(2, .hang, action: "test")
        let started = Date()
        let r = try ToolRunner.run("osmoda-switch", w.beginArgs("2", ["--ttl", "5s", "--timeout", "700ms"]))
        #expect(r.status == 1, "\(r.stderrText)")
        #expect(Date().timeIntervalSince(started) < 8)
        let recs = parseLines(r.stdoutText)
        #expect(recs.first?.string("type") == "switch.begin" && recs.first?.string("result") == "timeout")
        #expect(recs.first?.string("detail")?.contains("killed") == true)
        #expect(recs.last?.string("type") == "switch.rollback" && recs.last?.string("reason") == "activation_timeout")
        #expect(w.fx.current() == 1)
        #expect(w.fx.calls().map { "\($0.action) \($0.generation)" } == ["test 2", "switch 1"])
    }

    @Test func failedRollbackIsLoudWithItsOwnStatusAndLedgerEntries() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let daemon = try DaemonWorld()
        defer { daemon.remove() }
        let p = try daemon.startDaemon()
        defer {
            kill(p.processIdentifier, SIGTERM)
            if !eventually(10, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        try w.fx.control(1, .fail(2), action: "switch")
        w.server.stop()
        let r = try ToolRunner.run("osmoda-switch", w.beginArgs("2", ["--ttl", "10s", "--interval", "200ms"], ledger: ["--ledger", "on", "--user"]),
                                   environment: daemon.env)
        #expect(r.status == 70, "\(r.stderrText)")
        #expect(r.stderrText.contains("ROLLBACK FAILED"))
        let last = try #require(parseLines(r.stdoutText).last)
        #expect(last.string("type") == "switch.rollback_failed" && last.string("result") == "activation_failed")
        #expect(try RecordSchemaTests.undocumentedFields(last) == [])

        let tail = try daemon.ledger(["tail", "-n", "20"])
        let types = parseLines(tail.stdoutText).compactMap { e -> String? in
            if case .object(let o)? = e["payload"] { return o.string("type") }
            return nil
        }
        #expect(types.first == "switch.begin")
        #expect(types.contains("switch.check"))
        #expect(types.last == "switch.rollback_failed")
        let state = try w.switchTool(["status", try #require(last.string("id")), "--format", "json"])
        #expect(parseLines(state.stdoutText).first?.string("phase") == "rollback_failed")
    }
    @Test func timerDeadlineEndsAnAbandonedSwitch() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "4s", "--interval", "10s"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.begin" } })
        let begin = try #require(bg.records.first)
        let id = try #require(begin.string("id"))
        if let g = begin.int("guardian_pid") { kill(Int32(g), SIGKILL) }
        kill(bg.process.processIdentifier, SIGKILL)
        _ = bg.wait(timeout: 5)
        let deadline = try #require(begin.string("deadline").flatMap { Timestamp(rfc3339: $0) })
        // Before the deadline the timer leaves it alone.
        let early = try w.switchTool(["deadline", id])
        if Date().timeIntervalSince1970 * 1000 < Double(deadline.millisecondsSinceEpoch) - 500 {
            #expect(early.status == 0 && w.state(id)?.string("phase") == "probation")
        }
        w.server.stop()
        while Date().timeIntervalSince1970 * 1000 <= Double(deadline.millisecondsSinceEpoch) + 50 { usleep(50_000) }
        let late = try w.switchTool(["deadline", id])
        #expect(late.status == 1, "\(late.stderrText)")
        let rb = try #require(parseLines(late.stdoutText).last)
        #expect(rb.string("type") == "switch.rollback" && rb.string("by") == "timer" && rb.string("reason") == "checks_failing_at_deadline")
        #expect(w.fx.current() == 1)
        let list = try w.switchTool(["list", "--format", "json"])
        #expect(parseLines(list.stdoutText).first?.string("phase") == "rolled_back")
    }

    @Test func buildCommandNamesTheGeneration() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        let failing = try ToolRunner.run("osmoda-switch", w.args(["begin", "--build-command", #"["/bin/sh","-c","echo building >&2; exit 3"]"#,
                                                                   "--profile", w.fx.profile, "--tcp", "127.0.0.1:1", "--timer", "off"]))
        #expect(failing.status == 65, "\(failing.stderrText)")
        #expect(failing.stderrText.contains("nothing was changed"))
        #expect(w.fx.calls().isEmpty && w.fx.current() == 1)
        // The build prints a store path; begin finds the generation that holds it.
        let store = w.fx.root.appendingPathComponent("store/gen2").path
        let r = try ToolRunner.run("osmoda-switch", w.args(["begin", "--build-command", "[\"/bin/echo\",\"\(store)\"]",
                                                             "--profile", w.fx.profile, "--http", w.server.url, "--ttl", "300ms",
                                                             "--interval", "100ms", "--timer", "off"]))
        #expect(r.status == 0, "\(r.stderrText)")
        #expect(parseLines(r.stdoutText).first?.int("to") == 2)
        #expect(w.fx.current() == 2)
    }
    @Test func killedDriverWithAMissingConfirmRollsBackAtTheTTL() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        // The service stays healthy: only the deadline can end this switch.
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "2s", "--interval", "200ms", "--confirm"]), in: w.fx.root)
        #expect(eventually(10) { bg.records.contains { $0.string("type") == "switch.begin" } })
        let begin = try #require(bg.records.first)
        let id = try #require(begin.string("id"))
        let deadline = try #require(begin.string("deadline").flatMap { Timestamp(rfc3339: $0) })
        kill(bg.process.processIdentifier, SIGKILL)
        _ = bg.wait(timeout: 5)
        // The state file is final before the record reaches the journal: wait for the record.
        #expect(eventually(15) { w.state(id)?.string("phase") == "rolled_back" && w.journal(id).last?.string("type") == "switch.rollback" }, "\(w.journal(id))")
        let rb = try #require(w.journal(id).last)
        #expect(rb.string("by") == "guardian" && rb.string("reason") == "not_confirmed")
        let started = try #require(rb.string("started").flatMap { Timestamp(rfc3339: $0) })
        #expect(started.millisecondsSinceEpoch >= deadline.millisecondsSinceEpoch, "not before the TTL")
        #expect(started.millisecondsSinceEpoch <= deadline.millisecondsSinceEpoch + 2000, "and by the deadline (poll and load)")
        #expect(w.journal(id).contains { $0.string("type") == "switch.check" && $0.string("by") == "guardian" }, "the guardian kept checking")
        #expect(w.fx.current() == 1)
    }

    @Test func driverKilledMidActivationLeavesNoActivationBehind() throws {
        let w = try SwitchWorld()
        defer { w.remove() }
        // switch-to-configuration test hangs (its own process group, a long timeout):
        // once the driver is gone nothing would stop it finishing after a rollback.
        try w.fx.control(2, .hang, action: "test")
        let bg = try BackgroundTool("osmoda-switch", w.beginArgs("2", ["--ttl", "30s", "--interval", "200ms", "--timeout", "120s"]), in: w.fx.root)
        #expect(eventually(15) { w.onlyID().flatMap { w.state($0)?.int("activation_pgid") } != nil }, "the activation's group is recorded")
        let id = try #require(w.onlyID())
        let pgid = try #require(w.state(id)?.int("activation_pgid"))
        #expect(eventually(5) { w.fx.calls().map(\.action) == ["test"] })
        kill(bg.process.processIdentifier, SIGKILL)
        _ = bg.wait(timeout: 5)
        #expect(eventually(15) { w.state(id)?.string("phase") == "rolled_back" }, "the guardian rolled back: \(w.journal(id))")
        #expect(w.state(id)?.string("reason") == "interrupted" && w.state(id)?.string("by") == "guardian")
        #expect(w.state(id)?.int("activation_pgid") == nil)
        #expect(kill(-Int32(pgid), 0) != 0 || liveGroupMembers(Int32(pgid)).isEmpty, "the hanging activation was killed")
        #expect(w.fx.current() == 1)
        #expect(w.fx.calls().map { "\($0.action) \($0.generation)" } == ["test 2", "switch 1"])
    }
}

/// Processes of group `pgid` that are not zombies.
func liveGroupMembers(_ pgid: Int32) -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap { name -> Int32? in
        guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 2, f[0] != "Z", f[0] != "X", Int32(f[2]) == pgid else { return nil }
        return pid
    }
}
