import ArgumentParser
import OsmodaCLI
import OsmodaCore

/// `osmoda-fmt`: records as aligned tables for people.
public struct FmtCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-fmt",
        abstract: "Render records as aligned tables for people.",
        discussion: """
            Reads JSON Lines records and prints them as text tables, one table per record \
            type, each headed by the type's name when several types are mixed. It streams: \
            rows are printed as soon as no more input is waiting, and a header is printed \
            again when a column has to widen. Nested values appear as compact JSON, cut with \
            an ellipsis. The output is for people; pipe JSON Lines, not this, into other tools.

            Examples:
              osmoda-health --every 2s | osmoda-fmt --columns ts,cpu_user_pct,mem_used_pct,load_1
              osmoda-query ports | osmoda-fmt
            """
    )

    @Option(name: .long, help: ArgumentHelp("Comma-separated columns to show, in order (dotted paths reach nested fields).", valueName: "list"))
    var columns: String?

    @OptionGroup var input: InputOptions

    public init() {}

    public func run() throws {
        let selected = columns.map { $0.split(separator: ",").map { String($0).trimmingPrefix(".").description } }
        try runTool("osmoda-fmt") { diagnostics in
            let sink = RecordSink(format: .table, columns: selected)
            defer { try? sink.flush() }
            return try RecordStream.run(inputs: input.files, options: input.stream, projection: nil, diagnostics: diagnostics, idle: { try sink.flush() }) { record, _ in
                try sink.emit(record)
            }
        }
    }
}
