#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore

/// A failed system call: the C function's name, the `errno` it set, and what it was
/// working on (a path, a descriptor), for messages such as
/// `open '/proc/x': No such file or directory`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public var subject: String

    public init(_ call: String, code: Int32 = errno, subject: String = "") {
        self.call = call
        self.code = code
        self.subject = subject
    }

    public var message: String { String(cString: strerror(code)) }

    public var description: String {
        subject.isEmpty ? "\(call): \(message)" : "\(call) '\(subject)': \(message)"
    }
}

/// Thin typed wrappers over the system calls the tools use. Each retries `EINTR`
/// and throws `SystemError`.
public enum Sys {
    /// Wraps `open(2)` with `O_CLOEXEC`.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError("open", subject: path) }
        }
    }

    /// Wraps `close(2)`; errors other than `EINTR` are reported.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Wraps `read(2)`: returns 0 at end of file.
    public static func read(_ fd: Int32, into buf: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        while true {
            let n = Glibc.read(fd, buf.baseAddress, buf.count)
            if n >= 0 { return n }
            if errno != EINTR { throw SystemError("read", subject: "fd \(fd)") }
        }
    }

    /// Wraps `write(2)`, looping until every byte is written.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress?.advanced(by: off), bytes.count - off)
            if n >= 0 { off += n; continue }
            if errno != EINTR { throw SystemError("write", subject: "fd \(fd)") }
        }
    }

    /// Writes a whole byte array, looping over short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        try bytes.withUnsafeBytes { b in Result { () throws(SystemError) in try writeAll(fd, b) } }.get()
    }

    /// Reads a whole file; `limit` bounds how much is read (the rest is an error).
    public static func readFile(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = try chunk.withUnsafeMutableBytes { b in Result { () throws(SystemError) -> Int in try read(fd, into: b) } }.get()
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw SystemError("read", code: EFBIG, subject: path) }
        }
    }

    /// Reads a small text file such as one under /proc, or `nil` when it cannot be read.
    public static func readText(_ path: String) -> String? {
        guard let b = try? readFile(path, limit: 16 << 20) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    /// Wraps `isatty(3)`.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Wall-clock time from `clock_gettime(CLOCK_REALTIME)`.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// Monotonic nanoseconds from `clock_gettime(CLOCK_MONOTONIC)`, for intervals.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CPU time used by this process (user + system), from `getrusage(RUSAGE_SELF)`, in µs.
    public static func processCPUMicros() -> UInt64 {
        var ru = rusage()
        getrusage(RUSAGE_SELF.rawValue, &ru)
        return UInt64(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1_000_000 + UInt64(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)
    }

    /// Sleeps on `nanosleep(2)`, resuming after signals until the time has passed.
    public static func sleep(milliseconds: Int64) {
        var req = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var rem = timespec()
        while nanosleep(&req, &rem) != 0 && errno == EINTR { req = rem }
    }

    /// The host name from `gethostname(2)`.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Restores the default `SIGPIPE` action, so `… | head` ends a filter quietly.
    public static func defaultSIGPIPE() { signal(SIGPIPE, SIG_DFL) }

    /// Ignores `SIGPIPE`, for processes that must outlive a closed peer (the daemon).
    public static func ignoreSIGPIPE() { signal(SIGPIPE, SIG_IGN) }

    /// Unblocks SIGTERM, SIGINT and SIGHUP. A blocked mask is inherited through exec
    /// (e.g. from a parent's Dispatch worker thread, or a Foundation `Process`): without
    /// this a stop request would never reach the process, nor the children it starts.
    public static func unblockStopSignals() {
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, s) }
        sigprocmask(SIG_UNBLOCK, &stopSignals, nil)
    }

    /// An environment variable from `getenv(3)`.
    public static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}

extension Sys {
    /// Appends `bytes` to a file (made 0644 if absent) and fsyncs it before returning.
    public static func appendDurably(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        let fd = try open(path, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        try writeAll(fd, bytes)
        guard fsync(fd) == 0 else { throw SystemError("fsync", subject: path) }
    }
}

extension Sys {
    /// Replaces `path` atomically and durably, for state files: writes a temporary file
    /// beside it with `mode`, `fsync`s it, `rename(2)`s it over `path`, then `fsync`s the
    /// directory. A crash at any point leaves either the old file or the new one.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let temp = "\(path).tmp-\(getpid())"
        _ = unlink(temp)
        let fd = try open(temp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var renamed = false
        defer { if !renamed { _ = unlink(temp) } }
        do {
            defer { close(fd) }
            // The umask may have narrowed the mode; set it exactly.
            guard fchmod(fd, mode) == 0 else { throw SystemError("fchmod", subject: temp) }
            try writeAll(fd, bytes)
            guard fsync(fd) == 0 else { throw SystemError("fsync", subject: temp) }
        }
        guard rename(temp, path) == 0 else { throw SystemError("rename", subject: path) }
        renamed = true
        try syncDirectory(of: path)
    }

    /// `fsync(2)` on the directory that holds `path`, so a new name in it survives a crash.
    public static func syncDirectory(of path: String) throws(SystemError) {
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        let fd = try open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", subject: dir) }
    }
}
