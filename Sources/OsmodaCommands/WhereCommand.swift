import ArgumentParser
import OsmodaCLI
import OsmodaCore

/// `osmoda-where EXPR`: keep the records that match.
public struct WhereCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-where",
        abstract: "Keep the records that match an expression.",
        discussion: """
            Reads JSON Lines records and writes, unchanged, those for which EXPR is true. \
            EXPR is the jq-flavoured language of osmoda-expr(7), compiled once: paths such as \
            .a.b and .a[0], literals, == != < <= > >=, and or not, + - * / %, test("regex"), \
            has("key"), exists(.path) and .x in [..]. A record that lacks a field the \
            expression reads does not match; that is not an error. Bad lines are reported \
            with their position and skipped, and the exit status is then 65.

            Examples:
              osmoda-health --every 10s | osmoda-where '.mem_used_pct > 90'
              osmoda-query processes | osmoda-where '.user == "root" and .rss_bytes > 1e9'
            """
    )

    @Argument(help: ArgumentHelp("The expression (osmoda-expr(7)).", valueName: "expr"))
    var expression: String

    @OptionGroup var input: InputOptions
    @OptionGroup var output: FormatOptions

    @Flag(name: [.customShort("v"), .long], help: "Keep the records that do not match instead.")
    var invert = false

    public init() {}

    public func run() throws {
        try runTool("osmoda-where") { diagnostics in
            let expr: Expression
            do { expr = try Expression(expression) } catch let error as ExpressionError {
                throw ToolFailure("invalid expression: \(error.description)\n\(error.caret(in: expression))", status: .usage)
            }
            let sink = RecordSink(format: output.format)
            defer { try? sink.flush() }
            // A table needs every field; JSON output passes the raw line through.
            let projection = sink.isTable ? nil : expr.requiredKeys.map { KeyProjection($0) }
            let invert = self.invert
            return try RecordStream.run(inputs: input.files, options: input.stream, projection: projection, diagnostics: diagnostics, idle: { try sink.flush() }) { record, raw in
                if expr.matches(record) != invert {
                    try sink.pass(raw, parsed: record)
                }
            }
        }
    }
}
