import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaCron
import OsmodaRoutines
import OsmodaSystem

/// `osmoda-routines`: the scheduler.
public struct RoutinesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-routines",
        abstract: "Run routines on cron, interval, boot and event triggers, with persisted history.",
        discussion: """
            A routine is one file in the definitions directory (--dir, default routines/ in the \
            config directory: /etc/osmoda or $XDG_CONFIG_HOME/osmoda), NAME.json or NAME.toml, \
            or one made by add. Fields: name (default the file name), description, enabled \
            (default true); exactly one trigger: cron (with tz, an IANA zone, default the \
            host's; "@reboot" runs once per boot), every (an interval such as 5m, with jitter, \
            a random extra delay up to that much per run) or event (an osmoda-expr(7) \
            expression over the records serve --events reads); command (an argv array, run \
            without a shell), env (variables added to the scheduler's environment), cwd, \
            timeout (default 1h; at the timeout the whole process group, grandchildren \
            included, gets SIGTERM, then SIGKILL a second later), output_limit_bytes (the tail \
            of stdout and stderr kept, default 4096), overlap (skip, queue or parallel: what \
            to do when the routine comes due while a run is still going; default skip; queue \
            keeps at most 10 waiting) and catch_up (default true: after downtime the missed \
            times run once, like systemd's Persistent=; false skips times more than a minute \
            late). A file that does not parse or validate is reported with its path and \
            skipped; the other routines still run. TOML files may use a strict subset: \
            key = value lines, strings, integers, booleans, arrays, and an [env] table.

            Cron times follow the DST policy of osmoda-cron(1): a wall-clock time skipped \
            when the clocks go forward runs once, at the change; a repeated time runs once, \
            the first time; expressions whose hour field starts with * run in both copies of \
            a repeated hour.

            State (--state, default routines/ in the state directory) keeps per routine the \
            last scheduled time, the next due time and the last 100 runs (with at most the \
            last 4096 bytes of each output tail), each file replaced atomically. A run is written as running before its child starts and completed \
            when it ends; a run left running by a scheduler that died (kill -9, a crash, a \
            reboot) is marked interrupted when a scheduler next starts, and emitted as a \
            routine.run record. The child of such a run is not killed: it runs in its own \
            process group, whose id is kept as child_pid.

            serve reads the definitions when it starts: restart it after add, remove, \
            enable, disable or an edit (run-due reads them on every call). Use one scheduler \
            per state directory, serve or run-due, not both. A routine enabled again counts \
            from then: the times that passed while it was disabled are not caught up.

            Modes: serve runs until stopped, sleeping until the next due time (at most 15 \
            minutes, to notice clock changes) and never on a fixed tick. SIGTERM or SIGINT \
            stops it: no new runs start, the runs in flight get SIGTERM on their process \
            groups and are recorded as interrupted, then it exits 0. run-due runs what \
            is due and exits, for cron or a systemd timer. Every run writes routine.run \
            records on stdout, when it starts (outcome running) and when it ends, and the \
            same records to the audit ledger when osmodad is reachable (--ledger).

            Examples:
              osmoda-routines add disk-check --every 5m --jitter 30s -- osmoda-check --disk /:90
              osmoda-routines add nightly --cron '30 2 * * *' --tz Europe/London -- /usr/local/bin/backup
              osmoda-check --every 10s | osmoda-routines serve --events
              * * * * * osmoda-routines run-due --ledger off >> /var/log/routines.jsonl   (crontab)
              osmoda-routines history disk-check | osmoda-fmt
            """,
        version: "osmoda-routines (osmoda) \(osmodaVersion)",
        subcommands: [RoutinesAdd.self, RoutinesList.self, RoutinesRemove.self, RoutinesEnable.self, RoutinesDisable.self,
                      RoutinesRun.self, RoutinesHistory.self, RoutinesServe.self, RoutinesRunDue.self]
    )

    public init() {}
}

