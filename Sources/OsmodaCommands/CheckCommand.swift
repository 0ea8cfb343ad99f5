import ArgumentParser
import OsmodaCheck
import OsmodaCLI
import OsmodaCore
import OsmodaSystem

/// `osmoda-check`: run probes and report each result.
public struct CheckCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-check",
        abstract: "Run health probes and emit one check.result record per probe.",
        discussion: """
            Runs the probes given by flags or in a JSON file, concurrently, and writes one \
            check.result record per probe, in the order given, with its name, kind, ok, \
            latency_ms and a detail that says why it failed. The probe kinds are: a systemd \
            unit that is active; a TCP connect; an HTTP or HTTPS GET with an expected status \
            and an optional body substring; a command run as argv with no shell, whose \
            timeout kills its whole process group; a process that is present, by name or \
            pidfile; a file that exists, is no older than an age or matches a SHA-256; a \
            filesystem below a used percentage; and a TLS certificate with at least N days \
            left. Each probe has a timeout.

            In one-shot mode it answers a question: the exit status is 0 when every probe \
            passed and 1 when any failed. With --every it repeats until stopped, or for \
            --count rounds.

            A probe file is a JSON array of probe objects, or an object with a "probes" array; \
            unknown fields are errors. For example:
              [{"name": "web", "kind": "http", "url": "http://127.0.0.1:8080/health", "timeout_ms": 2000},
               {"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 5432},
               {"name": "root-fs", "kind": "disk", "path": "/", "max_used_pct": 90}]

            Examples:
              osmoda-check --tcp 127.0.0.1:22 --disk /:90
              osmoda-check --http https://example.org/ --cert example.org:443:21
              osmoda-check --probes probes.json --every 10s | osmoda-where '.ok == false'
            """
    )

    @Option(name: .long, help: ArgumentHelp("A JSON file of probe definitions.", valueName: "file"), completion: .file(extensions: ["json"]))
    var probes: String?

    @Option(name: .long, help: ArgumentHelp("A systemd unit that must be active.", valueName: "unit"))
    var unit: [String] = []

    @Option(name: .long, help: ArgumentHelp("A TCP endpoint that must accept a connection.", valueName: "host:port"))
    var tcp: [String] = []

    @Option(name: .long, help: ArgumentHelp("A URL whose GET must answer 200.", valueName: "url"))
    var http: [String] = []

    @Option(name: .long, help: ArgumentHelp("A command, as a JSON array of argv, that must exit 0.", valueName: "argv-json"))
    var command: [String] = []

    @Option(name: .long, help: ArgumentHelp("A process name that must be running.", valueName: "name"))
    var process: [String] = []

    @Option(name: .long, help: ArgumentHelp("A pidfile whose process must be running.", valueName: "path"), completion: .file())
    var pidfile: [String] = []

    @Option(name: .long, help: ArgumentHelp("A file that must exist.", valueName: "path"), completion: .file())
    var file: [String] = []

    @Option(name: .long, help: ArgumentHelp("A filesystem that must be used below a percentage.", valueName: "path:max-pct"))
    var disk: [String] = []

    @Option(name: .long, help: ArgumentHelp("A TLS certificate that must have days left (port 443 and 14 days by default).", valueName: "host[:port[:days]]"))
    var cert: [String] = []

    @Option(name: .customLong("timeout"), help: ArgumentHelp("The timeout of probes given by flags.", valueName: "duration"))
    var timeout: String = "5s"

    @OptionGroup var repeating: RepeatOptions

    @OptionGroup var output: FormatOptions

    public init() {}

    public func validate() throws {
        _ = try parseInterval(timeout)
        if flagValues.values.allSatisfy(\.isEmpty) && probes == nil { throw ValidationError("no probes: give --probes FILE or at least one probe flag") }
    }

    /// The values given for each probe flag, by the flag's name in `ProbeSpec.flags`.
    var flagValues: [String: [String]] {
        ["unit": unit, "tcp": tcp, "http": http, "command": command, "process": process,
         "pidfile": pidfile, "file": file, "disk": disk, "cert": cert]
    }

    func specs() throws(ToolFailure) -> [ProbeSpec] {
        var out: [ProbeSpec] = []
        if let probes {
            let bytes: [UInt8]
            do { bytes = try Sys.readFile(probes, limit: 16 << 20) } catch {
                throw ToolFailure("cannot read probe file '\(probes)': \(error.message)", status: .noInput)
            }
            do { out += try ProbeFile.parse(bytes).probes } catch {
                throw ToolFailure("\(probes): \(error)", status: .dataError)
            }
        }
        let timeoutMs = (try? parseInterval(timeout)).flatMap { $0 } ?? 5000
        let values = flagValues
        for flag in ProbeSpec.flags {
            for v in values[flag.name] ?? [] {
                do { out.append(try flag.parse(v, timeoutMs: Int(timeoutMs))) } catch {
                    throw ToolFailure("\(error)", status: .usage)
                }
            }
        }
        return out
    }

    public func run() throws {
        try runTool("osmoda-check") { _ in
            let specs = try specs()
            let sink = RecordSink(format: output.format)
            var allOK = true
            try repeating.repeatBody {
                let results = Probes.runAll(specs)
                let now = Sys.now()
                allOK = true
                for r in results {
                    if !r.ok { allOK = false }
                    try sink.emit(r, at: now)
                }
                try sink.flush()
            }
            return allOK ? .success : .no
        }
    }
}
