#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Sys {
    /// Routes `signals` to `body` on a thread of their own, as `onStopSignals` does for
    /// SIGTERM and SIGINT (a server that also reloads on SIGHUP). Call it before starting
    /// other threads: they inherit the blocked mask.
    public static func onSignals(_ signals: [Int32], _ body: @escaping @Sendable (Int32) -> Void) -> Bool {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { return false }
        let waitSet = set
        return WorkerThreads.detach {
            var s = waitSet
            while true {
                var sig: Int32 = 0
                if sigwait(&s, &sig) == 0 { body(sig) }
            }
        }
    }

    /// `chmod(2)`: a listening Unix socket's mode is set after bind.
    public static func setMode(_ path: String, _ mode: UInt32) throws(SystemError) {
        guard Glibc.chmod(path, mode_t(mode)) == 0 else { throw SystemError("chmod", subject: path) }
    }
}

extension Sys {
    /// Raises the soft limit on open files to the hard limit: a proxy holds two
    /// descriptors per tunnel.
    public static func raiseOpenFileLimit() {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0, r.rlim_cur < r.rlim_max else { return }
        r.rlim_cur = r.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    }
}

extension Sys {
    /// Runs `body` with the process's umask set to `mask`, then restores it. The umask is
    /// process-wide: call it while no other thread creates files.
    public static func withUmask<R>(_ mask: UInt32, _ body: () throws -> R) rethrows -> R {
        let old = umask(mode_t(mask))
        defer { umask(old) }
        return try body()
    }
}
