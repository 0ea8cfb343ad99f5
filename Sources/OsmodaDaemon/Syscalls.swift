#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CShim
import OsmodaSystem

// The one file of OsmodaDaemon that touches the C library: the state lock, the pipes
// that wake the daemon's threads, signals, and descriptor flags. Sockets go through
// OsmodaIPC's `UnixSocket`.

/// Thin wrappers for the daemon's own descriptors.
enum DaemonCalls {
    /// Opens (creating, mode 0600) `path` for the state lock: `open(2)` with `O_RDWR |
    /// O_CREAT | O_CLOEXEC | O_NOFOLLOW`.
    static func openLockFile(_ path: String) throws(SystemError) -> Int32 {
        try Sys.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
    }

    /// Wraps `flock(fd, LOCK_EX | LOCK_NB)`: false when another open file holds it.
    static func tryLockExclusive(_ fd: Int32, path: String) throws(SystemError) -> Bool {
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            let e = errno
            if e == EINTR { continue }
            if e == EWOULDBLOCK { return false }
            throw SystemError("flock", code: e, subject: path)
        }
    }

    /// Replaces the file's contents with `text`: `ftruncate(2)`, then `pwrite(2)` at 0.
    static func replaceContents(_ fd: Int32, _ text: String, path: String) throws(SystemError) {
        if ftruncate(fd, 0) != 0 { throw SystemError("ftruncate", subject: path) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, off_t(offset)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw SystemError("pwrite", subject: path)
        }
    }

    /// Reads up to 64 bytes from the start of the file with `pread(2)`; empty on error.
    static func readSmall(_ fd: Int32) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buf[0..<n]) : []
    }

    /// A close-on-exec, non-blocking pipe from `pipe2(2)`.
    static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let rc = fds.withUnsafeMutableBufferPointer { osmoda_pipe($0.baseAddress, 1) }
        guard rc == 0 else { throw SystemError("pipe2") }
        return (fds[0], fds[1])
    }

    /// Writes one byte to a non-blocking pipe; a full pipe already says what the byte would.
    static func poke(_ fd: Int32, _ byte: UInt8 = 1) {
        var b = byte
        while Glibc.write(fd, &b, 1) < 0 && errno == EINTR {}
    }

    /// Reads one waiting byte from a non-blocking pipe; `nil` when there is none.
    static func takeByte(_ fd: Int32) -> UInt8? {
        var b: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &b, 1)
            if n == 1 { return b }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Makes SIGTERM, SIGINT and SIGHUP write their number to `fd` (see `osmoda_stop_signals_watch`).
    static func watchStopSignals(_ fd: Int32) throws(SystemError) {
        if osmoda_stop_signals_watch(fd) != 0 { throw SystemError("sigaction") }
    }

    /// Undoes `watchStopSignals`.
    static func unwatchStopSignals(_ fd: Int32) { osmoda_stop_signals_unwatch(fd) }

    /// Sets `O_NONBLOCK` and `FD_CLOEXEC` on an inherited descriptor with `fcntl(2)`.
    static func makeNonBlockingCloseOnExec(_ fd: Int32) throws(SystemError) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw SystemError("fcntl", subject: "fd \(fd)") }
        let fdFlags = fcntl(fd, F_GETFD)
        guard fdFlags >= 0, fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) == 0 else { throw SystemError("fcntl", subject: "fd \(fd)") }
    }

    /// Opens /dev/null: the spare descriptor given up to answer a connection when the
    /// process is out of descriptors.
    static func openSpare() -> Int32 { (try? Sys.open("/dev/null", O_RDONLY)) ?? -1 }

    /// Whether an error is running out of descriptors (`EMFILE`, `ENFILE`).
    static func isOutOfDescriptors(_ e: SystemError) -> Bool { e.code == EMFILE || e.code == ENFILE }

    /// Whether an error says nothing listens (`ECONNREFUSED`) or nothing is there (`ENOENT`).
    static func isNobodyListening(_ e: SystemError) -> Bool { e.code == ECONNREFUSED || e.code == ENOENT }
}
