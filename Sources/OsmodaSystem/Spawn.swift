#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Child processes (`Spawn`, `SpawnedChild`), the process table (`Processes`), and the
// threads the probes run on (`WorkerThreads`, `ConditionMonitor`): everything here
// starts, watches or ends something that runs beside the caller.

// MARK: - Options and results

/// What to run and how to bound it.
///
/// The program is started from an argument vector, never through a shell, and found
/// on the caller's `PATH` when `argv[0]` has no slash (also when `env` replaces the
/// environment). Standard input is /dev/null.
public struct SpawnOptions: Sendable, Equatable {
    /// The program and its arguments; `argv[0]` is looked up on `PATH`.
    public var argv: [String]
    /// The child's whole environment, or `nil` to inherit the caller's.
    public var env: [String: String]?
    /// The child's working directory, or `nil` for the caller's.
    public var cwd: String?
    /// How long the child may run before its process group is ended; `nil` waits forever.
    public var timeoutMs: Int64?
    /// How many bytes of each of standard output and standard error are kept (the last ones).
    public var outputLimit: Int
    /// How long the group has after `SIGTERM` before `SIGKILL`.
    public var killGraceMs: Int64

    public init(argv: [String], env: [String: String]? = nil, cwd: String? = nil, timeoutMs: Int64? = nil,
                outputLimit: Int = 4096, killGraceMs: Int64 = 1000) {
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.timeoutMs = timeoutMs
        self.outputLimit = outputLimit
        self.killGraceMs = killGraceMs
    }
}

/// How a child ended and the tail of what it printed.
public struct SpawnResult: Sendable, Equatable {
    /// The child's process id (also its process group id).
    public var pid: Int32
    /// The exit status when it exited; `nil` when a signal ended it (or it was reaped elsewhere).
    public var exitStatus: Int32?
    /// The signal that ended it, if one did.
    public var signal: Int32?
    /// Whether the timeout passed and the group was signalled.
    public var timedOut: Bool
    /// The last `outputLimit` bytes of standard output.
    public var stdoutTail: [UInt8]
    /// The last `outputLimit` bytes of standard error.
    public var stderrTail: [UInt8]
    /// Whether standard output had more than `stdoutTail` holds.
    public var stdoutTruncated: Bool
    /// Whether standard error had more than `stderrTail` holds.
    public var stderrTruncated: Bool
    /// From the start of the child to its reaping, in monotonic nanoseconds.
    public var durationNanos: UInt64

    public init(pid: Int32, exitStatus: Int32?, signal: Int32?, timedOut: Bool, stdoutTail: [UInt8], stderrTail: [UInt8],
                stdoutTruncated: Bool, stderrTruncated: Bool, durationNanos: UInt64) {
        self.pid = pid
        self.exitStatus = exitStatus
        self.signal = signal
        self.timedOut = timedOut
        self.stdoutTail = stdoutTail
        self.stderrTail = stderrTail
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.durationNanos = durationNanos
    }

    /// `exit status 3`, `killed by signal 9 (SIGKILL)`, or `status unknown` for a child
    /// that someone else reaped.
    public var statusDescription: String {
        if let exitStatus { return "exit status \(exitStatus)" }
        if let signal { return "killed by signal \(signal) (\(Processes.signalName(signal)))" }
        return "status unknown"
    }
}

// MARK: - Spawning

/// Starts programs with `posix_spawnp(3)`.
public enum Spawn {
    /// Runs a program to its end (or its timeout) and reports how it ended.
    ///
    /// A non-zero exit or a death by signal is not an error: it is in the result. The
    /// errors are for a child that could not be started (`posix_spawnp`, e.g. `ENOENT`)
    /// or the pipes it needs.
    public static func run(_ options: SpawnOptions) throws(SystemError) -> SpawnResult {
        try start(options).wait()
    }

