import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// A private daemon world: its own socket, state and config directories.
struct DaemonWorld {
    let root: URL
    var env: [String: String] {
        ["OSMODA_SOCKET": root.appendingPathComponent("run/osmodad.sock").path,
         "OSMODA_STATE_DIR": root.appendingPathComponent("state").path,
         "OSMODA_CONFIG_DIR": root.appendingPathComponent("config").path]
    }
    var database: String { root.appendingPathComponent("state/ledger.sqlite").path }

    init() throws { root = try ToolRunner.temporaryDirectory("osmoda-ledger") }

    func ledger(_ args: [String], stdin: Data = Data(), extra: [String: String] = [:]) throws -> ToolRunner.Result {
        try ToolRunner.run("osmoda-ledger", args + ["--user"] + (args.first == "export" ? [] : ["--format", "json"]),
                           stdin: stdin, environment: env.merging(extra) { $1 }, timeout: 120)
    }

    /// Starts osmodad in the foreground of a child process.
    func startDaemon(_ arguments: [String] = []) throws -> Process {
        let p = Process()
        p.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmodad")
        p.arguments = ["--user"] + arguments
        p.environment = ToolRunner.cleanEnvironment(env)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<200 {
            if FileManager.default.fileExists(atPath: env["OSMODA_SOCKET"] ?? "") { return p }
            usleep(20_000)
        }
        throw RunnerError("osmodad did not create its socket")
    }

    /// Lets another uid reach the socket, so that the daemon itself must decide.
    func openSocketToOthers() {
        chmod(root.path, 0o755)
        chmod(root.appendingPathComponent("run").path, 0o755)
        chmod(env["OSMODA_SOCKET"] ?? "", 0o666)
    }

    /// Runs `osmoda-ledger ARGS --user` as uid and gid 65534 (nobody), with no autostart.
    func ledgerAsNobody(_ args: [String], stdin: Data = Data()) throws -> ToolRunner.Result {
        let tool = ToolRunner.productsDirectory.appendingPathComponent("osmoda-ledger").path
        return try ToolRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", tool] + args + ["--user"],
                                  stdin: stdin, environment: env.merging(["OSMODA_NO_AUTOSTART": "1"]) { $1 })
    }

    /// The pid of this world's daemon, from the state lock file it writes, if that
    /// process is still an osmodad. Tests in other suites run daemons of their own at
    /// the same time, so a test signals only its own world's daemon, never by name.
    var daemonPID: pid_t? {
        let lock = root.appendingPathComponent("state/osmodad.lock").path
        guard let text = try? String(contentsOfFile: lock, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: cmdline, as: UTF8.self).contains("osmodad") else { return nil }
        return pid
    }

    /// Sends `signal` to this world's daemon and waits (up to 10 s) until it is gone.
    func stopDaemon(_ signal: Int32 = SIGTERM) {
        guard let pid = daemonPID else { return }
        kill(pid, signal)
        for _ in 0..<500 where kill(pid, 0) == 0 && daemonPID == pid { usleep(20_000) }
    }

    func stopAll() { stopDaemon(SIGKILL) }

    func remove() { ToolRunner.removeTemporaryDirectory(root) }
}

func jsonLines(_ r: ToolRunner.Result) -> [JSONObject] {
    r.stdoutLines.compactMap { line in
        if case .object(let o)? = try? JSONReader.parse(line) { return o }
        return nil
    }
}

@Suite(.serialized) struct LedgerEndToEndTests {
    @Test func appendTailVerifyProveCheckpointExport() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        // The first call starts the daemon on demand.
        let input = Data("{\"type\":\"svc.restart\",\"unit\":\"nginx\"}\n{\"type\":\"svc.restart\", \"unit\":\"db\", \"a\": 1.0}\nnot json\n{\"n\":1}\n".utf8)
        let appended = try w.ledger(["append"], stdin: input)
        #expect(appended.status == 65, "a bad line and a record without type were skipped: \(appended.stderrText)")
        let acks = jsonLines(appended)
        #expect(acks.map { $0["seq"] } == [.int(1), .int(2)])
        #expect(acks.allSatisfy { $0["type"] == .string("ledger.entry") && $0.keys.filter { $0 == "ts" }.count == 1 })

        let tail = try w.ledger(["tail", "-n", "5"])
        let entries = jsonLines(tail)
        #expect(entries.count == 2)
        // The actor is the real peer, from SO_PEERCRED.
        #expect(entries.first?["actor_uid"] == .int(Int64(getuid())))
        #expect(entries.first.flatMap { e -> String? in if case .string(let s)? = e["actor_exe"] { return s } else { return nil } }?.hasSuffix("osmoda-ledger") == true)
        #expect(entries.first?["payload"] == (try JSONReader.parse("{\"type\":\"svc.restart\",\"unit\":\"nginx\"}")))

