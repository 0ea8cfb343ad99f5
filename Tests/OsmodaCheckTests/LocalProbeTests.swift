#if canImport(Glibc)
import Glibc
#endif
@testable import OsmodaCheck
import OsmodaSystem
import Testing

private func command(_ argv: [String], expectExit: Int = 0, timeoutMs: Int = 5000) -> ProbeSpec {
    ProbeSpec(name: "cmd", timeoutMs: timeoutMs, probe: .command(.init(argv: argv, expectExit: expectExit)))
}

@Suite struct CommandProbes {
    @Test func exitZeroPasses() {
        let r = run(command(["/bin/sh", "-c", "exit 0"]))
        #expect(r.ok)
        #expect(r.detail == "exit status 0")
        #expect(r.exitStatus == 0 && r.signal == nil && r.output == nil)
        #expect(r.target == "/bin/sh -c exit 0")
    }

    @Test func exitThreeFails() {
        let r = run(command(["/bin/sh", "-c", "exit 3"]))
        #expect(!r.ok)
        #expect(r.detail == "exit status 3")
        #expect(r.exitStatus == 3)
        let expected = run(command(["/bin/sh", "-c", "exit 3"], expectExit: 3))
        #expect(expected.ok)
        let other = run(command(["/bin/sh", "-c", "exit 1"], expectExit: 3))
        #expect(!other.ok && other.detail == "exit status 1, expected 3")
    }

    @Test func failureShowsTheLastOutput() {
        let r = run(command(["/bin/sh", "-c", "echo starting; echo 'db: connection refused' >&2; exit 2"]))
        #expect(!r.ok)
        #expect(r.detail == "exit status 2: db: connection refused")
        #expect(r.output == "db: connection refused")
    }

    @Test func deathBySignal() {
        let r = run(command(["/bin/sh", "-c", "kill -KILL $$"]))
        #expect(!r.ok)
        #expect(r.detail == "killed by signal 9 (SIGKILL)")
        #expect(r.signal == 9 && r.exitStatus == nil)
    }

    @Test func missingProgram() {
        let r = run(command(["/nonexistent/osmoda-probe"]))
        #expect(!r.ok)
        #expect(r.detail == "posix_spawnp '/nonexistent/osmoda-probe': No such file or directory")
    }

