import OsmodaCore
import OsmodaSystem

extension Probe.Command {
    /// How long a timed-out command's process group has between `SIGTERM` and `SIGKILL`.
    static let killGraceMs: Int64 = 1000
    /// How much of each output stream is kept.
    static let outputLimit = 4096

    /// Runs the command (no shell) in its own process group and compares its exit
    /// status; at the timeout the whole group is ended.
    func run(timeoutMs: Int, into r: inout CheckResult) {
        let result: SpawnResult
        do {
            result = try Spawn.run(SpawnOptions(argv: argv, timeoutMs: Int64(timeoutMs),
                                                outputLimit: Self.outputLimit, killGraceMs: Self.killGraceMs))
        } catch {
            r.detail = error.description
            return
        }
        r.exitStatus = result.exitStatus.map(Int.init)
        r.signal = result.signal.map(Int.init)
        if result.timedOut {
            r.timedOut = true
            let how = result.signal.map { " (ended with \(Processes.signalName($0)))" } ?? ""
            r.detail = "timed out after \(timeoutMs) ms\(how)"
        } else if let status = result.exitStatus, Int(status) == expectExit {
            r.ok = true
            r.detail = "exit status \(status)"
            return
        } else {
            r.detail = result.statusDescription
            if result.exitStatus != nil && expectExit != 0 { r.detail += ", expected \(expectExit)" }
        }
        let tail = result.stderrTail.isEmpty ? result.stdoutTail : result.stderrTail
        var text = String(decoding: tail, as: UTF8.self)
        while text.last?.isNewline == true { text.removeLast() }
        if !text.isEmpty {
            r.output = text
            if let lastLine = text.split(whereSeparator: \.isNewline).last {
                r.detail += ": " + Format.snippet(String(lastLine))
            }
        }
    }
}

