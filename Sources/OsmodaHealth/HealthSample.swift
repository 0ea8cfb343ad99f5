import OsmodaCore

/// One `health.sample` record: the state of the host at one moment, with CPU and
/// network rates over the interval since the previous sample (or over a short first
/// window).
///
/// Units are in the key names. A field the sampler could not read is `nil` and left
/// out of the record rather than written as a guess: PSI fields are absent where the
/// kernel has no /proc/pressure, swap percentages where there is no swap, and rates
/// where there is no earlier reading of a counter (an interface that just appeared).
///
/// CPU percentages split all time into five parts that add up to 100 (up to
/// rounding): `user` is user + nice (guest time is already inside user), `system` is
/// system + irq + softirq, then `iowait`, `steal` and `idle`. They are rounded to
/// 0.01, as are rates.
public struct HealthSample: Record, Sendable, Equatable {
    public static let type = "health.sample"

    /// When the sample was taken. Written as the envelope's `ts`, not as a field of
    /// its own: `RecordEnvelope(ts: sample.time, record: sample)`.
    public var time: Timestamp

    public var host: String?
    public var uptimeSeconds: Double?
    /// The interval the CPU and network rates cover.
    public var intervalSeconds: Double?
    /// Processes (thread-group leaders) alive, counted in /proc.
    public var procs: Int?
    /// Runnable and I/O-blocked tasks now, from /proc/stat.
    public var procsRunning: Int?
    public var procsBlocked: Int?
    public var load1: Double?
    public var load5: Double?
    public var load15: Double?

    public var cpuCount: Int?
    public var cpuUserPct: Double?
    public var cpuSystemPct: Double?
    public var cpuIowaitPct: Double?
    public var cpuStealPct: Double?
    public var cpuIdlePct: Double?

    public var memTotalBytes: Int64?
    public var memAvailableBytes: Int64?
    /// Total less available: memory the kernel could not hand out without swapping.
    public var memUsedBytes: Int64?
    public var memUsedPct: Double?
    public var swapTotalBytes: Int64?
    public var swapUsedBytes: Int64?
    public var swapUsedPct: Double?

    public var psiCPUSomeAvg10: Double?
    public var psiCPUSomeAvg60: Double?
    public var psiCPUFullAvg10: Double?
    public var psiCPUFullAvg60: Double?
    public var psiMemorySomeAvg10: Double?
    public var psiMemorySomeAvg60: Double?
    public var psiMemoryFullAvg10: Double?
    public var psiMemoryFullAvg60: Double?
    public var psiIOSomeAvg10: Double?
    public var psiIOSomeAvg60: Double?
    public var psiIOFullAvg10: Double?
    public var psiIOFullAvg60: Double?

    public var cpus: [CPU]?
    public var filesystems: [Filesystem]?
    public var interfaces: [Interface]?

    /// An empty sample taken at `time`; the sampler fills in what it can read.
    public init(time: Timestamp) { self.time = time }

    enum CodingKeys: String, CodingKey {
        case host
        case uptimeSeconds = "uptime_s"
        case intervalSeconds = "interval_s"
        case procs
        case procsRunning = "procs_running"
        case procsBlocked = "procs_blocked"
        case load1 = "load_1"
        case load5 = "load_5"
        case load15 = "load_15"
        case cpuCount = "cpu_count"
        case cpuUserPct = "cpu_user_pct"
        case cpuSystemPct = "cpu_system_pct"
        case cpuIowaitPct = "cpu_iowait_pct"
        case cpuStealPct = "cpu_steal_pct"
        case cpuIdlePct = "cpu_idle_pct"
        case memTotalBytes = "mem_total_bytes"
        case memAvailableBytes = "mem_available_bytes"
        case memUsedBytes = "mem_used_bytes"
        case memUsedPct = "mem_used_pct"
        case swapTotalBytes = "swap_total_bytes"
        case swapUsedBytes = "swap_used_bytes"
        case swapUsedPct = "swap_used_pct"
        case psiCPUSomeAvg10 = "psi_cpu_some_avg10"
        case psiCPUSomeAvg60 = "psi_cpu_some_avg60"
        case psiCPUFullAvg10 = "psi_cpu_full_avg10"
        case psiCPUFullAvg60 = "psi_cpu_full_avg60"
        case psiMemorySomeAvg10 = "psi_memory_some_avg10"
        case psiMemorySomeAvg60 = "psi_memory_some_avg60"
        case psiMemoryFullAvg10 = "psi_memory_full_avg10"
        case psiMemoryFullAvg60 = "psi_memory_full_avg60"
        case psiIOSomeAvg10 = "psi_io_some_avg10"
        case psiIOSomeAvg60 = "psi_io_some_avg60"
        case psiIOFullAvg10 = "psi_io_full_avg10"
        case psiIOFullAvg60 = "psi_io_full_avg60"
        case cpus
        case filesystems
        case interfaces
    }

