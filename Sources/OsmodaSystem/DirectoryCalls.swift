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

    /// Wraps `rmdir(2)`: removes an empty directory.
    public static func removeDirectory(_ path: String) throws(SystemError) {
        if rmdir(path) != 0 { throw SystemError("rmdir", subject: path) }
    }

    /// Wraps `unlink(2)`.
    public static func removeFile(_ path: String) throws(SystemError) {
        if unlink(path) != 0 { throw SystemError("unlink", subject: path) }
    }

    /// Creates `path` and any missing parents with `mkdir(2)`; only the last component
    /// gets `mode` (exactly: the umask does not narrow it), parents get 0755. An existing
    /// directory, or a symbolic link to one, is left as it is; anything else in the way
    /// is `ENOTDIR`.
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o755) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for (i, part) in parts.enumerated() {
            prefix += "/" + part
            let last = i == parts.count - 1
            if mkdir(prefix, mode_t(last ? mode : 0o755)) == 0 {
                if last && chmod(prefix, mode_t(mode)) != 0 { throw SystemError("chmod", subject: prefix) }
                continue
            }
            let e = errno
            guard e == EEXIST else { throw SystemError("mkdir", code: e, subject: prefix) }
            if (try? FileStatus.stat(prefix))?.kind == .directory { continue }
            throw SystemError("mkdir", code: ENOTDIR, subject: prefix)
        }
    }

    /// The process id of the caller, from `getpid(2)`.
    public static func processID() -> Int32 { getpid() }
}

extension Sys {
    /// The caller's whole environment, from `environ`; for a name given twice, the first
    /// (as `getenv(3)` finds it).
    public static func environment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                let key = String(s[..<eq])
                if out[key] == nil { out[key] = String(s[s.index(after: eq)...]) }
            }
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
        onSignals([SIGTERM, SIGINT], body)
    }
}
