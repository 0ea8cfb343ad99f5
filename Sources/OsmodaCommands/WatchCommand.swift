import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaSystem
import OsmodaWatch

/// `osmoda-watch --rules FILE`: stateful watchers that heal.
public struct WatchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmoda-watch",
        abstract: "Watch a record stream and heal what fails: restart, roll back once, notify.",
        discussion: """
            Reads any record stream (osmoda-check, osmoda-health, …) and runs the watchers of \
            the rules file over it. A watcher takes the records its 'match' expression selects \
            and counts those for which 'fail_when' is true. Failing 'trip.failures' times within \
            the last 'trip.within_records' matched records, or within 'trip.within' of time, \
            trips it: an incident opens and its ladder runs. 'recover.passes' passing records \
            in a row recover it. The window holds records only while the watcher is healthy and \
            is emptied when it trips and when it recovers; the pass counter is reset by any \
            failing record.

            The ladder's steps run in order: restart (a systemd unit, or a command), rollback \
            (to the last generation seen while healthy, through osmoda-gen; at most once per \
            incident, never further back), notify (a command, or an HTTP POST of the alert as \
            JSON, with a timeout and retries) and run (any command). Each step has a 'cap' \
            ({"max": 3, "per": "10m"}), a 'backoff' before it is attempted again and a 'settle' \
            time before it is judged. When the ladder is exhausted the watcher stays failed and \
            repeats nothing. Too many trips and recoveries within 'flapping.within' make it \
            flapping: actions pause until it has been quiet that long. Commands run as argv, \
            never through a shell, and a timeout kills their whole process group.

            Writes watch.state on every transition, watch.action when a step starts and ends, \
            and watch.alert; every step is also recorded in the audit ledger (--ledger; not \
            with --dry-run, which acts on nothing). \
            Records that no watcher matches pass through unchanged. The state (counters, \
            ladder position, incident, last good generation) is saved atomically on every \
            transition, so a restart in the middle of an incident goes on where it was. \
            See docs/watch.md for the rules file and the exact counter rules.

            Examples:
              osmoda-check --http http://127.0.0.1:8080/ --every 1s | osmoda-watch --rules examples/watch/demo.json
              osmoda-check --systemd nginx.service --every 10s | osmoda-watch --rules /etc/osmoda/watch.json --dry-run
            """
    )

    @Option(name: .long, help: ArgumentHelp("The rules file (JSON; see docs/watch.md).", valueName: "file"), completion: .file(extensions: ["json"]))
    var rules: String

    @Option(name: .long, help: ArgumentHelp("The state file (default: $XDG_STATE_HOME/osmoda/watch/NAME.state.json after the rules file's name).", valueName: "file"),
            completion: .file())
    var state: String?

    @Flag(name: .long, help: "Decide, and write what would be done, without running any step; the default state file is read but not written.")
    var dryRun = false

    @Flag(name: .long, help: "Pass the records the watchers matched through too (by default only the unmatched ones are).")
    var passMatched = false

    @Option(name: .customLong("gen-command"), help: ArgumentHelp("The osmoda-gen program for rollback steps (default: beside this program, else on PATH).", valueName: "path"),
            completion: .file())
    var genCommand: String?

    enum Clock: String, ExpressibleByArgument { case wall, record }

    @Option(name: .long, help: ArgumentHelp("Take the time from each record's ts instead of the wall clock (for tests and replays).", visibility: .hidden))
    var clock: Clock = .wall

    @OptionGroup var ledger: LedgerOptions
    @OptionGroup var input: InputOptions
    @OptionGroup var output: FormatOptions

    public init() {}

    public func run() throws {
        try runTool("osmoda-watch") { d in
            let parsed = try loadRules()
            let statePath = try resolvedStatePath()
            let saved = try loadState(statePath)
            let engine = WatchEngine(rules: parsed, restoring: saved)
            let sink = RecordSink(format: output.format)
            defer { try? sink.flush() }
            let rec = ledger.recorder("osmoda-watch", diagnostics: d)
            defer { rec.close() }

            var current = Timestamp(millisecondsSinceEpoch: 0)
            let recordClock = clock == .record
            let executor = StepExecutor(genCommand: [genCommand ?? locateGen()], environment: ThisProcess.environment(), dryRun: dryRun)
            let runner = WatchRunner(
                engine: engine, executor: executor,
                clock: { recordClock ? current : Sys.now() },
                emit: { o in try sink.emit(o); try sink.flush() },
                ledger: { type, payload in try rec.record(type, payload) },
                save: { file in
                    // A dry run reads the real state but never writes it, unless --state
                    // names a file of its own: deciding must not move a real ladder.
                    if dryRun && state == nil { return }
                    do throws(SystemError) { try Sys.writeFileAtomically(statePath, file.encoded(), mode: 0o600) } catch {
                        throw ToolFailure("cannot save the state to '\(statePath)': \(error.message)", status: .ioError)
                    }
                },
                warn: { d.warning($0) })
            if recordClock { runner.saveEveryMs = 0 }
            try runner.start()
            var options = input.stream
            if !recordClock { options.wakeEveryMs = 100 }
            let passMatched = self.passMatched
            // Parse only the fields the expressions read (and ts), unless a table needs them all.
            var projection: KeyProjection?
            if !sink.isTable {
                var keys: Set<String> = ["ts"]
                var whole = false
                for w in parsed.watchers {
                    for e in [w.match, w.failWhen] {
                        if let k = e.requiredKeys { keys.formUnion(k) } else { whole = true }
                    }
                }
                if !whole { projection = KeyProjection(keys.sorted()) }
            }
            let status = try RecordStream.run(inputs: input.files, options: options, projection: projection, diagnostics: d,
                                              idle: { if !recordClock { try runner.tick() }; try sink.flush() }) { record, raw in
                if recordClock, case .string(let ts)? = record["ts"], let t = Timestamp(rfc3339: ts) { current = t }
                let matched = try runner.record(record)
                if !matched || passMatched { try sink.pass(raw, parsed: record) }
            }
            try runner.saveIfDirty(force: true)
            return status
        }
    }

    func loadRules() throws(ToolFailure) -> Rules {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(rules, limit: 16 << 20) } catch {
            throw ToolFailure("cannot read the rules file '\(rules)': \(error.message)", status: .noInput)
        }
        do { return try Rules.parse(bytes) } catch {
            throw ToolFailure("\(rules): \(error.description)", status: .config)
        }
    }

    func resolvedStatePath() throws(ToolFailure) -> String {
        if let state { return state }
        let env = ThisProcess.environment()
        let base: String
        if let x = env["XDG_STATE_HOME"], x.hasPrefix("/") {
            base = x
        } else if let h = env["HOME"], h.hasPrefix("/") {
            base = h + "/.local/state"
        } else {
            throw ToolFailure("no home directory for the state file; give --state", status: .config)
        }
        let dir = base + "/osmoda/watch"
        do { try PathCalls.makeDirectories(dir, mode: 0o700) } catch {
            throw ToolFailure("cannot create '\(dir)': \(error.message)", status: .ioError)
        }
        var name = String(rules.split(separator: "/").last ?? "watch")
        if name.hasSuffix(".json") { name.removeLast(5) }
        return "\(dir)/\(name).state.json"
    }

    func loadState(_ path: String) throws(ToolFailure) -> [String: WatcherState] {
        guard FileStatus.exists(path) else { return [:] }
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 64 << 20) } catch {
            throw ToolFailure("cannot read the state file '\(path)': \(error.message)", status: .ioError)
        }
        do { return try StateFile.decode(bytes).watchers } catch {
            throw ToolFailure("the state file '\(path)' is damaged (\(error)); move it away to start afresh", status: .dataError)
        }
    }

    /// `osmoda-gen` beside this program, else the name (looked up on PATH when run).
    func locateGen() -> String {
        ProgramLocator.locate("osmoda-gen", searchPath: nil) ?? "osmoda-gen"
    }
}
