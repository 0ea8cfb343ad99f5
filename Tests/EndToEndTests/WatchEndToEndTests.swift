import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// osmoda-watch with real parts: a real HTTP service on loopback, osmoda-check probing
/// it, real restart commands, a stand-in osmoda-gen that records its calls, a real
/// HTTP endpoint that records what it is sent, and a real osmodad for the ledger.
@Suite(.serialized) struct WatchEndToEndTests {
    /// A tiny HTTP service; writes its pid, serves 200 on every GET.
    static let service = #"""
        import http.server, os, sys
        port, pidfile = int(sys.argv[1]), sys.argv[2]
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"ok\n")
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", port), H)
        open(pidfile + ".tmp", "w").write(str(os.getpid())); os.replace(pidfile + ".tmp", pidfile)
        s.serve_forever()
        """#

    /// The restart command: starts the service in its own session and waits until it
    /// answers; with --fail, fails as a broken unit would.
    static let restart = #"""
        import os, socket, subprocess, sys, time
        d, port = sys.argv[1], int(sys.argv[2])
        open(os.path.join(d, "restarts.log"), "a").write("restart\n")
        if "--fail" in sys.argv:
            print("unit failed to start", file=sys.stderr); sys.exit(1)
        subprocess.Popen([sys.executable, os.path.join(d, "service.py"), str(port), os.path.join(d, "service.pid")],
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close(); sys.exit(0)
            except OSError:
                time.sleep(0.05)
        sys.exit(1)
        """#

    /// A stand-in osmoda-gen: logs every call; `current` prints generation 42.
    static let gen = #"""
        import json, sys
        log, args = sys.argv[1], sys.argv[2:]
        open(log, "a").write(" ".join(args) + "\n")
        if args[0] == "current":
            print(json.dumps({"type": "gen.info", "ts": "2026-01-01T00:00:00.000Z", "number": 42, "current": True}))
        elif args[0] == "rollback":
            print(json.dumps({"type": "gen.switch", "ts": "2026-01-01T00:00:00.000Z", "from": 43, "to": int(args[2]), "ok": True}))
        """#

    /// An endpoint that appends each POST body to a file and answers 204.
    static let hook = #"""
        import http.server, os, sys
        out, portfile = sys.argv[1], sys.argv[2]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                open(out, "ab").write(body + b"\n")
                self.send_response(204); self.end_headers()
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        open(portfile + ".tmp", "w").write(str(s.server_address[1])); os.replace(portfile + ".tmp", portfile)
        s.serve_forever()
        """#

    final class World {
        let dir: URL
        var children: [Process] = []
        var pgroups: [Int32] = []
        init() throws {
            dir = try ToolRunner.temporaryDirectory("osmoda-watch")
            for (name, text) in [("service.py", service), ("restart.py", restart), ("gen.py", gen), ("hook.py", hook)] {
                try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
        }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func read(_ name: String) -> String { (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "" }

        func startService(port: Int) throws {
            let r = try ToolRunner.run("/usr/bin/python3", [path("restart.py"), dir.path, String(port)])
            guard r.status == 0 else { throw RunnerError("service did not start: \(r.stderrText)") }
        }

        var servicePID: Int32? { Int32(read("service.pid").trimmingCharacters(in: .whitespacesAndNewlines)) }

        func spawn(_ exe: String, _ args: [String], stdin: Any? = nil, stdout: Any? = nil, env: [String: String] = [:]) throws -> Process {
            let p = Process()
            p.executableURL = exe.hasPrefix("/") ? URL(fileURLWithPath: exe) : ToolRunner.productsDirectory.appendingPathComponent(exe)
            p.arguments = args
            p.environment = ToolRunner.cleanEnvironment(env)
            if let stdin { p.standardInput = stdin }
            p.standardOutput = stdout ?? FileHandle.nullDevice
            p.standardError = FileHandle(forWritingAtPath: path("stderr.log")) ?? FileHandle.nullDevice
            try p.run()
            children.append(p)
            return p
        }

        /// `osmoda-check --http URL --every 200ms | osmoda-watch ARGS > watch.out`.
        func pipeline(url: String, watchArgs: [String], env: [String: String] = [:]) throws -> (Process, Process) {
            _ = FileManager.default.createFile(atPath: path("watch.out"), contents: nil)
            _ = FileManager.default.createFile(atPath: path("stderr.log"), contents: nil)
            let pipe = Pipe()
            let check = try spawn("osmoda-check", ["--http", url, "--every", "200ms", "--format", "json", "--timeout", "1s"], stdout: pipe)
            let out = FileHandle(forWritingAtPath: path("watch.out"))
            let watch = try spawn("osmoda-watch", watchArgs, stdin: pipe, stdout: out, env: env)
            return (check, watch)
        }

        var records: [JSONObject] {
            read("watch.out").split(separator: "\n").compactMap { line in
                if case .object(let o)? = try? JSONReader.parse(String(line)) { return o }
                return nil
            }
        }

        /// Polls until `condition` holds or the deadline passes.
        func waitFor(_ what: String, seconds: Double = 30, _ condition: () -> Bool) throws {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if condition() { return }
                usleep(50_000)
            }
            throw RunnerError("timed out waiting for \(what); watch output:\n\(read("watch.out"))\nstderr:\n\(read("stderr.log"))")
        }

        func stop() {
            for p in children where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
            if let pid = servicePID { kill(pid, SIGKILL) }
            for g in pgroups { kill(-g, SIGKILL) }
            ToolRunner.removeTemporaryDirectory(dir)
        }
    }

    static func actions(_ rs: [JSONObject], kind: String, phase: String) -> [JSONObject] {
        rs.filter { $0["type"] == .string("watch.action") && $0["kind"] == .string(kind) && $0["phase"] == .string(phase) }
    }

    func writeRules(_ w: World, _ rules: String) throws -> String {
        try rules.write(to: w.dir.appendingPathComponent("rules.json"), atomically: true, encoding: .utf8)
        return w.path("rules.json")
    }

    @Test func aKilledServiceIsRestartedAndTheLedgerShowsIt() throws {
        let w = try World()
        defer { w.stop() }
        let daemon = DaemonWorld(root: w.dir.appendingPathComponent("daemon"))
        let osmodad = try daemon.startDaemon()
        w.children.append(osmodad)
        let port = try freePort()
        try w.startService(port: port)
        let firstPID = try #require(w.servicePID)
        let rules = try writeRules(w, """
            {"watchers": [{"name": "web", "match": ".type == \\"check.result\\"", "fail_when": ".ok == false",
              "trip": {"failures": 2, "within_records": 3}, "recover": {"passes": 2},
              "ladder": [{"kind": "restart", "command": ["/usr/bin/python3", "\(w.path("restart.py"))", "\(w.dir.path)", "\(port)"],
                          "cap": {"max": 3, "per": "10m"}, "settle": "2s", "timeout": "10s"}]}]}
            """)
        let (_, watch) = try w.pipeline(url: "http://127.0.0.1:\(port)/",
                                        watchArgs: ["--rules", rules, "--state", w.path("state.json"), "--ledger", "on", "--user", "--pass-matched"],
                                        env: daemon.env)
        try w.waitFor("a passing check") { w.records.contains { $0["type"] == .string("check.result") && $0["ok"] == .bool(true) } }
        kill(firstPID, SIGKILL)
        try w.waitFor("the restart to end") { !Self.actions(w.records, kind: "restart", phase: "end").isEmpty }
        try w.waitFor("recovery") { w.records.contains { $0["type"] == .string("watch.state") && $0["state"] == .string("ok") } }
        #expect(watch.isRunning)
        let end = try #require(Self.actions(w.records, kind: "restart", phase: "end").first)
        #expect(end["result"] == .string("ok"))
        #expect(w.servicePID != nil && w.servicePID != firstPID)
        let states = w.records.filter { $0["type"] == .string("watch.state") }.compactMap { r -> String? in
            if case .string(let s)? = r["state"] { return s } else { return nil }
        }
        #expect(states == ["failing", "ok"])
        // The restart is in the ledger: start and end.
        let tail = try daemon.ledger(["tail", "-n", "10"])
        let payloads = jsonLines(tail).compactMap { e -> JSONObject? in if case .object(let p)? = e["payload"] { return p } else { return nil } }
        let phases = payloads.filter { $0["type"] == .string("watch.action") }.map { $0["phase"] }
        #expect(phases == [.string("start"), .string("end")], "\(tail.stdoutText)")
        for r in w.records where r["type"] != .string("check.result") {
            #expect(try RecordSchemaTests.undocumentedFields(r) == [], "\(r)")
        }
        kill(osmodad.processIdentifier, SIGTERM)
        osmodad.waitUntilExit()
    }

    @Test func failingRestartsRollBackOnceThenNotify() throws {
        let w = try World()
        defer { w.stop() }
        let port = try freePort()
        try w.startService(port: port)
        let hookRunner = try w.spawn("/usr/bin/python3", [w.path("hook.py"), w.path("hook.out"), w.path("hook.port")])
        try w.waitFor("the hook endpoint") { !w.read("hook.port").isEmpty }
        _ = hookRunner
        let hookPort = w.read("hook.port")
        // --gen-command names a program: a two-line wrapper calls the python stand-in.
        try "#!/bin/sh\nexec /usr/bin/python3 '\(w.path("gen.py"))' '\(w.path("gen.log"))' \"$@\"\n"
            .write(to: w.dir.appendingPathComponent("gen.sh"), atomically: true, encoding: .utf8)
        chmod(w.path("gen.sh"), 0o755)
        let profile = w.path("profile")
        let rules = try writeRules(w, """
            {"watchers": [{"name": "web", "match": ".type == \\"check.result\\"", "fail_when": ".ok == false",
              "trip": {"failures": 2, "within_records": 3}, "recover": {"passes": 2},
              "ladder": [
                {"kind": "restart", "command": ["/usr/bin/python3", "\(w.path("restart.py"))", "\(w.dir.path)", "\(port)", "--fail"],
                 "cap": {"max": 2, "per": "10m"}, "backoff": "300ms", "settle": "1s"},
                {"kind": "rollback", "profile": "\(profile)", "settle": "1s"},
                {"kind": "notify", "url": "http://127.0.0.1:\(hookPort)/hook", "timeout": "5s", "retries": 1}]}]}
            """)
        let (_, watch) = try w.pipeline(url: "http://127.0.0.1:\(port)/",
                                        watchArgs: ["--rules", rules, "--state", w.path("state.json"), "--ledger", "off",
                                                    "--gen-command", w.path("gen.sh")])
        _ = watch
        try w.waitFor("the generation to be learnt") { w.read("gen.log").contains("current --profile \(profile)") }
        let pid = try #require(w.servicePID)
        kill(pid, SIGKILL)
        try w.waitFor("the notify to be received") { !w.read("hook.out").isEmpty }
        try w.waitFor("the failed state") { w.records.contains { $0["state"] == .string("failed") } }
        // Quiet for a while: nothing is repeated once the ladder is exhausted.
        usleep(1_500_000)
        let rs = w.records
        #expect(Self.actions(rs, kind: "restart", phase: "end").map { $0["result"] } == [.string("failed"), .string("failed")])
        #expect(Self.actions(rs, kind: "rollback", phase: "end").map { $0["result"] } == [.string("ok")])
        #expect(Self.actions(rs, kind: "rollback", phase: "start").first?["generation"] == .int(42))
        #expect(Self.actions(rs, kind: "notify", phase: "end").map { $0["result"] } == [.string("ok")])
        let rollbacks = w.read("gen.log").split(separator: "\n").filter { $0.hasPrefix("rollback") }
        #expect(rollbacks == ["rollback --to 42 --profile \(profile)"])
        #expect(w.read("restarts.log").split(separator: "\n").count == 3)  // the test's own start, then two failed restarts
        let body = try #require(w.read("hook.out").split(separator: "\n").first)
        guard case .object(let alert) = try JSONReader.parse(String(body)) else { Issue.record("not an object"); return }
        #expect(alert["type"] == .string("watch.alert"))
        #expect(alert["watcher"] == .string("web"))
        #expect(alert["alert"] == .string("notify"))
        #expect(w.read("hook.out").split(separator: "\n").count == 1)
    }

    /// The rollback step against the real osmoda-gen and a NixOS profile fixture: the
    /// watcher learns generation 2 while healthy; a bad deploy then adds generation 4
    /// and makes it current; when restarts do not hold, the rollback goes to 2 (the
    /// generation known good, not "one back" to 3), runs switch-to-configuration there
    /// once, and is never repeated.
    @Test func rollbackGoesToTheGenerationKnownGoodWithTheRealOsmodaGen() throws {
        let w = try World()
        defer { w.stop() }
        let fixture = try GenerationFixture(generations: 3, current: 2)
        defer { fixture.remove() }
        let port = try freePort()
        try w.startService(port: port)
        let rules = try writeRules(w, """
            {"watchers": [{"name": "web", "match": ".type == \\"check.result\\"", "fail_when": ".ok == false",
              "trip": {"failures": 2, "within_records": 3}, "recover": {"passes": 2},
              "ladder": [
                {"kind": "restart", "command": ["/usr/bin/python3", "\(w.path("restart.py"))", "\(w.dir.path)", "\(port)", "--fail"],
                 "cap": {"max": 1, "per": "10m"}, "settle": "500ms"},
                {"kind": "rollback", "profile": "\(fixture.profile)", "settle": "1s"}]}]}
            """)
        // No --gen-command: osmoda-watch finds osmoda-gen beside itself.
        _ = try w.pipeline(url: "http://127.0.0.1:\(port)/",
                           watchArgs: ["--rules", rules, "--state", w.path("state.json"), "--ledger", "off"])
        try w.waitFor("generation 2 to be learnt") { w.read("state.json").contains("\"last_good\":2") }
        // A bad deploy: a newer generation appears and becomes current.
        let bad = try fixture.addGeneration()
        try fixture.setCurrent(bad)
        let pid = try #require(w.servicePID)
        kill(pid, SIGKILL)
        try w.waitFor("the rollback to end") { !Self.actions(w.records, kind: "rollback", phase: "end").isEmpty }
        try w.waitFor("the failed state") { w.records.contains { $0["state"] == .string("failed") } }
        usleep(1_500_000)
        let rs = w.records
        #expect(Self.actions(rs, kind: "rollback", phase: "start").map { $0["generation"] } == [.int(2)])
        #expect(Self.actions(rs, kind: "rollback", phase: "end").map { $0["result"] } == [.string("ok")])
        #expect(fixture.current() == 2, "the profile points at the generation known good")
        #expect(fixture.calls().map(\.action) == ["switch"])
        #expect(fixture.calls().map(\.generation) == [2])
    }

    @Test func killedMidIncidentTheLadderGoesOnWhereItWas() throws {
        let w = try World()
        defer { w.stop() }
        let rules = try writeRules(w, """
            {"watchers": [{"name": "web", "match": ".type == \\"check.result\\"", "fail_when": ".ok == false",
              "ladder": [
                {"kind": "restart", "command": ["/usr/bin/python3", "-c", "import os,time; open('\(w.path("slow.pgid"))','w').write(str(os.getpgid(0))); time.sleep(60)"],
                 "timeout": "2m"},
                {"kind": "run", "command": ["/usr/bin/touch", "\(w.path("second-step-ran"))"], "settle": "0s"}]}]}
            """)
        let failing = #"{"type":"check.result","ts":"2026-01-01T00:00:00.000Z","name":"web","ok":false}"# + "\n"
        // First run: the restart starts and hangs; osmoda-watch is killed with -9.
        _ = FileManager.default.createFile(atPath: w.path("watch.out"), contents: nil)
        _ = FileManager.default.createFile(atPath: w.path("stderr.log"), contents: nil)
        let input = Pipe()
        let first = try w.spawn("osmoda-watch", ["--rules", rules, "--state", w.path("state.json"), "--ledger", "off"],
                                stdin: input, stdout: FileHandle(forWritingAtPath: w.path("watch.out")))
        input.fileHandleForWriting.write(Data(failing.utf8))
        try w.waitFor("the slow restart to start") { !w.read("slow.pgid").isEmpty }
        kill(first.processIdentifier, SIGKILL)
        // The step's own process group outlives osmoda-watch; end it as a reboot would
        // (it also holds Foundation's termination pipe for `first`, inherited).
        if let g = Int32(w.read("slow.pgid")) { kill(-g, SIGKILL) }
        first.waitUntilExit()
        #expect(w.read("state.json").contains("\"phase\":\"running\""))

        // Second run, same state: the interrupted attempt counts; the next step runs;
        // the restart is not started again.
        // Two failing records: the first judges the interrupted attempt (the next step
        // runs), the second judges that step (the ladder is exhausted).
        let again = try ToolRunner.run("osmoda-watch", ["--rules", rules, "--state", w.path("state.json"), "--ledger", "off"],
                                       stdin: Data((failing + failing).utf8))
        #expect(again.status == 0, "\(again.stderrText)")
        let rs = again.stdoutLines.compactMap { l -> JSONObject? in if case .object(let o)? = try? JSONReader.parse(l) { return o } else { return nil } }
        #expect(Self.actions(rs, kind: "restart", phase: "end").first?["result"] == .string("interrupted"))
        #expect(Self.actions(rs, kind: "restart", phase: "start").isEmpty)
        #expect(Self.actions(rs, kind: "run", phase: "end").first?["result"] == .string("ok"))
        #expect(FileManager.default.fileExists(atPath: w.path("second-step-ran")))
        #expect(rs.last?["type"] == .string("watch.alert") && rs.last?["alert"] == .string("exhausted"))
    }

    /// The README's main job, run the way CI can: the pipeline part of scripts/demo
    /// with the debug binaries, a real service killed and healed, the ledger checked.
    @Test func theDemoHealsItsServiceAndTheLedgerShowsIt() throws {
        let r = try ToolRunner.run("/bin/bash", [ToolRunner.packageRoot.appendingPathComponent("scripts/demo").path,
                                                 "--once", "--bin", ToolRunner.productsDirectory.path],
                                   cwd: ToolRunner.packageRoot, timeout: 150)
        #expect(r.status == 0, "\(r.stderrText)")
        #expect(r.stderrText.contains("healed: the service answers again"))
        #expect(r.stdoutText.contains("watch.action") || r.stdoutText.contains("restart"))
    }

    /// A notify command gets the alert in its environment; a step past its timeout is
    /// ended with its whole process group, and the ladder goes on.
    @Test func notifyCommandGetsTheAlertAndTimeoutsKillTheGroup() throws {
        let w = try World()
        defer { w.stop() }
        let rules = try writeRules(w, """
            {"watchers": [{"name": "web", "match": ".type == \\"check.result\\"", "fail_when": ".ok == false",
              "ladder": [
                {"kind": "run", "command": ["/usr/bin/python3", "-c", "import os,subprocess,time; p=subprocess.Popen(['sleep','30']); open('\(w.path("grandchild.pid"))','w').write(str(p.pid)); time.sleep(30)"],
                 "timeout": "500ms"},
                {"kind": "notify", "command": ["/usr/bin/python3", "-c", "import os; open('\(w.path("alert.json"))','w').write(os.environ['OSMODA_WATCH_ALERT'])"]}]}]}
            """)
        let failing = #"{"type":"check.result","ts":"2026-01-01T00:00:00.000Z","name":"web","ok":false}"# + "\n"
        let started = Date()
        let r = try ToolRunner.run("osmoda-watch", ["--rules", rules, "--state", w.path("s.json"), "--ledger", "off"], stdin: Data(failing.utf8))
        #expect(r.status == 0, "\(r.stderrText)")
        #expect(Date().timeIntervalSince(started) < 10)
        let rs = r.stdoutLines.compactMap { l -> JSONObject? in if case .object(let o)? = try? JSONReader.parse(l) { return o } else { return nil } }
        #expect(Self.actions(rs, kind: "run", phase: "end").first?["result"] == .string("timeout"))
        // The grandchild was in the step's process group: it is gone too.
        let grandchild = try #require(Int32(w.read("grandchild.pid")))
        var gone = false
        for _ in 0..<100 {
            // Gone, or a zombie waiting for a reaper that a container may not have.
            let stat = (try? String(contentsOfFile: "/proc/\(grandchild)/stat", encoding: .utf8)) ?? ""
            if kill(grandchild, 0) != 0 || stat.contains(") Z ") { gone = true; break }
            usleep(20_000)
        }
        #expect(gone, "the step's grandchild outlived its timeout")
        guard case .object(let alert)? = try? JSONReader.parse(w.read("alert.json")) else {
            Issue.record("no alert in the notify command's environment: \(w.read("alert.json"))")
            return
        }
        #expect(alert["type"] == .string("watch.alert") && alert["alert"] == .string("notify") && alert["watcher"] == .string("web"))
    }

    /// A dry run reads the default state file but never writes it, and records nothing.
    @Test func dryRunDoesNotMoveTheRealLadder() throws {
        let w = try World()
        defer { w.stop() }
        let rules = try writeRules(w, #"{"watchers": [{"name": "web", "match": ".type == \"check.result\"", "fail_when": ".ok == false", "ladder": [{"kind": "run", "command": ["/bin/false"]}]}]}"#)
        let input = Data(#"{"type":"check.result","ok":false}"#.utf8 + [0x0A])
        let env = ["XDG_STATE_HOME": w.path("xdg"), "OSMODA_NO_AUTOSTART": "1"]
        let r = try ToolRunner.run("osmoda-watch", ["--rules", rules, "--dry-run", "--ledger", "on", "--user"], stdin: input,
                                   environment: env)
        #expect(r.status == 0, "\(r.stderrText)")
        #expect(r.stdoutText.contains(#""result":"dry_run""#))
        #expect(!FileManager.default.fileExists(atPath: w.path("xdg/osmoda/watch/rules.state.json")))
        // The real run saves there.
        let real = try ToolRunner.run("osmoda-watch", ["--rules", rules, "--ledger", "off"], stdin: input, environment: env)
        #expect(real.status == 0, "\(real.stderrText)")
        #expect(FileManager.default.fileExists(atPath: w.path("xdg/osmoda/watch/rules.state.json")))
    }

    @Test func garbageLinesDoNotStopTheWatcher() throws {
        let w = try World()
        defer { w.stop() }
        let rules = try writeRules(w, #"{"watchers": [{"name": "web", "match": ".type == \"check.result\"", "fail_when": ".ok == false"}]}"#)
        let input = "not json\n{\"type\":\"check.result\",\"ok\":false}\n\u{1}\u{2}\n{\"type\":\"other\",\"x\":1}\n"
        let r = try ToolRunner.run("osmoda-watch", ["--rules", rules, "--state", w.path("s.json"), "--ledger", "off"], stdin: Data(input.utf8))
        #expect(r.status == 65)
        #expect(r.stderrText.contains("<stdin>:1:1"))
        #expect(r.stderrText.contains("<stdin>:3:1"))
        #expect(r.stdoutLines.contains { $0.contains("\"state\":\"failed\"") })
        #expect(r.stdoutLines.last == "{\"type\":\"other\",\"x\":1}")
        // The state file is private to its user.
        let mode = try FileManager.default.attributesOfItem(atPath: w.path("s.json"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// Started with SIGTERM blocked (as a Foundation `Process` or a Dispatch thread may
    /// leave it), osmoda-watch unblocks it, so a stop request ends it: a tool that
    /// waits on stdin must not outlive a `kill`.
    @Test func aBlockedSigtermIsUnblockedAtStart() throws {
        let w = try World()
        defer { w.stop() }
        let rules = try writeRules(w, #"{"watchers": [{"name": "web", "match": ".type == \"check.result\"", "fail_when": ".ok == false"}]}"#)
        // A tiny launcher blocks SIGTERM, then execs the tool (the mask survives exec).
        let launcher = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}); os.execv(sys.argv[1], sys.argv[1:])"
        let input = Pipe()
        let p = try w.spawn("/usr/bin/python3", ["-c", launcher, ToolRunner.productsDirectory.appendingPathComponent("osmoda-watch").path,
                                                 "--rules", rules, "--state", w.path("s.json"), "--ledger", "off"], stdin: input)
        // Wait until the launcher has become osmoda-watch and has unblocked SIGTERM
        // (it stays blocked, and this times out, if the tool does not), then stop it.
        func sigtermBlocked() -> Bool? {
            guard let cmdline = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/cmdline", encoding: .utf8),
                  cmdline.contains("--rules"),
                  let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
                  let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            return mask & (1 << (UInt64(SIGTERM) - 1)) != 0
        }
        try w.waitFor("osmoda-watch to unblock SIGTERM", seconds: 10) { sigtermBlocked() == false }
        kill(p.processIdentifier, SIGTERM)
        try w.waitFor("osmoda-watch to end on SIGTERM", seconds: 10) { !p.isRunning }
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGTERM)
        _ = input
    }
}

extension DaemonWorld {
    init(root: URL) { self.root = root }
}
