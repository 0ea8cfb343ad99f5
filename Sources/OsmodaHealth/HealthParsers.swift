import OsmodaSystem

/// Cumulative CPU time of one line of /proc/stat, in clock ticks.
package struct CPUTicks: Sendable, Equatable {
    package var user: UInt64 = 0
    package var nice: UInt64 = 0
    package var system: UInt64 = 0
    package var idle: UInt64 = 0
    package var iowait: UInt64 = 0
    package var irq: UInt64 = 0
    package var softirq: UInt64 = 0
    package var steal: UInt64 = 0

    package init() {}

    package init(user: UInt64, nice: UInt64, system: UInt64, idle: UInt64, iowait: UInt64, irq: UInt64, softirq: UInt64, steal: UInt64) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
    }
}

/// What a sample needs from /proc/stat.
package struct StatReading: Sendable, Equatable {
    package var total: CPUTicks?
    /// Per-core times, in file order, with the core number of each.
    package var cores: [(cpu: Int, ticks: CPUTicks)] = []
    package var procsRunning: Int?
    package var procsBlocked: Int?

    package init() {}

    package static func == (a: StatReading, b: StatReading) -> Bool {
        a.total == b.total && a.procsRunning == b.procsRunning && a.procsBlocked == b.procsBlocked
            && a.cores.count == b.cores.count
            && zip(a.cores, b.cores).allSatisfy { $0.cpu == $1.cpu && $0.ticks == $1.ticks }
    }
}

/// What a sample needs from /proc/meminfo, in bytes.
package struct MemReading: Sendable, Equatable {
    package var memTotal: UInt64?
    package var memAvailable: UInt64?
    package var swapTotal: UInt64?
    package var swapFree: UInt64?
    package init() {}
}

/// Cumulative counters of one interface in /proc/net/dev.
package struct NetCounters: Sendable, Equatable {
    package var name: String
    package var rxBytes: UInt64
    package var rxErrors: UInt64
    package var rxDropped: UInt64
    package var txBytes: UInt64
    package var txErrors: UInt64
    package var txDropped: UInt64

    package init(name: String, rxBytes: UInt64, rxErrors: UInt64, rxDropped: UInt64, txBytes: UInt64, txErrors: UInt64, txDropped: UInt64) {
        self.name = name
        self.rxBytes = rxBytes
        self.rxErrors = rxErrors
        self.rxDropped = rxDropped
        self.txBytes = txBytes
        self.txErrors = txErrors
        self.txDropped = txDropped
    }
}

/// One /proc/pressure/* file: the `some` and `full` 10 s and 60 s averages (%).
package struct PressureReading: Sendable, Equatable {
    package var someAvg10: Double?
    package var someAvg60: Double?
    package var fullAvg10: Double?
    package var fullAvg60: Double?
    package init() {}
}

