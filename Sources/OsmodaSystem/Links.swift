#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Symbolic links, directory listings and advisory locks: what a NixOS profile and a
// state directory of SafeSwitch need.
extension Sys {
    /// Wraps `readlink(2)`: the target of a symbolic link, as stored (not resolved).
    public static func readLink(_ path: String) throws(SystemError) -> String {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { throw SystemError("readlink", subject: path) }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Wraps `realpath(3)`: the path with every link resolved, or `nil` when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The modification time of the link itself (`lstat(2)`), in ms since the epoch.
    public static func linkModifiedMillis(_ path: String) throws(SystemError) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw SystemError("lstat", subject: path) }
        return Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
    }

    /// Whether `path` may be executed by this process, by `access(2)`.
    public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    /// Points the symbolic link `path` at `target` atomically and durably: `symlink(2)`
    /// to a temporary name beside it, `rename(2)` over `path`, then `fsync(2)` of the
    /// directory. A crash leaves either the old link or the new one, never none.
    public static func replaceSymlink(_ path: String, target: String) throws(SystemError) {
        let temp = "\(path).tmp-\(getpid())"
        _ = unlink(temp)
        guard symlink(target, temp) == 0 else { throw SystemError("symlink", subject: temp) }
        guard rename(temp, path) == 0 else {
            let e = SystemError("rename", subject: path)
            _ = unlink(temp)
            throw e
        }
        try syncDirectory(of: path)
    }

    /// Creates the symbolic link `path` → `target` with `symlink(2)`, failing with
    /// `EEXIST` rather than replacing a link that is there, then `fsync`s the directory.
    public static func makeSymlink(_ path: String, target: String) throws(SystemError) {
        guard symlink(target, path) == 0 else { throw SystemError("symlink", subject: path) }
        try syncDirectory(of: path)
    }

    /// The effective user id, from `geteuid(2)`.
    public static var effectiveUID: UInt32 { geteuid() }
}

/// An exclusive advisory lock on a file (`flock(2)`), held until `unlock()` or deinit.
public final class FileLock {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the lock on `path` (created 0600 if absent), waiting up to `timeoutMs` for
    /// another holder; `nil` when it stayed held that long.
    public static func acquire(_ path: String, timeoutMs: Int64) throws(SystemError) -> FileLock? {
        let fd = try Sys.open(path, O_RDWR | O_CREAT, mode: 0o600)
        let deadline = Sys.monotonicNanos() &+ UInt64(max(0, timeoutMs)) &* 1_000_000
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(fd: fd) }
            let e = errno
            if e != EWOULDBLOCK && e != EINTR {
                Sys.close(fd)
                throw SystemError("flock", code: e, subject: path)
            }
            if Sys.monotonicNanos() >= deadline {
                Sys.close(fd)
                return nil
            }
            Sys.sleep(milliseconds: 5)
        }
    }

    public func unlock() {
        if fd >= 0 {
            Sys.close(fd)
            fd = -1
        }
    }

    deinit { unlock() }
}
