import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// osmoda-routines as a process: kill -9 in the middle of a run, events on a live pipe,
/// malformed definitions next to good ones.
@Suite(.serialized)
struct RoutinesEndToEndTests {
    struct Env {
        let root: URL
        var defs: String { root.path + "/defs" }
        var state: String { root.path + "/state" }
        init() throws {
            root = try ToolRunner.temporaryDirectory("osmoda-routines-e2e")
            try FileManager.default.createDirectory(atPath: root.path + "/defs", withIntermediateDirectories: true)
        }
        func define(_ name: String, _ json: String) throws {
            try json.write(toFile: defs + "/" + name, atomically: true, encoding: .utf8)
            chmod(defs + "/" + name, 0o644)
        }
        var dirArgs: [String] { ["--dir", defs, "--state", state] }
        /// `osmoda-routines serve` on these directories, its output thrown away.
        func startServe() throws -> Process {
            let p = Process()
            p.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmoda-routines")
            p.arguments = ["serve", "--ledger", "off"] + dirArgs
            p.environment = ToolRunner.cleanEnvironment()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        func stateJSON(_ name: String) -> [String: Any]? {
            guard let d = FileManager.default.contents(atPath: state + "/\(name).state.json") else { return nil }
            return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        }
        func runs(_ name: String) -> [[String: Any]] { stateJSON(name)?["runs"] as? [[String: Any]] ?? [] }
    }

    static func records(_ text: String) throws -> [JSONObject] {
        try text.split(separator: "\n").map { line in
            guard case .object(let o) = try JSONReader.parse(String(line)) else { throw RunnerError("not an object: \(line)") }
            return o
        }
    }

    static func wait(_ seconds: Double, _ cond: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if cond() { return true }
            usleep(20_000)
        }
        return cond()
    }

