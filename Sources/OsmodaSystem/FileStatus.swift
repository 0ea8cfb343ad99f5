#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore

/// What `stat(2)` says about a file.
public struct FileInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case regular, directory, symlink, socket, fifo, characterDevice = "character device", blockDevice = "block device", unknown
    }

    public var kind: Kind
    public var sizeBytes: Int64
    /// The modification time, in nanoseconds since the Unix epoch.
    public var modifiedNanos: Int64
    /// The permission bits (`st_mode & 07777`).
    public var mode: UInt32
    /// The owner's uid.
    public var ownerUID: UInt32

    public init(kind: Kind, sizeBytes: Int64, modifiedNanos: Int64, mode: UInt32 = 0, ownerUID: UInt32 = 0) {
        self.kind = kind
        self.sizeBytes = sizeBytes
        self.modifiedNanos = modifiedNanos
        self.mode = mode
        self.ownerUID = ownerUID
    }
}

/// What `statvfs(3)` says about a file system, counted in fragments of `blockSize` bytes.
public struct FileSystemUsage: Sendable, Equatable {
    public var blockSize: UInt64
    public var blocks: UInt64
    /// Free blocks, including those reserved for root.
    public var freeBlocks: UInt64
    /// Free blocks that unprivileged users may take.
    public var availableBlocks: UInt64

    public init(blockSize: UInt64, blocks: UInt64, freeBlocks: UInt64, availableBlocks: UInt64) {
        self.blockSize = blockSize
        self.blocks = blocks
        self.freeBlocks = freeBlocks
        self.availableBlocks = availableBlocks
    }

    /// Used space as `df` computes it: used / (used + available) × 100, so that the
    /// blocks reserved for root count as neither; `nil` for a file system without
    /// blocks (such as /proc).
    public var usedPercent: Double? {
        let used = blocks >= freeBlocks ? blocks - freeBlocks : 0
        let denominator = used + availableBlocks
        guard denominator > 0 else { return nil }
        return Double(used) / Double(denominator) * 100
    }

    public var availableBytes: UInt64 { availableBlocks &* blockSize }
}

/// Thin wrappers over `stat(2)` and `statvfs(3)`.
public enum FileStatus {
    /// Wraps `stat(2)` (symbolic links are followed).
    public static func stat(_ path: String) throws(SystemError) -> FileInfo {
        var st = cStatBuffer()
        while cStat(path, &st) != 0 {
            if errno != EINTR { throw SystemError("stat", subject: path) }
        }
        let kind: FileInfo.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFSOCK: kind = .socket
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .unknown
        }
        return FileInfo(kind: kind, sizeBytes: Int64(st.st_size),
                        modifiedNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                        mode: UInt32(st.st_mode & 0o7777), ownerUID: UInt32(st.st_uid))
    }

    /// Whether `path` exists (`stat(2)` succeeds).
    public static func exists(_ path: String) -> Bool {
        (try? stat(path)) != nil
    }

    /// Wraps `statvfs(3)` for the file system holding `path`.
    public static func fileSystem(_ path: String) throws(SystemError) -> FileSystemUsage {
        var s = cStatvfsBuffer()
        while cStatvfs(path, &s) != 0 {
            if errno != EINTR { throw SystemError("statvfs", subject: path) }
        }
        let fragment = s.f_frsize != 0 ? UInt64(s.f_frsize) : UInt64(s.f_bsize)
        return FileSystemUsage(blockSize: fragment, blocks: UInt64(s.f_blocks),
                               freeBlocks: UInt64(s.f_bfree), availableBlocks: UInt64(s.f_bavail))
    }

    /// Wall-clock nanoseconds since the Unix epoch, from `clock_gettime(CLOCK_REALTIME)`,
    /// to compare with `FileInfo.modifiedNanos`.
    public static func realtimeNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

// Outside `FileStatus`, whose own `stat` would shadow the C names.
private func cStatBuffer() -> stat { stat() }
private func cStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }
private func cStatvfsBuffer() -> statvfs { statvfs() }
private func cStatvfs(_ path: String, _ s: inout statvfs) -> Int32 { statvfs(path, &s) }
