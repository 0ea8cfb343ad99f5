#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore

/// The ledger store's only contact with the C library outside SQLite and libsodium:
/// files of the state directory, the clock, and the lock the group committer waits on.
///
/// OsmodaLedger does not depend on OsmodaSystem (the daemon links both), so the few
/// calls it needs are wrapped here, in the same style: each retries `EINTR` and says
/// which C function it wraps.
enum StoreSystem {
    /// The `errno` text for messages (`strerror`).
    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    static func ioError(_ call: String, _ path: String, code: Int32 = errno) -> LedgerStoreError {
        LedgerStoreError(.io, "\(call) '\(path)': \(describe(code))")
    }

    /// Wall-clock time from `clock_gettime(CLOCK_REALTIME)`.
    static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// `stat(2)`: the mode and size of `path`, or `nil` when it does not exist.
    static func fileStatus(_ path: String) throws(LedgerStoreError) -> (mode: UInt32, size: Int64, isDirectory: Bool)? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw ioError("stat", path)
        }
        return (UInt32(st.st_mode) & 0o7777, Int64(st.st_size), (st.st_mode & S_IFMT) == S_IFDIR)
    }

    /// Creates `path` with `mkdir(2)` and `mode` unless it exists as a directory already.
    static func makeDirectory(_ path: String, mode: mode_t) throws(LedgerStoreError) {
        if Glibc.mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST, let st = try fileStatus(path), st.isDirectory { return }
        throw ioError("mkdir", path, code: code)
    }

    /// `open(2)` with `O_CLOEXEC`, retrying `EINTR`.
    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(LedgerStoreError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw ioError("open", path) }
        }
    }

    /// Reads a whole small file (`read(2)` in a loop); more than `limit` bytes is an error.
    static func readFile(_ path: String, limit: Int) throws(LedgerStoreError) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { _ = Glibc.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw ioError("read", path, code: EFBIG) }
        }
    }

    /// Replaces `path` atomically and durably: writes a temporary file beside it with
    /// `mode`, `fsync`s it, `rename(2)`s it over `path`, then `fsync`s the directory.
    /// `exclusive` refuses to replace an existing file (`link`-free: checked, then
    /// renamed, which is enough for the single daemon that owns the state directory).
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t, exclusive: Bool) throws(LedgerStoreError) {
        if exclusive, try fileStatus(path) != nil { throw ioError("create", path, code: EEXIST) }
        let temp = "\(path).tmp-\(getpid())"
        _ = Glibc.unlink(temp)
        let fd = try openFile(temp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var ok = false
        defer {
            if !ok { _ = Glibc.unlink(temp) }
        }
        do {
            defer { _ = Glibc.close(fd) }
            // The umask may have narrowed the mode; set it exactly.
            if Glibc.fchmod(fd, mode) != 0 { throw ioError("fchmod", temp) }
            try writeAll(fd, bytes, path: temp)
            if Glibc.fsync(fd) != 0 { throw ioError("fsync", temp) }
        }
        if Glibc.rename(temp, path) != 0 { throw ioError("rename", path) }
        ok = true
        try syncDirectory(of: path)
    }

    /// `write(2)` until every byte is written.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(LedgerStoreError) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress?.advanced(by: off), $0.count - off) }
            if n >= 0 {
                off += n
                continue
            }
            if errno != EINTR { throw ioError("write", path) }
        }
    }

    /// `rename(2)` followed by an `fsync` of the directory, so the new name survives a crash.
    static func rename(_ from: String, to: String) throws(LedgerStoreError) {
        if Glibc.rename(from, to) != 0 { throw ioError("rename", from) }
        try syncDirectory(of: to)
    }

    /// `fsync(2)` on the directory that holds `path`.
    static func syncDirectory(of path: String) throws(LedgerStoreError) {
        let dir = directory(of: path)
        let fd = try openFile(dir, O_RDONLY | O_DIRECTORY)
        defer { _ = Glibc.close(fd) }
        if Glibc.fsync(fd) != 0 { throw ioError("fsync", dir) }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }
}

/// A pthread mutex with a small array of condition variables, for threads that block
/// until another thread's work is done (the group committer's followers wait for the
/// leader's commit). Waiters pick a condition by a key, so a wake-up reaches the few
/// threads it concerns rather than every waiting thread.
///
/// `Synchronization.Mutex` has no condition variable; this wraps `pthread_mutex_*` and
/// `pthread_cond_*` on heap-allocated storage, whose address never moves.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conds: UnsafeMutablePointer<pthread_cond_t>
    let conditionCount: Int

    init(conditions: Int = 1) {
        conditionCount = max(1, conditions)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        conds = .allocate(capacity: conditionCount)
        conds.initialize(repeating: pthread_cond_t(), count: conditionCount)
        for i in 0..<conditionCount { pthread_cond_init(conds + i, nil) }
    }

    deinit {
        for i in 0..<conditionCount { pthread_cond_destroy(conds + i) }
        pthread_mutex_destroy(mutex)
        conds.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits on condition `key % conditions`; the lock must be held, and is held again
    /// on return. Wake-ups can be spurious or meant for another key: callers re-check
    /// their own condition in a loop.
    func wait(_ key: UInt64 = 0) { pthread_cond_wait(conds + Int(key % UInt64(conditionCount)), mutex) }
    /// Wakes every thread waiting on condition `key % conditions`.
    func broadcast(_ key: UInt64 = 0) { pthread_cond_broadcast(conds + Int(key % UInt64(conditionCount))) }
}
