import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaCron
import OsmodaSystem

/// `osmoda-cron`: parse, explain and list the next times of a cron expression.
public struct CronCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-cron",
        abstract: "Check, explain and list the next fire times of a cron expression.",
        discussion: """
            EXPR has the five fields of Vixie cron and cronie, minute hour day-of-month month \
            day-of-week, or one of the macros @yearly, @annually, @monthly, @weekly, @daily, \
            @midnight, @hourly and @reboot. A field is a comma-separated list of items: *, n, \
            a-b, each optionally followed by /step (*/15, 1-31/2); a/step runs from a to the \
            field's maximum. Months may be named JAN-DEC and days of the week SUN-SAT, in any \
            case; 0 and 7 are both Sunday. Ranges do not wrap around (write FRI-SAT,SUN-MON).

            Day of month and day of week: when both are restricted a day matches when either \
            matches (0 0 1,15 * MON runs on the 1st, the 15th and every Monday). As in cronie, a \
            field whose text starts with * counts as unrestricted even with a step: then a day \
            must match both (0 0 */2 * MON runs on odd-numbered days that are Mondays). An \
            expression that can never fire (0 0 30 2 *) is refused.

            Time zones: times are computed in --tz, an IANA name read from the tz database \
            ($TZDIR, default /usr/share/zoneinfo), or a POSIX TZ string; without it, the \
            host's zone ($TZ, else /etc/localtime). Daylight saving time: an expression whose \
            hour field does not start with * names times of day; a time skipped when the \
            clocks go forward runs once, at the moment of the change, and a time repeated when \
            they go back runs once, the first time. An expression whose hour field starts with \
            * (*/5 * * * *, 30 * * * *, @hourly) is periodic: it runs at every moment the \
            clock shows a matching time, so in both copies of a repeated hour, and not for \
            times that do not exist.

            Records: next writes one cron.next record per time, whose ts is the fire time; \
            explain writes cron.explain and check writes cron.check, whose ts is the reference \
            time (--from, default now). See osmoda-records(5).

            Examples:
              osmoda-cron next '30 2 * * *' --tz America/New_York --from 2026-03-07T12:00:00Z --count 3
              osmoda-cron explain '5 4 1-15 * SUN'
              osmoda-cron check '0 0 32 * *' || echo invalid
            """,
        version: "osmoda-cron (osmoda) \(osmodaVersion)",
        subcommands: [CronNext.self, CronExplain.self, CronCheck.self, CronBench.self]
    )

    public init() {}
}

/// `--tz` and `--from`, shared by the subcommands.
struct CronTimeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The time zone: an IANA name (Europe/London) or a POSIX TZ string; default the host's.", valueName: "zone"))
    var tz: String?

    @Option(name: .long, help: ArgumentHelp("Compute from this time: RFC 3339 (2026-03-08T00:00:00Z), or a wall time in the zone (2026-03-08T01:30); default now.", valueName: "time"))
    var from: String?

    func zone() throws(ToolFailure) -> ZoneInfo {
        do {
            if let tz { return try ZoneInfo.load(tz) }
            return try ZoneInfo.local()
        } catch { throw ToolFailure("time zone: \(error.message)", status: .usage) }
    }

    func start(_ zone: ZoneInfo) throws(ToolFailure) -> Timestamp {
        guard let from else { return Sys.now() }
        guard let t = parseCronTime(from, zone: zone) else {
            throw ToolFailure("--from: '\(from)' is not an RFC 3339 time or a wall time like 2026-03-08T01:30", status: .usage)
        }
        return t
    }
}

func parseCron(_ text: String) throws(ToolFailure) -> CronExpression {
    do { return try CronExpression(text) } catch {
        throw ToolFailure("invalid cron expression: \(error.description)\n\(error.caret(in: text))", status: .dataError)
    }
}

func seconds(_ t: Timestamp) -> Int64 {
    let ms = t.millisecondsSinceEpoch
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000
}

func stamp(_ s: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: s * 1000) }

