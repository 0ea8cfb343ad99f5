#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaSystem

/// A temporary directory tree for hand-written /proc, /sys and /etc files, made with
/// `mkdtemp(3)` under /tmp and removed again by `remove()`.
final class Fixture {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let root: String

    init() throws {
        var template = Array("/tmp/osmoda-system-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: errno \(errno)") }
        root = String(cString: p)
    }

    /// `root` joined with a relative path.
    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes `text` to `relative`, making parent directories.
    func write(_ relative: String, _ text: String) throws {
        try write(relative, bytes: Array(text.utf8))
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        if let slash = relative.lastIndex(of: "/") { try mkdir(String(relative[..<slash])) }
        let fd = open(path(relative), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "open \(relative): errno \(errno)") }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write \(relative): errno \(errno)") }
            off += n
        }
    }

    /// Makes `relative` and its parents.
    func mkdir(_ relative: String) throws {
        var current = root
        for part in relative.split(separator: "/") {
            current += "/" + part
            if Glibc.mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Failure(description: "mkdir \(current): errno \(errno)")
            }
        }
    }

    /// Makes a symbolic link at `relative` pointing at `target`.
    func symlink(_ relative: String, to target: String) throws {
        if let slash = relative.lastIndex(of: "/") { try mkdir(String(relative[..<slash])) }
        guard Glibc.symlink(target, path(relative)) == 0 else { throw Failure(description: "symlink \(relative): errno \(errno)") }
    }

    func chmod(_ relative: String, _ mode: mode_t) {
        _ = Glibc.chmod(path(relative), mode)
    }

    /// Removes the whole tree.
    func remove() { Fixture.removeTree(root) }

    private static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            for e in (try? Procfs.listDirectory(path)) ?? [] { removeTree(path + "/" + e.name) }
            _ = rmdir(path)
        } else {
            _ = unlink(path)
        }
    }
}
