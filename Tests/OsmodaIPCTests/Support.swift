#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaSystem
import Testing

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A fresh directory under $TMPDIR (or /tmp), removed by `remove()`.
struct TempDir: Sendable {
    let path: String

    init(_ label: String = "osmoda-ipc") throws {
        let base = Sys.env("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(label).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let p = file(name)
        let fd = try Sys.open(p, O_WRONLY | O_CREAT | O_TRUNC, mode: executable ? 0o755 : 0o644)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, Array(text.utf8))
        return p
    }

    func remove() {
        _ = try? Spawn.run(SpawnOptions(argv: ["rm", "-rf", path], timeoutMs: 10_000))
    }
}

/// Limits for tests: generous, except where a test narrows one.
func testLimits(_ change: (inout DaemonLimits) -> Void = { _ in }) -> DaemonLimits {
    var l = DaemonLimits(idleTimeoutMs: 30_000, frameTimeoutMs: 10_000, writeTimeoutMs: 5_000, drainTimeoutMs: 10_000)
    change(&l)
    return l
}

/// A daemon on its own socket and state directory, served on a background thread.
final class TestDaemon: @unchecked Sendable {
    let dir: TempDir
    let paths: Paths
    let lock: StateDirectoryLock
    let server: DaemonServer
    private let monitor = ConditionMonitor()
    private var finished = false

    init(router: Router = Router(), roles: Roles? = nil, limits: DaemonLimits = testLimits(), mode: Paths.Mode = .user,
         socketMode: UInt32? = nil, notifier: ServiceNotifier = ServiceNotifier(socket: nil), handleSignals: Bool = false,
         activation: SocketActivation? = nil, dir existing: TempDir? = nil, socket: String? = nil) throws {
        dir = try existing ?? TempDir()
        paths = Paths(mode: mode, socket: socket ?? dir.file("run/osmodad.sock"), stateDirectory: dir.file("state"),
                      configDirectory: dir.file("config"))
        lock = try StateDirectoryLock.acquire(stateDirectory: paths.stateDirectory)
        let options = DaemonOptions(version: "test", limits: limits, socketMode: socketMode, activation: activation,
                                    notifier: notifier, handleSignals: handleSignals)
        server = try DaemonServer(paths: paths, roles: roles ?? Roles(implicitAdmin: getuid()), router: router, lock: lock, options: options)
    }

    /// Starts `run()` on a thread of its own and waits until it serves.
    @discardableResult
    func start() -> TestDaemon {
        let started = WorkerThreads.detach { [self] in
            server.run()
            monitor.withLock {
                finished = true
                monitor.broadcast()
            }
        }
        precondition(started)
        let deadline = MonotonicDeadline(milliseconds: 5000)
        while !server.isRunning && !deadline.hasPassed { Sys.sleep(milliseconds: 1) }
        return self
    }

    /// Waits for `run()` to return; false when it has not within `timeoutMs`.
    func waitForExit(timeoutMs: Int64 = 10_000) -> Bool {
        let deadline = Sys.monotonicNanos() &+ UInt64(timeoutMs) * 1_000_000
        monitor.lock()
        defer { monitor.unlock() }
        while !finished && Sys.monotonicNanos() < deadline { monitor.wait(untilNanos: deadline) }
        return finished
    }

    /// Stops the server and waits for it.
    @discardableResult
    func stop() -> Bool {
        server.stop()
        return waitForExit()
    }

    func client(_ options: ClientOptions = ClientOptions(autostart: .disabled)) throws -> DaemonClient {
        try DaemonClient.connect(paths: paths, options: options)
    }

    func raw() throws -> RawConnection { try RawConnection(path: paths.socket) }

    /// Stops, releases the lock and removes the directory.
    func close() {
        stop()
        lock.release()
        dir.remove()
    }
}

/// A connection driven byte by byte, to do what a well-behaved client would not.
final class RawConnection {
    let fd: Int32
    private var buffered: [UInt8] = []

    init(path: String, timeoutMs: Int64 = 5000) throws {
        fd = try UnixSocket.connect(path: path, timeoutMs: timeoutMs)
    }

    deinit { Sys.close(fd) }

    func send(_ text: String) throws {
        try UnixSocket.sendAll(fd, Array(text.utf8), timeoutMs: 5000)
    }

    func send(_ bytes: [UInt8]) throws {
        try UnixSocket.sendAll(fd, bytes, timeoutMs: 5000)
    }

    func shutdownWrite() { UnixSocket.shutdownWrite(fd) }

    enum Read: Equatable {
        case line(String)
        case end
        case timeout
    }

