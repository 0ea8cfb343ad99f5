import OsmodaCore
import OsmodaSystem

/// Takes `health.sample` records from /proc, /sys and `statvfs(3)`.
///
/// Rates (CPU percentages, network bytes per second) need two readings. The first
/// call to `sample()` therefore takes a baseline, waits a short window (100 ms by
/// default) and measures over it, so a single run of the tool gives real rates;
/// later calls measure over the time since the previous call. Whenever the baseline
/// is younger than the window, `sample()` sleeps the rest of the window first, so
/// rates never come from a few microseconds of ticks.
///
/// A sample never fails: what cannot be read is left out. Call `prime()` first to
/// learn whether /proc is there at all. Not thread-safe (it reuses one read buffer).
///
/// The cost of a sample is about a dozen small file reads parsed in place and one
/// `statvfs` per filesystem; see the test that measures it.
public final class HealthSampler {
    private struct Baseline {
        var nanos: UInt64
        var stat: StatReading?
        var net: [NetCounters]
    }

    private let procRoot: String
    private let statPath, meminfoPath, loadavgPath, uptimePath, netDevPath, hostnamePath, mountsPath: String
    private let pressurePaths: (cpu: String, memory: String, io: String)
    private let netClassRoot: String
    private let windowNanos: UInt64
    private let clock: () -> UInt64
    private let sleep: (Int64) -> Void
    private let reader = ProcfsReader()
    private var baseline: Baseline?
    /// The mounts worth a `statvfs`, kept until the mount table changes.
    private var selectedMounts: [MountinfoEntry]?

    /// - Parameters:
    ///   - procRoot: where procfs is mounted (tests point it at a fixture tree).
    ///   - sysRoot: where sysfs is mounted; `class/net/NAME/operstate` is read from it.
    ///   - mountsPath: a file in /proc/PID/mountinfo format; by default
    ///     `procRoot/self/mountinfo`.
    ///   - firstWindowMilliseconds: how long the first sample measures rates over.
    public convenience init(procRoot: String = "/proc", sysRoot: String = "/sys", mountsPath: String? = nil, firstWindowMilliseconds: Int = 100) {
        self.init(procRoot: procRoot, sysRoot: sysRoot, mountsPath: mountsPath, firstWindowMilliseconds: firstWindowMilliseconds,
                  clock: { Sys.monotonicNanos() }, sleep: { Sys.sleep(milliseconds: $0) })
    }

    /// For tests: a fake monotonic clock (nanoseconds) and a fake sleep (milliseconds)
    /// that can change the fixture files while the sampler "waits".
    package init(procRoot: String, sysRoot: String, mountsPath: String?, firstWindowMilliseconds: Int,
                 clock: @escaping () -> UInt64, sleep: @escaping (Int64) -> Void) {
        self.procRoot = procRoot
        statPath = procRoot + "/stat"
        meminfoPath = procRoot + "/meminfo"
        loadavgPath = procRoot + "/loadavg"
        uptimePath = procRoot + "/uptime"
        netDevPath = procRoot + "/net/dev"
        hostnamePath = procRoot + "/sys/kernel/hostname"
        self.mountsPath = mountsPath ?? procRoot + "/self/mountinfo"
        pressurePaths = (procRoot + "/pressure/cpu", procRoot + "/pressure/memory", procRoot + "/pressure/io")
        netClassRoot = sysRoot + "/class/net/"
        windowNanos = UInt64(max(firstWindowMilliseconds, 0)) * 1_000_000
        self.clock = clock
        self.sleep = sleep
    }

    /// Takes the baseline the next sample measures rates from.
    ///
    /// - Throws: the `SystemError` of reading `procRoot/stat`, for a caller that wants
    ///   to stop early when /proc is missing or unreadable.
    public func prime() throws(SystemError) {
        let stat = try reader.withContentsOrThrow(of: statPath) { HealthParsers.parseStat($0) }
        let net = reader.withContents(of: netDevPath, keepOpen: true) { HealthParsers.parseNetDev($0) } ?? []
        baseline = Baseline(nanos: clock(), stat: stat, net: net)
    }

