import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaSystem

/// The version every tool reports.
public let osmodaVersion = "0.1.0"

extension CommandConfiguration {
    /// A tool's configuration with the shared version string.
    static func tool(_ name: String, abstract: String, discussion: String) -> CommandConfiguration {
        CommandConfiguration(commandName: name, abstract: abstract, discussion: discussion, version: "\(name) (osmoda) \(osmodaVersion)")
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// `--format`, shared by every tool that emits records.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.")
    var format: OutputFormat = .auto
}

/// Options shared by every tool that reads records.
struct InputOptions: ParsableArguments {
    @Flag(name: .long, help: "Stop at the first bad input line instead of skipping it.")
    var strict = false

    @Option(name: .customLong("max-line"), help: ArgumentHelp("The longest input line accepted, in bytes.", valueName: "bytes"))
    var maxLine: Int = 1 << 20

    @Argument(help: ArgumentHelp("Files to read; '-' or none means standard input.", valueName: "file"), completion: .file())
    var files: [String] = []

    func validate() throws {
        guard maxLine > 0 && maxLine <= 64 << 20 else {
            throw ValidationError("--max-line must be between 1 and 67108864 (64 MiB)")
        }
    }

    var stream: StreamOptions { StreamOptions(maxLine: maxLine, strict: strict) }
}

/// Runs a tool body: reports a `ToolFailure` as `prog: error: …` and exits with its status.
func runTool(_ program: String, _ body: (Diagnostics) throws -> ExitStatus) throws {
    Sys.defaultSIGPIPE()
    let diagnostics = Diagnostics(program: program)
    let status: ExitStatus
    do {
        status = try body(diagnostics)
    } catch let failure as ToolFailure {
        diagnostics.error(failure.message)
        status = failure.status
    } catch let e as SystemError {
        diagnostics.error(e.description)
        status = .ioError
    }
    if status != .success { throw ExitCode(status.rawValue) }
}

/// `--every` and `--count`, shared by the tools that can repeat.
struct RepeatOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Run again at this interval, e.g. 500ms, 10s, 5m.", valueName: "duration"))
    var every: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this many runs (with --every).", valueName: "n"))
    var count: Int?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if count != nil && every == nil { throw ValidationError("--count needs --every") }
        _ = try parseInterval(every)
    }

    /// Runs `body` once, or as `--every` and `--count` say.
    func repeatBody(_ body: () throws -> Void) throws {
        try repeatEvery(try parseInterval(every), count: count, body)
    }
}

/// Parses a `--every` value.
func parseInterval(_ text: String?) throws -> Int64? {
    guard let text else { return nil }
    do { return try DurationParser.milliseconds(text) } catch { throw ValidationError(error.description) }
}

/// Runs `body` once, or every `intervalMs` on a drift-free schedule until `count` runs.
func repeatEvery(_ intervalMs: Int64?, count: Int?, _ body: () throws -> Void) rethrows {
    var done = 0
    let start = Sys.monotonicNanos()
    while true {
        try body()
        done += 1
        guard let intervalMs else { return }
        if let count, done >= count { return }
        let next = start + UInt64(done) * UInt64(intervalMs) * 1_000_000
        let now = Sys.monotonicNanos()
        if next > now { Sys.sleep(milliseconds: Int64((next - now) / 1_000_000)) }
    }
}
