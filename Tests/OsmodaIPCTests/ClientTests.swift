#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaSystem
import Testing

/// A listener that answers its first connection's first line with `reply` (nothing
/// when nil), then closes: a daemon that misbehaves. The job owns the listening socket.
private func fakeDaemon(at path: String, reply: String?) throws -> BackgroundJob {
    let fd = try UnixSocket.stream()
    try UnixSocket.bind(fd, path: path, mode: 0o600)
    try UnixSocket.listen(fd)
    return BackgroundJob {
        defer { Sys.close(fd) }
        guard let ready = try? UnixSocket.waitReadable([fd], timeoutMs: 10_000), ready[0],
              let c = try? UnixSocket.accept(fd) else { return }
        defer { Sys.close(c) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let deadline = MonotonicDeadline(milliseconds: 10_000)
        var got: [UInt8] = []
        while !got.contains(0x0A) && !deadline.hasPassed {
            _ = try? UnixSocket.waitReadable([c], timeoutMs: deadline.remainingMs)
            let n: Int? = buf.withUnsafeMutableBytes { raw in (try? UnixSocket.receive(c, into: raw)) ?? 0 }
            guard let n else { continue }
            if n == 0 { break }
            got.append(contentsOf: buf[0..<n])
        }
        if let reply { try? UnixSocket.sendAll(c, Array(reply.utf8), timeoutMs: 1000) }
    }
}

private func userPaths(_ dir: TempDir) -> Paths {
    Paths(mode: .user, socket: dir.file("run/osmodad.sock"), stateDirectory: dir.file("state"), configDirectory: dir.file("config"))
}

private func clientError(_ body: () throws -> Void) -> ClientError? {
    do {
        try body()
        return nil
    } catch let e as ClientError {
        return e
    } catch {
        Issue.record("unexpected \(error)")
        return nil
    }
}

@Suite struct Client {
    @Test func busyIsTryAgain() throws {
        let d = try TestDaemon(limits: testLimits { $0.maxConnectionsPerUID = 1 }).start()
        defer { d.close() }
        let held = try d.raw()
        try held.send(requestLine(DaemonMethod.ping))
        #expect(try held.response().resultValue != nil)
        let e = clientError { _ = try d.client().call(DaemonMethod.ping) }
        #expect(e?.code == .busy)
        #expect(e?.exitStatus == 75)
    }

    @Test func reconnectsAfterTheDaemonClosedAnIdleConnection() throws {
        let d = try TestDaemon(limits: testLimits { $0.idleTimeoutMs = 150 }).start()
        defer { d.close() }
        let client = try d.client()
        #expect(try client.call(DaemonMethod.ping) != .null)
        let deadline = MonotonicDeadline(milliseconds: 5000)
        while d.server.connectionCounts.timedOut == 0 && !deadline.hasPassed { Sys.sleep(milliseconds: 20) }
        #expect(d.server.connectionCounts.timedOut == 1)
        #expect(try client.call(DaemonMethod.ping) != .null)
        #expect(d.server.connectionCounts.accepted == 2)
    }

    @Test func tooLargeRequestIsNotSent() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let client = try d.client(ClientOptions(maxRequestBytes: 200, autostart: .disabled))
        let e = clientError { _ = try client.call(DaemonMethod.ping, .object(JSONObject(["pad": .string(String(repeating: "x", count: 300))]))) }
        #expect(e?.code == .tooLarge)
        #expect(e?.exitStatus == 65)
        #expect(try client.call(DaemonMethod.ping) != .null)
    }

    @Test func daemonErrorsAreTyped() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let client = try d.client()
        let e = clientError { _ = try client.call("no.such") }
        #expect(e == .rpc(.methodNotFound("no.such")))
        #expect(e?.exitStatus == 69)
        #expect(try client.call(DaemonMethod.ping) != .null)
    }

    @Test func daemonThatClosesWithoutAnswering() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let fake = try fakeDaemon(at: dir.file("s"), reply: nil)
        defer { fake.wait() }
        let paths = Paths(mode: .system, socket: dir.file("s"), stateDirectory: dir.path, configDirectory: dir.path)
        let e = clientError { _ = try DaemonClient.connect(paths: paths).call(DaemonMethod.ping) }
        #expect(e == .daemonUnavailable("the daemon closed the connection before answering 'daemon.ping'"))
        #expect(e?.exitStatus == 69)
    }

    @Test func somethingElseOnTheSocket() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let fake = try fakeDaemon(at: dir.file("s"), reply: "HTTP/1.0 400 Bad Request\r\n")
        defer { fake.wait() }
        let paths = Paths(mode: .system, socket: dir.file("s"), stateDirectory: dir.path, configDirectory: dir.path)
        let e = clientError { _ = try DaemonClient.connect(paths: paths).call(DaemonMethod.ping) }
        guard case .protocolViolation(let m)? = e else {
            Issue.record("expected a protocol violation, got \(String(describing: e))")
            return
        }
        #expect(m.hasPrefix("malformed response from the daemon: response is not JSON"))
    }

    @Test func callTimesOut() throws {
        let gate = Gate()
        var router = Router()
        router.register("test.wait", role: .reader) { (_, _) throws(RPCError) in .bool(gate.enterAndWait(timeoutMs: 10_000)) }
        let d = try TestDaemon(router: router).start()
        defer {
            gate.open()
            d.close()
        }
        let client = try d.client(ClientOptions(callTimeoutMs: 200, autostart: .disabled))
        let e = clientError { _ = try client.call("test.wait") }
        #expect(e == .daemonUnavailable("no response to 'test.wait' within 200 ms"))
    }

    @Test func noDaemonInSystemModeIsNeverStarted() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let marker = dir.file("started")
        let script = try dir.write("osmodad", "#!/bin/sh\ntouch '\(marker)'\n", executable: true)
        let paths = Paths(mode: .system, socket: dir.file("none.sock"), stateDirectory: dir.path, configDirectory: dir.path)
        let e = clientError { _ = try DaemonClient.connect(paths: paths, options: ClientOptions(autostart: Autostart(daemonPath: script))) }
        #expect(e == .daemonUnavailable("no daemon answers on '\(dir.file("none.sock"))': No such file or directory"))
        #expect(e?.exitStatus == 69)
        Sys.sleep(milliseconds: 200)
        #expect(!FileStatus.exists(marker))
    }

    @Test func staleSocketWithoutAutostart() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let dead = try UnixSocket.stream()
        try UnixSocket.bind(dead, path: dir.file("s"), mode: 0o600)
        Sys.close(dead)
        let paths = Paths(mode: .user, socket: dir.file("s"), stateDirectory: dir.path, configDirectory: dir.path)
        let e = clientError { _ = try DaemonClient.connect(paths: paths, options: ClientOptions(autostart: .disabled)) }
        #expect(e == .daemonUnavailable("no daemon answers on '\(dir.file("s"))': Connection refused"))
    }

    @Test func noAutostartVariable() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let marker = dir.file("started")
        let script = try dir.write("osmodad", "#!/bin/sh\ntouch '\(marker)'\n", executable: true)
        let options = ClientOptions(autostart: Autostart(daemonPath: script), environment: ["OSMODA_NO_AUTOSTART": "1", "PATH": "/usr/bin:/bin"])
        let e = clientError { _ = try DaemonClient.connect(paths: userPaths(dir), options: options) }
        #expect(e == .daemonUnavailable("no daemon answers on '\(dir.file("run/osmodad.sock"))': No such file or directory (autostart is off: OSMODA_NO_AUTOSTART=1)"))
        Sys.sleep(milliseconds: 200)
        #expect(!FileStatus.exists(marker))
    }

    @Test func autostartOfAMissingProgram() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let options = ClientOptions(autostart: Autostart(daemonPath: dir.file("nope/osmodad")), environment: [:])
        let e = clientError { _ = try DaemonClient.connect(paths: userPaths(dir), options: options) }
        #expect(e == .daemonUnavailable("cannot start '\(dir.file("nope/osmodad"))': No such file or directory"))
    }

    @Test func autostartedDaemonThatExitsFailsFast() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let script = try dir.write("osmodad", "#!/bin/sh\nexit 3\n", executable: true)
        let options = ClientOptions(autostart: Autostart(daemonPath: script, waitMs: 60_000), environment: ["PATH": "/usr/bin:/bin"])
        let started = Sys.monotonicNanos()
        let e = clientError { _ = try DaemonClient.connect(paths: userPaths(dir), options: options) }
        guard case .daemonUnavailable(let m)? = e else {
            Issue.record("expected daemonUnavailable, got \(String(describing: e))")
            return
        }
        #expect(m.contains("but it exited without listening on '\(dir.file("run/osmodad.sock"))'"), "\(m)")
        #expect((Sys.monotonicNanos() - started) / 1_000_000 < 30_000, "waited for the whole budget")
    }

    @Test func locatesTheDaemon() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try PathCalls.makeDirectories(dir.file("bin"), mode: 0o755)
        try PathCalls.makeDirectories(dir.file("path"), mode: 0o755)
        #expect(Autostart.locateDaemon(explicit: "/x/osmodad", selfExecutable: nil, searchPath: nil) == "/x/osmodad")
        #expect(Autostart.locateDaemon(explicit: nil, selfExecutable: dir.file("bin/osmoda-ledger"), searchPath: dir.file("path")) == nil)
        try dir.write("path/osmodad", "#!/bin/sh\n", executable: true)
        #expect(Autostart.locateDaemon(explicit: nil, selfExecutable: dir.file("bin/osmoda-ledger"), searchPath: "relative:" + dir.file("path"))
            == dir.file("path/osmodad"))
        try dir.write("bin/osmodad", "#!/bin/sh\n", executable: true)
        #expect(Autostart.locateDaemon(explicit: nil, selfExecutable: dir.file("bin/osmoda-ledger"), searchPath: dir.file("path"))
            == dir.file("bin/osmodad"))
        try dir.write("bin/osmodad", "not executable")
        try PathCalls.chmod(dir.file("bin/osmodad"), mode: 0o644)
        #expect(Autostart.locateDaemon(explicit: nil, selfExecutable: dir.file("bin/osmoda-ledger"), searchPath: dir.file("path"))
            == dir.file("path/osmodad"))
    }

    /// A stand-in daemon for autostart, since tests cannot build `osmodad` itself: like
    /// it, it takes the state lock (exiting when another has it) and writes its pid
    /// there, waits `FIXTURE_DELAY_MS` (a slow start), listens on `$OSMODA_SOCKET`, and
    /// answers every request with facts about itself.
    private static let fixture = """
    import fcntl, json, os, socket, sys, threading, time
    state = os.environ["OSMODA_STATE_DIR"]
    os.makedirs(state, exist_ok=True)
    lock = open(os.path.join(state, "osmodad.lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(75)
    lock.truncate(0)
    lock.write("%d\\n" % os.getpid())
    lock.flush()
    time.sleep(int(os.environ.get("FIXTURE_DELAY_MS", "0")) / 1000)
    path = os.environ["OSMODA_SOCKET"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    facts = {"pid": os.getpid(), "sid": os.getsid(0), "ppid": os.getppid(), "cwd": os.getcwd(),
             "stdin": os.readlink("/proc/self/fd/0"), "stdout": os.readlink("/proc/self/fd/1"), "args": sys.argv[1:],
             "listen_fds": os.environ.get("LISTEN_FDS"), "state": os.environ.get("OSMODA_STATE_DIR"),
             "fds": len(os.listdir("/proc/self/fd"))}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    s.settimeout(30)
    def serve(c):
        f = c.makefile("rwb")
        for line in f:
            req = json.loads(line)
            f.write((json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": facts}) + "\\n").encode())
            f.flush()
        c.close()
    while True:
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve, args=(c,), daemon=True).start()
    os.unlink(path)
    """

    @Test(.enabled(if: python3 != nil, "needs /usr/bin/python3 for the stand-in daemon"))
    func autostartStartsADetachedDaemon() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("fixture.py", Self.fixture)
        let script = try dir.write("osmodad", "#!/bin/sh\nexec \(python3 ?? "python3") '\(dir.file("fixture.py"))' \"$@\"\n", executable: true)
        let env = ["PATH": "/usr/bin:/bin", "LISTEN_FDS": "1", "LISTEN_PID": "1", "NOTIFY_SOCKET": "/nowhere"]
        let client = try DaemonClient.connect(paths: userPaths(dir),
                                              options: ClientOptions(autostart: Autostart(daemonPath: script, waitMs: 20_000), environment: env))
        let pid = try #require(client.startedDaemonPID)
        defer {
            _ = kill(pid, SIGTERM)
            let deadline = MonotonicDeadline(milliseconds: 5000)
            while ThisProcess.isRunning(pid) && !deadline.hasPassed { Sys.sleep(milliseconds: 10) }
        }
        let facts = try client.call(DaemonMethod.ping)
        #expect(facts["pid"] == .int(Int64(pid)))
        // Its own session, not our child, stdio on /dev/null, "/" as its directory.
        #expect(facts["sid"] == .int(Int64(ThisProcess.sessionID(of: pid))))
        #expect(ThisProcess.sessionID(of: pid) != ThisProcess.sessionID())
        #expect(facts["ppid"] != .int(Int64(getpid())))
        #expect(facts["stdin"] == .string("/dev/null") && facts["stdout"] == .string("/dev/null"))
        #expect(facts["cwd"] == .string("/"))
        #expect(facts["args"] == .array([.string("--user")]))
        #expect(facts["state"] == .string(dir.file("state")))
        // systemd's variables were the client's, not the daemon's; no descriptor leaked.
        #expect(facts["listen_fds"] == .null)
        if case .int(let n)? = facts["fds"] { #expect(n <= 6, "\(n) descriptors") }
        // A second client finds it running and starts nothing.
        let second = try DaemonClient.connect(paths: userPaths(dir), options: ClientOptions(autostart: Autostart(daemonPath: script), environment: env))
        #expect(second.startedDaemonPID == nil)
        #expect(try second.call(DaemonMethod.ping)["pid"] == .int(Int64(pid)))
    }

    @Test(.enabled(if: python3 != nil, "needs /usr/bin/python3 for the stand-in daemon"))
    func clientsRacingToStartTheDaemonShareOne() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try dir.write("fixture.py", Self.fixture)
        let script = try dir.write("osmodad", "#!/bin/sh\nexec \(python3 ?? "python3") '\(dir.file("fixture.py"))' \"$@\"\n", executable: true)
        // The winner starts slowly: past the half second a client waits for a daemon of
        // its own that lost the lock.
        let options = ClientOptions(autostart: Autostart(daemonPath: script, waitMs: 20_000),
                                    environment: ["PATH": "/usr/bin:/bin", "FIXTURE_DELAY_MS": "1200"])
        let paths = userPaths(dir)
        let outcomes = concurrently(4) { _ -> (started: Int32?, served: Int64?, error: String?) in
            do {
                let c = try DaemonClient.connect(paths: paths, options: options)
                guard case .int(let pid)? = try c.call(DaemonMethod.ping)["pid"] else { return (c.startedDaemonPID, nil, "no pid") }
                return (c.startedDaemonPID, pid, nil)
            } catch {
                return (nil, nil, "\(error)")
            }
        }
        let served = Set(outcomes.compactMap(\.served))
        defer {
            for pid in served { _ = kill(Int32(pid), SIGTERM) }
        }
        #expect(outcomes.allSatisfy { $0.error == nil }, "\(outcomes.compactMap(\.error))")
        #expect(served.count == 1)
        #expect(outcomes.compactMap(\.started).count >= 1)
    }

    @Test func exitStatuses() {
        #expect(ClientError.daemonUnavailable("x").exitStatus == 69)
        #expect(ClientError.permissionDenied("x").exitStatus == 77)
        #expect(ClientError.protocolViolation("x").exitStatus == 69)
        #expect(ClientError.rpc(RPCError(.stopping, "x")).exitStatus == 75)
        #expect(ClientError.rpc(RPCError(.invalidParams, "x")).exitStatus == 65)
        #expect(ClientError.rpc(RPCError("ledger.sealed", "x")).exitStatus == 70)
        #expect(ClientError.rpc(RPCError("ledger.sealed", "sealed")).description == "sealed (ledger.sealed)")
    }
}