struct CronNext: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times, one cron.next record each.")

    @Argument(help: ArgumentHelp("The cron expression.", valueName: "expr"))
    var expression: String

    @Option(name: .long, help: ArgumentHelp("How many times to print.", valueName: "n"))
    var count: Int = 5

    @OptionGroup var time: CronTimeOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard count >= 1 && count <= 1_000_000 else { throw ValidationError("--count must be between 1 and 1000000") }
    }

    func run() throws {
        try runTool("osmoda-cron") { d in
            let expr = try parseCron(expression)
            let zone = try time.zone()
            let from = try time.start(zone)
            if expr.isReboot {
                d.note("@reboot has no times: it runs once, when the system starts")
                return .success
            }
            let sink = RecordSink(format: output.format)
            var t = seconds(from)
            for n in 1...count {
                guard let next = expr.next(after: t, in: zone) else { break }
                try sink.emit(CronNextRecord(expression: expression, tz: zone.name, n: n, at: next, zone: zone), at: stamp(next))
                t = next
            }
            try sink.flush()
            return .success
        }
    }
}

struct CronExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print a plain-English reading of the expression as a cron.explain record.")

    @Argument(help: ArgumentHelp("The cron expression.", valueName: "expr"))
    var expression: String

    @OptionGroup var time: CronTimeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-cron") { _ in
            let expr = try parseCron(expression)
            let zone = try time.zone()
            let from = try time.start(zone)
            let next = expr.next(after: seconds(from), in: zone).map { stamp($0).rfc3339 }
            let sink = RecordSink(format: output.format)
            try sink.emit(CronExplainRecord(expression: expression, expanded: expr.expanded, text: expr.explanation,
                                            periodic: expr.isPeriodic, tz: zone.name, next: next), at: from)
            try sink.flush()
            return .success
        }
    }
}

struct CronCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check an expression: a cron.check record, and exit 0 when valid or 65 (with the error) when not.")

    @Argument(help: ArgumentHelp("The cron expression.", valueName: "expr"))
    var expression: String

    @OptionGroup var time: CronTimeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-cron") { d in
            let zone = try time.zone()
            let from = try time.start(zone)
            let sink = RecordSink(format: output.format)
            defer { try? sink.flush() }
            let expr: CronExpression
            do { expr = try CronExpression(expression) } catch let error as CronError {
                try sink.emit(CronCheckRecord(expression: expression, ok: false, error: error.message, column: error.column), at: from)
                d.error("invalid cron expression: \(error.description)\n\(error.caret(in: expression))")
                return .dataError
            }
            let next = expr.next(after: seconds(from), in: zone).map { stamp($0).rfc3339 }
            try sink.emit(CronCheckRecord(expression: expression, ok: true, expanded: expr.expanded, next: next), at: from)
            return .success
        }
    }
}

/// `osmoda-cron bench`: next-fire computations per second, for bench/run.
struct CronBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure next-fire computations per second (for bench/run).",
        shouldDisplay: false)

    @Argument(help: ArgumentHelp("The expressions to cycle through.", valueName: "expr"))
    var expressions: [String] = ["5 4 1-15 * SUN", "*/5 * * * *", "30 2 * * *", "0 9-17 * * MON-FRI", "0 0 29 2 *"]

    @Option(name: .long, help: ArgumentHelp("How many computations.", valueName: "n"))
    var count: Int = 1_000_000

    @OptionGroup var time: CronTimeOptions

    func run() throws {
        try runTool("osmoda-cron") { _ in
            let exprs = try expressions.map { (e: String) throws(ToolFailure) -> CronExpression in try parseCron(e) }
            let zone = try time.zone()
            let from = seconds(try time.start(zone))
            var checksum: Int64 = 0
            var t = from
            let start = Sys.monotonicNanos()
            for i in 0..<count {
                let e = exprs[i % exprs.count]
                // Start points move through the years so DST transitions are crossed.
                if let n = e.next(after: t, in: zone) { checksum &+= n }
                t &+= 7919
            }
            let elapsed = Double(Sys.monotonicNanos() - start) / 1e9
            let output = RecordOutput()
            try output.write(CronBenchRecord(computations: count, seconds: elapsed, perS: Int(Double(count) / max(elapsed, 1e-9)),
                                             checksum: checksum), at: Sys.now())
            try output.flush()
            return .success
        }
    }
}