    /// Starts a program and returns at once; `SpawnedChild.wait()` collects it.
    ///
    /// The child leads a new process group (`POSIX_SPAWN_SETPGROUP`, group 0), so that
    /// a timeout can end it with everything it started. It gets an empty signal mask
    /// and the default action for the signals a daemon tends to ignore (`SIGPIPE`,
    /// `SIGINT`, `SIGTERM`, …). Its standard output and error are pipes the caller drains.
    public static func start(_ options: SpawnOptions) throws(SystemError) -> SpawnedChild {
        guard let program = options.argv.first, !program.isEmpty else {
            throw SystemError("posix_spawnp", code: EINVAL, subject: "")
        }
        // Pipes and spawns are serialised so that, where pipe2 is missing, a pipe made by
        // one thread is close-on-exec before another thread starts a child.
        spawnLock.lock()
        defer { spawnLock.unlock() }
        let out = try makePipe()
        let err: (read: Int32, write: Int32)
        do { err = try makePipe() } catch {
            Sys.close(out.read)
            Sys.close(out.write)
            throw error
        }
        let pid: pid_t
        do {
            pid = try spawnChild(options, program: program, stdout: out.write, stderr: err.write)
        } catch {
            for fd in [out.read, out.write, err.read, err.write] { Sys.close(fd) }
            throw error
        }
        Sys.close(out.write)
        Sys.close(err.write)
        for fd in [out.read, err.read] {
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        }
        return SpawnedChild(pid: pid, stdout: out.read, stderr: err.read, options: options)
    }

    private static let spawnLock = ConditionMonitor()

    /// The signals a child gets back at their default action.
    private static let defaultedSignals: [Int32] = [
        SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2,
        SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ, SIGXCPU,
    ]

    /// Makes a close-on-exec pipe whose ends are above the standard descriptors, so
    /// `dup2` onto 1 and 2 never meets itself.
    private static func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let rc: Int32 = fds.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return -1 }
            if let pipe2 = GNUExtras.pipe2 { return pipe2(base, O_CLOEXEC) }
            let r = pipe(base)
            if r == 0 {
                _ = fcntl(base[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(base[1], F_SETFD, FD_CLOEXEC)
            }
            return r
        }
        guard rc == 0 else { throw SystemError("pipe") }
        for i in 0..<2 where fds[i] <= 2 {
            let moved = fcntl(fds[i], F_DUPFD_CLOEXEC, Int32(3))
            if moved < 0 {
                let e = SystemError("fcntl")
                Sys.close(fds[0])
                Sys.close(fds[1])
                throw e
            }
            Sys.close(fds[i])
            fds[i] = moved
        }
        return (fds[0], fds[1])
    }

    /// Calls `posix_spawnp(3)` with the file actions and attributes described on `start`.
    private static func spawnChild(_ o: SpawnOptions, program: String, stdout: Int32, stderr: Int32) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        if let cwd = o.cwd {
            guard let addchdir = GNUExtras.addchdir else {
                throw SystemError("posix_spawn_file_actions_addchdir_np", code: ENOSYS, subject: cwd)
            }
            let rc = addchdir(&actions, cwd)
            if rc != 0 { throw SystemError("posix_spawn_file_actions_addchdir_np", code: rc, subject: cwd) }
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attr, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultedSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)

        var cArgs: [UnsafeMutablePointer<CChar>?] = o.argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var cEnv: [UnsafeMutablePointer<CChar>?]? = nil
        if let env = o.env {
            cEnv = env.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for p in cEnv ?? [] { free(p) } }

        var pid: pid_t = 0
        let rc: Int32
        if let cEnv {
            rc = posix_spawnp(&pid, program, &actions, &attr, cArgs, cEnv)
        } else {
            rc = posix_spawnp(&pid, program, &actions, &attr, cArgs, environ)
        }
        guard rc == 0 else { throw SystemError("posix_spawnp", code: rc, subject: program) }
        return pid
    }
}

/// GNU functions the Glibc module hides (they sit behind `_GNU_SOURCE`), found with
/// `dlsym(3)` in the C library that is already loaded.
private enum GNUExtras {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let pipe2: Pipe2? = lookup("pipe2")
    static let addchdir: AddChdir? = lookup("posix_spawn_file_actions_addchdir_np")

    private static func lookup<F>(_ name: String) -> F? {
        guard let sym = dlsym(nil, name) else { return nil }
        return unsafeBitCast(sym, to: F.self)
    }
}

/// A started child: its pipes are drained and it is reaped by `wait()`.
///
/// A child dropped without `wait()` has its group killed and is reaped in `deinit`,
/// so that no zombie is left behind.
public final class SpawnedChild {
    /// The child's process id, which is also its process group id.
    public let pid: Int32
    private let options: SpawnOptions
    private let startNanos: UInt64
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private var result: SpawnResult?