    @Test func killDashNineMidRunLeavesConsistentHistory() throws {
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        try e.define("slow.json", #"{"every":"1h","command":["sleep","30"]}"#)
        let p = try e.startServe()
        // The run is on disk, with its child, before we kill the scheduler.
        #expect(Self.wait(15) { e.runs("slow").last?["child_pid"] != nil })
        kill(p.processIdentifier, SIGKILL)
        let runs = e.runs("slow")
        #expect(runs.count == 1)
        #expect(runs.last?["outcome"] as? String == "running")
        // The child lives on in its own process group (documented); end it.
        let child = (runs.last?["child_pid"] as? Int).map(Int32.init) ?? 0
        #expect(child > 0 && kill(child, 0) == 0)
        if child > 0 { kill(-child, SIGKILL) }
        p.waitUntilExit()
        // The next start marks it interrupted, says so on stdout, and does not run it again.
        let r = try ToolRunner.run("osmoda-routines", ["run-due", "--ledger", "off"] + e.dirArgs)
        let out = try Self.records(r.stdoutText)
        #expect(out.count == 1)
        #expect(out.first?["outcome"] == .string("interrupted"))
        #expect(r.status == 1)
        for o in out { #expect(try RecordSchemaTests.undocumentedFields(o).isEmpty) }
        let h = try ToolRunner.run("osmoda-routines", ["history", "slow", "--format", "json"] + e.dirArgs)
        #expect(try Self.records(h.stdoutText).map { $0["outcome"] } == [.string("interrupted")])
    }

    @Test func eventFiresOnTheFirstMatchingLineWhileTheInputIsOpen() throws {
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        try e.define("alert.json", #"{"event":".type == \"check.result\" and .ok == false","command":["echo","fired"]}"#)
        let p = Process()
        p.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmoda-routines")
        p.arguments = ["serve", "--events", "--ledger", "off"] + e.dirArgs
        p.environment = ToolRunner.cleanEnvironment()
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        let lock = NSLock()
        nonisolated(unsafe) var collected = Data()
        output.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            lock.withLock { collected.append(d) }
        }
        try p.run()
        let w = input.fileHandleForWriting
        try w.write(contentsOf: Data(#"{"type":"check.result","ts":"2026-01-01T00:00:00Z","ok":true}"#.utf8 + [0x0A]))
        try w.write(contentsOf: Data("not json\n".utf8))
        try w.write(contentsOf: Data(#"{"type":"check.result","ts":"2026-01-01T00:00:01Z","ok":false}"#.utf8 + [0x0A]))
        // The input stays open: the routine must fire now, not at the end of the input.
        #expect(Self.wait(15) { lock.withLock { String(decoding: collected, as: UTF8.self) }.contains(#""outcome":"ok""#) })
        #expect(p.isRunning)
        try w.close()
        p.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        let text = lock.withLock { String(decoding: collected, as: UTF8.self) }
        let out = try Self.records(text)
        #expect(out.map { $0["outcome"] } == [.string("running"), .string("ok")])
        #expect(out.last?["trigger"] == .string("event"))
        #expect(out.last?["stdout_tail"] == .string("fired\n"))
        #expect(p.terminationStatus == 0)
        for o in out { #expect(try RecordSchemaTests.undocumentedFields(o).isEmpty) }
    }

    @Test func malformedDefinitionIsReportedAndTheOthersRun() throws {
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        try e.define("good.json", #"{"every":"1h","command":["echo","good"]}"#)
        try e.define("bad.json", #"{"every":"1h","command":["echo"],"shell":true}"#)
        let r = try ToolRunner.run("osmoda-routines", ["run-due", "--ledger", "off"] + e.dirArgs)
        #expect(r.status == 65)
        #expect(r.stderrText == "osmoda-routines: error: skipped \(e.defs)/bad.json: 'shell': unknown field\n")
        let out = try Self.records(r.stdoutText)
        #expect(out.map { $0["outcome"] } == [.string("running"), .string("ok")])
        // list shows the good one, and the bad one on stderr.
        let l = try ToolRunner.run("osmoda-routines", ["list", "--format", "json"] + e.dirArgs)
        #expect(l.status == 65)
        let info = try Self.records(l.stdoutText)
        #expect(info.map { $0["name"] } == [.string("good")])
        for o in info { #expect(try RecordSchemaTests.undocumentedFields(o).isEmpty) }
    }

    @Test func addListRunDisableRemove() throws {
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        let add = try ToolRunner.run("osmoda-routines", ["add", "hello", "--cron", "*/5 * * * *", "--tz", "UTC", "--format", "json"] + e.dirArgs + ["--", "echo", "hi"])
        #expect(add.status == 0, "\(add.stderrText)")
        let bad = try ToolRunner.run("osmoda-routines", ["add", "worse", "--cron", "0 0 32 * *"] + e.dirArgs + ["--", "true"])
        #expect(bad.status == 65)
        #expect(bad.stderrText.contains("field 3 (day of month): 32 is out of range 1-31"))
        // A definition with env may carry secrets: owner-only; one without stays 0644.
        let secret = try ToolRunner.run("osmoda-routines", ["add", "secret", "--every", "1h", "--env", "TOKEN=x"] + e.dirArgs + ["--", "true"])
        #expect(secret.status == 0, "\(secret.stderrText)")
        let mode = { (f: String) in (try? FileManager.default.attributesOfItem(atPath: e.defs + "/" + f)[.posixPermissions] as? Int) ?? -1 }
        #expect(mode("secret.json") == 0o600)
        #expect(mode("hello.json") == 0o644)
        let again = try ToolRunner.run("osmoda-routines", ["add", "hello", "--every", "1m"] + e.dirArgs + ["--", "true"])
        #expect(again.status == 64)
        let run = try ToolRunner.run("osmoda-routines", ["run", "hello", "--ledger", "off"] + e.dirArgs)
        #expect(run.status == 0)
        #expect(try Self.records(run.stdoutText).last?["stdout_tail"] == .string("hi\n"))
        #expect(try ToolRunner.run("osmoda-routines", ["disable", "hello"] + e.dirArgs).status == 0)
        let list = try ToolRunner.run("osmoda-routines", ["list", "--format", "json"] + e.dirArgs)
        #expect(try Self.records(list.stdoutText).first?["enabled"] == .bool(false))
        // Enabled again, it counts from now: no catch-up for the disabled time.
        #expect(try ToolRunner.run("osmoda-routines", ["enable", "hello"] + e.dirArgs).status == 0)
        #expect(e.stateJSON("hello")?["last_due_ms"] != nil)
        // history: a name that cannot be a routine's is a usage error; an unknown one, 66.
        let badName = try ToolRunner.run("osmoda-routines", ["history", "../x"] + e.dirArgs)
        #expect(badName.status == 64)
        #expect(badName.stderrText.contains("'../x' is not a valid routine name"))
        let unknown = try ToolRunner.run("osmoda-routines", ["history", "nosuch"] + e.dirArgs)
        #expect(unknown.status == 66)
        #expect(unknown.stderrText.contains("no routine named 'nosuch'"))
        #expect(unknown.stdoutText.isEmpty)
        #expect(try ToolRunner.run("osmoda-routines", ["history", "hello"] + e.dirArgs).status == 0)
        #expect(try ToolRunner.run("osmoda-routines", ["remove", "hello"] + e.dirArgs).status == 0)
        // Removed, its history stays and can still be read.
        #expect(try ToolRunner.run("osmoda-routines", ["history", "hello"] + e.dirArgs).status == 0)
        #expect(try ToolRunner.run("osmoda-routines", ["remove", "hello"] + e.dirArgs).status == 66)
    }
}

extension RoutinesEndToEndTests {
    @Test func sigtermStopsServeAndEndsTheRunsInFlight() throws {
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        try e.define("slow.json", #"{"every":"1h","command":["sh","-c","sleep 30 & wait"]}"#)
        let p = try e.startServe()
        #expect(Self.wait(15) { e.runs("slow").last?["child_pid"] != nil })
        let child = (e.runs("slow").last?["child_pid"] as? Int).map(Int32.init) ?? 0
        kill(p.processIdentifier, SIGTERM)
        #expect(Self.wait(10) { !p.isRunning }, "serve did not stop on SIGTERM")
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let last = e.runs("slow").last
        #expect(last?["outcome"] as? String == "interrupted")
        #expect(last?["ended_ms"] != nil)
        // The whole group got the signal: no process of it is left.
        #expect(Self.wait(5) { kill(-child, 0) != 0 })
        if child > 0 { kill(-child, SIGKILL) }
    }
}

extension RoutinesEndToEndTests {
    /// Every run is recorded in the ledger when osmodad is there: start and end.
    @Test func runsAreRecordedInTheLedger() throws {
        let w = try DaemonWorld()
        defer { w.remove() }
        let daemon = try w.startDaemon()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let e = try Env()
        defer { ToolRunner.removeTemporaryDirectory(e.root) }
        try e.define("hello.json", #"{"every":"1h","command":["echo","hi"]}"#)
        let r = try ToolRunner.run("osmoda-routines", ["run", "hello", "--ledger", "on", "--user"] + e.dirArgs, environment: w.env)
        #expect(r.status == 0, "\(r.stderrText)")
        let q = try w.ledger(["query", "--type", "routine.run"])
        let entries = jsonLines(q)
        #expect(entries.count == 2, "\(q.stderrText)")
        let outcomes = entries.compactMap { entry -> JSONValue? in
            if case .object(let payload)? = entry["payload"] { return payload["outcome"] }
            return nil
        }
        #expect(outcomes == [.string("running"), .string("ok")])
    }
}