        let witness = w.root.appendingPathComponent("witness.jsonl").path
        let cp = try w.ledger(["checkpoint", "--append-to", witness])
        #expect(cp.status == 0, "\(cp.stderrText)")
        #expect(jsonLines(cp).first?["size"] == .int(2))

        let verify = try w.ledger(["verify", "--checkpoint", witness])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        #expect(jsonLines(verify).first?["ok"] == .bool(true))

        // Every record the ledger tool prints is documented in osmoda-records(5).
        let stats = try w.ledger(["stats"])
        let verifyOut = jsonLines(verify)
        for record in acks + entries + jsonLines(cp) + verifyOut + jsonLines(stats) {
            #expect(try RecordSchemaTests.undocumentedFields(record) == [], "\(record["type"] ?? .null)")
        }

        let prove = try w.ledger(["prove", "1"])
        for record in jsonLines(prove) { #expect(try RecordSchemaTests.undocumentedFields(record) == []) }
        #expect(jsonLines(prove).first?["size"] == .int(2))
        let consistency = try w.ledger(["consistency", "1", "2"])
        #expect(consistency.status == 0)

        let export = try ToolRunner.run("osmoda-ledger", ["export", "--user"], environment: w.env)
        #expect(export.stdoutLines.count == 2)
        let exportFile = w.root.appendingPathComponent("export.jsonl")
        try export.stdout.write(to: exportFile)
        let offline = try ToolRunner.run("osmoda-ledger", ["verify", "--export", exportFile.path, "--format", "json"], environment: w.env)
        #expect(offline.status == 0, "\(offline.stdoutText)\(offline.stderrText)")

        // A tampered export line is caught.
        #expect(export.stdoutText.contains("\"a\": 1.0}"), "payloads stay byte-exact through the daemon")
        let tampered = export.stdoutText.replacingOccurrences(of: "\"unit\":\"db\"", with: "\"unit\":\"dc\"")
        try Data(tampered.utf8).write(to: exportFile)
        let bad = try ToolRunner.run("osmoda-ledger", ["verify", "--export", exportFile.path, "--format", "json"], environment: w.env)
        #expect(bad.status == 1)
        #expect(jsonLines(bad).first?["first_bad_seq"] == .int(2))
    }

