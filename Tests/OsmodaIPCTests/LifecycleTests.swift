#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaSystem
import Testing

/// A datagram socket that plays the service manager's `$NOTIFY_SOCKET`.
private final class NotifyListener {
    let fd: Int32
    let address: String

    init(address: String) throws {
        self.address = address
        fd = try UnixSocket.datagram()
        try UnixSocket.bind(fd, path: address, mode: 0o600)
    }

    deinit { Sys.close(fd) }

    /// The next message, or nil after `timeoutMs`.
    func next(timeoutMs: Int32 = 5000) -> String? {
        guard let ready = try? UnixSocket.waitReadable([fd], timeoutMs: timeoutMs), ready[0] else { return nil }
        var buf = [UInt8](repeating: 0, count: 4096)
        let fd = self.fd
        let n: Int? = buf.withUnsafeMutableBytes { raw in try? UnixSocket.receive(fd, into: raw) } ?? nil
        guard let n, n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }
}

@Suite struct Lifecycle {
    @Test func secondDaemonOnOneStateDirectoryRefuses() throws {
        let first = try TestDaemon().start()
        defer { first.close() }
        #expect(Sys.readText(first.paths.lockFile) == "\(getpid())\n")
        do {
            _ = try TestDaemon(dir: first.dir, socket: first.dir.file("other.sock"))
            Issue.record("a second daemon started on the same state directory")
        } catch let e as DaemonError {
            #expect(e.code == DaemonError.lockedCode)
            #expect(e.holderPID == getpid())
            #expect(e.message == "another osmodad (pid \(getpid())) holds the lock '\(first.paths.lockFile)'; one daemon per state directory")
            #expect(e.exitStatus == 75)
        }
        // The refused daemon touched nothing: the first one still serves.
        #expect(try first.client().call(DaemonMethod.ping) != .null)
        #expect(try PathCalls.status(first.dir.file("other.sock")) == nil)
    }

