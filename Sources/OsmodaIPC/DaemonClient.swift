import OsmodaCore
import OsmodaSystem

/// Why a call to the daemon failed, sorted by what a tool does about it.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No daemon answers, it could not be started, or it went away mid-call (exit 69).
    case daemonUnavailable(String)
    /// The socket's permissions, or the daemon's `auth.denied` (exit 77).
    case permissionDenied(String)
    /// The daemon answered with an error.
    case rpc(RPCError)
    /// Something on the socket does not speak this protocol (exit 69).
    case protocolViolation(String)

    /// The sysexits status a tool ends with for this error: 69 unavailable, 77
    /// permission; for daemon errors, 75 for `daemon.busy`, `daemon.stopping` and
    /// `rpc.timeout` (try again), 65 for `rpc.too_large` and `rpc.invalid_params` (bad
    /// input), 69 for `rpc.method_not_found` (a daemon without that service), 70 for the
    /// rest.
    public var exitStatus: Int32 {
        switch self {
        case .daemonUnavailable, .protocolViolation: return 69
        case .permissionDenied: return 77
        case .rpc(let e):
            switch e.code {
            case .busy, .stopping, .timeout: return 75
            case .tooLarge, .invalidParams: return 65
            case .denied: return 77
            case .methodNotFound: return 69
            default: return 70
            }
        }
    }

    /// The stable code of a daemon error, or of the client's own: `client.unavailable`,
    /// `client.permission`, `client.protocol`.
    public var code: RPCErrorCode {
        switch self {
        case .daemonUnavailable: return "client.unavailable"
        case .permissionDenied: return "client.permission"
        case .protocolViolation: return "client.protocol"
        case .rpc(let e): return e.code
        }
    }

    public var description: String {
        switch self {
        case .daemonUnavailable(let m), .permissionDenied(let m), .protocolViolation(let m): return m
        case .rpc(let e): return "\(e.message) (\(e.code))"
        }
    }
}

/// Whether and how a client starts the daemon when none answers (user mode only).
///
/// Like gpg-agent: the daemon is started detached, in its own session, with stdio on
/// /dev/null, so it outlives the tool that started it; the client then retries with
/// backoff until `waitMs` has passed. `OSMODA_NO_AUTOSTART=1` in the environment turns
/// it off whatever this says.
public struct Autostart: Sendable, Equatable {
    public var enabled: Bool
    /// The daemon executable; `nil` looks for `osmodad` beside the running executable
    /// (`/proc/self/exe`), then on `PATH`.
    public var daemonPath: String?
    /// The daemon's arguments (after `argv[0]`).
    public var arguments: [String]
    /// How long to wait for the started daemon to answer.
    public var waitMs: Int64

    public init(enabled: Bool = true, daemonPath: String? = nil, arguments: [String] = ["--user"], waitMs: Int64 = 5000) {
        self.enabled = enabled
        self.daemonPath = daemonPath
        self.arguments = arguments
        self.waitMs = waitMs
    }

    public static let disabled = Autostart(enabled: false)

    /// The variable that turns autostart off when set to `1`.
    public static let disableVariable = "OSMODA_NO_AUTOSTART"

    /// The daemon executable to start: `explicit` if given; else `osmodad` in the
    /// directory of `selfExecutable`; else the first executable `osmodad` on `searchPath`.
    public static func locateDaemon(explicit: String?, selfExecutable: String?, searchPath: String?) -> String? {
        if let explicit { return explicit }
        return ProgramLocator.locate("osmodad", selfExecutable: selfExecutable, searchPath: searchPath)
    }

    /// Variables the started daemon must not inherit from its client: systemd's
    /// activation and notification (they were meant for the client's own service).
    static let scrubbed: Set<String> = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC", disableVariable]
}

