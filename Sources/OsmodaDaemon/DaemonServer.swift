#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
import OsmodaIPC
import OsmodaSystem

/// The bounds that keep one client from starving the others.
public struct DaemonLimits: Sendable, Equatable {
    /// The longest request frame, newline not counted.
    public var maxFrameBytes: Int
    /// A connection with no request for this long is closed.
    public var idleTimeoutMs: Int64
    /// A frame begun must end (with its newline) within this long, or the connection is
    /// closed with `rpc.timeout`: a client that dribbles a request (slowloris) holds
    /// nothing for long.
    public var frameTimeoutMs: Int64
    /// A response must be taken by the client within this long, or the connection is closed.
    public var writeTimeoutMs: Int64
    /// Open connections in all, and per peer uid; past either the next one gets
    /// `daemon.busy` and is closed.
    public var maxConnections: Int
    public var maxConnectionsPerUID: Int
    /// How long `run()` waits, once stopping, for requests in flight to finish.
    public var drainTimeoutMs: Int64

    public init(maxFrameBytes: Int = RPCLimits.defaultMaxFrameBytes, idleTimeoutMs: Int64 = 30_000, frameTimeoutMs: Int64 = 10_000,
                writeTimeoutMs: Int64 = 10_000, maxConnections: Int = 1024, maxConnectionsPerUID: Int = 64, drainTimeoutMs: Int64 = 30_000) {
        self.maxFrameBytes = maxFrameBytes
        self.idleTimeoutMs = idleTimeoutMs
        self.frameTimeoutMs = frameTimeoutMs
        self.writeTimeoutMs = writeTimeoutMs
        self.maxConnections = maxConnections
        self.maxConnectionsPerUID = maxConnectionsPerUID
        self.drainTimeoutMs = drainTimeoutMs
    }
}

/// How a daemon runs, apart from its paths, roles and methods.
public struct DaemonOptions: Sendable {
    /// Reported by `daemon.status`.
    public var version: String
    public var limits: DaemonLimits
    /// The socket file's mode; `nil` for 0600 in user mode and 0660 in system mode.
    public var socketMode: UInt32?
    /// Sockets from systemd; when set, no socket file is made (nor removed).
    public var activation: SocketActivation?
    /// Where readiness goes (`READY=1`, `STOPPING=1`).
    public var notifier: ServiceNotifier
    /// Whether `run()` stops on SIGTERM and SIGINT. Tests that run several daemons in one
    /// process turn it off and call `stop()`.
    public var handleSignals: Bool
    /// One line per event worth a log: listening, stopping, a stale socket removed.
    public var log: @Sendable (String) -> Void
    /// Reads the roles again on SIGHUP; `nil` ignores SIGHUP. When it throws, the roles
    /// in force stay, and the error is logged.
    public var reloadRoles: (@Sendable () throws -> Roles)?

    public init(version: String, limits: DaemonLimits = DaemonLimits(), socketMode: UInt32? = nil, activation: SocketActivation? = nil,
                notifier: ServiceNotifier = ServiceNotifier(socket: nil), handleSignals: Bool = true,
                log: @escaping @Sendable (String) -> Void = { _ in }, reloadRoles: (@Sendable () throws -> Roles)? = nil) {
        self.version = version
        self.limits = limits
        self.socketMode = socketMode
        self.activation = activation
        self.notifier = notifier
        self.handleSignals = handleSignals
        self.log = log
        self.reloadRoles = reloadRoles
    }
}

/// `osmodad`'s socket layer: it listens on a Unix socket, reads newline-delimited
/// JSON-RPC requests, authorises each by the peer's credentials and runs it through
/// the `Router`.
///
/// Concurrency: one thread accepts; each admitted connection gets a thread of its own
/// that reads a request, runs its handler and writes the response, one request at a
/// time, so responses come in request order and a slow handler or a slow client
/// holds only its own thread. Connections are capped in all and per uid; a connection
/// is closed when idle, when a frame is not finished in time, or when it does not
/// read its responses. Blocking handlers (a durable ledger append) may run in as
/// many threads as there are connections, which is what lets the ledger group-commit.
///
/// Lifecycle: `init` binds (or adopts) the socket, so clients may connect at once;
/// `run()` sends `READY=1`, serves until `stop()` or SIGTERM/SIGINT, then sends
/// `STOPPING=1`, stops accepting, lets requests in flight finish (answering any
/// further requests already received with `daemon.stopping`), removes its socket file
/// and returns.
public final class DaemonServer: @unchecked Sendable {
    public let paths: Paths
    public let options: DaemonOptions
    /// Whether the socket came from systemd.
    public let isSocketActivated: Bool