    init(pid: Int32, stdout: Int32, stderr: Int32, options: SpawnOptions) {
        self.pid = pid
        self.stdoutFD = stdout
        self.stderrFD = stderr
        self.options = options
        self.startNanos = Sys.monotonicNanos()
    }

    deinit {
        if result == nil {
            _ = Glibc.kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        if stdoutFD >= 0 { Sys.close(stdoutFD) }
        if stderrFD >= 0 { Sys.close(stderrFD) }
    }

    /// Sends `signal` to the child's whole process group with `kill(2)`; false when
    /// the group is gone.
    @discardableResult
    public func signalGroup(_ signal: Int32) -> Bool {
        guard result == nil else { return false }
        return Glibc.kill(-pid, signal) == 0
    }

    /// Drains the child's output, ends its group at the timeout, reaps it with
    /// `waitpid(2)`, and reports how it ended. Calling it again returns the same result.
    ///
    /// At the timeout the group gets `SIGTERM`, and `SIGKILL` once `killGraceMs` has
    /// passed while any member is left. When the child exits by itself its output is
    /// read until the pipes are empty, even if something it left behind still holds
    /// them open; what it left behind is not touched.
    public func wait() -> SpawnResult {
        if let result { return result }
        var out = Tail(limit: options.outputLimit)
        var err = Tail(limit: options.outputLimit)
        var buffer = [UInt8](repeating: 0, count: 16384)
        let deadline = options.timeoutMs.map { startNanos &+ UInt64(max(0, $0)) &* 1_000_000 }
        let grace = UInt64(max(0, options.killGraceMs)) &* 1_000_000
        var status: Int32?
        var reapedElsewhere = false
        var termSentAt: UInt64?
        var killSent = false
        var tickMs: Int32 = 1

        while true {
            if status == nil {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid { status = st } else if r < 0 && errno == ECHILD { reapedElsewhere = true }
            }
            if status != nil || reapedElsewhere {
                drain(&stdoutFD, into: &out, buffer: &buffer, untilEmpty: true)
                drain(&stderrFD, into: &err, buffer: &buffer, untilEmpty: true)
                break
            }
            let now = Sys.monotonicNanos()
            if let deadline, termSentAt == nil, now >= deadline {
                _ = Glibc.kill(-pid, SIGTERM)
                termSentAt = now
            }
            if let t = termSentAt, !killSent, now >= t &+ grace {
                _ = Glibc.kill(-pid, SIGKILL)
                killSent = true
            }
            var waitMs = tickMs
            if termSentAt == nil, let deadline { waitMs = min(waitMs, Self.millisUntil(deadline, from: now)) }
            if let t = termSentAt, !killSent { waitMs = min(waitMs, Self.millisUntil(t &+ grace, from: now)) }
            if pollAndRead(&out, &err, buffer: &buffer, timeoutMs: max(waitMs, 0)) {
                tickMs = 1
            } else {
                tickMs = min(tickMs * 2, 50)
            }
        }
        if let t = termSentAt, !killSent {
            // The leader is gone; give the rest of its group the same grace, then kill it.
            while Glibc.kill(-pid, 0) == 0 {
                if Sys.monotonicNanos() >= t &+ grace {
                    _ = Glibc.kill(-pid, SIGKILL)
                    break
                }
                Sys.sleep(milliseconds: 5)
            }
        }
        if stdoutFD >= 0 { Sys.close(stdoutFD); stdoutFD = -1 }
        if stderrFD >= 0 { Sys.close(stderrFD); stderrFD = -1 }

        var exitStatus: Int32?
        var signal: Int32?
        if let st = status {
            // The W* macros are not imported into Swift; these are their glibc definitions.
            let sig = st & 0x7F
            if sig == 0 { exitStatus = (st >> 8) & 0xFF } else { signal = sig }
        }
        let r = SpawnResult(
            pid: pid, exitStatus: exitStatus, signal: signal, timedOut: termSentAt != nil,
            stdoutTail: out.finish(), stderrTail: err.finish(),
            stdoutTruncated: out.dropped, stderrTruncated: err.dropped,
            durationNanos: Sys.monotonicNanos() &- startNanos)
        result = r
        return r
    }

    private static func millisUntil(_ t: UInt64, from now: UInt64) -> Int32 {
        guard t > now else { return 0 }
        return Int32(clamping: (t - now + 999_999) / 1_000_000)
    }

    /// Waits up to `timeoutMs` for output on the open pipes and reads what came; true
    /// when something was read or a pipe closed.
    private func pollAndRead(_ out: inout Tail, _ err: inout Tail, buffer: inout [UInt8], timeoutMs: Int32) -> Bool {
        var fds: [pollfd] = []
        if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        if fds.isEmpty {
            Sys.sleep(milliseconds: Int64(timeoutMs))
            return false
        }
        let n = poll(&fds, nfds_t(fds.count), timeoutMs)
        guard n > 0 else { return false }
        var progress = false
        for p in fds where p.revents != 0 {
            if p.fd == stdoutFD {
                progress = drain(&stdoutFD, into: &out, buffer: &buffer, untilEmpty: false) || progress
            } else if p.fd == stderrFD {
                progress = drain(&stderrFD, into: &err, buffer: &buffer, untilEmpty: false) || progress
            }
        }
        return progress
    }

    /// Reads from a non-blocking pipe: once, or until it would block; closes it at end
    /// of file or on an error. True when bytes came or the pipe closed.
    @discardableResult
    private func drain(_ fd: inout Int32, into tail: inout Tail, buffer: inout [UInt8], untilEmpty: Bool) -> Bool {
        guard fd >= 0 else { return false }
        var progress = false
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.withUnsafeBytes { tail.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                progress = true
                if !untilEmpty { return true }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return progress }
            Sys.close(fd)
            fd = -1
            return true
        }
    }
}

