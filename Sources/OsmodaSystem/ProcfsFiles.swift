#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One entry of a directory listing, without `.` and `..`.
package struct ProcfsEntry: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case directory, regular, symlink, other, unknown }
    package var name: String
    package var kind: Kind
}

/// Sizes of a mounted filesystem as `statvfs(3)` reports them, in bytes and inodes.
package struct FilesystemSpace: Sendable, Equatable {
    package var sizeBytes: UInt64
    package var freeBytes: UInt64
    /// Free bytes an unprivileged user may use (free less the root reserve).
    package var availableBytes: UInt64
    package var inodes: UInt64
    package var freeInodes: UInt64
}

/// The fields of `uname(2)`.
package struct KernelName: Sendable, Equatable {
    package var sysname: String
    package var nodename: String
    package var release: String
    package var version: String
    package var machine: String

    package init(sysname: String, nodename: String, release: String, version: String, machine: String) {
        self.sysname = sysname
        self.nodename = nodename
        self.release = release
        self.version = version
        self.machine = machine
    }
}

/// Thin wrappers over the directory, link and filesystem calls that reading /proc and
/// /sys needs. Like `Sys`, each says which C function it wraps and throws `SystemError`.
package enum Procfs {
    /// Lists a directory with `opendir(3)`/`readdir(3)`, in the kernel's order.
    /// `kind` is `.unknown` where the filesystem does not fill in `d_type`.
    package static func listDirectory(_ path: String) throws(SystemError) -> [ProcfsEntry] {
        guard let dir = opendir(path) else { throw SystemError("opendir", subject: path) }
        defer { closedir(dir) }
        var out: [ProcfsEntry] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: &ent.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let kind: ProcfsEntry.Kind
            switch Int(ent.pointee.d_type) {
            case Int(DT_DIR): kind = .directory
            case Int(DT_REG): kind = .regular
            case Int(DT_LNK): kind = .symlink
            case Int(DT_UNKNOWN): kind = .unknown
            default: kind = .other
            }
            out.append(ProcfsEntry(name: name, kind: kind))
        }
        return out
    }

    /// The all-digit names in a directory (process ids in /proc), ascending, read
    /// with `opendir(3)`/`readdir(3)` without building a `String` per entry.
    package static func numericEntries(_ path: String) throws(SystemError) -> [Int32] {
        guard let dir = opendir(path) else { throw SystemError("opendir", subject: path) }
        defer { closedir(dir) }
        var out: [Int32] = []
        while let ent = readdir(dir) {
            let value: Int32? = withUnsafePointer(to: &ent.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: 256) { s in
                    var v: Int32 = 0
                    var i = 0
                    while s[i] != 0 {
                        let d = s[i] &- 0x30
                        if d >= 10 || i >= 9 { return nil }
                        v = v * 10 + Int32(d)
                        i += 1
                    }
                    return i > 0 ? v : nil
                }
            }
            if let value { out.append(value) }
        }
        out.sort()
        return out
    }

    /// Counts the all-digit names in a directory (processes in /proc) without
    /// allocating, with `opendir(3)`/`readdir(3)`.
    package static func countNumericEntries(_ path: String) throws(SystemError) -> Int {
        guard let dir = opendir(path) else { throw SystemError("opendir", subject: path) }
        defer { closedir(dir) }
        var count = 0
        while let ent = readdir(dir) {
            let numeric = withUnsafePointer(to: &ent.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: 256) { s in
                    guard s[0] != 0 else { return false }
                    var i = 0
                    while s[i] != 0 {
                        if s[i] &- 0x30 >= 10 { return false }
                        i += 1
                    }
                    return true
                }
            }
            if numeric { count += 1 }
        }
        return count
    }

    /// The target of a symbolic link, from `readlink(2)`.
    package static func readLink(_ path: String) throws(SystemError) -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { throw SystemError("readlink", subject: path) }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sizes of the filesystem mounted at `path`, from `statvfs(3)`. Sizes are in
    /// units of `f_frsize`, as the manual says, converted here to bytes.
    package static func filesystemSpace(_ path: String) throws(SystemError) -> FilesystemSpace {
        var st = statvfs()
        while statvfs(path, &st) != 0 {
            if errno != EINTR { throw SystemError("statvfs", subject: path) }
        }
        let unit = UInt64(st.f_frsize != 0 ? st.f_frsize : st.f_bsize)
        return FilesystemSpace(
            sizeBytes: UInt64(st.f_blocks) &* unit,
            freeBytes: UInt64(st.f_bfree) &* unit,
            availableBytes: UInt64(st.f_bavail) &* unit,
            inodes: UInt64(st.f_files),
            freeInodes: UInt64(st.f_ffree)
        )
    }

    /// Whether `path` names a directory (following links), from `stat(2)`.
    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & S_IFMT == S_IFDIR
    }

    /// The kind of `path` itself (not following links), from `lstat(2)`, for
    /// directory entries whose `d_type` was unknown.
    package static func kind(of path: String) throws(SystemError) -> ProcfsEntry.Kind {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw SystemError("lstat", subject: path) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regular
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// Clock ticks per second, the unit of the times in /proc/PID/stat, from
    /// `sysconf(_SC_CLK_TCK)` (100 on every Linux port in practice).
    package static var clockTicksPerSecond: Int64 {
        let v = sysconf(Int32(_SC_CLK_TCK))
        return v > 0 ? Int64(v) : 100
    }

    /// The page size in bytes, the unit of `rss` in /proc/PID/stat, from `sysconf(_SC_PAGESIZE)`.
    package static var pageSize: Int64 {
        let v = sysconf(Int32(_SC_PAGESIZE))
        return v > 0 ? Int64(v) : 4096
    }

    /// The kernel's name and version, from `uname(2)`.
    package static func kernelName() -> KernelName {
        var u = utsname()
        _ = uname(&u)
        func field<T>(_ t: inout T) -> String {
            withUnsafePointer(to: &t) { p in
                p.withMemoryRebound(to: CChar.self, capacity: MemoryLayout<T>.size) { String(cString: $0) }
            }
        }
        return KernelName(
            sysname: field(&u.sysname),
            nodename: field(&u.nodename),
            release: field(&u.release),
            version: field(&u.version),
            machine: field(&u.machine)
        )
    }
}

extension Procfs {
    /// CPU time used by the calling thread, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`,
    /// in nanoseconds: for measuring one piece of work while other threads run.
    package static func threadCPUNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