    /// The next line without its newline, the end of the stream, or a timeout.
    func next(timeoutMs: Int64 = 5000) -> Read {
        let deadline = MonotonicDeadline(milliseconds: timeoutMs)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let nl = buffered.firstIndex(of: 0x0A) {
                let line = Array(buffered[..<nl])
                buffered.removeFirst(nl + 1)
                return .line(String(decoding: line, as: UTF8.self))
            }
            let remaining = deadline.remainingMs
            guard remaining > 0 else { return .timeout }
            guard let ready = try? UnixSocket.waitReadable([fd], timeoutMs: remaining), ready[0] else { continue }
            let fd = self.fd
            let n: Int? = chunk.withUnsafeMutableBytes { raw in (try? UnixSocket.receive(fd, into: raw)) ?? 0 }
            guard let n else { continue }
            if n == 0 { return .end }
            buffered.append(contentsOf: chunk[0..<n])
        }
    }

    /// The next line; `nil` at end of stream or after `timeoutMs`.
    func readLine(timeoutMs: Int64 = 5000) -> String? {
        if case .line(let l) = next(timeoutMs: timeoutMs) { return l }
        return nil
    }

    /// The next line as a response.
    func response(timeoutMs: Int64 = 5000) throws -> RPCResponse {
        guard let line = readLine(timeoutMs: timeoutMs) else { throw TestFailure("no response line") }
        return try RPCResponse.decode(Array(line.utf8))
    }

    /// Whether the daemon closes the connection within `timeoutMs`; lines before the end
    /// are collected in `skipped`.
    func closesWithin(_ timeoutMs: Int64, skipped: inout [String]) -> Bool {
        let deadline = MonotonicDeadline(milliseconds: timeoutMs)
        while true {
            switch next(timeoutMs: Int64(deadline.remainingMs)) {
            case .line(let l): skipped.append(l)
            case .end: return true
            case .timeout: return false
            }
        }
    }

    func closesWithin(_ timeoutMs: Int64) -> Bool {
        var skipped: [String] = []
        return closesWithin(timeoutMs, skipped: &skipped)
    }
}

/// A request line.
func requestLine(_ method: String, id: Int64 = 1, params: String? = nil) -> String {
    if let params { return #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"# + "\n" }
    return #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)"}"# + "\n"
}

extension RPCResponse {
    var errorCode: RPCErrorCode? {
        if case .error(let e) = outcome { return e.code }
        return nil
    }
    var rpcError: RPCError? {
        if case .error(let e) = outcome { return e }
        return nil
    }
    var resultValue: JSONValue? {
        if case .result(let v) = outcome { return v }
        return nil
    }
}

/// Runs `body` on `count` threads at once and returns the results in order.
func concurrently<R: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> R) -> [R] {
    WorkerThreads.map(count: count, maxThreads: count, budgetNanos: { _ in nil }, abandoned: { _ in fatalError("abandoned") }, body)
}

/// /usr/bin/python3, when the machine has it (fixtures for autostart and a second uid).
let python3: String? = PathCalls.isExecutableFile("/usr/bin/python3") ? "/usr/bin/python3" : nil

/// A handler that signals it has started and waits to be let go.
final class Gate: @unchecked Sendable {
    private let monitor = ConditionMonitor()
    private var entered = 0
    private var opened = false

    /// In the handler: says it is in, waits until `open()`; false when it timed out.
    func enterAndWait(timeoutMs: Int64) -> Bool {
        let deadline = Sys.monotonicNanos() &+ UInt64(timeoutMs) * 1_000_000
        monitor.lock()
        defer { monitor.unlock() }
        entered += 1
        monitor.broadcast()
        while !opened && Sys.monotonicNanos() < deadline { monitor.wait(untilNanos: deadline) }
        return opened
    }

    /// In the test: waits until `count` handlers are in.
    func waitForEntry(_ count: Int = 1, timeoutMs: Int64) -> Bool {
        let deadline = Sys.monotonicNanos() &+ UInt64(timeoutMs) * 1_000_000
        monitor.lock()
        defer { monitor.unlock() }
        while entered < count && Sys.monotonicNanos() < deadline { monitor.wait(untilNanos: deadline) }
        return entered >= count
    }

    func open() {
        monitor.withLock {
            opened = true
            monitor.broadcast()
        }
    }
}

/// Work on a thread of its own that a test waits for before it ends, so that nothing
/// outlives the test and touches a descriptor number that has been reused.
final class BackgroundJob: @unchecked Sendable {
    private let monitor = ConditionMonitor()
    private var done = false

    init(_ body: @escaping @Sendable () -> Void) {
        let started = WorkerThreads.detach { [self] in
            body()
            monitor.withLock {
                done = true
                monitor.broadcast()
            }
        }
        precondition(started)
    }

    /// Waits for the work to end; false after `timeoutMs`.
    @discardableResult
    func wait(timeoutMs: Int64 = 20_000) -> Bool {
        let deadline = Sys.monotonicNanos() &+ UInt64(timeoutMs) * 1_000_000
        monitor.lock()
        defer { monitor.unlock() }
        while !done && Sys.monotonicNanos() < deadline { monitor.wait(untilNanos: deadline) }
        return done
    }
}

/// Raises this process's soft descriptor limit to its hard limit, for tests that hold
/// hundreds of connections (each end of each is a descriptor here).
func raiseDescriptorLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