    @Test func timeoutKillsTheWholeGroup() throws {
        let start = Sys.monotonicNanos()
        let r = run(command(["/bin/sh", "-c", "sleep 30 & echo $!; sleep 30"], timeoutMs: 500))
        let elapsedMs = Double(Sys.monotonicNanos() - start) / 1e6
        #expect(!r.ok)
        #expect(r.timedOut == true)
        #expect(r.detail.hasPrefix("timed out after 500 ms (ended with SIGTERM)"))
        #expect(elapsedMs >= 480 && elapsedMs < 500 + 1000 + 1000)
        let grandchild = Int32((r.output ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        #expect(grandchild != nil)
        if let grandchild {
            #expect(ProcFacts.eventually(within: 2000) { ProcFacts.isDead(grandchild) })
        }
    }
}

@Suite struct SpawnBehaviour {
    @Test func groupIsGoneAfterTimeout() throws {
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "sleep 30 & echo $!; sleep 30"], timeoutMs: 300))
        #expect(r.timedOut && r.signal == SIGTERM && r.exitStatus == nil)
        let grandchild = Int32(String(decoding: r.stdoutTail, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        #expect(grandchild != nil)
        #expect(ProcFacts.isDead(r.pid))
        if let grandchild { #expect(ProcFacts.eventually(within: 2000) { ProcFacts.isDead(grandchild) }) }
        #expect(ProcFacts.eventually(within: 2000) { ProcFacts.liveMembers(ofGroup: r.pid).isEmpty })
    }

    @Test func termIgnoringGroupGetsKilled() throws {
        let start = Sys.monotonicNanos()
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; sleep 30"], timeoutMs: 300, killGraceMs: 300))
        let elapsedMs = Double(Sys.monotonicNanos() - start) / 1e6
        #expect(r.timedOut && r.signal == SIGKILL)
        #expect(elapsedMs >= 580 && elapsedMs < 2500)
        #expect(r.statusDescription == "killed by signal 9 (SIGKILL)")
        let grandchild = Int32(String(decoding: r.stdoutTail, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        if let grandchild { #expect(ProcFacts.eventually(within: 2000) { ProcFacts.isDead(grandchild) }) } else { Issue.record("no pid printed") }
        #expect(ProcFacts.eventually(within: 2000) { ProcFacts.liveMembers(ofGroup: r.pid).isEmpty })
    }

    @Test func ownGroupEnvironmentDirectoryAndStdin() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "pwd; echo \"$FOO\"; cat; ps -o pgid= -p $$"],
                                           env: ["FOO": "bar", "PATH": "/usr/bin:/bin"], cwd: dir.path, timeoutMs: 10_000))
        #expect(r.exitStatus == 0)
        let lines = String(decoding: r.stdoutTail, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }
        #expect(lines.count >= 2)
        if lines.count >= 2 {
            #expect(lines[0] == dir.path)
            #expect(lines[1] == "bar")
        }
        // `ps` may be missing; when it is there, the shell leads its own group.
        if lines.count == 3 { #expect(lines[2] == String(r.pid)) }
    }

    @Test func outputKeepsTheTail() throws {
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; echo err >&2"],
                                           timeoutMs: 10_000, outputLimit: 100))
        #expect(r.exitStatus == 0)
        #expect(r.stdoutTail.count == 100 && r.stdoutTruncated)
        #expect(String(decoding: r.stdoutTail, as: UTF8.self).hasSuffix("line1999\n"))
        #expect(r.stderrTail == Array("err\n".utf8) && !r.stderrTruncated)
    }

    @Test func leaderExitIsNotHeldUpByABackgroundChild() throws {
        let start = Sys.monotonicNanos()
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "sleep 3 & echo $!; exit 0"], timeoutMs: 10_000))
        let elapsedMs = Double(Sys.monotonicNanos() - start) / 1e6
        #expect(r.exitStatus == 0 && !r.timedOut)
        #expect(elapsedMs < 2000)
        if let pid = Int32(String(decoding: r.stdoutTail, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "") {
            try? Processes.signal(pid, SIGKILL)
        }
    }
}

@Suite struct SystemdProbes {
    @Test func noSystemdOnTheHost() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        var r = CheckResult(name: "u", kind: "systemd", target: "nginx.service")
        SystemdCheck.run(unit: "nginx.service", timeoutMs: 1000, runtimeDirectory: dir.file("absent"), systemctl: "systemctl", into: &r)
        #expect(!r.ok)
        #expect(r.detail == "systemd is not running on this host")
    }

    @Test func asksSystemctlForTheState() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        // A stand-in for systemctl: records its arguments and answers like `is-active`.
        let systemctl = try dir.write("systemctl", """
            #!/bin/sh
            echo "$@" > "\(dir.file("args"))"
            if [ "$3" = good.service ]; then echo active; exit 0; fi
            echo failed; exit 3
            """, executable: true)
        var good = CheckResult(name: "u", kind: "systemd", target: "good.service")
        SystemdCheck.run(unit: "good.service", timeoutMs: 5000, runtimeDirectory: dir.path, systemctl: systemctl, into: &good)
        #expect(good.ok && good.detail == "active" && good.state == "active")
        #expect(Sys.readText(dir.file("args")) == "is-active -- good.service\n")

        var bad = CheckResult(name: "u", kind: "systemd", target: "bad.service")
        SystemdCheck.run(unit: "bad.service", timeoutMs: 5000, runtimeDirectory: dir.path, systemctl: systemctl, into: &bad)
        #expect(!bad.ok && bad.detail == "failed, expected active" && bad.state == "failed")
    }
}

