import OsmodaCore

// The row types of the query tables. Every row carries every column: a value that
// cannot be known (another user's `exe`, the owner of a socket we cannot see) is
// written as `null`, not left out, so tables line up and `where` can test for it
// (`writesAbsentAsNull`, ADR 0002).

/// `process.info`: one process.
public struct ProcessRecord: Record, Equatable {
    public static let type = "process.info"
    public static let writesAbsentAsNull = true
    public var pid: Int
    public var ppid: Int
    /// The kernel's short name (`comm`, at most 15 bytes).
    public var name: String
    public var user: String?
    public var uid: Int?
    public var state: String
    public var threads: Int?
    public var cpuPct: Double
    public var rssBytes: Int64
    public var startTime: String?
    public var argv: [String]
    public var exe: String?

    enum CodingKeys: String, CodingKey {
        case pid, ppid, name, user, uid, state, threads
        case cpuPct = "cpu_pct"
        case rssBytes = "rss_bytes"
        case startTime = "start_time"
        case argv, exe
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("pid", "process id"),
        ColumnInfo("ppid", "parent process id"),
        ColumnInfo("name", "the kernel's short command name (comm)"),
        ColumnInfo("user", "effective user name, or null when the uid has no /etc/passwd entry"),
        ColumnInfo("uid", "effective user id"),
        ColumnInfo("state", "running, sleeping, disk_sleep, zombie, stopped, tracing_stop, dead, idle, parked, …"),
        ColumnInfo("threads", "number of threads"),
        ColumnInfo("cpu_pct", "CPU time used over the process's lifetime, as % of one core (like ps %CPU)"),
        ColumnInfo("rss_bytes", "resident memory"),
        ColumnInfo("start_time", "when it started, RFC 3339 UTC (to the second: the boot time is whole seconds)"),
        ColumnInfo("argv", "command line as an array; empty for kernel threads"),
        ColumnInfo("exe", "path of the executable, or null when it cannot be read"),
    ]

}

/// `port.info`: one TCP or UDP socket.
public struct PortRecord: Record, Equatable {
    public static let type = "port.info"
    public static let writesAbsentAsNull = true
    public var proto: String
    public var family: String
    public var localAddress: String
    public var localPort: Int
    public var remoteAddress: String
    public var remotePort: Int
    public var state: String
    public var uid: Int
    public var inode: Int64
    public var pid: Int?
    public var program: String?

    enum CodingKeys: String, CodingKey {
        case proto, family
        case localAddress = "local_address"
        case localPort = "local_port"
        case remoteAddress = "remote_address"
        case remotePort = "remote_port"
        case state, uid, inode, pid, program
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("proto", "tcp or udp"),
        ColumnInfo("family", "ipv4 or ipv6"),
        ColumnInfo("local_address", "local address (0.0.0.0 or :: for any)"),
        ColumnInfo("local_port", "local port"),
        ColumnInfo("remote_address", "peer address"),
        ColumnInfo("remote_port", "peer port (0 when unconnected)"),
        ColumnInfo("state", "TCP state (LISTEN, ESTABLISHED, TIME_WAIT, …); UDP: UNCONN or ESTABLISHED"),
        ColumnInfo("uid", "user id that owns the socket"),
        ColumnInfo("inode", "socket inode (0 for sockets no process holds, e.g. TIME_WAIT)"),
        ColumnInfo("pid", "lowest pid holding the socket open, or null when none is visible"),
        ColumnInfo("program", "that process's short command name, or null"),
    ]

}

/// `mount.info`: one line of the mount table.
public struct MountRecord: Record, Equatable {
    public static let type = "mount.info"
    public static let writesAbsentAsNull = true
    public var mountID: Int
    public var parentID: Int
    public var device: String
    public var mount: String
    public var root: String
    public var fstype: String
    public var source: String
    public var options: String
    public var superOptions: String

    enum CodingKeys: String, CodingKey {
        case mountID = "mount_id"
        case parentID = "parent_id"
        case device, mount, root, fstype, source, options
        case superOptions = "super_options"
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("mount_id", "the kernel's id of this mount"),
        ColumnInfo("parent_id", "id of the mount it sits on"),
        ColumnInfo("device", "major:minor of the filesystem"),
        ColumnInfo("mount", "mount point"),
        ColumnInfo("root", "directory of the filesystem mounted here (not / for bind mounts of a subdirectory)"),
        ColumnInfo("fstype", "filesystem type"),
        ColumnInfo("source", "what was mounted: a device path, a server path, or a name such as tmpfs"),
        ColumnInfo("options", "per-mount options (rw, nosuid, relatime, …)"),
        ColumnInfo("super_options", "filesystem options"),
    ]
}

/// `disk.info`: one block device and its I/O counters since boot.
public struct DiskRecord: Record, Equatable {
    public static let type = "disk.info"
    public static let writesAbsentAsNull = true
    public var name: String
    public var major: Int
    public var minor: Int
    public var partition: Bool
    public var sizeBytes: Int64?
    public var readsCompleted: Int64
    public var writesCompleted: Int64
    public var readBytes: Int64
    public var writtenBytes: Int64
    public var ioInProgress: Int64
    public var ioMilliseconds: Int64