/// The systemd probe, with the paths it depends on open to tests.
package enum SystemdCheck {
    /// Present when systemd is the running init (what `sd_booted(3)` checks).
    package static let runtimeDirectory = "/run/systemd/system"

    static func run(_ p: Probe.Systemd, timeoutMs: Int, into r: inout CheckResult) {
        run(unit: p.unit, timeoutMs: timeoutMs, runtimeDirectory: runtimeDirectory, systemctl: "systemctl", into: &r)
    }

    /// Asks `systemctl is-active -- UNIT` (argv, no shell) and reports the state it prints.
    package static func run(unit: String, timeoutMs: Int, runtimeDirectory: String, systemctl: String, into r: inout CheckResult) {
        guard FileStatus.exists(runtimeDirectory) else {
            r.detail = "systemd is not running on this host"
            return
        }
        let result: SpawnResult
        do {
            result = try Spawn.run(SpawnOptions(argv: [systemctl, "is-active", "--", unit], timeoutMs: Int64(timeoutMs),
                                                outputLimit: 4096, killGraceMs: Probe.Command.killGraceMs))
        } catch {
            r.detail = error.description
            return
        }
        if result.timedOut {
            r.timedOut = true
            r.detail = "systemctl timed out after \(timeoutMs) ms"
            return
        }
        let firstLine = String(decoding: result.stdoutTail, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        if !firstLine.isEmpty { r.state = Format.snippet(firstLine, limit: 64) }
        if result.exitStatus == 0 {
            r.ok = true
            r.detail = r.state ?? "active"
        } else if let state = r.state {
            r.detail = "\(state), expected active"
        } else {
            let err = String(decoding: result.stderrTail, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            r.detail = "systemctl is-active: \(result.statusDescription)" + (err.isEmpty ? "" : ": \(Format.snippet(err))")
        }
    }
}

extension Probe.Process {
    func run(into r: inout CheckResult) {
        switch match {
        case .name(let name): Self.byName(name, procRoot: "/proc", into: &r)
        case .pidfile(let path): Self.byPidfile(path, procRoot: "/proc", into: &r)
        }
    }

    /// Finds processes whose `comm` or base name of `argv[0]` is `name`; zombies do not count.
    static func byName(_ name: String, procRoot: String, into r: inout CheckResult) {
        let pids: [Int32]
        do { pids = try Processes.listPIDs(procRoot: procRoot) } catch {
            r.detail = error.description
            return
        }
        var matches: [Int32] = []
        for pid in pids.sorted() {
            let dir = "\(procRoot)/\(pid)"
            var matched = false
            if let comm = Sys.readText("\(dir)/comm") {
                matched = (comm.hasSuffix("\n") ? String(comm.dropLast()) : comm) == name
            }
            if !matched, let cmdline = try? Sys.readFile("\(dir)/cmdline", limit: 1 << 20) {
                let argv0 = cmdline.prefix { $0 != 0 }
                let base = argv0.split(separator: UInt8(ascii: "/")).last.map { String(decoding: $0, as: UTF8.self) } ?? ""
                matched = base == name
            }
            if matched && !isZombie(pid, procRoot: procRoot) { matches.append(pid) }
        }
        guard let first = matches.first else {
            r.detail = "no process named '\(name)'"
            return
        }
        r.ok = true
        r.pid = Int(first)
        r.processCount = matches.count
        r.detail = matches.count == 1 ? "running: pid \(first)" : "running: \(matches.count) processes, first pid \(first)"
    }

    /// Reads a pid from `path` and checks that it runs (`kill(pid, 0)`; `EPERM` counts
    /// as running) and is not a zombie.
    static func byPidfile(_ path: String, procRoot: String, into r: inout CheckResult) {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 4096) } catch {
            r.detail = error.description
            return
        }
        let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        guard let pid = Int32(text), pid > 0 else {
            r.detail = "pidfile '\(path)': expected a process id, found '\(Format.snippet(text, limit: 40))'"
            return
        }
        r.pid = Int(pid)
        guard Processes.exists(pid), !isZombie(pid, procRoot: procRoot) else {
            r.detail = "pid \(pid) from '\(path)' is not running"
            return
        }
        r.ok = true
        r.processCount = 1
        r.detail = "running: pid \(pid)"
    }

    /// Whether `/proc/PID/stat` shows state `Z`; false when it cannot be read.
    static func isZombie(_ pid: Int32, procRoot: String) -> Bool {
        guard let stat = Sys.readText("\(procRoot)/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].drop { $0 == " " }
        return rest.first == "Z"
    }
}

extension Probe.File {
    func run(deadline: MonotonicDeadline, into r: inout CheckResult) {
        let info: FileInfo
        do { info = try FileStatus.stat(path) } catch {
            r.detail = error.description
            return
        }
        r.sizeBytes = Int(info.sizeBytes)
        let age = Double(FileStatus.realtimeNanos() - info.modifiedNanos) / 1e9
        r.ageS = Format.rounded(age, decimals: 3)
        var notes = [info.kind == .regular ? "exists, \(Format.count(Int(info.sizeBytes), "byte", "bytes"))" : "exists (\(info.kind.rawValue))"]
        if let maxAgeS {
            let ageText = "modified \(Format.number(age, decimals: 1)) s ago"
            guard age <= maxAgeS else {
                r.detail = "too old: \(ageText), max \(Format.number(maxAgeS, decimals: 3)) s"
                return
            }
            notes.append(ageText)
        }
        if let expected = sha256 {
            guard info.kind == .regular else {
                r.detail = "sha256: not a regular file (\(info.kind.rawValue))"
                return
            }
            let digest: String
            do {
                digest = SHA256Hasher.hex(try SHA256Hasher.hashFile(path, deadlineNanos: deadline.nanos))
            } catch {
                if case .timedOut = error { r.timedOut = true }
                r.detail = "sha256: \(error)"
                return
            }
            r.sha256 = digest
            guard digest == expected.lowercased() else {
                r.detail = "sha256 mismatch: found \(digest.prefix(12))…, expected \(expected.lowercased().prefix(12))…"
                return
            }
            notes.append("sha256 matches")
        }
        r.ok = true
        r.detail = notes.joined(separator: ", ")
    }
}

extension Probe.Disk {
    func run(into r: inout CheckResult) {
        let usage: FileSystemUsage
        do { usage = try FileStatus.fileSystem(path) } catch {
            r.detail = error.description
            return
        }
        r.availBytes = Int(clamping: usage.availableBytes)
        guard let pct = usage.usedPercent else {
            r.detail = "the file system at '\(path)' has no blocks"
            return
        }
        let used = Format.rounded(pct, decimals: 2)
        r.usedPct = used
        r.ok = pct < maxUsedPct
        let limit = Format.number(maxUsedPct, decimals: 2)
        r.detail = r.ok ? "\(Format.number(used, decimals: 2))% used (below \(limit)%)" : "\(Format.number(used, decimals: 2))% used, need below \(limit)%"
    }
}