    private let router: Router
    private let lock: StateDirectoryLock
    private let table: ConnectionTable
    /// Closed (and set to -1) by `run()` when it stops accepting.
    private var listenFD: Int32
    private let socketFile: PathStatus?
    private let stopPipe: (read: Int32, write: Int32)
    private let signalPipe: (read: Int32, write: Int32)
    /// Only the accepting thread touches it.
    private var spareFD: Int32

    /// Makes the server: adopts systemd's socket or binds `paths.socket`, and adds the
    /// built-in `daemon.*` methods to `router` (those names are reserved).
    ///
    /// - Parameter lock: the state directory's lock, taken first by the caller, which
    ///   keeps it until the process ends.
    public init(paths: Paths, roles: Roles, router: Router, lock: StateDirectoryLock, options: DaemonOptions) throws(DaemonError) {
        guard lock.isHeld else { throw DaemonError(DaemonError.stateCode, "the state lock '\(lock.path)' was released") }
        self.paths = paths
        self.options = options
        self.lock = lock
        let table = ConnectionTable(roles: roles, limits: options.limits)
        self.table = table
        do {
            stopPipe = try DaemonCalls.pipe()
        } catch {
            throw DaemonError(DaemonError.socketCode, "\(error)")
        }
        do {
            signalPipe = try DaemonCalls.pipe()
        } catch {
            Sys.close(stopPipe.read)
            Sys.close(stopPipe.write)
            throw DaemonError(DaemonError.socketCode, "\(error)")
        }
        do throws(DaemonError) {
            if let activation = options.activation {
                listenFD = try Listener.adopt(activation)
                socketFile = nil
                isSocketActivated = true
            } else {
                let mode = options.socketMode ?? (paths.mode == .user ? 0o600 : 0o660)
                let bound = try Listener.bind(path: paths.socket, mode: mode, directoryMode: paths.mode == .user ? 0o700 : 0o755, log: options.log)
                listenFD = bound.fd
                socketFile = bound.file
                isSocketActivated = false
            }
        } catch {
            for fd in [stopPipe.read, stopPipe.write, signalPipe.read, signalPipe.write] { Sys.close(fd) }
            throw error
        }
        spareFD = DaemonCalls.openSpare()

        var routes = router
        let started = Sys.monotonicNanos()
        let status = StatusFacts(version: options.version, pid: ThisProcess.pid, mode: paths.mode.rawValue, socket: paths.socket,
                                 stateDir: paths.stateDirectory, socketActivated: isSocketActivated)
        routes.register(DaemonMethod.ping, role: .reader, params: NoParams.self) { (_, _) throws(RPCError) in PingResult() }
        routes.register(DaemonMethod.status, role: .reader, params: NoParams.self) { (_, _) throws(RPCError) in
            DaemonStatus(version: status.version, pid: status.pid, uptimeMs: Int64((Sys.monotonicNanos() &- started) / 1_000_000),
                         mode: status.mode, socket: status.socket, stateDir: status.stateDir, socketActivated: status.socketActivated,
                         connections: table.counts())
        }
        routes.register(DaemonMethod.whoami, role: .reader, params: NoParams.self) { (peer, _) throws(RPCError) in peer.identity }
        self.router = routes
    }

    deinit {
        for fd in [listenFD, stopPipe.read, stopPipe.write, signalPipe.read, signalPipe.write, spareFD] where fd >= 0 { Sys.close(fd) }
    }

    /// The roles in force.
    public var roles: Roles { table.currentRoles }

    /// Puts new roles in force for every request from now on (a reloaded `roles.json`).
    public func replaceRoles(_ roles: Roles) { table.replaceRoles(roles) }