@Suite struct ProcessProbes {
    @Test func ourOwnName() throws {
        let comm = (Sys.readText("/proc/self/comm") ?? "").trimmingSpaces()
        let r = run(ProbeSpec(name: "me", probe: .process(.init(match: .name(comm)))))
        #expect(r.ok)
        #expect(r.detail.hasPrefix("running: "))
        #expect((r.processCount ?? 0) >= 1)
    }

    @Test func nonsenseName() {
        let r = run(ProbeSpec(name: "x", probe: .process(.init(match: .name("osmoda-no-such-process-xyz")))))
        #expect(!r.ok)
        #expect(r.detail == "no process named 'osmoda-no-such-process-xyz'")
    }

    @Test func pidfiles() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let mine = try dir.write("me.pid", "\(getpid())\n")
        let alive = run(ProbeSpec(name: "p", probe: .process(.init(match: .pidfile(mine)))))
        #expect(alive.ok && alive.pid == Int(getpid()) && alive.detail == "running: pid \(getpid())")

        let dead = try Spawn.run(SpawnOptions(argv: ["true"], timeoutMs: 5000)).pid
        let gone = try dir.write("gone.pid", "\(dead)")
        let r = run(ProbeSpec(name: "p", probe: .process(.init(match: .pidfile(gone)))))
        #expect(!r.ok && r.detail == "pid \(dead) from '\(gone)' is not running")

        let junk = try dir.write("junk.pid", "hello")
        #expect(run(ProbeSpec(name: "p", probe: .process(.init(match: .pidfile(junk))))).detail
            == "pidfile '\(junk)': expected a process id, found 'hello'")
        let missing = dir.file("missing.pid")
        #expect(run(ProbeSpec(name: "p", probe: .process(.init(match: .pidfile(missing))))).detail
            == "open '\(missing)': No such file or directory")
    }
}

@Suite struct FileProbes {
    static let helloSHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

    @Test func existsAndMissing() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("f", "hello\n")
        let r = run(ProbeSpec(name: "f", probe: .file(.init(path: path))))
        #expect(r.ok && r.detail == "exists, 6 bytes" && r.sizeBytes == 6)
        let missing = dir.file("nope")
        let m = run(ProbeSpec(name: "f", probe: .file(.init(path: missing))))
        #expect(!m.ok && m.detail == "stat '\(missing)': No such file or directory")
    }

    @Test func tooOld() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("f", "x")
        let twoHoursAgo = Sys.now().millisecondsSinceEpoch / 1000 - 7200
        var times = [timeval(tv_sec: Int(twoHoursAgo), tv_usec: 0), timeval(tv_sec: Int(twoHoursAgo), tv_usec: 0)]
        #expect(utimes(path, &times) == 0)
        let old = run(ProbeSpec(name: "f", probe: .file(.init(path: path, maxAgeS: 3600))))
        #expect(!old.ok)
        #expect(old.detail.hasPrefix("too old: modified 720"))
        #expect(old.detail.hasSuffix(" s ago, max 3600 s"))
        #expect(abs((old.ageS ?? 0) - 7200) < 60)
        let fresh = run(ProbeSpec(name: "f", probe: .file(.init(path: path, maxAgeS: 3 * 3600))))
        #expect(fresh.ok && fresh.detail.hasPrefix("exists, 1 byte, modified 720"))
    }

    @Test func checksum() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = try dir.write("f", "hello\n")
        let match = run(ProbeSpec(name: "f", probe: .file(.init(path: path, sha256: Self.helloSHA256.uppercased()))))
        #expect(match.ok && match.detail == "exists, 6 bytes, sha256 matches" && match.sha256 == Self.helloSHA256)
        let wrong = String(repeating: "0", count: 64)
        let mismatch = run(ProbeSpec(name: "f", probe: .file(.init(path: path, sha256: wrong))))
        #expect(!mismatch.ok)
        #expect(mismatch.detail == "sha256 mismatch: found 5891b5b522d5…, expected 000000000000…")
        let onDirectory = run(ProbeSpec(name: "f", probe: .file(.init(path: dir.path, sha256: wrong))))
        #expect(!onDirectory.ok && onDirectory.detail == "sha256: not a regular file (directory)")
    }

    @Test func hashingStreamsLargeFiles() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = dir.file("big")
        // 3 MiB of zeros: more than one read, and checked against `sha256sum` output.
        let r = try Spawn.run(SpawnOptions(argv: ["/bin/sh", "-c", "head -c 3145728 /dev/zero > '\(path)'"], timeoutMs: 10_000))
        #expect(r.exitStatus == 0)
        let digest = SHA256Hasher.hex(try SHA256Hasher.hashFile(path, deadlineNanos: nil))
        #expect(digest == "bbd05cf6097ac9b1f89ea29d2542c1b7b67ee46848393895f5a9e43fa1f621e5")
        #expect(throws: SHA256Hasher.FileError.timedOut(bytesRead: 0)) {
            try SHA256Hasher.hashFile(path, deadlineNanos: Sys.monotonicNanos())
        }
    }
}