/// Finds the programs osmoda runs: a sibling installed beside the running executable
/// (the multi-call binary's links, ADR 0001), then the first on `PATH`.
package enum ProgramLocator {
    /// `name` in the directory of `selfExecutable` (default: this process's
    /// `/proc/self/exe`), else the first executable regular file `name` in an absolute
    /// directory of `searchPath` (relative entries are ignored); `nil` when none is found.
    package static func locate(_ name: String, selfExecutable: String? = PathCalls.readLink("/proc/self/exe"),
                              searchPath: String? = Sys.env("PATH")) -> String? {
        if let exe = selfExecutable, let slash = exe.lastIndex(of: "/") {
            let candidate = String(exe[..<slash]) + "/" + name
            if PathCalls.isExecutableFile(candidate) { return candidate }
        }
        for dir in (searchPath ?? "").split(separator: ":") where dir.hasPrefix("/") {
            let candidate = String(dir) + "/" + name
            if PathCalls.isExecutableFile(candidate) { return candidate }
        }
        return nil
    }
}

/// How a client connects and calls.
public struct ClientOptions: Sendable {
    /// How long a connect may wait for a daemon whose backlog is full.
    public var connectTimeoutMs: Int64
    /// How long one call may take, from sending the request to reading its response.
    public var callTimeoutMs: Int64
    /// Requests longer than this are refused before they are sent (`rpc.too_large`).
    public var maxRequestBytes: Int
    /// Responses longer than this are a protocol violation.
    public var maxResponseBytes: Int
    public var autostart: Autostart
    /// The environment autostart reads (`OSMODA_NO_AUTOSTART`) and gives the daemon it
    /// starts; `nil` for this process's.
    public var environment: [String: String]?

    public init(connectTimeoutMs: Int64 = 2000, callTimeoutMs: Int64 = 60_000, maxRequestBytes: Int = RPCLimits.defaultMaxFrameBytes,
                maxResponseBytes: Int = 64 << 20, autostart: Autostart = Autostart(), environment: [String: String]? = nil) {
        self.connectTimeoutMs = connectTimeoutMs
        self.callTimeoutMs = callTimeoutMs
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
        self.autostart = autostart
        self.environment = environment
    }
}

/// A connection to `osmodad` that makes calls one at a time.
///
/// The connection is opened by `connect` (starting the daemon in user mode when asked)
/// and reopened by a later call when the daemon closed it while idle. A call whose
/// connection breaks after its request was sent is not retried, since the daemon may
/// have acted on it: it fails with `daemonUnavailable`. Calls from several threads are
/// serialised.
public final class DaemonClient: @unchecked Sendable {
    public let paths: Paths
    public let options: ClientOptions

    // Guarded by `monitor`.
    private let monitor = ConditionMonitor()
    private var fd: Int32 = -1
    private var frames: FrameBuffer
    private var nextID: Int64 = 1
    private var started: Int32?
    /// Calls sent by `submit` and not yet answered.
    private var inFlight = 0

    private init(paths: Paths, options: ClientOptions) {
        self.paths = paths
        self.options = options
        frames = FrameBuffer(limit: options.maxResponseBytes)
    }

    deinit {
        if fd >= 0 { Sys.close(fd) }
    }

    /// Connects to the daemon at `paths.socket`, starting it first in user mode when no
    /// daemon answers and autostart is on.
    public static func connect(paths: Paths, options: ClientOptions = ClientOptions()) throws(ClientError) -> DaemonClient {
        let client = DaemonClient(paths: paths, options: options)
        client.monitor.lock()
        defer { client.monitor.unlock() }
        try client.open()
        return client
    }

    /// The pid of the daemon this client started, when it started one.
    public var startedDaemonPID: Int32? { monitor.withLock { started } }

    /// Calls `method` and returns its result.
    ///
    /// - Throws: `.rpc` for the daemon's errors, except `auth.denied`, which is
    ///   `.permissionDenied`; `.daemonUnavailable` when the connection fails.
    public func call(_ method: String, _ params: JSONValue? = nil) throws(ClientError) -> JSONValue {
        monitor.lock()
        defer { monitor.unlock() }
        return try exchange(RPCRequest(id: .number(0), method: method, params: params))
    }