    /// Whether `run()` is serving (it has installed its signal handlers and sent `READY=1`).
    public var isRunning: Bool { table.phase == .running }

    /// The connection counters `daemon.status` reports.
    public var connectionCounts: ConnectionCounts { table.counts() }

    /// Asks `run()` to stop; returns at once. Safe from any thread, more than once.
    public func stop() {
        table.beginStopping()
        DaemonCalls.poke(stopPipe.write)
    }

    /// Serves until `stop()` or a stop signal, then shuts down as the type's summary
    /// says. Returns at once if called again.
    public func run() {
        guard table.enter() else { return }
        Sys.ignoreSIGPIPE()
        var watching = false
        if options.handleSignals {
            do {
                try DaemonCalls.watchStopSignals(signalPipe.write)
                watching = true
            } catch {
                options.log("cannot handle SIGTERM: \(error)")
            }
        }
        notify(["READY=1", "STATUS=listening on \(paths.socket)"])
        table.markRunning()
        options.log("listening on '\(paths.socket)'\(isSocketActivated ? " (socket activation)" : "")")

        acceptUntilStopped()

        notify(["STOPPING=1", "STATUS=stopping"])
        Sys.close(listenFD)
        listenFD = -1
        removeSocketFile()
        let left = table.drain(timeoutMs: options.limits.drainTimeoutMs)
        if left > 0 { options.log("stopping with \(left) connections still busy after \(options.limits.drainTimeoutMs) ms") }
        if watching { DaemonCalls.unwatchStopSignals(signalPipe.write) }
        table.finish()
        options.log("stopped")
    }

    private func notify(_ fields: [String]) {
        do {
            try options.notifier.notify(fields)
        } catch {
            options.log("cannot notify the service manager: \(error)")
        }
    }

    /// Removes the socket file at shutdown, if it is still the one this daemon made.
    private func removeSocketFile() {
        guard let made = socketFile, let now = try? PathCalls.status(paths.socket),
              now.kind == .socket, now.device == made.device, now.inode == made.inode else { return }
        try? PathCalls.unlink(paths.socket)
    }

    // MARK: - Accepting

    private func acceptUntilStopped() {
        while true {
            let ready: [Bool]
            do {
                ready = try UnixSocket.waitReadable([listenFD, stopPipe.read, signalPipe.read], timeoutMs: -1)
            } catch {
                options.log("\(error)")
                Sys.sleep(milliseconds: 100)
                continue
            }
            while ready[2], let signal = DaemonCalls.takeByte(signalPipe.read) {
                if Int32(signal) == SIGHUP {
                    reload()
                    continue
                }
                options.log("received \(Processes.signalName(Int32(signal))); stopping")
                stop()
            }
            if ready[1] || table.isStopping { return }
            if ready[0] { acceptPending() }
        }
    }

    /// SIGHUP: puts a freshly read `roles.json` in force for every request from now on,
    /// including those on connections already open; a file that does not load leaves
    /// the roles in force as they were.
    private func reload() {
        guard let reloadRoles = options.reloadRoles else {
            options.log("received SIGHUP; nothing to reload")
            return
        }
        do {
            replaceRoles(try reloadRoles())
            options.log("received SIGHUP; roles reloaded")
        } catch {
            options.log("received SIGHUP; keeping the roles in force: \(error)")
        }
    }

    /// Accepts every connection waiting.
    private func acceptPending() {
        while !table.isStopping {
            let fd: Int32
            do {
                guard let c = try UnixSocket.accept(listenFD) else { return }
                fd = c
            } catch {
                if DaemonCalls.isOutOfDescriptors(error) {
                    shedOneConnection()
                } else {
                    options.log("\(error)")
                    Sys.sleep(milliseconds: 10)
                }
                return
            }
            admit(fd)
        }
    }

    /// Out of descriptors: gives up the spare one to accept a waiting connection and tell
    /// it `daemon.busy`, instead of leaving it to wait (and `poll` to spin).
    private func shedOneConnection() {
        guard spareFD >= 0 else {
            Sys.sleep(milliseconds: 100)
            return
        }
        Sys.close(spareFD)
        if let fd = try? UnixSocket.accept(listenFD) {
            table.countRefused()
            refuse(fd, RPCError(.busy, "the daemon is out of file descriptors"))
        }
        spareFD = DaemonCalls.openSpare()
    }