    enum CodingKeys: String, CodingKey {
        case name, major, minor, partition
        case sizeBytes = "size_bytes"
        case readsCompleted = "reads_completed"
        case writesCompleted = "writes_completed"
        case readBytes = "read_bytes"
        case writtenBytes = "written_bytes"
        case ioInProgress = "io_in_progress"
        case ioMilliseconds = "io_ms"
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("name", "kernel name (sda, nvme0n1p2, dm-0, …)"),
        ColumnInfo("major", "device major number"),
        ColumnInfo("minor", "device minor number"),
        ColumnInfo("partition", "whether it is a partition of another device"),
        ColumnInfo("size_bytes", "capacity, or null when sysfs does not say"),
        ColumnInfo("reads_completed", "reads completed since boot"),
        ColumnInfo("writes_completed", "writes completed since boot"),
        ColumnInfo("read_bytes", "bytes read since boot"),
        ColumnInfo("written_bytes", "bytes written since boot"),
        ColumnInfo("io_in_progress", "requests in flight now"),
        ColumnInfo("io_ms", "milliseconds spent with I/O in flight since boot"),
    ]

}

/// `user.info`: one account.
public struct UserRecord: Record, Equatable {
    public static let type = "user.info"
    public static let writesAbsentAsNull = true
    public var name: String
    public var uid: Int
    public var gid: Int
    public var group: String?
    public var groups: [String]
    public var gecos: String
    public var home: String
    public var shell: String

    enum CodingKeys: String, CodingKey {
        case name, uid, gid, group, groups, gecos, home, shell
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("name", "login name"),
        ColumnInfo("uid", "user id"),
        ColumnInfo("gid", "primary group id"),
        ColumnInfo("group", "primary group name, or null when /etc/group lacks it"),
        ColumnInfo("groups", "names of all its groups, the primary one first"),
        ColumnInfo("gecos", "the comment field, usually the full name"),
        ColumnInfo("home", "home directory"),
        ColumnInfo("shell", "login shell"),
    ]

}

/// `interface.info`: one network interface.
public struct InterfaceRecord: Record, Equatable {
    public static let type = "interface.info"
    public static let writesAbsentAsNull = true
    public var name: String
    public var index: Int?
    public var mtu: Int?
    public var mac: String?
    public var up: Bool
    public var operState: String?
    public var addresses: [Address]

    /// One address of an interface.
    public struct Address: Encodable, Sendable, Equatable {
        /// `ipv4` or `ipv6`.
        public var family: String
        public var address: String
        public var prefixLen: Int?

        public init(family: String, address: String, prefixLen: Int?) {
            self.family = family
            self.address = address
            self.prefixLen = prefixLen
        }

        enum CodingKeys: String, CodingKey {
            case family, address
            case prefixLen = "prefix_len"
        }

    }

    enum CodingKeys: String, CodingKey {
        case name, index, mtu, mac, up
        case operState = "oper_state"
        case addresses
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("name", "interface name"),
        ColumnInfo("index", "interface index"),
        ColumnInfo("mtu", "MTU in bytes"),
        ColumnInfo("mac", "hardware address, or null for interfaces without one"),
        ColumnInfo("up", "whether it is administratively up (IFF_UP)"),
        ColumnInfo("oper_state", "operational state from sysfs: up, down, unknown, dormant, …"),
        ColumnInfo("addresses", "array of {family, address, prefix_len}"),
    ]

}

/// `sysctl.entry`: one kernel parameter.
public struct SysctlRecord: Record, Equatable {
    public static let type = "sysctl.entry"
    public static let writesAbsentAsNull = true
    public var key: String
    public var value: String

    enum CodingKeys: String, CodingKey { case key, value }

    static let columns: [ColumnInfo] = [
        ColumnInfo("key", "dotted name, as sysctl(8) writes it (net.ipv4.ip_forward)"),
        ColumnInfo("value", "the value as text, without the final newline"),
    ]
}

/// `kernel.info`: the running kernel.
public struct KernelRecord: Record, Equatable {
    public static let type = "kernel.info"
    public static let writesAbsentAsNull = true
    public var sysname: String
    public var host: String
    public var release: String
    public var version: String
    public var machine: String
    public var cmdline: String?
    public var bootID: String?
    public var bootTime: String?

    enum CodingKeys: String, CodingKey {
        case sysname, host, release, version, machine, cmdline
        case bootID = "boot_id"
        case bootTime = "boot_time"
    }

    static let columns: [ColumnInfo] = [
        ColumnInfo("sysname", "kernel name (Linux)"),
        ColumnInfo("host", "host name (uname nodename)"),
        ColumnInfo("release", "kernel release"),
        ColumnInfo("version", "kernel build version"),
        ColumnInfo("machine", "hardware architecture (x86_64, aarch64, …)"),
        ColumnInfo("cmdline", "kernel command line"),
        ColumnInfo("boot_id", "random id of this boot"),
        ColumnInfo("boot_time", "when the machine booted, RFC 3339 UTC"),
    ]

}

/// `service.info`: one systemd unit.
public struct ServiceRecord: Record, Equatable {
    public static let type = "service.info"
    public static let writesAbsentAsNull = true
    public var unit: String
    public var load: String
    public var active: String
    public var sub: String
    public var description: String

    enum CodingKeys: String, CodingKey { case unit, load, active, sub, description }

    static let columns: [ColumnInfo] = [
        ColumnInfo("unit", "unit name (sshd.service, home.mount, …)"),
        ColumnInfo("load", "whether its definition loaded: loaded, not-found, masked, error"),
        ColumnInfo("active", "active, inactive, failed, activating, deactivating, reloading"),
        ColumnInfo("sub", "the unit type's own state: running, exited, dead, listening, mounted, …"),
        ColumnInfo("description", "the unit's description"),
    ]
}