    /// Calls `method` with typed params and decodes a typed result; fields the result
    /// type does not know are ignored, so that a newer daemon may add some.
    public func call<Params: Encodable, Reply: Decodable>(_ method: String, params: Params, as type: Reply.Type) throws(ClientError) -> Reply {
        let encoded: JSONValue
        do {
            encoded = try ValueEncoder.encode(params)
        } catch {
            throw .rpc(.invalidParams("cannot encode params for '\(method)': \(error)"))
        }
        let value = try call(method, encoded)
        do {
            return try ValueDecoder.decode(type, from: value, allowUnknownFields: true)
        } catch {
            throw .protocolViolation("malformed result from '\(method)': \(error)")
        }
    }

    /// A call sent by `submit` whose answer has not been taken yet.
    public struct PendingCall: Sendable {
        fileprivate var request: RPCRequest
        public var method: String { request.method }
    }

    /// Sends a call without waiting for its answer, so that the daemon can work on it
    /// while this process prepares the next one. Answers come back in the order the
    /// calls were sent; take each with `awaitReply`, oldest first. While sending, any
    /// answers already waiting are read, so neither side can block the other.
    ///
    /// Pipelined calls belong to one thread: do not mix them with `call` from another.
    /// A connection lost with calls in flight fails them all with `daemonUnavailable`,
    /// since the daemon may have acted on some.
    public func submit(_ method: String, _ params: JSONValue? = nil) throws(ClientError) -> PendingCall {
        monitor.lock()
        defer { monitor.unlock() }
        var request = RPCRequest(id: .number(nextID), method: method, params: params)
        nextID += 1
        let bytes = request.encoded()
        guard bytes.count - 1 <= options.maxRequestBytes else { throw .rpc(.tooLarge(limit: options.maxRequestBytes)) }
        if inFlight == 0 { try reopenIfClosed() }
        guard fd >= 0 else { throw .daemonUnavailable("lost the connection to the daemon") }
        do {
            try UnixSocket.sendAll(fd, bytes, timeoutMs: options.callTimeoutMs, onReadable: { self.drainReadable() })
        } catch {
            drop()
            throw .daemonUnavailable("lost the connection to the daemon while sending '\(method)': \(error.message)")
        }
        inFlight += 1
        request.params = nil
        return PendingCall(request: request)
    }

    /// Waits for the answer to the oldest call sent by `submit`.
    public func awaitReply(_ call: PendingCall) throws(ClientError) -> JSONValue {
        monitor.lock()
        defer { monitor.unlock() }
        guard fd >= 0, inFlight > 0 else { throw .daemonUnavailable("the connection to the daemon was lost before '\(call.method)' was answered") }
        inFlight -= 1
        return try awaitResponse(call.request, deadline: MonotonicDeadline(milliseconds: options.callTimeoutMs))
    }

    /// Closes the connection; a later call opens a new one.
    public func close() {
        monitor.withLock { drop() }
    }

    // MARK: - Connection

    private var environment: [String: String] { options.environment ?? ThisProcess.environment() }

    private func drop() {
        if fd >= 0 { Sys.close(fd) }
        fd = -1
        frames = FrameBuffer(limit: options.maxResponseBytes)
        inFlight = 0
    }

    /// Opens the connection, starting the daemon when that is allowed and needed.
    private func open() throws(ClientError) {
        let first: SystemError
        do {
            fd = try UnixSocket.connect(path: paths.socket, timeoutMs: options.connectTimeoutMs)
            return
        } catch {
            first = error
        }
        guard first.code == Errno.noEntry || first.code == Errno.connectionRefused else { throw Self.connectFailure(first, paths.socket) }
        let env = environment
        guard paths.mode == .user, options.autostart.enabled, env[Autostart.disableVariable] != "1" else {
            var reason = "no daemon answers on '\(paths.socket)': \(first.message)"
            if paths.mode == .user && env[Autostart.disableVariable] == "1" { reason += " (autostart is off: \(Autostart.disableVariable)=1)" }
            throw .daemonUnavailable(reason)
        }
        try startDaemon(environment: env)
    }