@Suite struct DiskProbes {
    @Test func thresholds() throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let roomy = run(ProbeSpec(name: "d", probe: .disk(.init(path: dir.path, maxUsedPct: 100))))
        #expect(roomy.ok)
        let used = roomy.usedPct ?? -1
        #expect(used >= 0 && used <= 100)
        #expect(roomy.detail.hasSuffix("% used (below 100%)"))
        #expect(roomy.availBytes != nil)

        let strict = run(ProbeSpec(name: "d", probe: .disk(.init(path: dir.path, maxUsedPct: 0))))
        #expect(!strict.ok)
        #expect(strict.detail.hasSuffix("% used, need below 0%"))

        let missing = dir.file("nope")
        let m = run(ProbeSpec(name: "d", probe: .disk(.init(path: missing, maxUsedPct: 50))))
        #expect(!m.ok && m.detail == "statvfs '\(missing)': No such file or directory")
    }
}

@Suite struct Running {
    @Test func manyProbesRunTogetherInOrder() {
        let specs = (0..<4).map { i in
            ProbeSpec(name: "p\(i)", probe: .command(.init(argv: ["/bin/sh", "-c", "sleep 0.4; exit \(i)"])))
        }
        let start = Sys.monotonicNanos()
        let results = Probes.runAll(specs)
        let elapsedMs = Double(Sys.monotonicNanos() - start) / 1e6
        #expect(results.map(\.name) == ["p0", "p1", "p2", "p3"])
        #expect(results.map(\.exitStatus) == [0, 1, 2, 3])
        #expect(elapsedMs < 1400)
    }

    @Test func watchdogGivesUpOnAStuckJob() {
        let start = Sys.monotonicNanos()
        let results = WorkerThreads.map(count: 3, maxThreads: 2, budgetNanos: { $0 == 1 ? 100_000_000 : nil }, abandoned: { -$0 }) { i in
            Sys.sleep(milliseconds: i == 1 ? 2000 : 50)
            return i
        }
        let elapsedMs = Double(Sys.monotonicNanos() - start) / 1e6
        #expect(results == [0, -1, 2])
        #expect(elapsedMs < 1000)
    }

    @Test func stuckResultSaysSo() {
        let r = Probes.stuck(ProbeSpec(name: "nfs", timeoutMs: 1000, probe: .disk(.init(path: "/mnt/nfs", maxUsedPct: 90))))
        #expect(!r.ok && r.timedOut == true && r.latencyMs == 4000)
        #expect(r.detail == "no result after 4000 ms: the probe is stuck (e.g. in a system call on a hung mount)")
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