    @Test(.enabled(if: python3 != nil, "needs /usr/bin/python3 for a second process"))
    func lockHeldByAnotherProcessNamesItsPID() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try PathCalls.makeDirectories(dir.file("state"), mode: 0o700)
        let lockFile = dir.file("state/osmodad.lock")
        let script = "import fcntl,os,sys,time\nf=open(sys.argv[1],'w')\nfcntl.flock(f,fcntl.LOCK_EX)\nf.write(str(os.getpid())+'\\n')\nf.flush()\ntime.sleep(30)\n"
        let holder = try Spawn.start(SpawnOptions(argv: [python3 ?? "", "-c", script, lockFile], timeoutMs: 60_000))
        defer {
            holder.signalGroup(SIGKILL)
            _ = holder.wait()
        }
        let deadline = MonotonicDeadline(milliseconds: 10_000)
        while Sys.readText(lockFile) != "\(holder.pid)\n" && !deadline.hasPassed { Sys.sleep(milliseconds: 10) }
        #expect(throws: DaemonError(DaemonError.lockedCode,
                                    "another osmodad (pid \(holder.pid)) holds the lock '\(lockFile)'; one daemon per state directory",
                                    holderPID: holder.pid)) {
            try StateDirectoryLock.acquire(stateDirectory: dir.file("state"))
        }
        holder.signalGroup(SIGKILL)
        _ = holder.wait()
        // The holder is gone and so is its lock.
        let lock = try StateDirectoryLock.acquire(stateDirectory: dir.file("state"))
        #expect(Sys.readText(lockFile) == "\(getpid())\n")
        lock.release()
    }

    @Test func lockIsReleasedAndRetaken() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try StateDirectoryLock.acquire(stateDirectory: dir.file("s"))
        #expect(try PathCalls.status(dir.file("s"))?.mode == 0o700)
        #expect(throws: DaemonError.self) { try StateDirectoryLock.acquire(stateDirectory: dir.file("s")) }
        a.release()
        #expect(!a.isHeld)
        let b = try StateDirectoryLock.acquire(stateDirectory: dir.file("s"))
        #expect(b.isHeld)
    }

    @Test func staleSocketIsReplaced() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try PathCalls.makeDirectories(dir.file("run"), mode: 0o700)
        // A socket file left by a daemon that died: nothing listens on it.
        let dead = try UnixSocket.stream()
        try UnixSocket.bind(dead, path: dir.file("run/osmodad.sock"), mode: 0o600)
        Sys.close(dead)
        #expect(try PathCalls.status(dir.file("run/osmodad.sock"))?.kind == .socket)
        let d = try TestDaemon(dir: dir).start()
        defer { d.close() }
        #expect(try d.client().call(DaemonMethod.ping) != .null)
    }

    @Test func liveSocketAndNonSocketAreLeftAlone() throws {
        let first = try TestDaemon().start()
        defer { first.close() }
        let other = try TempDir()
        defer { other.remove() }
        #expect(throws: DaemonError(DaemonError.socketInUseCode, "another daemon answers on '\(first.paths.socket)'")) {
            try TestDaemon(dir: other, socket: first.paths.socket)
        }
        #expect(try first.client().call(DaemonMethod.ping) != .null)
        try other.write("file", "not a socket")
        #expect(throws: DaemonError(DaemonError.socketCode, "'\(other.file("file"))' exists and is not a socket")) {
            try TestDaemon(dir: other, socket: other.file("file"))
        }
        #expect(Sys.readText(other.file("file")) == "not a socket")
    }

    @Test func socketFileIsRemovedAtStop() throws {
        let d = try TestDaemon().start()
        #expect(try PathCalls.status(d.paths.socket)?.kind == .socket)
        #expect(d.stop())
        #expect(try PathCalls.status(d.paths.socket) == nil)
        #expect(throws: ClientError.self) { try d.client() }
        d.close()
    }

    @Test func socketActivation() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("activated.sock")
        let fd = try UnixSocket.stream()
        try UnixSocket.bind(fd, path: path, mode: 0o600)
        try UnixSocket.listen(fd)
        let env = ["LISTEN_PID": "\(getpid())", "LISTEN_FDS": "1"]
        #expect(SocketActivation.fromEnvironment(env, pid: getpid() + 1, firstDescriptor: fd) == nil)
        #expect(SocketActivation.fromEnvironment(["LISTEN_PID": "\(getpid())"], pid: getpid()) == nil)
        let activation = try #require(SocketActivation.fromEnvironment(env, pid: getpid(), firstDescriptor: fd))
        #expect(activation.descriptors == [fd])
        let d = try TestDaemon(activation: activation, dir: dir, socket: path).start()
        let client = try d.client()
        #expect(try client.call(DaemonMethod.status, params: NoParams(), as: DaemonStatus.self).socketActivated)
        #expect(d.stop())
        // systemd made the socket file; the daemon leaves it.
        #expect(try PathCalls.status(path)?.kind == .socket)
        d.lock.release()
    }

    @Test func activationWithoutAListeningSocketFails() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let notListening = try UnixSocket.stream()
        #expect(throws: DaemonError(DaemonError.socketCode, "LISTEN_FDS passed no listening Unix stream socket")) {
            try TestDaemon(activation: SocketActivation(descriptors: [notListening]), dir: dir)
        }
    }

    @Test func notifiesReadinessAndStopping() throws {
        for address in ["FILE", "@osmoda-test-\(getpid())-\(Sys.monotonicNanos())"] {
            let dir = try TempDir()
            defer { dir.remove() }
            let listener = try NotifyListener(address: address == "FILE" ? dir.file("notify") : address)
            let d = try TestDaemon(notifier: ServiceNotifier(socket: listener.address), dir: dir).start()
            #expect(listener.next() == "READY=1\nSTATUS=listening on \(d.paths.socket)")
            #expect(d.stop())
            #expect(listener.next() == "STOPPING=1\nSTATUS=stopping")
            d.lock.release()
        }
        #expect(ServiceNotifier.fromEnvironment(["NOTIFY_SOCKET": "@x"]).socket == "@x")
        #expect(ServiceNotifier.fromEnvironment(["NOTIFY_SOCKET": ""]).socket == nil)
        #expect(throws: SystemError.self) { try ServiceNotifier(socket: "vsock:2:5").notify(["READY=1"]) }
        try ServiceNotifier(socket: nil).notify(["READY=1"])
    }

    @Test func stopFinishesTheRequestInFlight() throws {
        let gate = Gate()
        var router = Router()
        router.register("test.wait", role: .reader) { (_, _) throws(RPCError) in .bool(gate.enterAndWait(timeoutMs: 10_000)) }
        let d = try TestDaemon(router: router).start()
        defer { d.close() }
        let raw = try d.raw()
        // A request in its handler, and one behind it on the same connection.
        try raw.send(requestLine("test.wait", id: 1) + requestLine(DaemonMethod.ping, id: 2))
        let idle = try d.raw()
        #expect(gate.waitForEntry(timeoutMs: 5000))
        d.server.stop()
        // Stopping: no new connections; the idle one is closed at once.
        #expect(idle.closesWithin(2000))
        #expect(!d.waitForExit(timeoutMs: 200), "run() returned with a request in flight")
        gate.open()
        let done = try raw.response()
        #expect(done.id == .number(1) && done.resultValue == .bool(true))
        let behind = try raw.response()
        #expect(behind.id == .number(2) && behind.errorCode == .stopping)
        #expect(raw.closesWithin(2000))
        #expect(d.waitForExit())
    }

    @Test func sigtermStopsTheDaemon() throws {
        let gate = Gate()
        var router = Router()
        router.register("test.wait", role: .reader) { (_, _) throws(RPCError) in .bool(gate.enterAndWait(timeoutMs: 10_000)) }
        let dir = try TempDir()
        defer { dir.remove() }
        let listener = try NotifyListener(address: dir.file("notify"))
        let d = try TestDaemon(router: router, notifier: ServiceNotifier(socket: listener.address), handleSignals: true, dir: dir).start()
        #expect(listener.next() != nil)
        let raw = try d.raw()
        try raw.send(requestLine("test.wait", id: 1))
        #expect(gate.waitForEntry(timeoutMs: 5000))
        #expect(kill(getpid(), SIGTERM) == 0)
        #expect(listener.next() == "STOPPING=1\nSTATUS=stopping")
        gate.open()
        #expect(try raw.response().resultValue == .bool(true))
        #expect(d.waitForExit())
        d.lock.release()
    }
}