/// `--dir`, `--state`, and the daemon mode that picks their defaults.
struct RoutinesPaths: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The definitions directory; default routines/ in the config directory.", valueName: "dir"), completion: .directory)
    var dir: String?

    @Option(name: .long, help: ArgumentHelp("The state directory; default routines/ in the state directory.", valueName: "dir"), completion: .directory)
    var state: String?

    func resolve(_ mode: DaemonModeOptions) throws(ToolFailure) -> (definitions: String, state: String) {
        if let dir, let state { return (dir, state) }
        let p = try mode.paths()
        return (dir ?? p.configDirectory + "/routines", state ?? p.stateDirectory + "/routines")
    }
}

/// Serialises records from the scheduler's threads onto stdout and into the ledger.
final class RunEmitter: @unchecked Sendable {
    let output = RecordOutput()
    let lock = ConditionMonitor()
    let recorder: LedgerRecorder?
    var failed = 0

    init(recorder: LedgerRecorder?) { self.recorder = recorder }

    func emit(_ r: RoutineRunRecord) {
        lock.withLock {
            if r.outcome != "running" && r.outcome != "ok" { failed += 1 }
            try? output.write(r, at: r.timestamp)
            try? output.flush()
            if let recorder, let value = try? r.jsonValue(at: r.timestamp), case .object(let o) = value {
                var payload = o
                payload["type"] = nil
                payload["ts"] = nil
                _ = try? recorder.record("routine.run", payload)
            }
        }
    }
}

/// Loads the definitions, reporting each bad file; returns them and whether any was bad.
func loadRoutines(_ dir: String, _ d: Diagnostics) throws(ToolFailure) -> ([RoutineDefinition], Bool) {
    do {
        let (routines, errors) = try DefinitionDirectory(path: dir).loadAll()
        for e in errors { d.error("skipped \(e.description)") }
        return (routines, !errors.isEmpty)
    } catch {
        throw ToolFailure("cannot read the definitions directory: \(error.description)", status: .noInput)
    }
}

func openStore(_ dir: String) throws(ToolFailure) -> StateStore {
    do { return try StateStore(directory: dir) } catch {
        throw ToolFailure("cannot open the state directory: \(error.description)", status: .ioError)
    }
}

/// `routine.info`: one routine as `list` shows it.
struct RoutineInfoRecord: Record {
    static let type = "routine.info"
    static var writesAbsentAsNull: Bool { true }
    var name: String
    var enabled: Bool
    var trigger: String
    var schedule: String
    var tz: String?
    var nextDue: String?
    var lastStarted: String?
    var lastOutcome: String?
    var command: [String]
    var path: String

    enum CodingKeys: String, CodingKey {
        case name, enabled, trigger, schedule, tz, nextDue = "next_due", lastStarted = "last_started"
        case lastOutcome = "last_outcome", command, path
    }

    init(_ r: RoutineDefinition, state: RoutineState?) {
        name = r.name
        enabled = r.enabled
        trigger = r.trigger.kind
        switch r.trigger {
        case .cron(let e, let z): schedule = e.source; tz = z.name
        case .reboot: schedule = "@reboot"
        case .interval: schedule = r.file.every.map { "every " + $0 + (r.file.jitter.map { " jitter " + $0 } ?? "") } ?? ""
        case .event(let e): schedule = e.source
        }
        let iso = { (ms: Int64) in Timestamp(millisecondsSinceEpoch: ms).rfc3339 }
        var next = state?.nextDue
        if next == nil, case .cron(let e, let z) = r.trigger {
            // Not yet seen by a scheduler: it will count from the first one that sees it.
            next = e.next(after: Sys.now().millisecondsSinceEpoch / 1000, in: z).map { $0 * 1000 }
        }
        nextDue = r.enabled ? next.map(iso) : nil
        lastStarted = state?.runs.last.map { iso($0.started) }
        lastOutcome = state?.runs.last?.outcome
        command = r.command
        path = r.path
    }
}

