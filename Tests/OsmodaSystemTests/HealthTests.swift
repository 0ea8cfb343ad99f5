import OsmodaCore
import OsmodaHealth
import OsmodaSystem
import Testing

/// Runs a parser over the bytes of `text`.
func parse<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    Array(text.utf8).withUnsafeBufferPointer { body($0) }
}

@Suite struct HealthParserTests {
    @Test func statTotalsCoresAndProcs() {
        let r = parse(HealthFixture.statBefore) { HealthParsers.parseStat($0) }
        #expect(r.total == CPUTicks(user: 1000, nice: 100, system: 500, idle: 8000, iowait: 200, irq: 10, softirq: 40, steal: 50))
        #expect(r.cores.map(\.cpu) == [0, 1])
        #expect(r.cores[1].ticks == CPUTicks(user: 500, nice: 50, system: 250, idle: 4000, iowait: 100, irq: 5, softirq: 20, steal: 25))
        #expect(r.procsRunning == 2)
        #expect(r.procsBlocked == 1)
    }

    @Test func statFromAnOldKernelWithoutSteal() {
        let r = parse("cpu  1 2 3 4 5\ncpu3 1 2 3 4\n") { HealthParsers.parseStat($0) }
        #expect(r.total == CPUTicks(user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 0, softirq: 0, steal: 0))
        #expect(r.cores.map(\.cpu) == [3])
        #expect(r.procsRunning == nil)
    }

    @Test func meminfoInBytes() {
        let m = parse(HealthFixture.meminfo) { HealthParsers.parseMeminfo($0) }
        #expect(m.memTotal == 16_000_000 * 1024)
        #expect(m.memAvailable == 4_000_000 * 1024)
        #expect(m.swapTotal == 2_000_000 * 1024)
        #expect(m.swapFree == 1_500_000 * 1024)
    }

    @Test func loadavgAndUptime() throws {
        let l = try #require(parse("0.52 1.25 2.00 3/250 12345\n") { HealthParsers.parseLoadavg($0) })
        #expect(l.0 == 0.52 && l.1 == 1.25 && l.2 == 2.0)
        #expect(parse("12345.67 24000.00\n") { HealthParsers.parseUptime($0) } == 12345.67)
        #expect(parse("") { HealthParsers.parseLoadavg($0) } == nil)
    }

    @Test func netDevIncludingANameThatTouchesItsNumbers() {
        let n = parse(HealthFixture.netDev(lo: 1000, eth0Rx: 5_000_000, eth0Tx: 2_000_000, errors: (3, 5, 4, 6))) { HealthParsers.parseNetDev($0) }
        #expect(n.map(\.name) == ["lo", "eth0"])
        #expect(n[1] == NetCounters(name: "eth0", rxBytes: 5_000_000, rxErrors: 3, rxDropped: 4, txBytes: 2_000_000, txErrors: 5, txDropped: 6))
    }

    @Test func pressureWithAndWithoutFull() {
        let cpu = parse("some avg10=1.50 avg60=0.75 avg300=0.10 total=123456\n") { HealthParsers.parsePressure($0) }
        #expect(cpu.someAvg10 == 1.5 && cpu.someAvg60 == 0.75)
        #expect(cpu.fullAvg10 == nil && cpu.fullAvg60 == nil)
        let mem = parse(HealthFixture.pressureMemory) { HealthParsers.parsePressure($0) }
        #expect(mem.someAvg10 == 0 && mem.someAvg60 == 0.1 && mem.fullAvg10 == 0.25 && mem.fullAvg60 == 0.05)
    }

    @Test func decimalsAreTheNearestDouble() {
        for text in ["0.10", "12345.67", "0.05", "99.99", "1", "0.0000001", "123456789.123456"] {
            let parsed = parse(text) { b -> Double? in
                var sc = ProcfsScanner(b)
                return sc.decimal()
            }
            #expect(parsed == Double(text), "\(text)")
        }
    }

    @Test func cpuSplitOverAnInterval() throws {
        let a = CPUTicks(user: 1000, nice: 100, system: 500, idle: 8000, iowait: 200, irq: 10, softirq: 40, steal: 50)
        var b = a
        b.user += 300; b.nice += 20; b.system += 100; b.idle += 1400; b.iowait += 50; b.irq += 10; b.softirq += 20; b.steal += 100
        let s = try #require(HealthMath.split(from: a, to: b))
        #expect(s.user == 16 && s.system == 6.5 && s.iowait == 2.5 && s.steal == 5 && s.idle == 70)
        #expect(HealthMath.split(from: a, to: a) == nil)
        // iowait may run backwards on some kernels; it counts as no time.
        var c = b
        c.iowait = 0
        #expect(HealthMath.split(from: b, to: c) == nil)
    }

