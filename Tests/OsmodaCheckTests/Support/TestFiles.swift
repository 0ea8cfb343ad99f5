#if canImport(Glibc)
import Glibc
#endif
import OsmodaSystem

/// A fresh directory under $TMPDIR (or /tmp), removed by `remove()`.
struct TempDirectory {
    let path: String

    init() throws {
        let base = Sys.env("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/osmoda-check-test.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `name` (mode 0755 when `executable`) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let p = file(name)
        let fd = try Sys.open(p, O_WRONLY | O_CREAT | O_TRUNC, mode: executable ? 0o755 : 0o644)
        defer { Sys.close(fd) }
        try Sys.writeAll(fd, Array(text.utf8))
        return p
    }

    func remove() {
        _ = try? Spawn.run(SpawnOptions(argv: ["rm", "-rf", path], timeoutMs: 10_000))
    }
}

/// Facts about processes, read from /proc, for assertions.
enum ProcFacts {
    /// The process's state letter (`R`, `S`, `Z`, …), or nil when it is gone.
    static func state(_ pid: Int32) -> Character? {
        guard let stat = Sys.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].drop { $0 == " " }.first
    }

    /// Gone, or a zombie waiting for a parent that is not ours to reap it.
    static func isDead(_ pid: Int32) -> Bool {
        guard let s = state(pid) else { return true }
        return s == "Z" || s == "X"
    }

    /// The live (non-zombie) members of process group `pgid`.
    static func liveMembers(ofGroup pgid: Int32) -> [Int32] {
        let pids = (try? Processes.listPIDs()) ?? []
        return pids.filter { pid in
            guard let stat = Sys.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state, ppid, pgrp.
            guard fields.count > 2, Int32(fields[2]) == pgid else { return false }
            return fields[0] != "Z" && fields[0] != "X"
        }
    }

    /// Polls `condition` for up to `ms` milliseconds.
    static func eventually(within ms: Int64, _ condition: () -> Bool) -> Bool {
        let end = Sys.monotonicNanos() + UInt64(ms) * 1_000_000
        while Sys.monotonicNanos() < end {
            if condition() { return true }
            Sys.sleep(milliseconds: 10)
        }
        return condition()
    }
}
