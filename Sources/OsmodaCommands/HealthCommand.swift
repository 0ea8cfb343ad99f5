import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaHealth
import OsmodaSystem

/// `osmoda-health`: sample the host.
public struct HealthCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-health",
        abstract: "Sample the host's health as health.sample records.",
        discussion: """
            Reads /proc and statvfs(3) and writes one health.sample record: CPU use in total \
            and per core (user, system, iowait, steal, idle), load averages, memory and swap, \
            pressure stall information where the kernel has it, every real filesystem's size \
            and use, every network interface's byte rates, errors and drops, uptime, the \
            process count and the host name. Percentages and rates cover the interval since \
            the previous sample; the first sample measures over a short window of its own, so \
            it needs no earlier run. It runs once, or with --every as a stream that flushes \
            each record as it is written. The fields are listed in osmoda-records(5).

            Examples:
              osmoda-health
              osmoda-health --every 10s | osmoda-where '.mem_used_pct > 90'
              osmoda-health --every 2s --count 5 | osmoda-fmt --columns ts,cpu_user_pct,mem_used_pct,load_1
            """
    )

    @OptionGroup var repeating: RepeatOptions

    @Option(name: .customLong("proc-root"), help: ArgumentHelp("Read this directory instead of /proc (for tests).", visibility: .hidden))
    var procRoot: String = "/proc"

    @Option(name: .customLong("sys-root"), help: ArgumentHelp("Read this directory instead of /sys (for tests).", visibility: .hidden))
    var sysRoot: String = "/sys"

    @OptionGroup var output: FormatOptions

    public init() {}

    public func run() throws {
        try runTool("osmoda-health") { _ in
            let sink = RecordSink(format: output.format)
            let sampler = HealthSampler(procRoot: procRoot, sysRoot: sysRoot)
            do { try sampler.prime() } catch let error as SystemError {
                throw ToolFailure("cannot sample the host: \(error.description)", status: .ioError)
            }
            try repeating.repeatBody {
                let sample = sampler.sample()
                try sink.emit(sample, at: sample.time)
                try sink.flush()
            }
            return .success
        }
    }
}