    /// Reads the host now; see the type's documentation for how rates are measured.
    public func sample() -> HealthSample {
        if baseline == nil { baseline = readBaseline() }
        var now = clock()
        if let b = baseline, now &- b.nanos < windowNanos {
            let restNanos = windowNanos - (now &- b.nanos)
            sleep(Int64((restNanos + 999_999) / 1_000_000))
            now = clock()
        }
        let current = readBaseline(at: now)
        let previous = baseline
        baseline = current

        var s = HealthSample(time: Sys.now())
        s.host = reader.text(of: hostnamePath, keepOpen: true) ?? nonEmpty(Sys.hostname())
        s.uptimeSeconds = reader.withContents(of: uptimePath, keepOpen: true) { HealthParsers.parseUptime($0) } ?? nil
        s.procs = try? Procfs.countNumericEntries(procRoot)
        if let (l1, l5, l15) = reader.withContents(of: loadavgPath, keepOpen: true, { HealthParsers.parseLoadavg($0) }) ?? nil {
            s.load1 = l1
            s.load5 = l5
            s.load15 = l15
        }

        let seconds = previous.map { Double(now &- $0.nanos) / 1e9 }
        if let seconds, seconds > 0 { s.intervalSeconds = HealthMath.round2(seconds) }
        if let stat = current.stat {
            s.procsRunning = stat.procsRunning
            s.procsBlocked = stat.procsBlocked
            s.cpuCount = stat.cores.isEmpty ? nil : stat.cores.count
            fillCPU(&s, stat, previous?.stat)
        }
        if let mem = reader.withContents(of: meminfoPath, keepOpen: true, { HealthParsers.parseMeminfo($0) }) {
            fillMemory(&s, mem)
        }
        fillPressure(&s)
        s.interfaces = interfaces(current.net, previous?.net, seconds: seconds)
        s.filesystems = filesystems()
        return s
    }

    private func readBaseline(at nanos: UInt64? = nil) -> Baseline {
        let stat = reader.withContents(of: statPath, keepOpen: true) { HealthParsers.parseStat($0) }
        let net = reader.withContents(of: netDevPath, keepOpen: true) { HealthParsers.parseNetDev($0) } ?? []
        return Baseline(nanos: nanos ?? clock(), stat: stat, net: net)
    }

    private func fillCPU(_ s: inout HealthSample, _ now: StatReading, _ before: StatReading?) {
        guard let before else { return }
        if let a = before.total, let b = now.total, let split = HealthMath.split(from: a, to: b) {
            s.cpuUserPct = split.user
            s.cpuSystemPct = split.system
            s.cpuIowaitPct = split.iowait
            s.cpuStealPct = split.steal
            s.cpuIdlePct = split.idle
        }
        guard !now.cores.isEmpty else { return }
        var cpus: [HealthSample.CPU] = []
        cpus.reserveCapacity(now.cores.count)
        for (i, core) in now.cores.enumerated() {
            // Cores keep their positions unless one went offline; look it up then.
            let old: CPUTicks?
            if i < before.cores.count, before.cores[i].cpu == core.cpu {
                old = before.cores[i].ticks
            } else {
                old = before.cores.first { $0.cpu == core.cpu }?.ticks
            }
            var c = HealthSample.CPU(cpu: core.cpu)
            if let old, let split = HealthMath.split(from: old, to: core.ticks) {
                c.userPct = split.user
                c.systemPct = split.system
                c.iowaitPct = split.iowait
                c.stealPct = split.steal
                c.idlePct = split.idle
            }
            cpus.append(c)
        }
        s.cpus = cpus
    }

    private func fillMemory(_ s: inout HealthSample, _ m: MemReading) {
        if let total = m.memTotal {
            s.memTotalBytes = Int64(clamping: total)
            if let avail = m.memAvailable {
                s.memAvailableBytes = Int64(clamping: avail)
                let used = total > avail ? total - avail : 0
                s.memUsedBytes = Int64(clamping: used)
                s.memUsedPct = HealthMath.percent(Double(used), of: Double(total))
            }
        }
        if let total = m.swapTotal {
            s.swapTotalBytes = Int64(clamping: total)
            if let free = m.swapFree {
                let used = total > free ? total - free : 0
                s.swapUsedBytes = Int64(clamping: used)
                if total > 0 { s.swapUsedPct = HealthMath.percent(Double(used), of: Double(total)) }
            }
        }
    }

    private func fillPressure(_ s: inout HealthSample) {
        if let p = reader.withContents(of: pressurePaths.cpu, keepOpen: true, { HealthParsers.parsePressure($0) }) {
            s.psiCPUSomeAvg10 = p.someAvg10
            s.psiCPUSomeAvg60 = p.someAvg60
            s.psiCPUFullAvg10 = p.fullAvg10
            s.psiCPUFullAvg60 = p.fullAvg60
        }
        if let p = reader.withContents(of: pressurePaths.memory, keepOpen: true, { HealthParsers.parsePressure($0) }) {
            s.psiMemorySomeAvg10 = p.someAvg10
            s.psiMemorySomeAvg60 = p.someAvg60
            s.psiMemoryFullAvg10 = p.fullAvg10
            s.psiMemoryFullAvg60 = p.fullAvg60
        }
        if let p = reader.withContents(of: pressurePaths.io, keepOpen: true, { HealthParsers.parsePressure($0) }) {
            s.psiIOSomeAvg10 = p.someAvg10
            s.psiIOSomeAvg60 = p.someAvg60
            s.psiIOFullAvg10 = p.fullAvg10
            s.psiIOFullAvg60 = p.fullAvg60
        }
    }