    /// Starts the daemon and waits for it to answer, with backoff.
    private func startDaemon(environment env: [String: String]) throws(ClientError) {
        let auto = options.autostart
        guard let path = Autostart.locateDaemon(explicit: auto.daemonPath, selfExecutable: PathCalls.readLink("/proc/self/exe"),
                                                searchPath: env["PATH"]) else {
            throw .daemonUnavailable("no daemon answers on '\(paths.socket)', and no 'osmodad' was found beside this program or on PATH to start")
        }
        var daemonEnv = env.filter { !Autostart.scrubbed.contains($0.key) }
        daemonEnv[Paths.socketVariable] = paths.socket
        daemonEnv[Paths.stateVariable] = paths.stateDirectory
        daemonEnv[Paths.configVariable] = paths.configDirectory
        let pid: Int32
        do {
            pid = try ThisProcess.spawnDetached(path: path, arguments: auto.arguments, environment: daemonEnv)
        } catch {
            throw .daemonUnavailable("cannot start '\(path)': \(error.message)")
        }
        started = pid
        let deadline = MonotonicDeadline(milliseconds: auto.waitMs)
        var pause: Int64 = 5
        var goneSince: UInt64?
        var last = SystemError("connect", code: Errno.noEntry, subject: paths.socket)
        while true {
            do {
                fd = try UnixSocket.connect(path: paths.socket, timeoutMs: min(options.connectTimeoutMs, Int64(max(1, deadline.remainingMs))))
                return
            } catch {
                last = error
            }
            guard last.code == Errno.noEntry || last.code == Errno.connectionRefused else { throw Self.connectFailure(last, paths.socket) }
            // A daemon that exited did not start. Another client's may have won the state
            // lock and still be coming up: wait for it while the pid in the lock file lives
            // (and half a second in any case, for one that has not written it yet).
            let now = Sys.monotonicNanos()
            if goneSince == nil && !ThisProcess.isRunning(pid) { goneSince = now }
            if let gone = goneSince, now &- gone > 500_000_000, !lockHolderIsRunning(besides: pid) {
                throw .daemonUnavailable("started '\(path)' (pid \(pid)), but it exited without listening on '\(paths.socket)'")
            }
            if deadline.hasPassed {
                throw .daemonUnavailable("started '\(path)' (pid \(pid)), but no daemon answered on '\(paths.socket)' within \(auto.waitMs) ms: \(last.message)")
            }
            Sys.sleep(milliseconds: min(pause, Int64(deadline.remainingMs)))
            pause = min(pause * 2, 200)
        }
    }

    /// Whether the pid written in the state lock file is a live process other than `pid`.
    private func lockHolderIsRunning(besides pid: Int32) -> Bool {
        guard let text = Sys.readText(paths.lockFile), let first = text.split(separator: "\n").first,
              let holder = Int32(first), holder != pid else { return false }
        return ThisProcess.isRunning(holder)
    }

    private static func connectFailure(_ e: SystemError, _ socket: String) -> ClientError {
        if e.code == Errno.accessDenied || e.code == Errno.notPermitted {
            return .permissionDenied("cannot connect to '\(socket)': \(e.message)")
        }
        return .daemonUnavailable("cannot connect to '\(socket)': \(e.message)")
    }

    /// Reopens a connection that the daemon closed while it was idle: end of stream
    /// with nothing unread means no request of ours was lost.
    private func reopenIfClosed() throws(ClientError) {
        if fd >= 0, let ready = try? UnixSocket.waitReadable([fd], timeoutMs: 0), ready[0] {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let fd = self.fd
            // nil: nothing after all; 0: end of stream (or an error, which is the same here).
            let n: Int? = chunk.withUnsafeMutableBytes { raw in
                do { return try UnixSocket.receive(fd, into: raw) } catch { return 0 }
            }
            if let n, n > 0 {
                // Something unasked, such as `daemon.busy` on a new connection: it answers
                // the next request.
                frames.append(Array(chunk[0..<n]))
            } else if n == 0 {
                drop()
            }
        }
        if fd < 0 { try open() }
    }

