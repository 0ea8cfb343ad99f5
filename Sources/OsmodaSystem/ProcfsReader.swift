#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads small kernel-generated files (under /proc and /sys) into one buffer that is
/// allocated once and reused, so a sampler that reads the same dozen files every
/// second allocates nothing for them.
///
/// A file larger than the buffer grows it (doubling) and is read in full. Not
/// thread-safe: give each thread its own reader.
///
/// With `keepOpen`, the descriptor stays open and later reads use `pread(2)` at
/// offset 0, which makes the kernel generate a /proc or /sys file afresh: one system
/// call a read instead of three. At most `maxOpenFiles` are kept; past that all are
/// closed and the cache starts again, so names that come and go (network
/// interfaces) cannot pile up descriptors.
package final class ProcfsReader {
    private var storage: UnsafeMutableRawBufferPointer
    private var openFiles: [String: Int32] = [:]
    package static let maxOpenFiles = 64

    package init(capacity: Int = 16 << 10) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 256), alignment: 16)
    }

    deinit {
        closeAll()
        storage.deallocate()
    }

    /// Whether the mount table at `path` (a /proc/PID/mountinfo or mounts file) may
    /// have changed since this reader last read it with `keepOpen`.
    ///
    /// procfs marks a mount table descriptor with `POLLPRI`/`POLLERR` when the
    /// namespace's mounts change (proc(5)), so a kept descriptor answers with one
    /// `poll(2)` instead of a re-read. The answer is `true` whenever it cannot be
    /// known: the file is not kept open, or is not a mount table (a test fixture).
    /// A regular file polls as always writable, while a mount table never reports
    /// `POLLOUT`; that is how the two are told apart.
    package func mountTableChanged(_ path: String) -> Bool {
        guard let fd = openFiles[path] else { return true }
        var p = pollfd(fd: fd, events: Int16(POLLPRI | POLLOUT), revents: 0)
        guard poll(&p, 1, 0) >= 0 else { return true }
        if p.revents & Int16(POLLOUT) != 0 { return true }
        return p.revents & Int16(POLLPRI | POLLERR) != 0
    }

    /// Closes every descriptor kept open by `keepOpen` reads.
    package func closeAll() {
        for fd in openFiles.values { Sys.close(fd) }
        openFiles.removeAll()
    }

    /// Reads the whole file at `path` with `open(2)` and `read(2)` into the reused
    /// buffer and passes its bytes to `body`; the bytes are valid only inside `body`.
    ///
    /// - Returns: `body`'s result, or `nil` when the file cannot be opened or read
    ///   (a missing file is not an error here: callers omit what they cannot read).
    package func withContents<R>(of path: String, keepOpen: Bool = false, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let n: Int?
        if keepOpen { n = try? readKeepingOpen(path) } else { n = try? read(path) }
        guard let count = n else { return nil }
        let bytes = UnsafeBufferPointer(start: storage.baseAddress?.assumingMemoryBound(to: UInt8.self), count: count)
        return body(bytes)
    }

    /// Like `withContents(of:_:)`, but reports why the file could not be read.
    package func withContentsOrThrow<R>(of path: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) throws(SystemError) -> R {
        let count = try read(path)
        let bytes = UnsafeBufferPointer(start: storage.baseAddress?.assumingMemoryBound(to: UInt8.self), count: count)
        return body(bytes)
    }

    /// A copy of the file's bytes, or `nil` when it cannot be read.
    package func bytes(of path: String) -> [UInt8]? {
        withContents(of: path) { Array($0) }
    }

    /// The file as text without one trailing newline, or `nil` when it cannot be read.
    package func text(of path: String, keepOpen: Bool = false) -> String? {
        withContents(of: path, keepOpen: keepOpen) { b in
            var n = b.count
            if n > 0, b[n - 1] == 0x0A { n -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: b[0..<n]), as: UTF8.self)
        }
    }

    /// Reads `path` into the buffer and returns how many bytes it holds.
    private func read(_ path: String) throws(SystemError) -> Int {
        let fd = try Sys.open(path, O_RDONLY)
        defer { Sys.close(fd) }
        return try readAll(fd, path)
    }

    /// Reads through a kept descriptor, opening it on first use. A read that fails
    /// (the file went away: an interface was deleted) closes it and tries once more
    /// with a fresh `open`, in case a new file now has the name.
    private func readKeepingOpen(_ path: String) throws(SystemError) -> Int {
        if let fd = openFiles[path] {
            do throws(SystemError) {
                return try readAll(fd, path)
            } catch {
                Sys.close(fd)
                openFiles[path] = nil
            }
        }
        let fd = try Sys.open(path, O_RDONLY)
        if openFiles.count >= ProcfsReader.maxOpenFiles { closeAll() }
        openFiles[path] = fd
        return try readAll(fd, path)
    }

    /// Reads from offset 0 to the end with `pread(2)`, growing the buffer as needed.
    private func readAll(_ fd: Int32, _ path: String) throws(SystemError) -> Int {
        var used = 0
        while true {
            if used == storage.count { grow() }
            let n = pread(fd, storage.baseAddress?.advanced(by: used), storage.count - used, off_t(used))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("pread", subject: path)
            }
            if n == 0 { return used }
            used += n
        }
    }

    private func grow() {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 16)
        bigger.copyMemory(from: UnsafeRawBufferPointer(storage))
        storage.deallocate()
        storage = bigger
    }
}
