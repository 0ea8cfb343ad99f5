import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaQuery
import OsmodaSystem

/// `osmoda-query TABLE`: one record per row of a system table.
public struct QueryCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-query",
        abstract: "Emit one record per row of a system table.",
        discussion: """
            Reads a table of the running system and writes one record per row. The tables \
            are processes, ports, mounts, disks, users, interfaces, sysctl, kernel and \
            services; --list prints each with its columns, and osmoda-records(5) gives every \
            record's schema. services asks systemctl(1), and where systemd is not running it \
            fails with status 69 rather than printing an empty list.

            Examples:
              osmoda-query --list
              osmoda-query ports | osmoda-where '.state == "LISTEN"'
              osmoda-query sysctl --prefix net.ipv4.ip_forward
            """
    )

    @Argument(help: ArgumentHelp("The table to read.", valueName: "table"),
              completion: .list(["processes", "ports", "mounts", "disks", "users", "interfaces", "sysctl", "kernel", "services"]))
    var table: String?

    @Flag(name: .long, help: "List the tables and their columns.")
    var list = false

    @Option(name: .long, help: ArgumentHelp("With sysctl: only keys under this prefix, e.g. net.ipv4.", valueName: "key"))
    var prefix: String?

    @OptionGroup var output: FormatOptions

    public init() {}

    public func validate() throws {
        if !list && table == nil { throw ValidationError("missing table; see --list") }
        if list && table != nil { throw ValidationError("--list takes no table") }
        if prefix != nil && table != "sysctl" { throw ValidationError("--prefix applies to the sysctl table only") }
    }

    public func run() throws {
        try runTool("osmoda-query") { _ in
            let out = RecordOutput()
            if list {
                for t in QueryTables.tables {
                    try out.writeLine("\(t.name) — \(t.summary)")
                    for c in t.columns { try out.writeLine("  \(c.name)  \(c.summary)") }
                }
                try out.flush()
                return .success
            }
            guard let table else { return .usage }
            let rows: [JSONValue]
            do {
                rows = try QueryTables.rows(table: table, options: QueryOptions(sysctlPrefix: prefix))
            } catch let error as QueryError {
                switch error {
                case .unknownTable: throw ToolFailure(error.description, status: .usage)
                case .unavailable: throw ToolFailure(error.description, status: .unavailable)
                case .io: throw ToolFailure(error.description, status: .ioError)
                case .internalError: throw ToolFailure(error.description, status: .software)
                }
            }
            let sink = RecordSink(format: output.format, output: out)
            for row in rows {
                if case .object(let o) = row { try sink.emit(o) }
            }
            try sink.flush()
            return .success
        }
    }
}