    private func admit(_ fd: Int32) {
        let credentials: Credentials
        do {
            let c = try UnixSocket.peerCredentials(fd)
            credentials = Credentials(pid: c.pid, uid: c.uid, gid: c.gid, groups: UnixSocket.peerGroups(fd),
                                      exe: PathCalls.readLink("/proc/\(c.pid)/exe"))
        } catch {
            Sys.close(fd)
            return
        }
        if let refusal = table.admit(uid: credentials.uid) {
            refuse(fd, refusal)
            return
        }
        let started = WorkerThreads.detach { [self] in
            serve(fd, credentials)
        }
        if !started {
            table.leave(uid: credentials.uid)
            table.countRefused()
            refuse(fd, RPCError(.busy, "the daemon cannot start a thread for the connection"))
        }
    }

    /// Answers a connection that will not be served with one error, then closes it. The
    /// send never waits: a new connection's buffer has room for one short line.
    private func refuse(_ fd: Int32, _ error: RPCError) {
        try? UnixSocket.sendAll(fd, RPCResponse(id: .null, error: error).encoded(), timeoutMs: 0)
        Sys.close(fd)
    }

    // MARK: - Serving one connection

    private func serve(_ fd: Int32, _ credentials: Credentials) {
        defer {
            Sys.close(fd)
            table.leave(uid: credentials.uid)
        }
        let limits = options.limits
        var frames = FrameBuffer(limit: limits.maxFrameBytes)
        var chunk = [UInt8](repeating: 0, count: 32 << 10)
        var idleDeadline = Sys.monotonicNanos() &+ Self.nanos(limits.idleTimeoutMs)
        var frameDeadline: UInt64?
        var ended = false
        while true {
            while let event = frames.next() {
                guard answer(event, on: fd, credentials) else { return }
                idleDeadline = Sys.monotonicNanos() &+ Self.nanos(limits.idleTimeoutMs)
            }
            if ended {
                // A half-closed client still gets the answer to its last line.
                if let last = frames.finish() { _ = answer(last, on: fd, credentials) }
                return
            }
            // Between requests: stopping loses nothing that was acknowledged.
            if table.isStopping { return }
            let now = Sys.monotonicNanos()
            if frames.hasPartialFrame {
                if frameDeadline == nil { frameDeadline = now &+ Self.nanos(limits.frameTimeoutMs) }
            } else {
                frameDeadline = nil
            }
            let deadline = frameDeadline ?? idleDeadline
            if now >= deadline {
                table.countTimeout()
                if frameDeadline != nil {
                    let e = RPCError(.timeout, "request not finished within \(limits.frameTimeoutMs) ms")
                    try? UnixSocket.sendAll(fd, RPCResponse(id: .null, error: e).encoded(), timeoutMs: 0)
                }
                return
            }
            let waitMs = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            guard let ready = try? UnixSocket.waitReadable([fd, stopPipe.read], timeoutMs: waitMs) else { return }
            guard ready[0] else { continue }
            let n: Int?
            do {
                n = try chunk.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) -> Int? in try UnixSocket.receive(fd, into: raw) }
                }.get()
            } catch {
                return
            }
            guard let n else { continue }
            if n == 0 {
                ended = true
            } else {
                chunk.withUnsafeBytes { frames.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }

    /// Answers one frame; false when the response could not be written (the connection
    /// is then closed).
    private func answer(_ event: FrameBuffer.Event, on fd: Int32, _ credentials: Credentials) -> Bool {
        let response: RPCResponse?
        switch event {
        case .oversized:
            response = RPCResponse(id: .null, error: .tooLarge(limit: options.limits.maxFrameBytes))
        case .frame(let frame):
            if frame.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return true }
            do {
                let request = try RPCRequest.decode(frame)
                if table.isStopping {
                    response = request.id.map { RPCResponse(id: $0, error: RPCError(.stopping, "the daemon is shutting down; '\(request.method)' was not run")) }
                } else {
                    response = router.handle(request, credentials: credentials, roles: table.currentRoles)
                }
            } catch {
                response = error.response
            }
        }
        guard let response else { return true }
        do {
            try UnixSocket.sendAll(fd, response.encoded(), timeoutMs: options.limits.writeTimeoutMs)
            return true
        } catch {
            return false
        }
    }

    private static func nanos(_ ms: Int64) -> UInt64 { UInt64(max(0, ms)) &* 1_000_000 }
}