struct RoutinesAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Define a routine: writes NAME.json in the definitions directory.",
        discussion: "Give one trigger (--cron, --every, --event or --reboot) and the command after --. The definition is validated before it is written; an invalid one is refused with the field named (status 65).")

    @Argument(help: ArgumentHelp("The routine's name.", valueName: "name")) var name: String
    @Option(name: .long, help: ArgumentHelp("A cron expression (osmoda-cron(1)).", valueName: "expr")) var cron: String?
    @Option(name: .long, help: ArgumentHelp("The cron expression's time zone.", valueName: "zone")) var tz: String?
    @Option(name: .long, help: ArgumentHelp("Run at this interval, e.g. 5m.", valueName: "duration")) var every: String?
    @Option(name: .long, help: ArgumentHelp("Add up to this much random delay to each interval.", valueName: "duration")) var jitter: String?
    @Option(name: .long, help: ArgumentHelp("Run when a record read by serve --events matches this expression.", valueName: "expr")) var event: String?
    @Flag(name: .long, help: "Run once per boot.") var reboot = false
    @Option(name: .long, help: ArgumentHelp("Kill the process group after this long (default 1h).", valueName: "duration")) var timeout: String?
    @Option(name: .long, help: ArgumentHelp("Set a variable for the command (repeatable).", valueName: "name=value")) var env: [String] = []
    @Option(name: .long, help: ArgumentHelp("The command's working directory.", valueName: "dir")) var cwd: String?
    @Option(name: .long, help: ArgumentHelp("skip, queue or parallel (default skip).", valueName: "policy")) var overlap: String?
    @Flag(name: .customLong("no-catch-up"), help: "Do not run missed times after downtime.") var noCatchUp = false
    @Flag(name: .long, help: "Write the routine disabled.") var disabled = false
    @Flag(name: .long, help: "Replace an existing definition of the same name.") var force = false
    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command")) var command: [String] = []
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-routines") { _ in
            let (dir, stateDir) = try paths.resolve(mode)
            var f = RoutineFile()
            f.name = name
            f.cron = reboot ? "@reboot" : cron
            f.tz = tz
            f.every = every
            f.jitter = jitter
            f.event = event
            f.command = command
            f.timeout = timeout
            f.cwd = cwd
            f.overlap = overlap
            if noCatchUp { f.catchUp = false }
            if disabled { f.enabled = false }
            if !env.isEmpty {
                var e: [String: String] = [:]
                for kv in env {
                    guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else { throw ToolFailure("--env '\(kv)' is not NAME=VALUE", status: .usage) }
                    e[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
                }
                f.env = e
            }
            let path = dir + "/" + name + ".json"
            if reboot && cron != nil { throw ToolFailure("--reboot and --cron exclude each other", status: .usage) }
            let def: RoutineDefinition
            do { def = try RoutineDefinition(f, path: path, defaultName: name) } catch {
                throw ToolFailure("\(error)", status: .dataError)
            }
            let existing = DefinitionDirectory(path: dir).file(for: name)
            if existing != nil && !force { throw ToolFailure("routine '\(name)' already exists (\(existing ?? "")); use --force to replace it", status: .usage) }
            try writeDefinition(def.file, to: path, dir: dir)
            let sink = RecordSink(format: output.format)
            let state = try? openStore(stateDir).load(name)
            try sink.emit(RoutineInfoRecord(def, state: state), at: Sys.now())
            try sink.flush()
            return .success
        }
    }
}

func writeDefinition(_ f: RoutineFile, to path: String, dir: String) throws(ToolFailure) {
    do {
        try Sys.makeDirectories(dir)
        var out: [UInt8] = []
        JSONWriter.write(try ValueEncoder.encode(f), into: &out)
        out.append(0x0A)
        // A definition with env may hold secrets: then only its owner may read it.
        try Sys.writeFileAtomically(path, out, mode: f.env?.isEmpty == false ? 0o600 : 0o644)
    } catch let e as SystemError {
        throw ToolFailure("cannot write \(path): \(e.description)", status: .ioError)
    } catch {
        throw ToolFailure("cannot encode \(path): \(error)", status: .software)
    }
}

struct RoutinesList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print every routine as a routine.info record.")
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-routines") { d in
            let (dir, stateDir) = try paths.resolve(mode)
            let (routines, bad) = try loadRoutines(dir, d)
            let store = try openStore(stateDir)
            let sink = RecordSink(format: output.format)
            for r in routines { try sink.emit(RoutineInfoRecord(r, state: try? store.load(r.name)), at: Sys.now()) }
            try sink.flush()
            return bad ? .dataError : .success
        }
    }
}

