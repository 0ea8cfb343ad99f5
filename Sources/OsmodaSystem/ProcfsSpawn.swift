#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a captured command printed and how it ended.
public struct CapturedOutput: Sendable, Equatable {
    /// How the child ended: its exit status, or the signal that killed it.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    public var termination: Termination
    public var stdout: [UInt8]
    /// The first `CommandCapture.stderrLimit` bytes of standard error; more is dropped.
    public var stderr: [UInt8]

    /// Whether the command exited with status 0.
    public var succeeded: Bool { termination == .exited(0) }
}

/// Runs an external program (such as `systemctl`) and captures what it prints: the
/// small helper the query tables need, not a general process API.
///
/// The program is found on `PATH` and started with `posix_spawnp(3)` from an argument
/// vector (never through a shell), with standard input on /dev/null, the default
/// `SIGPIPE` action and an empty signal mask.
public enum CommandCapture {
    /// How much standard error is kept.
    public static let stderrLimit = 64 << 10

    /// Runs `argv` to completion and returns its output.
    ///
    /// A command that exits non-zero is not an error here: callers read
    /// `termination`. Errors are for what keeps the command from running to the end:
    /// it cannot be started (`posix_spawnp`, e.g. `ENOENT`), it prints more than
    /// `maxOutputBytes` on standard output (`EFBIG`), or it runs past
    /// `timeoutMilliseconds` (`ETIMEDOUT`); in the last two cases it is killed with
    /// `SIGKILL` and reaped first.
    public static func run(
        _ argv: [String],
        maxOutputBytes: Int = 16 << 20,
        timeoutMilliseconds: Int = 10_000
    ) throws(SystemError) -> CapturedOutput {
        guard let program = argv.first else { throw SystemError("posix_spawnp", code: EINVAL) }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard makePipe(&outPipe) else { throw SystemError("pipe", subject: program) }
        guard makePipe(&errPipe) else {
            let e = SystemError("pipe", subject: program)
            Sys.close(outPipe[0]); Sys.close(outPipe[1])
            throw e
        }
        let pid: pid_t
        do throws(SystemError) {
            pid = try spawn(argv, stdout: outPipe[1], stderr: errPipe[1])
        } catch {
            for fd in outPipe + errPipe { Sys.close(fd) }
            throw error
        }
        Sys.close(outPipe[1])
        Sys.close(errPipe[1])
        defer { Sys.close(outPipe[0]); Sys.close(errPipe[0]) }

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var failure: SystemError?
        let deadline = Sys.monotonicNanos() + UInt64(max(timeoutMilliseconds, 0)) * 1_000_000
        var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while fds.contains(where: { $0.fd >= 0 }) {
            let now = Sys.monotonicNanos()
            if now >= deadline {
                failure = SystemError("run", code: ETIMEDOUT, subject: program)
                break
            }
            let wait = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = SystemError("poll", subject: program)
                break
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fds[i].fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    failure = SystemError("read", subject: program)
                    break
                }
                if n == 0 {
                    fds[i].fd = -1
                } else if i == 0 {
                    stdout.append(contentsOf: chunk[0..<n])
                    if stdout.count > maxOutputBytes {
                        failure = SystemError("read", code: EFBIG, subject: program)
                        break
                    }
                } else if stderr.count < stderrLimit {
                    stderr.append(contentsOf: chunk[0..<min(n, stderrLimit - stderr.count)])
                }
            }
            if failure != nil { break }
        }
        if failure == nil {
            // The pipes are closed, but the child may not have exited (it closed
            // them itself): wait for it within the same deadline.
            if let status = reap(pid, deadline: deadline) {
                return CapturedOutput(termination: status, stdout: stdout, stderr: stderr)
            }
            failure = SystemError("run", code: ETIMEDOUT, subject: program)
        }
        _ = kill(pid, SIGKILL)
        _ = reap(pid, deadline: nil)
        throw failure ?? SystemError("run", code: EIO, subject: program)
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    /// `pipe2(2)`, which the Glibc module does not show (it is a GNU extension), found
    /// with `dlsym(3)` in the default namespace (`RTLD_DEFAULT` is a null handle).
    private static let pipe2Function: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// Makes a close-on-exec pipe: with `pipe2(O_CLOEXEC)`, or where that is missing
    /// with `pipe(2)` then `fcntl(2)`, whose gap can leak the descriptors into a child
    /// that another thread spawns at that moment.
    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        if let pipe2Function { return pipe2Function(&fds, O_CLOEXEC) == 0 }
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Starts `argv` with `posix_spawnp(3)`, its standard output and error on the
    /// given descriptors and standard input on /dev/null.
    private static func spawn(_ argv: [String], stdout: Int32, stderr: Int32) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cArgs, environ)
        guard rc == 0 else { throw SystemError("posix_spawnp", code: rc, subject: argv[0]) }
        return pid
    }

    /// Waits for the child with `waitpid(2)`, retrying `EINTR`; `nil` when it is
    /// still running at `deadline` (checked every few milliseconds).
    private static func reap(_ pid: pid_t, deadline: UInt64?) -> CapturedOutput.Termination? {
        var status: Int32 = 0
        var pauseMs: Int64 = 1
        while true {
            let r = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if r == pid { break }
            if r < 0 {
                if errno == EINTR { continue }
                return .exited(-1)
            }
            if let deadline, Sys.monotonicNanos() >= deadline { return nil }
            Sys.sleep(milliseconds: pauseMs)
            pauseMs = min(pauseMs * 2, 20)
        }
        // The W* macros are not imported into Swift; these are their glibc definitions.
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(signal)
    }
}