/// Keeps the last `limit` bytes of a stream without holding much more.
struct Tail {
    let limit: Int
    var bytes: [UInt8] = []
    var dropped = false

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        if bytes.count > 2 * limit + 65536 { trim() }
    }

    mutating func trim() {
        if bytes.count > limit {
            bytes.removeFirst(bytes.count - limit)
            dropped = true
        }
    }

    mutating func finish() -> [UInt8] {
        trim()
        return bytes
    }
}

// MARK: - The process table

/// Questions about other processes: whether one exists, which ones there are, and
/// signals to them.
public enum Processes {
    /// Whether `pid` exists, by `kill(pid, 0)`: success or `EPERM` (it exists, but
    /// belongs to someone else) mean yes. A zombie exists until it is reaped.
    public static func exists(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return Glibc.kill(pid, 0) == 0 || errno == EPERM
    }

    /// Wraps `kill(2)` for one process.
    public static func signal(_ pid: Int32, _ signal: Int32) throws(SystemError) {
        guard pid > 0 else { throw SystemError("kill", code: EINVAL, subject: "pid \(pid)") }
        if Glibc.kill(pid, signal) != 0 { throw SystemError("kill", subject: "pid \(pid)") }
    }

    /// Wraps `kill(2)` with a negative pid: every member of process group `pgid`.
    public static func signalGroup(_ pgid: Int32, _ signal: Int32) throws(SystemError) {
        guard pgid > 0 else { throw SystemError("kill", code: EINVAL, subject: "group \(pgid)") }
        if Glibc.kill(-pgid, signal) != 0 { throw SystemError("kill", subject: "group \(pgid)") }
    }

    /// The process ids listed in `procRoot` (its all-digit entries), read with
    /// `opendir(3)`/`readdir(3)`; not sorted.
    public static func listPIDs(procRoot: String = "/proc") throws(SystemError) -> [Int32] {
        guard let dir = opendir(procRoot) else { throw SystemError("opendir", subject: procRoot) }
        defer { closedir(dir) }
        var pids: [Int32] = []
        while let entry = readdir(dir) {
            let pid: Int32? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                var v: Int32 = 0
                var digits = 0
                for b in raw {
                    if b == 0 { break }
                    guard b >= 0x30, b <= 0x39, v < Int32.max / 10 else { return nil }
                    v = v * 10 + Int32(b - 0x30)
                    digits += 1
                }
                return digits > 0 ? v : nil
            }
            if let pid { pids.append(pid) }
        }
        return pids
    }

    /// `SIGTERM` for 15, or `SIG42` for a signal without a common name.
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGUSR1: return "SIGUSR1"
        case SIGSEGV: return "SIGSEGV"
        case SIGUSR2: return "SIGUSR2"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        case SIGCHLD: return "SIGCHLD"
        case SIGXCPU: return "SIGXCPU"
        case SIGXFSZ: return "SIGXFSZ"
        case SIGSYS: return "SIGSYS"
        default: return "SIG\(signal)"
        }
    }
}

