import OsmodaCore
import OsmodaSystem

/// A column of a query table, for `osmoda-query --list` and the man page.
public struct ColumnInfo: Sendable, Equatable {
    public var name: String
    /// One line saying what the column holds, with its unit.
    public var summary: String

    public init(_ name: String, _ summary: String) {
        self.name = name
        self.summary = summary
    }
}

/// A table `osmoda-query` can print: its name, what it lists, the record type of
/// its rows and their columns (after `type` and `ts`), in output order.
public struct TableInfo: Sendable, Equatable {
    public var name: String
    public var summary: String
    public var recordType: String
    public var columns: [ColumnInfo]

    public init(name: String, summary: String, recordType: String, columns: [ColumnInfo]) {
        self.name = name
        self.summary = summary
        self.recordType = recordType
        self.columns = columns
    }
}

/// Where a query reads from, and the few choices a table takes.
///
/// The roots exist so tests can point every table at a fixture tree; a tool leaves
/// them alone.
public struct QueryOptions: Sendable {
    public var procRoot: String
    public var sysRoot: String
    public var etcRoot: String
    /// Where /run is; the `services` table asks whether `runRoot/systemd/system` exists.
    public var runRoot: String
    /// For `sysctl`: only keys under this dotted prefix (`net.ipv4`, `kernel.hostname`).
    public var sysctlPrefix: String?
    /// The `systemctl` program (looked up on `PATH` unless it contains a slash).
    public var systemctl: String
    /// How long `systemctl` may run.
    public var timeoutMilliseconds: Int
    /// The `ts` of every row; the current time when `nil`.
    public var now: Timestamp?

    /// For tests: values that otherwise come from the running system.
    package var clockTicksPerSecond: Int64?
    package var pageSize: Int64?
    package var interfaceAddresses: [InterfaceAddressEntry]?
    package var kernelName: KernelName?

    public init(
        procRoot: String = "/proc", sysRoot: String = "/sys", etcRoot: String = "/etc", runRoot: String = "/run",
        sysctlPrefix: String? = nil, systemctl: String = "systemctl", timeoutMilliseconds: Int = 10_000, now: Timestamp? = nil
    ) {
        self.procRoot = procRoot
        self.sysRoot = sysRoot
        self.etcRoot = etcRoot
        self.runRoot = runRoot
        self.sysctlPrefix = sysctlPrefix
        self.systemctl = systemctl
        self.timeoutMilliseconds = timeoutMilliseconds
        self.now = now
    }
}

/// Why a query gave no rows. Each case has a stable `code` for scripts and the exit
/// status table: `unavailable` is sysexits' 69, `io` 74, `internalError` 70, and
/// `unknownTable` a usage error (64).
public enum QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No table has this name; `known` lists the ones that exist.
    case unknownTable(name: String, known: [String])
    /// What the table needs is not on this host (systemd is not running, systemctl
    /// failed or printed something other than JSON).
    case unavailable(String)
    /// The table's main source could not be read.
    case io(SystemError)
    /// A bug: a record could not be encoded.
    case internalError(String)

    public var code: String {
        switch self {
        case .unknownTable: return "query.unknown_table"
        case .unavailable: return "query.unavailable"
        case .io: return "query.io"
        case .internalError: return "query.internal"
        }
    }

    public var description: String {
        switch self {
        case .unknownTable(let name, let known):
            return "unknown table '\(name)' (known tables: \(known.joined(separator: ", ")))"
        case .unavailable(let why): return why
        case .io(let e): return e.description
        case .internalError(let why): return why
        }
    }
}

/// The system tables of `osmoda-query`: one record per row, built from /proc, /sys,
/// /etc and `systemctl`.
public enum QueryTables {
    /// Every table, in the order `--list` shows them.
    public static let tables: [TableInfo] = [
        TableInfo(name: "processes", summary: "running processes, from /proc/PID", recordType: ProcessRecord.type, columns: ProcessRecord.columns),
        TableInfo(name: "ports", summary: "TCP and UDP sockets over IPv4 and IPv6 with their owning process, from /proc/net", recordType: PortRecord.type, columns: PortRecord.columns),
        TableInfo(name: "services", summary: "systemd units, from systemctl list-units --all", recordType: ServiceRecord.type, columns: ServiceRecord.columns),
        TableInfo(name: "mounts", summary: "the mount table, from /proc/self/mountinfo", recordType: MountRecord.type, columns: MountRecord.columns),
        TableInfo(name: "disks", summary: "block devices and their I/O counters since boot, from /proc/diskstats and /sys", recordType: DiskRecord.type, columns: DiskRecord.columns),
        TableInfo(name: "users", summary: "user accounts with their groups, from /etc/passwd and /etc/group", recordType: UserRecord.type, columns: UserRecord.columns),
        TableInfo(name: "interfaces", summary: "network interfaces with their addresses, from getifaddrs(3) and /sys/class/net", recordType: InterfaceRecord.type, columns: InterfaceRecord.columns),
        TableInfo(name: "sysctl", summary: "kernel parameters, from /proc/sys (optionally under a key prefix)", recordType: SysctlRecord.type, columns: SysctlRecord.columns),
        TableInfo(name: "kernel", summary: "the running kernel: one row from uname(2), /proc/cmdline and the boot id", recordType: KernelRecord.type, columns: KernelRecord.columns),
    ]

    /// The table called `name`, if there is one.
    public static func table(named name: String) -> TableInfo? {
        tables.first { $0.name == name }
    }

    /// Every row of `table` as a record object: `type`, then `ts`, then the columns.
    ///
    /// - Throws: `QueryError`; rows that vanish while being read (a process that
    ///   exits mid-scan) or that cannot be read (another user's `exe`) are skipped or
    ///   have `null` fields and are not errors.
    public static func rows(table: String, options: QueryOptions = QueryOptions()) throws(QueryError) -> [JSONValue] {
        let ts = options.now ?? Sys.now()
        switch table {
        case "processes": return try encode(try processes(options), ts)
        case "ports": return try encode(try ports(options), ts)
        case "services": return try encode(try services(options), ts)
        case "mounts": return try encode(try mounts(options), ts)
        case "disks": return try encode(try disks(options), ts)
        case "users": return try encode(try users(options), ts)
        case "interfaces": return try encode(try interfaces(options), ts)
        case "sysctl": return try encode(try sysctl(options), ts)
        case "kernel": return try encode(try kernel(options), ts)
        default: throw .unknownTable(name: table, known: tables.map(\.name))
        }
    }

    private static func encode<R: Record>(_ records: [R], _ ts: Timestamp) throws(QueryError) -> [JSONValue] {
        var out: [JSONValue] = []
        out.reserveCapacity(records.count)
        for r in records {
            do {
                out.append(try r.jsonValue(at: ts))
            } catch {
                throw .internalError("cannot encode a \(R.type) record: \(error)")
            }
        }
        return out
    }
}