    @Test func mountSelectionSkipsPseudoAndDedupesDevices() {
        let text = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
            40 27 254:0 /srv /data/bind rw,relatime - ext4 /dev/vda rw
            27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
            28 27 254:0 / /mnt/again rw,relatime - ext4 /dev/vda rw
            42 23 0:50 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
            43 27 0:60 / /run rw,nosuid - tmpfs tmpfs rw
            46 43 0:61 / /dev/shm rw - tmpfs tmpfs rw
            47 43 0:62 / /dev/shm rw - tmpfs tmpfs rw,size=1k
            44 27 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro
            45 27 0:70 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw
            """
        let picked = parse(text) { FilesystemSelection.select(Procfs.parseMountinfo($0)) }
        #expect(picked.map(\.mountPoint) == ["/", "/run", "/dev/shm", "/var/lib/docker/overlay2/x/merged"])
        #expect(picked[0].source == "/dev/vda")
        #expect(picked[2].mountID == 47, "a mount point mounted over counts as its topmost mount")
    }
}

/// Hand-written /proc files whose percentages and rates come out exact.
enum HealthFixture {
    static let statBefore = """
        cpu  1000 100 500 8000 200 10 40 50 0 0
        cpu0 500 50 250 4000 100 5 20 25 0 0
        cpu1 500 50 250 4000 100 5 20 25 0 0
        intr 12345 1 2 3 4 5 6 7 8 9 10
        ctxt 999
        btime 1700000000
        processes 5000
        procs_running 2
        procs_blocked 1
        softirq 1 2 3

        """
    /// +2000 ticks in all: user 300, nice 20, system 100, idle 1400, iowait 50,
    /// irq 10, softirq 20, steal 100; cpu0 and cpu1 +1000 each.
    static let statAfter = """
        cpu  1300 120 600 9400 250 20 60 150 0 0
        cpu0 700 50 300 4700 100 5 20 75 0 0
        cpu1 600 70 300 4700 150 15 40 75 0 0
        intr 12399 1 2 3 4 5 6 7 8 9 10
        ctxt 1999
        btime 1700000000
        processes 5001
        procs_running 3
        procs_blocked 0
        softirq 1 2 3

        """
    /// +200 ticks, all idle, on both cores (cpu1 and the total; cpu0 went offline).
    static let statLater = """
        cpu  1300 120 600 9600 250 20 60 150 0 0
        cpu1 600 70 300 4900 150 15 40 75 0 0
        procs_running 1
        procs_blocked 0

        """
    static let meminfo = """
        MemTotal:       16000000 kB
        MemFree:         1000000 kB
        MemAvailable:    4000000 kB
        Buffers:          100000 kB
        SwapCached:            0 kB
        SwapTotal:       2000000 kB
        SwapFree:        1500000 kB

        """
    static let pressureMemory = """
        some avg10=0.00 avg60=0.10 avg300=0.00 total=10
        full avg10=0.25 avg60=0.05 avg300=0.00 total=5

        """

    static func netDev(lo: Int, eth0Rx: Int, eth0Tx: Int, errors: (Int, Int, Int, Int), extra: String = "") -> String {
        """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: \(lo)      10    0    0    0     0          0         0     \(lo)      10    0    0    0     0       0          0
          eth0:\(eth0Rx)    4000    \(errors.0)    \(errors.2)    0     0          0         0  \(eth0Tx)    3000    \(errors.1)    \(errors.3)    0     0       0          0
        \(extra)
        """
    }

    /// A fixture /proc (and /sys) tree; mount points in its mountinfo are real
    /// directories of the fixture, so `statvfs` works on them.
    static func make() throws -> Fixture {
        let f = try Fixture()
        try f.write("proc/stat", statBefore)
        try f.write("proc/meminfo", meminfo)
        try f.write("proc/loadavg", "0.52 1.25 2.00 3/250 12345\n")
        try f.write("proc/uptime", "12345.67 24000.00\n")
        try f.write("proc/net/dev", netDev(lo: 1000, eth0Rx: 5_000_000, eth0Tx: 2_000_000, errors: (3, 5, 4, 6)))
        try f.write("proc/pressure/cpu", "some avg10=1.50 avg60=0.75 avg300=0.10 total=123456\n")
        try f.write("proc/pressure/memory", pressureMemory)
        try f.write("proc/sys/kernel/hostname", "fixture-host\n")
        for dir in ["proc/1", "proc/42", "proc/4242", "proc/self", "proc/sys", "mnt/data", "mnt/with space"] { try f.mkdir(dir) }
        try f.write("sys/class/net/eth0/operstate", "up\n")
        try f.write("sys/class/net/lo/operstate", "unknown\n")
        let r = f.root
        try f.write("proc/self/mountinfo", """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
            40 27 254:0 /sub \(r)/mnt/data rw,relatime - ext4 /dev/vdb rw
            27 1 254:0 / \(r) rw,relatime shared:1 - ext4 /dev/vdb rw
            41 27 0:99 / \(r)/mnt/missing rw - xfs /dev/sdz rw
            42 23 0:50 / /sys/fs/cgroup rw - tmpfs tmpfs rw
            43 27 0:60 / \(r)/mnt/with\\040space rw - tmpfs tmpfs rw

            """)
        return f
    }
}

/// A monotonic clock the test moves by hand; the sampler's "sleep" moves it too and
/// lets the test change the files in between.
final class FakeClock {
    var nanos: UInt64 = 1_000_000_000
    var sleeps: [Int64] = []
    var onSleep: () -> Void = {}
}

@Suite struct HealthSamplerFixtureTests {
    func sampler(_ f: Fixture, _ clock: FakeClock) -> HealthSampler {
        HealthSampler(procRoot: f.path("proc"), sysRoot: f.path("sys"), mountsPath: nil, firstWindowMilliseconds: 20,
                      clock: { clock.nanos }, sleep: { ms in
                          clock.sleeps.append(ms)
                          clock.nanos += UInt64(ms) * 1_000_000
                          clock.onSleep()
                      })
    }

    @Test func firstSampleMeasuresOverItsOwnWindow() throws {
        let f = try HealthFixture.make()
        defer { f.remove() }
        let clock = FakeClock()
        clock.onSleep = {
            // 20 ms later: eth0 received 100000 bytes and sent 20000.
            try? f.write("proc/stat", HealthFixture.statAfter)
            try? f.write("proc/net/dev", HealthFixture.netDev(lo: 1000, eth0Rx: 5_100_000, eth0Tx: 2_020_000, errors: (7, 9, 8, 10),
                                                              extra: "   wg0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0"))
        }
        let s = sampler(f, clock).sample()
        #expect(clock.sleeps == [20])
        #expect(s.intervalSeconds == 0.02)
        #expect(s.host == "fixture-host")
        #expect(s.uptimeSeconds == 12345.67)
        #expect(s.procs == 3)
        #expect(s.procsRunning == 3 && s.procsBlocked == 0)
        #expect(s.load1 == 0.52 && s.load5 == 1.25 && s.load15 == 2)
        #expect(s.cpuCount == 2)
        #expect(s.cpuUserPct == 16 && s.cpuSystemPct == 6.5 && s.cpuIowaitPct == 2.5 && s.cpuStealPct == 5 && s.cpuIdlePct == 70)
        #expect(s.cpus == [
            HealthSample.CPU(cpu: 0, userPct: 20, systemPct: 5, iowaitPct: 0, stealPct: 5, idlePct: 70),
            HealthSample.CPU(cpu: 1, userPct: 12, systemPct: 8, iowaitPct: 5, stealPct: 5, idlePct: 70),
        ])
        #expect(s.memTotalBytes == 16_384_000_000 && s.memAvailableBytes == 4_096_000_000)
        #expect(s.memUsedBytes == 12_288_000_000 && s.memUsedPct == 75)
        #expect(s.swapTotalBytes == 2_048_000_000 && s.swapUsedBytes == 512_000_000 && s.swapUsedPct == 25)
        #expect(s.psiCPUSomeAvg10 == 1.5 && s.psiCPUSomeAvg60 == 0.75)
        #expect(s.psiCPUFullAvg10 == nil && s.psiCPUFullAvg60 == nil)
        #expect(s.psiMemorySomeAvg10 == 0 && s.psiMemorySomeAvg60 == 0.1 && s.psiMemoryFullAvg10 == 0.25 && s.psiMemoryFullAvg60 == 0.05)
        #expect(s.psiIOSomeAvg10 == nil && s.psiIOFullAvg60 == nil)
        #expect(s.interfaces == [
            HealthSample.Interface(name: "lo", operState: "unknown", rxBytesPerSecond: 0, txBytesPerSecond: 0),
            HealthSample.Interface(name: "eth0", operState: "up", rxBytesPerSecond: 5_000_000, txBytesPerSecond: 1_000_000,
                                   rxErrors: 7, txErrors: 9, rxDropped: 8, txDropped: 10),
            HealthSample.Interface(name: "wg0", rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0),
        ])

        let fs = try #require(s.filesystems)
        #expect(fs.map(\.mount) == [f.root, f.path("mnt/with space")])
        #expect(fs.map(\.device) == ["/dev/vdb", "tmpfs"])
        #expect(fs.map(\.fstype) == ["ext4", "tmpfs"])
        let space = try Procfs.filesystemSpace(f.root)
        #expect(fs[0].sizeBytes == Int64(space.sizeBytes))
        for e in fs {
            #expect(e.usedBytes + e.availBytes <= e.sizeBytes)
            let pct = try #require(e.usedPct)
            #expect(pct >= 0 && pct <= 100)
        }
    }

    @Test func laterSamplesMeasureSinceThePreviousOne() throws {
        let f = try HealthFixture.make()
        defer { f.remove() }
        let clock = FakeClock()
        clock.onSleep = { try? f.write("proc/stat", HealthFixture.statAfter) }
        let sampler = sampler(f, clock)
        _ = sampler.sample()
        #expect(clock.sleeps == [20])

        clock.nanos += 2_000_000_000
        try f.write("proc/stat", HealthFixture.statLater)
        try f.write("proc/net/dev", HealthFixture.netDev(lo: 1000, eth0Rx: 9_000_000, eth0Tx: 1_000, errors: (0, 0, 0, 0)))
        let s = sampler.sample()
        #expect(clock.sleeps == [20], "a baseline older than the window needs no wait")
        #expect(s.intervalSeconds == 2)
        #expect(s.cpuIdlePct == 100 && s.cpuUserPct == 0)
        // cpu0 went offline; cpu1 is matched by number, not position.
        #expect(s.cpus == [HealthSample.CPU(cpu: 1, userPct: 0, systemPct: 0, iowaitPct: 0, stealPct: 0, idlePct: 100)])
        #expect(s.cpuCount == 1)
        let eth0 = try #require(s.interfaces?.first { $0.name == "eth0" })
        #expect(eth0.rxBytesPerSecond == 2_000_000)
        #expect(eth0.txBytesPerSecond == nil, "a counter that went backwards gives no rate")
    }

    @Test func primeTakesTheBaselineAndWaitsOnlyTheRestOfTheWindow() throws {
        let f = try HealthFixture.make()
        defer { f.remove() }
        let clock = FakeClock()
        let sampler = sampler(f, clock)
        try sampler.prime()
        clock.nanos += 5_000_000
        try f.write("proc/stat", HealthFixture.statAfter)
        let s = sampler.sample()
        #expect(clock.sleeps == [15])
        #expect(s.intervalSeconds == 0.02)
        #expect(s.cpuUserPct == 16)
    }

    @Test func primeReportsAMissingProc() throws {
        let f = try Fixture()
        defer { f.remove() }
        let sampler = HealthSampler(procRoot: f.path("nothing"), firstWindowMilliseconds: 0)
        #expect(throws: SystemError.self) { try sampler.prime() }
        // sample() itself never fails: it leaves out what it cannot read.
        let s = sampler.sample()
        #expect(s.cpuUserPct == nil && s.memTotalBytes == nil && s.procs == nil && s.filesystems == nil && s.interfaces == nil)
    }

    @Test func recordKeysAreSnakeCaseInOrderAndOmitWhatIsMissing() throws {
        let f = try HealthFixture.make()
        defer { f.remove() }
        let clock = FakeClock()
        clock.onSleep = { try? f.write("proc/stat", HealthFixture.statAfter) }
        let s = sampler(f, clock).sample()
        let value = try ValueEncoder.encode(RecordEnvelope(ts: s.time, record: s))
        guard case .object(let o) = value else { Issue.record("not an object"); return }
        #expect(Array(o.keys.prefix(8)) == ["type", "ts", "host", "uptime_s", "interval_s", "procs", "procs_running", "procs_blocked"])
        #expect(o["type"] == .string("health.sample"))
        #expect(o["cpu_user_pct"] == .double(16))
        #expect(o["psi_memory_full_avg10"] == .double(0.25))
        #expect(o["psi_io_some_avg10"] == nil && o["psi_cpu_full_avg10"] == nil)
        #expect(Array(o.keys.suffix(3)) == ["cpus", "filesystems", "interfaces"])
        guard case .array(let cpus)? = o["cpus"] else { Issue.record("cpus is not an array"); return }
        #expect(cpus.first?["idle_pct"] == .double(70))
        #expect(cpus.first?["cpu"] == .int(0))
        for k in o.keys { #expect(k == k.lowercased() && !k.contains("-"), "\(k)") }
    }
}

@Suite struct HealthSamplerRealTests {
    @Test func realProcGivesSaneValues() throws {
        let sampler = HealthSampler(firstWindowMilliseconds: 20)
        try sampler.prime()
        let s = sampler.sample()
        #expect(!(s.host ?? "").isEmpty)
        #expect((s.uptimeSeconds ?? 0) > 0)
        #expect((s.procs ?? 0) > 1)
        #expect((s.load1 ?? -1) >= 0)
        let interval = try #require(s.intervalSeconds)
        #expect(interval >= 0.02 && interval < 10)
        let cpuCount = try #require(s.cpuCount)
        #expect(cpuCount >= 1)
        #expect(s.cpus?.count == cpuCount)
        if let user = s.cpuUserPct, let system = s.cpuSystemPct, let iowait = s.cpuIowaitPct, let steal = s.cpuStealPct, let idle = s.cpuIdlePct {
            for p in [user, system, iowait, steal, idle] { #expect(p >= 0 && p <= 100) }
            #expect(abs(user + system + iowait + steal + idle - 100) < 0.1)
        }
        let total = try #require(s.memTotalBytes)
        #expect(total > 0)
        #expect((s.memAvailableBytes ?? -1) >= 0 && (s.memAvailableBytes ?? .max) <= total)
        let used = try #require(s.memUsedPct)
        #expect(used >= 0 && used <= 100)
        if let swap = s.swapTotalBytes, swap > 0 { #expect(s.swapUsedPct != nil) } else { #expect(s.swapUsedPct == nil) }
        let fs = try #require(s.filesystems)
        #expect(fs.contains { $0.mount == "/" })
        for e in fs {
            #expect(e.sizeBytes > 0)
            #expect(!FilesystemSelection.pseudoTypes.contains(e.fstype))
            #expect(!e.mount.hasPrefix("/proc") && !e.mount.hasPrefix("/sys/"))
        }
        #expect(Set(fs.map(\.mount)).count == fs.count)
        let ifs = try #require(s.interfaces)
        #expect(ifs.contains { $0.name == "lo" })
        for i in ifs { #expect((i.rxBytesPerSecond ?? 0) >= 0) }
    }

    /// Prints what one sample costs; asserts only that the samples are right, as
    /// machine noise must not fail CI (DESIGN §9 puts budgets in benchmarks).
    @Test func cpuCostPerSample() throws {
        let sampler = HealthSampler(firstWindowMilliseconds: 0)
        _ = sampler.sample()
        let n = 50
        let process0 = Sys.processCPUMicros()
        let thread0 = Procfs.threadCPUNanos()
        let wall0 = Sys.monotonicNanos()
        var samples: [HealthSample] = []
        samples.reserveCapacity(n)
        for _ in 0..<n { samples.append(sampler.sample()) }
        let threadMicros = Double(Procfs.threadCPUNanos() - thread0) / 1000 / Double(n)
        let processMicros = Double(Sys.processCPUMicros() - process0) / Double(n)
        let wallMicros = Double(Sys.monotonicNanos() - wall0) / 1000 / Double(n)
        print("osmoda-health: one sample costs \(Int(threadMicros)) µs of CPU on its thread (\(Int(processMicros)) µs process-wide, other tests included; \(Int(wallMicros)) µs wall), mean of \(n), \(samples.last?.filesystems?.count ?? 0) filesystems, \(samples.last?.interfaces?.count ?? 0) interfaces")
        for s in samples {
            #expect(s.memTotalBytes != nil && s.cpuCount != nil && s.filesystems != nil)
        }
    }
}