// MARK: - Threads

/// A pthread mutex with a condition variable on the monotonic clock.
///
/// `@unchecked Sendable`: the pthread objects live at fixed heap addresses and are
/// only touched through the pthread calls, which do their own synchronisation.
package final class ConditionMonitor: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    /// With the lock held: waits for `broadcast()` or until the monotonic time
    /// `untilNanos` (forever when `nil`); false when the time passed. Wakes may be
    /// spurious, so callers re-check their condition.
    @discardableResult
    package func wait(untilNanos: UInt64?) -> Bool {
        guard let untilNanos else {
            pthread_cond_wait(cond, mutex)
            return true
        }
        var ts = timespec(tv_sec: Int(untilNanos / 1_000_000_000), tv_nsec: Int(untilNanos % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) != ETIMEDOUT
    }

    package func broadcast() { pthread_cond_broadcast(cond) }
}

/// Detached pthreads for blocking work: probes that sit in `poll(2)`, name
/// resolution that may never return.
package enum WorkerThreads {
    private final class Job {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread; false when the system refused one.
    package static func detach(_ body: @escaping @Sendable () -> Void) -> Bool {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Job(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { arg in
            guard let arg else { return nil }
            Unmanaged<Job>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Job>.fromOpaque(context).release()
            return false
        }
        return true
    }

    private final class MapState<R: Sendable>: @unchecked Sendable {
        // Guarded by `monitor`.
        let monitor = ConditionMonitor()
        var results: [R?]
        var settled: [Bool]
        init(count: Int) {
            results = Array(repeating: nil, count: count)
            settled = Array(repeating: false, count: count)
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, at most `maxThreads` at a time, each
    /// on its own thread, and returns the results in index order.
    ///
    /// A job still running `budgetNanos(i)` after it started is given up: its result is
    /// `abandoned(i)`, its thread is left to finish alone (its late result is dropped),
    /// and its place goes to the next job. When no thread can be made, a job runs on
    /// the caller's thread.
    package static func map<R: Sendable>(
        count: Int, maxThreads: Int, budgetNanos: (Int) -> UInt64?, abandoned: (Int) -> R,
        _ body: @escaping @Sendable (Int) -> R
    ) -> [R] {
        let state = MapState<R>(count: count)
        var deadlines: [UInt64?] = Array(repeating: nil, count: count)
        var active: [Int] = []
        var next = 0
        let limit = max(1, maxThreads)
        state.monitor.lock()
        while true {
            active.removeAll { state.settled[$0] }
            while active.count < limit && next < count {
                let i = next
                next += 1
                deadlines[i] = budgetNanos(i).map { Sys.monotonicNanos() &+ $0 }
                let started = detach {
                    let r = body(i)
                    state.monitor.withLock {
                        if !state.settled[i] {
                            state.results[i] = r
                            state.settled[i] = true
                        }
                        state.monitor.broadcast()
                    }
                }
                if started {
                    active.append(i)
                } else {
                    state.monitor.unlock()
                    let r = body(i)
                    state.monitor.lock()
                    state.results[i] = r
                    state.settled[i] = true
                }
            }
            if active.isEmpty && next >= count { break }
            let now = Sys.monotonicNanos()
            var gaveUp = false
            for i in active where !state.settled[i] {
                if let d = deadlines[i], d <= now {
                    state.results[i] = abandoned(i)
                    state.settled[i] = true
                    gaveUp = true
                }
            }
            if gaveUp || active.contains(where: { state.settled[$0] }) { continue }
            let wake = active.compactMap { deadlines[$0] }.min()
            state.monitor.wait(untilNanos: wake)
        }
        let results = state.results
        state.monitor.unlock()
        return results.enumerated().map { $0.element ?? abandoned($0.offset) }
    }
}