@Suite struct PipelinedCalls {
    /// A method that answers with its own params, so a large request gets a large answer.
    private func echoRouter() -> Router {
        var r = Router()
        r.register("test.echo", role: .reader) { (_, raw) throws(RPCError) in raw }
        return r
    }

    @Test func answersComeBackInOrder() throws {
        let d = try TestDaemon(router: echoRouter()).start()
        defer { d.close() }
        let client = try d.client()
        let calls = try (0..<5).map { i in try client.submit("test.echo", .object(JSONObject(["i": .int(Int64(i))]))) }
        for (i, call) in calls.enumerated() {
            #expect(try client.awaitReply(call) == .object(JSONObject(["i": .int(Int64(i))])))
        }
        // Plain calls still work on the same connection afterwards.
        #expect(try client.call(DaemonMethod.ping) != .null)
    }

    /// Big requests whose big answers fill the socket while the next request is being
    /// sent: without reading while sending, both sides would block on writing until the
    /// daemon's write timeout dropped the connection.
    @Test func largeAnswersDoNotDeadlockTheSender() throws {
        let d = try TestDaemon(router: echoRouter()).start()
        defer { d.close() }
        let client = try d.client()
        let pad = String(repeating: "x", count: 700_000)
        var pending: [DaemonClient.PendingCall] = []
        for i in 0..<6 {
            pending.append(try client.submit("test.echo", .object(JSONObject(["i": .int(Int64(i)), "pad": .string(pad)]))))
            // Keep three in flight, as a bulk writer might.
            if pending.count == 3 {
                let reply = try client.awaitReply(pending.removeFirst())
                #expect(reply["i"] == .int(Int64(i - 2)))
            }
        }
        for (k, call) in pending.enumerated() {
            #expect(try client.awaitReply(call)["i"] == .int(Int64(4 + k)))
        }
    }

    @Test func aDaemonThatIsGoneFailsThePipelinedCall() throws {
        let d = try TestDaemon(router: echoRouter()).start()
        let client = try d.client()
        let first = try client.submit("test.echo", .object(JSONObject(["i": .int(1)])))
        #expect(try client.awaitReply(first)["i"] == .int(1))
        d.close()
        var unavailable = false
        do {
            let next = try client.submit("test.echo", .object(JSONObject(["i": .int(2)])))
            _ = try client.awaitReply(next)
        } catch {
            if case .daemonUnavailable = error { unavailable = true }
        }
        #expect(unavailable)
    }
}
