#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Directory and file calls for tools that keep a directory of definitions and state
// (osmoda-routines).
extension Sys {
    /// The names in a directory (not `.` and `..`), sorted, with `opendir(3)`/`readdir(3)`.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        try Procfs.listDirectory(path).map(\.name).sorted()
    }

    /// Wraps `unlink(2)`.
    public static func removeFile(_ path: String) throws(SystemError) {
        if unlink(path) != 0 { throw SystemError("unlink", subject: path) }
    }

    /// Creates a directory and its missing parents with `mkdir(2)`; an existing
    /// directory is not an error.
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + part
            if mkdir(prefix, mode_t(mode)) != 0 && errno != EEXIST { throw SystemError("mkdir", subject: prefix) }
        }
    }

    /// The process id of the caller, from `getpid(2)`.
    public static func processID() -> Int32 { getpid() }
}

extension Sys {
    /// The caller's whole environment, from `environ`.
    public static func environment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}

extension Sys {
    /// Routes SIGTERM and SIGINT to `body` on a thread of their own: blocks them in the
    /// calling thread with `pthread_sigmask(3)` (threads it creates later inherit the
    /// mask) and waits for them with `sigwait(3)`. Call it before starting other threads.
    /// Children started with `Spawn` get an empty mask, so they still receive signals.
    public static func onStopSignals(_ body: @escaping @Sendable (Int32) -> Void) -> Bool {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
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
}