struct RoutinesRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Delete a routine's definition file (its history stays in the state directory).")
    @Argument(help: ArgumentHelp("The routine's name.", valueName: "name")) var name: String
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-routines") { _ in
            let (dir, _) = try paths.resolve(mode)
            guard RoutineDefinition.isValidName(name), let file = DefinitionDirectory(path: dir).file(for: name) else {
                throw ToolFailure("no routine named '\(name)' in \(dir)", status: .noInput)
            }
            do { try Sys.removeFile(file) } catch { throw ToolFailure("\(error)", status: .ioError) }
            return .success
        }
    }
}

/// Sets `enabled` in a JSON definition.
func setEnabled(_ name: String, _ on: Bool, paths: RoutinesPaths, mode: DaemonModeOptions) throws(ToolFailure) -> ExitStatus {
    let (dir, stateDir) = try paths.resolve(mode)
    guard RoutineDefinition.isValidName(name), let file = DefinitionDirectory(path: dir).file(for: name) else {
        throw ToolFailure("no routine named '\(name)' in \(dir)", status: .noInput)
    }
    guard file.hasSuffix(".json") else { throw ToolFailure("\(file): TOML definitions are not rewritten; set enabled = \(on) in the file", status: .dataError) }
    var def: RoutineDefinition
    do { def = try RoutineDefinition.load(path: file) } catch { throw ToolFailure(error.description, status: .dataError) }
    let wasEnabled = def.enabled
    def.file.enabled = on
    if on && !wasEnabled {
        // Times that passed while it was disabled are not caught up: it counts from now.
        let now = Sys.now().millisecondsSinceEpoch
        do { try openStore(stateDir).update(name) { $0.lastDue = now; $0.nextDue = nil } } catch {
            throw ToolFailure("cannot update the state of '\(name)': \(error)", status: .ioError)
        }
    }
    try writeDefinition(def.file, to: file, dir: dir)
    return .success
}

struct RoutinesEnable: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a routine (sets enabled in its JSON file).")
    @Argument(help: ArgumentHelp("The routine's name.", valueName: "name")) var name: String
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions
    func run() throws { try runTool("osmoda-routines") { _ in try setEnabled(name, true, paths: paths, mode: mode) } }
}

struct RoutinesDisable: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable a routine (sets enabled to false in its JSON file).")
    @Argument(help: ArgumentHelp("The routine's name.", valueName: "name")) var name: String
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions
    func run() throws { try runTool("osmoda-routines") { _ in try setEnabled(name, false, paths: paths, mode: mode) } }
}

struct RoutinesRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a routine now and wait for it; exit 1 when the run does not succeed.")
    @Argument(help: ArgumentHelp("The routine's name.", valueName: "name")) var name: String
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-routines") { d in
            let (dir, stateDir) = try paths.resolve(ledger.mode)
            guard RoutineDefinition.isValidName(name), let file = DefinitionDirectory(path: dir).file(for: name) else {
                throw ToolFailure("no routine named '\(name)' in \(dir)", status: .noInput)
            }
            let def: RoutineDefinition
            do { def = try RoutineDefinition.load(path: file) } catch { throw ToolFailure("\(error)", status: .dataError) }
            let emitter = RunEmitter(recorder: ledger.recorder("osmoda-routines", diagnostics: d))
            let s = Scheduler(routines: [def], store: try openStore(stateDir), emit: { emitter.emit($0) }, warn: { d.warning($0) })
            _ = s.runNow(name)
            s.waitIdle()
            return emitter.lock.withLock { emitter.failed } == 0 ? .success : .no
        }
    }
}