/// What `daemon.status` reports that does not change.
private struct StatusFacts: Sendable {
    var version: String
    var pid: Int32
    var mode: String
    var socket: String
    var stateDir: String
    var socketActivated: Bool
}

/// The counts and state the accepting thread and the connection threads share.
private final class ConnectionTable: @unchecked Sendable {
    enum Phase { case idle, starting, running, stopped }

    // Everything below is guarded by `monitor`.
    private let monitor = ConditionMonitor()
    private let limits: DaemonLimits
    private var roles: Roles
    private var stopping = false
    private var currentPhase = Phase.idle
    private var active = 0
    private var perUID: [UInt32: Int] = [:]
    private var accepted = 0
    private var refusedBusy = 0
    private var timedOut = 0

    init(roles: Roles, limits: DaemonLimits) {
        self.roles = roles
        self.limits = limits
    }

    var currentRoles: Roles { monitor.withLock { roles } }
    func replaceRoles(_ r: Roles) { monitor.withLock { roles = r } }
    var isStopping: Bool { monitor.withLock { stopping } }
    var phase: Phase { monitor.withLock { currentPhase } }

    /// Moves from idle to starting; false if `run()` was called before.
    func enter() -> Bool {
        monitor.withLock {
            guard currentPhase == .idle else { return false }
            currentPhase = .starting
            return true
        }
    }

    func markRunning() { monitor.withLock { currentPhase = .running } }

    func finish() {
        monitor.withLock {
            currentPhase = .stopped
            monitor.broadcast()
        }
    }

    func beginStopping() { monitor.withLock { stopping = true } }

    /// Counts a new connection in, or says why it is refused.
    func admit(uid: UInt32) -> RPCError? {
        monitor.withLock {
            if stopping { return RPCError(.stopping, "the daemon is shutting down") }
            if active >= limits.maxConnections {
                refusedBusy += 1
                return RPCError(.busy, "the daemon has \(limits.maxConnections) connections open, its limit",
                                details: JSONObject(["limit": .int(Int64(limits.maxConnections))]))
            }
            let mine = perUID[uid, default: 0]
            if mine >= limits.maxConnectionsPerUID {
                refusedBusy += 1
                return RPCError(.busy, "uid \(uid) has \(limits.maxConnectionsPerUID) connections open, the limit per uid",
                                details: JSONObject(["limit": .int(Int64(limits.maxConnectionsPerUID))]))
            }
            active += 1
            perUID[uid] = mine + 1
            accepted += 1
            return nil
        }
    }

    func leave(uid: UInt32) {
        monitor.withLock {
            active -= 1
            let left = perUID[uid, default: 1] - 1
            perUID[uid] = left > 0 ? left : nil
            monitor.broadcast()
        }
    }

    func countRefused() { monitor.withLock { refusedBusy += 1 } }
    func countTimeout() { monitor.withLock { timedOut += 1 } }

    func counts() -> ConnectionCounts {
        monitor.withLock {
            ConnectionCounts(active: active, limit: limits.maxConnections, perUidLimit: limits.maxConnectionsPerUID,
                             accepted: accepted, refusedBusy: refusedBusy, timedOut: timedOut)
        }
    }

    /// Waits until no connection is open or `timeoutMs` has passed; returns how many are left.
    func drain(timeoutMs: Int64) -> Int {
        let deadline = Sys.monotonicNanos() &+ UInt64(max(0, timeoutMs)) &* 1_000_000
        monitor.lock()
        defer { monitor.unlock() }
        while active > 0 && Sys.monotonicNanos() < deadline {
            monitor.wait(untilNanos: deadline)
        }
        return active
    }
}