/// Byte-level parsers for the /proc files a health sample reads. Each takes the
/// file's bytes and skips what it does not recognise, so a newer kernel's extra
/// lines or columns change nothing.
package enum HealthParsers {
    /// /proc/stat: the `cpu` and `cpuN` lines and `procs_running`/`procs_blocked`.
    /// Columns a kernel lacks (old kernels have no `steal`) read as 0.
    package static func parseStat(_ bytes: UnsafeBufferPointer<UInt8>) -> StatReading {
        var r = StatReading()
        var s = ProcfsScanner(bytes)
        while !s.atEnd {
            if s.skip("cpu") {
                var cpu: Int?
                if let c = s.current, c &- 0x30 < 10 {
                    guard let n = s.unsigned() else { s.skipLine(); continue }
                    cpu = Int(clamping: n)
                } else if s.current != 0x20 {
                    s.skipLine()
                    continue
                }
                var t = CPUTicks()
                t.user = s.unsigned() ?? 0
                t.nice = s.unsigned() ?? 0
                t.system = s.unsigned() ?? 0
                t.idle = s.unsigned() ?? 0
                t.iowait = s.unsigned() ?? 0
                t.irq = s.unsigned() ?? 0
                t.softirq = s.unsigned() ?? 0
                t.steal = s.unsigned() ?? 0
                if let cpu { r.cores.append((cpu, t)) } else { r.total = t }
            } else if s.skip("procs_running") {
                r.procsRunning = s.unsigned().map { Int(clamping: $0) }
            } else if s.skip("procs_blocked") {
                r.procsBlocked = s.unsigned().map { Int(clamping: $0) }
            }
            s.skipLine()
        }
        return r
    }

    /// /proc/meminfo: `MemTotal`, `MemAvailable`, `SwapTotal`, `SwapFree` (kB → bytes).
    package static func parseMeminfo(_ bytes: UnsafeBufferPointer<UInt8>) -> MemReading {
        var r = MemReading()
        var s = ProcfsScanner(bytes)
        func kib(_ s: inout ProcfsScanner) -> UInt64? { s.unsigned().map { $0 &* 1024 } }
        while !s.atEnd {
            if s.skip("MemTotal:") {
                r.memTotal = kib(&s)
            } else if s.skip("MemAvailable:") {
                r.memAvailable = kib(&s)
            } else if s.skip("SwapTotal:") {
                r.swapTotal = kib(&s)
            } else if s.skip("SwapFree:") {
                r.swapFree = kib(&s)
            }
            s.skipLine()
        }
        return r
    }

    /// /proc/loadavg: the 1, 5 and 15 minute load averages.
    package static func parseLoadavg(_ bytes: UnsafeBufferPointer<UInt8>) -> (Double, Double, Double)? {
        var s = ProcfsScanner(bytes)
        guard let a = s.decimal(), let b = s.decimal(), let c = s.decimal() else { return nil }
        return (a, b, c)
    }

    /// /proc/uptime: seconds since boot.
    package static func parseUptime(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var s = ProcfsScanner(bytes)
        return s.decimal()
    }

    /// /proc/net/dev: after two header lines, `name: rx_bytes rx_packets rx_errs
    /// rx_drop rx_fifo rx_frame rx_compressed rx_multicast tx_bytes tx_packets tx_errs
    /// tx_drop …`. The name may abut its colon and the first number.
    package static func parseNetDev(_ bytes: UnsafeBufferPointer<UInt8>) -> [NetCounters] {
        var out: [NetCounters] = []
        var s = ProcfsScanner(bytes)
        s.skipLine()
        s.skipLine()
        while !s.atEnd {
            s.skipSpaces()
            let start = s.index
            guard s.seek(to: UInt8(ascii: ":")) else { s.skipLine(); continue }
            let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<s.index]), as: UTF8.self)
            s.index += 1
            if let rxBytes = s.unsigned(), s.unsigned() != nil, let rxErrors = s.unsigned(), let rxDropped = s.unsigned(),
               s.skipWords(4), let txBytes = s.unsigned(), s.unsigned() != nil, let txErrors = s.unsigned(), let txDropped = s.unsigned() {
                out.append(NetCounters(name: name, rxBytes: rxBytes, rxErrors: rxErrors, rxDropped: rxDropped,
                                       txBytes: txBytes, txErrors: txErrors, txDropped: txDropped))
            }
            s.skipLine()
        }
        return out
    }

    /// A /proc/pressure file: `some avg10=… avg60=… avg300=… total=…` and the same
    /// for `full` (absent from the cpu file before Linux 5.13).
    package static func parsePressure(_ bytes: UnsafeBufferPointer<UInt8>) -> PressureReading {
        var r = PressureReading()
        var s = ProcfsScanner(bytes)
        while !s.atEnd {
            let some = s.skip("some")
            let full = !some && s.skip("full")
            if some || full {
                var avg10: Double?
                var avg60: Double?
                while let w = s.word() {
                    var ws = ProcfsScanner(w)
                    if ws.skip("avg10=") { avg10 = ws.decimal() } else if ws.skip("avg60=") { avg60 = ws.decimal() }
                }
                if some { r.someAvg10 = avg10; r.someAvg60 = avg60 } else { r.fullAvg10 = avg10; r.fullAvg60 = avg60 }
            }
            s.skipLine()
        }
        return r
    }
}