struct RoutinesHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Print past runs as routine.run records, oldest first.",
        discussion: "A NAME that is not a valid routine name is a usage error (status 64); one with neither a definition nor a history is reported with status 66. A routine that has not run yet prints nothing.")
    @Argument(help: ArgumentHelp("Only this routine.", valueName: "name")) var name: String?
    @Option(name: .short, help: ArgumentHelp("At most this many runs per routine (the latest).", valueName: "n")) var n: Int = 100
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var mode: DaemonModeOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-routines") { d in
            let (dir, stateDir) = try paths.resolve(mode)
            let store = try openStore(stateDir)
            var names: [String]
            if let name {
                guard RoutineDefinition.isValidName(name) else {
                    throw ToolFailure("'\(name)' is not a valid routine name (1-64 of letters, digits, '.', '_', '-')", status: .usage)
                }
                guard FileStatus.exists(stateDir + "/" + name + ".state.json") || DefinitionDirectory(path: dir).file(for: name) != nil else {
                    throw ToolFailure("no routine named '\(name)': no definition in \(dir) and no history in \(stateDir)", status: .noInput)
                }
                names = [name]
            } else {
                names = ((try? Sys.listDirectory(stateDir)) ?? []).filter { $0.hasSuffix(".state.json") }.map { String($0.dropLast(11)) }
            }
            names = names.filter(RoutineDefinition.isValidName)
            let sink = RecordSink(format: output.format)
            var bad = false
            for nm in names {
                do {
                    for e in try store.load(nm).runs.suffix(max(0, n)) {
                        let r = RoutineRunRecord(name: nm, entry: e)
                        try sink.emit(r, at: r.timestamp)
                    }
                } catch let e as DefinitionError {
                    d.error(e.description)
                    bad = true
                }
            }
            try sink.flush()
            return bad ? .dataError : .success
        }
    }
}

struct RoutinesServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run routines as they come due until stopped; with --events, fire event routines from records on stdin.",
        discussion: "With --events, every record read on standard input is tested against the event routines' expressions and fires each that matches at once, under its overlap policy; bad lines are reported and skipped. At the end of the input serve waits for the runs in flight and exits.")
    @Flag(name: .long, help: "Read records on standard input and fire the event routines that match.") var events = false
    @Option(name: .long, help: ArgumentHelp("Seed the interval jitter (for tests).", valueName: "n")) var seed: UInt64?
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-routines") { d in
            let (dir, stateDir) = try paths.resolve(ledger.mode)
            let (routines, _) = try loadRoutines(dir, d)
            let emitter = RunEmitter(recorder: ledger.recorder("osmoda-routines", diagnostics: d))
            var o = Scheduler.Options()
            o.seed = seed
            let s = Scheduler(routines: routines, store: try openStore(stateDir), options: o, emit: { emitter.emit($0) }, warn: { d.warning($0) })
            // SIGTERM and SIGINT stop serve cleanly: no new runs, SIGTERM to the runs in flight.
            if !Sys.onStopSignals({ _ in s.stop(terminateRuns: true) }) { d.warning("cannot handle SIGTERM; a stop will leave runs interrupted") }
            s.prepare()
            if events {
                let started = WorkerThreads.detach {
                    _ = try? RecordStream.run(inputs: [], options: StreamOptions(maxLine: 1 << 20, strict: false), projection: nil,
                                              diagnostics: d, idle: {}) { record, _ in s.event(record) }
                    s.stop()
                }
                if !started { throw ToolFailure("cannot start the input thread", status: .software) }
            }
            s.serve()
            return .success
        }
    }
}

struct RoutinesRunDue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-due",
        abstract: "Run the routines that are due (or were missed) and exit: for cron and systemd timers.",
        discussion: "Exit status 0 when every run succeeded, 1 when one did not, 65 when a definition was skipped as malformed (the others still ran). Event routines never run here.")
    @Option(name: .long, help: ArgumentHelp("Seed the interval jitter (for tests).", valueName: "n")) var seed: UInt64?
    @OptionGroup var paths: RoutinesPaths
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-routines") { d in
            let (dir, stateDir) = try paths.resolve(ledger.mode)
            let (routines, bad) = try loadRoutines(dir, d)
            let emitter = RunEmitter(recorder: ledger.recorder("osmoda-routines", diagnostics: d))
            var o = Scheduler.Options()
            o.seed = seed
            let s = Scheduler(routines: routines, store: try openStore(stateDir), options: o, emit: { emitter.emit($0) }, warn: { d.warning($0) })
            s.prepare()
            s.tick()
            s.waitIdle()
            if bad { return .dataError }
            return emitter.lock.withLock { emitter.failed } == 0 ? .success : .no
        }
    }
}