    private func interfaces(_ now: [NetCounters], _ before: [NetCounters]?, seconds: Double?) -> [HealthSample.Interface]? {
        guard !now.isEmpty else { return nil }
        var out: [HealthSample.Interface] = []
        out.reserveCapacity(now.count)
        for (i, n) in now.enumerated() {
            var e = HealthSample.Interface(
                name: n.name,
                operState: reader.text(of: netClassRoot + n.name + "/operstate", keepOpen: true),
                rxErrors: Int64(clamping: n.rxErrors), txErrors: Int64(clamping: n.txErrors),
                rxDropped: Int64(clamping: n.rxDropped), txDropped: Int64(clamping: n.txDropped)
            )
            let old: NetCounters?
            if let before, i < before.count, before[i].name == n.name {
                old = before[i]
            } else {
                old = before?.first { $0.name == n.name }
            }
            if let old, let seconds, seconds > 0 {
                e.rxBytesPerSecond = HealthMath.rate(from: old.rxBytes, to: n.rxBytes, seconds: seconds)
                e.txBytesPerSecond = HealthMath.rate(from: old.txBytes, to: n.txBytes, seconds: seconds)
            }
            out.append(e)
        }
        return out
    }

    private func filesystems() -> [HealthSample.Filesystem]? {
        if selectedMounts == nil || reader.mountTableChanged(mountsPath) {
            selectedMounts = reader.withContents(of: mountsPath, keepOpen: true) { FilesystemSelection.select(Procfs.parseMountinfo($0)) }
        }
        guard let mounts = selectedMounts else { return nil }
        var out: [HealthSample.Filesystem] = []
        for m in mounts {
            guard let space = try? Procfs.filesystemSpace(m.mountPoint), space.sizeBytes > 0 else { continue }
            let used = space.sizeBytes > space.freeBytes ? space.sizeBytes - space.freeBytes : 0
            let usedInodes = space.inodes > space.freeInodes ? space.inodes - space.freeInodes : 0
            out.append(HealthSample.Filesystem(
                mount: m.mountPoint, device: m.source, fstype: m.fstype,
                sizeBytes: Int64(clamping: space.sizeBytes), usedBytes: Int64(clamping: used),
                availBytes: Int64(clamping: space.availableBytes),
                usedPct: HealthMath.percent(Double(used), of: Double(used) + Double(space.availableBytes)),
                inodesUsedPct: space.inodes > 0 ? HealthMath.percent(Double(usedInodes), of: Double(space.inodes)) : nil
            ))
        }
        return out
    }

    private func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
}

/// The arithmetic of a sample, apart so tests can check it directly.
package enum HealthMath {
    /// Rounds to two decimals, the precision of every percentage and rate.
    package static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }

    /// `part` as a percentage of `whole`, rounded; `nil` when `whole` is not positive.
    package static func percent(_ part: Double, of whole: Double) -> Double? {
        whole > 0 ? round2(part / whole * 100) : nil
    }

    /// Bytes per second between two readings of a counter; `nil` when it went
    /// backwards (the interface was recreated or the counter wrapped).
    package static func rate(from a: UInt64, to b: UInt64, seconds: Double) -> Double? {
        guard b >= a, seconds > 0 else { return nil }
        return round2(Double(b - a) / seconds)
    }

    /// The five-part CPU split between two readings; `nil` when no tick passed.
    /// A counter that went backwards (iowait can, on some kernels) counts as 0.
    package static func split(from a: CPUTicks, to b: CPUTicks) -> (user: Double, system: Double, iowait: Double, steal: Double, idle: Double)? {
        func d(_ x: UInt64, _ y: UInt64) -> UInt64 { y > x ? y - x : 0 }
        let user = d(a.user, b.user) + d(a.nice, b.nice)
        let system = d(a.system, b.system) + d(a.irq, b.irq) + d(a.softirq, b.softirq)
        let iowait = d(a.iowait, b.iowait)
        let steal = d(a.steal, b.steal)
        let idle = d(a.idle, b.idle)
        let total = Double(user + system + iowait + steal + idle)
        guard total > 0 else { return nil }
        func p(_ x: UInt64) -> Double { round2(Double(x) / total * 100) }
        return (p(user), p(system), p(iowait), p(steal), p(idle))
    }
}