    // MARK: - Calls

    private func exchange(_ template: RPCRequest) throws(ClientError) -> JSONValue {
        var request = template
        request.id = .number(nextID)
        nextID += 1
        let bytes = request.encoded()
        guard bytes.count - 1 <= options.maxRequestBytes else { throw .rpc(.tooLarge(limit: options.maxRequestBytes)) }
        try reopenIfClosed()
        let deadline = MonotonicDeadline(milliseconds: options.callTimeoutMs)
        do {
            try UnixSocket.sendAll(fd, bytes, timeoutMs: options.callTimeoutMs)
        } catch {
            // The daemon may have refused us before reading (busy): look for its reply.
            drainReadable()
            if case .frame(let f)? = frames.next() ?? frames.finish(), let r = try? RPCResponse.decode(f) {
                drop()
                return try Self.outcome(r, method: request.method)
            }
            drop()
            throw .daemonUnavailable("lost the connection to the daemon while sending '\(request.method)': \(error.message)")
        }
        return try awaitResponse(request, deadline: deadline)
    }

    /// Reads until the response to `request` arrives (responses come in request order).
    private func awaitResponse(_ request: RPCRequest, deadline: MonotonicDeadline) throws(ClientError) -> JSONValue {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while let event = frames.next() {
                guard case .frame(let frame) = event else {
                    drop()
                    throw .protocolViolation("the daemon's response is larger than \(options.maxResponseBytes) bytes")
                }
                if frame.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let response: RPCResponse
                do {
                    response = try RPCResponse.decode(frame)
                } catch {
                    drop()
                    throw .protocolViolation("malformed response from the daemon: \(error.message)")
                }
                guard response.id == request.id || response.id == .null else {
                    drop()
                    throw .protocolViolation("response for id \(response.id), expected \(request.id ?? .null)")
                }
                if response.id == .null { drop() }
                return try Self.outcome(response, method: request.method)
            }
            let remaining = deadline.remainingMs
            let ready: Bool
            do {
                ready = remaining > 0 ? try UnixSocket.waitReadable([fd], timeoutMs: remaining)[0] : false
            } catch {
                drop()
                throw .daemonUnavailable("waiting for the daemon: \(error.message)")
            }
            guard ready else {
                drop()
                throw .daemonUnavailable("no response to '\(request.method)' within \(options.callTimeoutMs) ms")
            }
            let n: Int?
            do {
                let fd = self.fd
                n = try chunk.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) -> Int? in try UnixSocket.receive(fd, into: raw) }
                }.get()
            } catch {
                drop()
                throw .daemonUnavailable("reading from the daemon: \(error.message)")
            }
            guard let n else { continue }
            if n == 0 {
                if let last = frames.finish(), case .frame(let f) = last, let r = try? RPCResponse.decode(f) {
                    drop()
                    return try Self.outcome(r, method: request.method)
                }
                drop()
                throw .daemonUnavailable("the daemon closed the connection before answering '\(request.method)'")
            }
            chunk.withUnsafeBytes { frames.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Reads whatever the socket holds now into `frames`, without waiting.
    private func drainReadable() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let fd = self.fd
        while true {
            let n: Int? = chunk.withUnsafeMutableBytes { raw in
                do { return try UnixSocket.receive(fd, into: raw) } catch { return 0 }
            }
            guard let n, n > 0 else { return }
            frames.append(Array(chunk[0..<n]))
        }
    }

    private static func outcome(_ response: RPCResponse, method: String) throws(ClientError) -> JSONValue {
        switch response.outcome {
        case .result(let v): return v
        case .error(let e) where e.code == .denied: throw .permissionDenied("\(method): \(e.message)")
        case .error(let e): throw .rpc(e)
        }
    }
}