    /// One CPU core's time split over the interval (same parts as the totals).
    public struct CPU: Encodable, Sendable, Equatable {
        /// The kernel's number for the core (`cpuN` in /proc/stat).
        public var cpu: Int
        public var userPct: Double?
        public var systemPct: Double?
        public var iowaitPct: Double?
        public var stealPct: Double?
        public var idlePct: Double?

        public init(cpu: Int, userPct: Double? = nil, systemPct: Double? = nil, iowaitPct: Double? = nil, stealPct: Double? = nil, idlePct: Double? = nil) {
            self.cpu = cpu
            self.userPct = userPct
            self.systemPct = systemPct
            self.iowaitPct = iowaitPct
            self.stealPct = stealPct
            self.idlePct = idlePct
        }

        enum CodingKeys: String, CodingKey {
            case cpu
            case userPct = "user_pct"
            case systemPct = "system_pct"
            case iowaitPct = "iowait_pct"
            case stealPct = "steal_pct"
            case idlePct = "idle_pct"
        }
    }

    /// Space on one mounted filesystem, as `df` reports it.
    ///
    /// `used_bytes` is size less free; `avail_bytes` is what an unprivileged user may
    /// still write (free less the root reserve); `used_pct` is
    /// used / (used + avail), `df`'s Use%, so a filesystem whose reserve alone is
    /// left reads 100.
    public struct Filesystem: Encodable, Sendable, Equatable {
        public var mount: String
        public var device: String
        public var fstype: String
        public var sizeBytes: Int64
        public var usedBytes: Int64
        public var availBytes: Int64
        public var usedPct: Double?
        /// `nil` where the filesystem has no fixed inode count (btrfs reports 0).
        public var inodesUsedPct: Double?

        public init(mount: String, device: String, fstype: String, sizeBytes: Int64, usedBytes: Int64, availBytes: Int64, usedPct: Double?, inodesUsedPct: Double?) {
            self.mount = mount
            self.device = device
            self.fstype = fstype
            self.sizeBytes = sizeBytes
            self.usedBytes = usedBytes
            self.availBytes = availBytes
            self.usedPct = usedPct
            self.inodesUsedPct = inodesUsedPct
        }

        enum CodingKeys: String, CodingKey {
            case mount
            case device = "source"
            case fstype
            case sizeBytes = "size_bytes"
            case usedBytes = "used_bytes"
            case availBytes = "avail_bytes"
            case usedPct = "used_pct"
            case inodesUsedPct = "inodes_used_pct"
        }
    }

    /// Traffic on one network interface: byte rates over the interval, and the
    /// error and drop counters since boot (from /proc/net/dev).
    public struct Interface: Encodable, Sendable, Equatable {
        public var name: String
        /// `operstate` from sysfs: `up`, `down`, `unknown` (loopback, many tunnels), …
        public var operState: String?
        public var rxBytesPerSecond: Double?
        public var txBytesPerSecond: Double?
        public var rxErrors: Int64
        public var txErrors: Int64
        public var rxDropped: Int64
        public var txDropped: Int64

        public init(name: String, operState: String? = nil, rxBytesPerSecond: Double? = nil, txBytesPerSecond: Double? = nil, rxErrors: Int64 = 0, txErrors: Int64 = 0, rxDropped: Int64 = 0, txDropped: Int64 = 0) {
            self.name = name
            self.operState = operState
            self.rxBytesPerSecond = rxBytesPerSecond
            self.txBytesPerSecond = txBytesPerSecond
            self.rxErrors = rxErrors
            self.txErrors = txErrors
            self.rxDropped = rxDropped
            self.txDropped = txDropped
        }

        enum CodingKeys: String, CodingKey {
            case name
            case operState = "oper_state"
            case rxBytesPerSecond = "rx_bytes_per_s"
            case txBytesPerSecond = "tx_bytes_per_s"
            case rxErrors = "rx_errors"
            case txErrors = "tx_errors"
            case rxDropped = "rx_dropped"
            case txDropped = "tx_dropped"
        }
    }
}