    @Test func offlineVerificationCatchesTamperingAndTruncation() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        var lines = ""
        for i in 1...20 { lines += "{\"type\":\"test.n\",\"i\":\(i)}\n" }
        #expect(try w.ledger(["append"], stdin: Data(lines.utf8)).status == 0)
        let witness = w.root.appendingPathComponent("witness.jsonl").path
        #expect(try w.ledger(["checkpoint", "--append-to", witness]).status == 0)
        let key = try #require(jsonLines(try w.ledger(["stats"])).first.flatMap { s -> String? in
            if case .string(let k)? = s["verifier_key"] { return k } else { return nil }
        })
        // Stop the daemon cleanly, so the database file is whole without its WAL.
        w.stopDaemon(SIGTERM)
        for _ in 0..<200 where FileManager.default.fileExists(atPath: w.database + "-wal") { usleep(20_000) }

        // A copy as an admin takes one: SQLite's online backup, WAL content included.
        func copy(_ name: String) throws -> String {
            let dst = w.root.appendingPathComponent(name).path
            let r = try ToolRunner.run("/usr/bin/sqlite3", [w.database, ".backup '\(dst)'"])
            #expect(r.status == 0, "backup: \(r.stderrText)")
            return dst
        }
        func verify(_ db: String) throws -> (Int32, JSONObject?) {
            let r = try ToolRunner.run("osmoda-ledger", ["verify", "--db", db, "--checkpoint", witness, "--key", key, "--format", "json"])
            if r.status == 66 { Issue.record("verify --db: \(r.stderrText)") }
            return (r.status, jsonLines(r).first)
        }
        let clean = try copy("clean.sqlite")
        #expect(try verify(clean).0 == 0)

        let edited = try copy("edited.sqlite")
        _ = try ToolRunner.run("/usr/bin/sqlite3", [edited, "UPDATE entries SET payload = CAST('{\"type\":\"test.n\",\"i\":99}' AS BLOB) WHERE seq = 7"])
        let (s1, v1) = try verify(edited)
        #expect(s1 == 1)
        #expect(v1?["first_bad_seq"] == .int(7))

        let truncated = try copy("truncated.sqlite")
        _ = try ToolRunner.run("/usr/bin/sqlite3", [truncated, "DELETE FROM entries WHERE seq > 15"])
        let (s2, v2) = try verify(truncated)
        #expect(s2 == 1, "truncation is caught against the kept checkpoint: \(String(describing: v2))")
    }

    @Test func killNineDuringConcurrentAppendsLosesNothingAcknowledged() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        final class Acks: @unchecked Sendable {
            let lock = NSLock()
            var seqs: Set<Int64> = []
            func add(_ s: [Int64]) { lock.lock(); seqs.formUnion(s); lock.unlock() }
        }
        let acks = Acks()
        for round in 0..<3 {
            let daemon = try w.startDaemon()
            // Eight writers, each its own process and connection.
            let group = DispatchGroup()
            for c in 0..<8 {
                group.enter()
                DispatchQueue.global().async {
                    defer { group.leave() }
                    var input = ""
                    for i in 0..<150 { input += "{\"type\":\"crash.test\",\"round\":\(round),\"client\":\(c),\"i\":\(i)}\n" }
                    guard let r = try? ToolRunner.run("osmoda-ledger", ["append", "--user", "--format", "json"], stdin: Data(input.utf8),
                                                      environment: w.env.merging(["OSMODA_NO_AUTOSTART": "1"]) { $1 }, timeout: 60) else { return }
                    let seqs = jsonLines(r).compactMap { o -> Int64? in if case .int(let s)? = o["seq"] { return s } else { return nil } }
                    acks.add(seqs)
                }
            }
            usleep(useconds_t(600_000 + round * 300_000))
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
            group.wait()
        }
        // Restart: every acknowledged entry is there, and the chain verifies.
        let daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
        let verify = try w.ledger(["verify"])
        #expect(verify.status == 0, "\(verify.stdoutText)")
        let export = try ToolRunner.run("osmoda-ledger", ["export", "--user"], environment: w.env)
        let present = Set(jsonLines(export).compactMap { o -> Int64? in if case .int(let s)? = o["seq"] { return s } else { return nil } })
        let acknowledged = acks.seqs
        #expect(!acknowledged.isEmpty)
        #expect(acknowledged.isSubset(of: present), "lost: \(acknowledged.subtracting(present).sorted().prefix(10))")
    }

    @Test func aTamperedLedgerFailsClosedUntilRecovered() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        var lines = ""
        for i in 1...10 { lines += "{\"type\":\"test.n\",\"i\":\(i)}\n" }
        var daemon = try w.startDaemon()
        #expect(try w.ledger(["append"], stdin: Data(lines.utf8)).status == 0)
        kill(daemon.processIdentifier, SIGTERM)   // a clean stop writes a checkpoint
        daemon.waitUntilExit()
        _ = try ToolRunner.run("/usr/bin/sqlite3", [w.database, "UPDATE entries SET type = 'test.x' WHERE seq = 10"])

        daemon = try w.startDaemon()
        let refused = try w.ledger(["append"], stdin: Data("{\"type\":\"test.n\",\"i\":11}\n".utf8))
        #expect(refused.status == 69, "appends are refused while the ledger is sealed: \(refused.stderrText)")
        #expect(refused.stderrText.contains("ledger.verification_failed"))
        let stats = jsonLines(try w.ledger(["stats"])).first
        #expect(stats?["sealed_reason"] != .null, "reads still work and say why")
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()

        let recovered = try ToolRunner.run("osmodad", ["--user", "--recover", "entry 10 edited by hand in a test"], environment: w.env)
        #expect(recovered.status == 0, "\(recovered.stderrText)")
        #expect(jsonLines(recovered).first?["type"] == .string("ledger.recovery"))

        daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        #expect(try w.ledger(["append"], stdin: Data("{\"type\":\"test.n\",\"i\":12}\n".utf8)).status == 0)
        let entries = jsonLines(try w.ledger(["tail", "-n", "10"]))
        #expect(entries.first?["entry_type"] == .string("ledger.recovered"))
        #expect(try w.ledger(["verify"]).status == 0)
    }

    @Test func aRefusedRecordInABatchSkipsOnlyItself() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        // One batch: the reserved type and the oversized payload are refused, the rest go in.
        let big = String(repeating: "x", count: 70_000)
        let input = "{\"type\":\"a.b\",\"i\":1}\n{\"type\":\"ledger.forged\"}\n{\"type\":\"a.b\",\"pad\":\"\(big)\"}\n{\"type\":\"a.b\",\"i\":4}\n"
        let r = try w.ledger(["append"], stdin: Data(input.utf8))
        #expect(r.status == 65)
        #expect(jsonLines(r).map { $0["seq"] } == [.int(1), .int(2)])
        #expect(r.stderrText.contains("<stdin>:2: not appended"), "\(r.stderrText)")
        #expect(r.stderrText.contains("<stdin>:3: not appended"), "\(r.stderrText)")
    }

    @Test func secondDaemonOnTheSameStateIsRefused() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        let first = try w.startDaemon()
        defer { kill(first.processIdentifier, SIGTERM); first.waitUntilExit() }
        let second = try ToolRunner.run("osmodad", ["--user"], environment: w.env, timeout: 30)
        #expect(second.status == 75, "\(second.stderrText)")
        #expect(second.stderrText.contains("\(first.processIdentifier)"), "names the holder: \(second.stderrText)")
    }

    @Test func noDaemonAndNoAutostartIsUnavailable() throws {
        let w = try DaemonWorld()
        defer { w.remove() }
        let r = try w.ledger(["stats"], extra: ["OSMODA_NO_AUTOSTART": "1"])
        #expect(r.status == 69)
        #expect(r.stderrText.hasPrefix("osmoda-ledger: error: "))
    }

    /// Admin (this test's uid), agent, reader and stranger, with a real second uid.
    /// The role decides; the actor recorded is the real peer.
    @Test(arguments: [("agent", true), ("reader", false), ("", false)])
    func authorisationMatrix(_ role: String, _ mayAppend: Bool) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        let config = w.root.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        if !role.isEmpty {
            try Data("{\"\(role)\": {\"uids\": [65534]}}".utf8).write(to: config.appendingPathComponent("roles.json"))
        }
        let daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        w.openSocketToOthers()
        let append = try w.ledgerAsNobody(["append", "--format", "json"], stdin: Data("{\"type\":\"auth.test\"}\n".utf8))
        let stats = try w.ledgerAsNobody(["stats", "--format", "json"])
        switch role {
        case "agent":
            #expect(append.status == 0, "\(append.stderrText)")
            #expect(stats.status == 0)
        case "reader":
            #expect(append.status == 77, "a reader may not append: \(append.stderrText)")
            #expect(stats.status == 0, "a reader may read")
        default:
            #expect(append.status == 77)
            #expect(stats.status == 77, "a stranger may not even read")
        }
        // The admin (our own uid) sees what landed, and who did it.
        let entries = jsonLines(try w.ledger(["tail"]))
        if mayAppend {
            #expect(entries.count == 1)
            #expect(entries.first?["actor_uid"] == .int(65534))
            #expect(entries.first?["actor_gid"] == .int(65534))
        } else {
            #expect(entries.isEmpty)
        }
    }

    @Test func aStrangerIsRefused() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        let daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        w.openSocketToOthers()
        let r = try w.ledgerAsNobody(["stats"])
        #expect(r.status == 77, "\(r.stderrText)")
    }

    /// SIGHUP puts a new roles.json in force without a restart; one that does not load
    /// leaves the roles as they were, and the daemon keeps serving.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv for a second uid"))
    func sighupReloadsTheRoles() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        let config = w.root.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        let daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        w.openSocketToOthers()
        func statsAsNobody() throws -> Int32 { try w.ledgerAsNobody(["stats"]).status }
        #expect(try statsAsNobody() == 77)
        try Data(#"{"reader": {"uids": [65534]}}"#.utf8).write(to: config.appendingPathComponent("roles.json"))
        #expect(kill(daemon.processIdentifier, SIGHUP) == 0)
        var status: Int32 = -1
        for _ in 0..<100 {
            status = try statsAsNobody()
            if status == 0 { break }
            usleep(50_000)
        }
        #expect(status == 0, "the reloaded roles make uid 65534 a reader")
        // A broken file: the roles in force stay, and SIGHUP does not stop the daemon.
        try Data(#"{"reader": {"uids": "all"}}"#.utf8).write(to: config.appendingPathComponent("roles.json"))
        #expect(kill(daemon.processIdentifier, SIGHUP) == 0)
        usleep(300_000)
        #expect(daemon.isRunning)
        #expect(try statsAsNobody() == 0)
    }

    /// Checkpoints are signed on a timer while entries arrive, not only at shutdown: a
    /// daemon killed with -9 leaves one that covers everything older than the interval.
    @Test func periodicCheckpointsCoverTheLedgerBeforeAKill() throws {
        let w = try DaemonWorld()
        defer { w.stopAll(); w.remove() }
        let daemon = try w.startDaemon(["--checkpoint-every", "1s"])
        let lines = (1...3).map { #"{"type":"periodic.test","i":\#($0)}"# }.joined(separator: "\n") + "\n"
        #expect(try w.ledger(["append"], stdin: Data(lines.utf8)).status == 0)
        var stats: JSONObject?
        for _ in 0..<100 {
            stats = jsonLines(try w.ledger(["stats"])).first
            if stats?["last_checkpoint_size"] == .int(3) { break }
            usleep(50_000)
        }
        #expect(stats?["last_checkpoint_size"] == .int(3), "\(String(describing: stats))")
        // No new entries: no new checkpoint at the next ticks.
        let count = stats?["checkpoints"]
        usleep(1_500_000)
        #expect(jsonLines(try w.ledger(["stats"])).first?["checkpoints"] == count)
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        // The stored checkpoint survives the kill and verifies the database offline.
        let verify = try ToolRunner.run("osmoda-ledger", ["verify", "--db", w.database, "--format", "json"], environment: [:])
        #expect(verify.status == 0, "\(verify.stderrText)")
    }

    @Test func checkpointIntervalIsValidated() throws {
        let r = try ToolRunner.run("osmodad", ["--user", "--checkpoint-every", "10ms"], environment: [:])
        #expect(r.status == 64)
        #expect(r.stderrText.contains("--checkpoint-every must be at least 1s, or 0"))
    }

    /// A real full disk: the state directory on a small tmpfs, filled by another file.
    /// Appends fail with the storage error and a clear message, the daemon keeps
    /// serving, nothing acknowledged is lost, and appends work again once there is room.
    @Test(.enabled(if: canMountTmpfs(), "needs root and permission to mount a tmpfs"))
    func aFullDiskRefusesAppendsAndLosesNothing() throws {
        let w = try DaemonWorld()
        let state = w.root.appendingPathComponent("state").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        #expect(try ToolRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", state], environment: [:]).status == 0)
        defer {
            w.stopAll()
            _ = try? ToolRunner.run("/bin/umount", ["-l", state], environment: [:])
            w.remove()
        }
        let daemon = try w.startDaemon()
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        func append(_ from: Int, _ n: Int) throws -> (ToolRunner.Result, [Int64]) {
            let pad = String(repeating: "x", count: 900)
            let lines = (from..<(from + n)).map { #"{"type":"disk.test","i":\#($0),"pad":"\#(pad)"}"# }.joined(separator: "\n") + "\n"
            let r = try w.ledger(["append"], stdin: Data(lines.utf8))
            return (r, jsonLines(r).compactMap { if case .int(let s)? = $0["seq"] { s } else { nil } })
        }
        var acknowledged: [Int64] = []
        let (first, seqs) = try append(0, 200)
        #expect(first.status == 0)
        acknowledged += seqs
        // Fill what is left of the filesystem.
        let filler = state + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0xAB, count: 65536)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
        var refused: ToolRunner.Result?
        for k in 0..<20 {
            let (r, s) = try append(1000 * (k + 1), 200)
            acknowledged += s
            if r.status != 0 { refused = r; break }
        }
        let r = try #require(refused, "appends never failed on a full filesystem")
        #expect(r.stderrText.contains("full"), "\(r.stderrText)")
        #expect(r.status == 74, "\(r.status): \(r.stderrText)")
        // The daemon still answers reads.
        #expect(try w.ledger(["stats"]).status == 0)
        // Room again: appends work without a restart.
        try FileManager.default.removeItem(atPath: filler)
        let (again, more) = try append(50_000, 10)
        #expect(again.status == 0, "\(again.stderrText)")
        acknowledged += more
        // Everything acknowledged is there, and the ledger verifies.
        let all = jsonLines(try w.ledger(["query"])).compactMap { if case .int(let s)? = $0["seq"] { s } else { nil } }
        #expect(Set(acknowledged).isSubset(of: Set(all)))
        let verify = try w.ledger(["verify"])
        #expect(verify.status == 0, "\(verify.status): \(verify.stdoutText) \(verify.stderrText)")
    }
}

/// Whether this process may mount a tmpfs (root in a namespace that allows it).
func canMountTmpfs() -> Bool {
    guard getuid() == 0, let dir = try? ToolRunner.temporaryDirectory("osmoda-mount-probe") else { return false }
    defer { ToolRunner.removeTemporaryDirectory(dir) }
    guard (try? ToolRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path], environment: [:]))?.status == 0 else { return false }
    _ = try? ToolRunner.run("/bin/umount", [dir.path], environment: [:])
    return true
}
