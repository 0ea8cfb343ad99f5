import ArgumentParser
import OsmodaCheck
import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaSwitch
import OsmodaSystem

/// `osmoda-switch`: SafeSwitch, health-gated changes that always come back.
public struct SwitchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-switch",
        abstract: "Apply a generation on probation, judge it by health checks, and commit it or roll back to the recorded one.",
        discussion: """
            begin records the generation the system is on, activates the new one with \
            switch-to-configuration test (not the boot default, so a crash or reboot lands on the \
            old one), and runs the checks (osmoda-check probes: --checks FILE and probe flags) every \
            --interval until --ttl has passed. When the checks pass, the switch is committed: the \
            profile link points to the new generation and switch-to-configuration boot makes it \
            the default. When more than --tolerance rounds in a row fail, when the checks fail at \
            the deadline, or when --confirm was given and no 'osmoda-switch commit ID' came by \
            then, the system returns to the recorded generation (an explicit number, also when \
            newer generations appeared meanwhile) with switch-to-configuration switch.

            The deadline holds when osmoda-switch itself dies: begin starts a detached guardian \
            (osmoda-switch guard ID) that carries the probation on if the driver is killed, and, \
            where systemd runs, a transient timer (osmoda-switch deadline ID). Run \
            'osmoda-switch boot-check' at boot: it rolls back any switch left open. State lives \
            in --state-dir (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root and \
            $XDG_STATE_HOME/osmoda/switch for users), one JSON file per switch written atomically \
            at every transition, and a journal of its records. Only one switch may be open at a time.

            Every transition is a record on standard output, in the journal and in the audit \
            ledger: switch.begin, switch.check, switch.commit, switch.rollback, \
            switch.rollback_failed. docs/safeswitch.md has the state machine.

            Examples:
              osmoda-switch begin 42 --ttl 5m --interval 10s --http http://127.0.0.1:8080/health --tcp 127.0.0.1:22
              osmoda-switch begin --build-command '["nixos-rebuild","build","--print-out-paths"]' --checks probes.json --confirm
              osmoda-switch commit sw-1795521600000
              osmoda-switch list --format table
            """,
        version: "osmoda-switch (osmoda) \(osmodaVersion)",
        subcommands: [SwitchBegin.self, SwitchStatus.self, SwitchList.self, SwitchCommit.self, SwitchRollback.self,
                      SwitchBootCheck.self, SwitchGuard.self, SwitchDeadline.self]
    )

    public init() {}
}

struct SwitchDirOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"),
            help: ArgumentHelp("Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).",
                               valueName: "dir"), completion: .directory)
    var stateDir: String?

    func store() throws(ToolFailure) -> SwitchStore {
        if let stateDir { return SwitchStore(directory: absolutePath(stateDir)) }
        guard let d = SwitchStore.defaultDirectory() else {
            throw ToolFailure("cannot work out the state directory: set --state-dir, OSMODA_SWITCH_DIR or HOME", status: .config)
        }
        return SwitchStore(directory: absolutePath(d))
    }
}

/// The exit status of a switch that ended in `phase`.
func switchStatus(_ phase: SwitchPhase) -> ExitStatus {
    switch phase {
    case .committed: return .success
    case .rolledBack: return .no
    case .rollbackFailed: return .software
    case .probation, .committing, .rollingBack: return .tempFail
    }
}

/// Builds the engine: records to stdout and the ledger.
func makeSwitch(_ store: SwitchStore, role: String, ledger: LedgerOptions, diagnostics d: Diagnostics) -> SafeSwitch {
    let out = RecordOutput()
    let rec = ledger.recorder("osmoda-switch", diagnostics: d)
    return SafeSwitch(store: store, role: role) { type, object in
        try? out.write(.object(object))
        try? out.flush()
        do { try rec.record(type, object) } catch { d.error("\(error)") }
        if type == "switch.rollback_failed" {
            var detail = ""
            if case .string(let s)? = object["detail"] { detail = ": " + s }
            d.error("ROLLBACK FAILED: the system is on neither the recorded nor the new generation\(detail)")
        }
    }
}

/// The argv to run this program again as `osmoda-switch <args>`, for the guardian and the timer.
func selfInvocation(_ args: [String]) -> (path: String, arguments: [String])? {
    guard let exe = PathCalls.readLink("/proc/self/exe") else { return nil }
    let base = exe.split(separator: "/").last.map(String.init) ?? exe
    return (exe, base == "osmoda-switch" ? args : ["switch"] + args)
}

func ledgerArguments(_ l: LedgerOptions) -> [String] {
    ["--ledger", l.ledger.rawValue] + (l.mode.user ? ["--user"] : []) + (l.mode.system ? ["--system"] : [])
}

struct SwitchBegin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "begin",
        abstract: "Try a generation on probation; commit it when the checks pass, roll back when they do not.")

    @Argument(help: ArgumentHelp("The generation number or store path to try (or, with --backend command, the state).", valueName: "generation"))
    var generation: String?

    @Option(name: .customLong("build-command"),
            help: ArgumentHelp("A command, as a JSON array of argv, whose last line of output is the generation to try (a number or a store path).", valueName: "argv-json"))
    var buildCommand: String?

    @Option(name: .long, help: ArgumentHelp("How long the probation lasts.", valueName: "duration")) var ttl: String = "2m"
    @Option(name: .long, help: ArgumentHelp("How often the checks run.", valueName: "duration")) var interval: String = "10s"
    @Option(name: .long, help: ArgumentHelp("How many failed rounds in a row are tolerated before rolling back.", valueName: "n")) var tolerance: Int = 0
    @Flag(name: .long, help: "Commit only on an explicit 'osmoda-switch commit ID' before the TTL; roll back otherwise.") var confirm = false

    @Option(name: .long, help: ArgumentHelp("A JSON file of osmoda-check probe definitions.", valueName: "file"), completion: .file(extensions: ["json"]))
    var checks: String?
    @Option(name: .long, help: ArgumentHelp("A systemd unit that must be active.", valueName: "unit")) var unit: [String] = []
    @Option(name: .long, help: ArgumentHelp("A TCP endpoint that must accept a connection.", valueName: "host:port")) var tcp: [String] = []
    @Option(name: .long, help: ArgumentHelp("A URL whose GET must answer 200.", valueName: "url")) var http: [String] = []
    @Option(name: .long, help: ArgumentHelp("A command, as a JSON array of argv, that must exit 0.", valueName: "argv-json")) var command: [String] = []
    @Option(name: .long, help: ArgumentHelp("A process name that must be running.", valueName: "name")) var process: [String] = []
    @Option(name: .long, help: ArgumentHelp("A pidfile whose process must be running.", valueName: "path"), completion: .file()) var pidfile: [String] = []
    @Option(name: .long, help: ArgumentHelp("A file that must exist.", valueName: "path"), completion: .file()) var file: [String] = []
    @Option(name: .long, help: ArgumentHelp("A filesystem that must be used below a percentage.", valueName: "path:max-pct")) var disk: [String] = []
    @Option(name: .long, help: ArgumentHelp("A TLS certificate that must have days left.", valueName: "host[:port[:days]]")) var cert: [String] = []
    @Option(name: .customLong("check-timeout"), help: ArgumentHelp("The timeout of probes given by flags.", valueName: "duration")) var checkTimeout: String = "5s"

    @Option(name: .long, help: ArgumentHelp("How long each switch-to-configuration may run before its process group is killed.", valueName: "duration"))
    var timeout: String = "5m"
    @Option(name: .customLong("build-timeout"), help: ArgumentHelp("How long --build-command may run.", valueName: "duration"))
    var buildTimeout: String = "30m"
    @Option(name: .long, help: ArgumentHelp("auto: a transient systemd timer backs the deadline where systemd runs; off: the guardian alone.", valueName: "mode"))
    var timer: String = "auto"

    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var where_: GenOptions
    @OptionGroup var ledger: LedgerOptions

    var flagValues: [String: [String]] {
        ["unit": unit, "tcp": tcp, "http": http, "command": command, "process": process,
         "pidfile": pidfile, "file": file, "disk": disk, "cert": cert]
    }

    func validate() throws {
        if (generation == nil) == (buildCommand == nil) { throw ValidationError("give either the generation to try or --build-command") }
        for (flag, v) in [("--ttl", ttl), ("--interval", interval), ("--check-timeout", checkTimeout), ("--timeout", timeout), ("--build-timeout", buildTimeout)] {
            _ = try timeoutMs(v, flag: flag)
        }
        if tolerance < 0 { throw ValidationError("--tolerance must not be negative") }
        guard timer == "auto" || timer == "off" else { throw ValidationError("--timer must be auto or off") }
        if let buildCommand { _ = try buildArgv(buildCommand) }
    }

    func buildArgv(_ text: String) throws -> [String] {
        guard case .array(let items)? = try? JSONReader.parse(text), !items.isEmpty else {
            throw ValidationError("--build-command: expected a JSON array of strings")
        }
        return try items.map { v in
            guard case .string(let s) = v else { throw ValidationError("--build-command: expected a JSON array of strings") }
            return s
        }
    }

    func checkSource() throws(ToolFailure) -> CheckSource {
        var text: String?
        if let checks {
            do { text = String(decoding: try Sys.readFile(checks, limit: 16 << 20), as: UTF8.self) } catch {
                throw ToolFailure("cannot read probe file '\(checks)': \(error.message)", status: .noInput)
            }
        }
        let ms = (try? DurationParser.milliseconds(checkTimeout)) ?? 5000
        var flags: [[String]] = []
        for flag in ProbeSpec.flags { for v in flagValues[flag.name] ?? [] { flags.append([flag.name, v]) } }
        let source = CheckSource(probeFile: text, flags: flags, flagTimeoutMs: Int(ms))
        do { _ = try source.specs() } catch {
            throw ToolFailure(error.location.hasPrefix("--") || checks == nil ? "\(error)" : "\(checks ?? ""): \(error)",
                              status: error.location.hasPrefix("--") ? .usage : .dataError)
        }
        return source
    }

    /// Runs the build command; its last non-empty output line names the generation.
    func build(_ argv: [String]) throws(ToolFailure) -> String {
        let ms = (try? DurationParser.milliseconds(buildTimeout)) ?? 1_800_000
        let r: SpawnResult
        do { r = try Spawn.run(SpawnOptions(argv: argv, timeoutMs: ms, outputLimit: 65536)) } catch {
            throw ToolFailure("cannot run the build command: \(error.description)", status: .unavailable)
        }
        guard r.exitStatus == 0 else {
            let err = String(decoding: r.stderrTail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw ToolFailure("the build command failed (\(r.timedOut ? "timed out" : r.statusDescription)); nothing was changed: \(err)", status: .dataError)
        }
        let lines = String(decoding: r.stdoutTail, as: UTF8.self).split(separator: "\n").map { String($0).filter { !$0.isWhitespace } }.filter { !$0.isEmpty }
        guard let last = lines.last else { throw ToolFailure("the build command printed no generation; nothing was changed", status: .dataError) }
        return last
    }

    func run() throws {
        try runTool("osmoda-switch") { d in
            let store = try dir.store()
            let spec = try where_.spec()
            let source = try checkSource()
            let target = try buildCommand.map { v throws(ToolFailure) in
                guard case .array(let items)? = try? JSONReader.parse(v) else { throw ToolFailure("--build-command: bad argv", status: .usage) }
                return try build(items.compactMap { if case .string(let s) = $0 { return s } else { return nil } })
            } ?? generation ?? ""
            if source.probeFile == nil && source.flags.isEmpty && !confirm {
                d.warning("no checks and no --confirm: the switch is committed when the TTL passes if it activates")
            }
            let req = BeginRequest(
                backend: spec, target: target, ttlMs: try timeoutMs(ttl), intervalMs: try timeoutMs(interval), tolerance: tolerance,
                confirm: confirm, checks: source, activationTimeoutMs: try timeoutMs(timeout))
            let engine = makeSwitch(store, role: "driver", ledger: ledger, diagnostics: d)
            let keepers = DeadlineKeepers(
                startGuardian: { id in
                    guard let me = selfInvocation(["guard", id, "--state-dir", store.directory] + ledgerArguments(ledger)) else {
                        d.warning("cannot find this program's path: no guardian for \(id)")
                        return nil
                    }
                    do { return try ThisProcess.spawnDetached(path: me.path, arguments: me.arguments, environment: ThisProcess.environment()) } catch {
                        d.warning("cannot start the guardian of \(id): \(error)")
                        return nil
                    }
                },
                startTimer: { id, delayMs in
                    guard timer == "auto", FileStatus.exists("/run/systemd/system"),
                          let me = selfInvocation(["deadline", id, "--state-dir", store.directory] + ledgerArguments(ledger)) else { return nil }
                    let unit = "osmoda-switch-\(id)"
                    let argv = ["systemd-run"] + (Sys.effectiveUID == 0 ? [] : ["--user"]) +
                        ["--unit", unit, "--on-active=\((delayMs + 999) / 1000)s", "--timer-property=AccuracySec=1s", "--collect", me.path] + me.arguments
                    guard let r = try? Spawn.run(SpawnOptions(argv: argv, timeoutMs: 30_000)), r.exitStatus == 0 else {
                        d.warning("cannot start the systemd timer of \(id); the guardian alone keeps the deadline")
                        return nil
                    }
                    return unit + ".timer"
                })
            let end = try gen { () throws(GenError) in try engine.begin(req, keepers: keepers) }
            return switchStatus(end.phase)
        }
    }
}

struct SwitchStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Write the switch.state record of one switch.")
    @Argument(help: ArgumentHelp("The switch's id.", valueName: "id")) var id: String
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-switch") { _ in
            let store = try dir.store()
            let s = try gen { () throws(GenError) in try store.load(id) }
            let sink = RecordSink(format: output.format)
            try sink.emit(SwitchStateRecord(s, nowMs: Sys.now().millisecondsSinceEpoch), at: Sys.now())
            try sink.flush()
            return .success
        }
    }
}

struct SwitchList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Write one switch.state record per switch, oldest first.")
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-switch") { _ in
            let store = try dir.store()
            let sink = RecordSink(format: output.format, columns: ["id", "phase", "from", "to", "created", "deadline", "reason", "by"])
            let now = Sys.now()
            for s in try gen({ () throws(GenError) in try store.all() }) { try sink.emit(SwitchStateRecord(s, nowMs: now.millisecondsSinceEpoch), at: now) }
            try sink.flush()
            return .success
        }
    }
}

struct SwitchCommit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "commit", abstract: "Confirm a switch on probation: make its generation the boot default now.")
    @Argument(help: ArgumentHelp("The switch's id.", valueName: "id")) var id: String
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-switch") { d in
            let engine = makeSwitch(try dir.store(), role: "operator", ledger: ledger, diagnostics: d)
            let end = try gen { () throws(GenError) in try engine.commit(id) }
            if end.phase == .rolledBack { d.error("switch '\(id)' was already rolled back (\(end.reason ?? "?"))") }
            return switchStatus(end.phase)
        }
    }
}

struct SwitchRollback: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Return to a switch's recorded generation now (also retries a failed rollback).")
    @Argument(help: ArgumentHelp("The switch's id.", valueName: "id")) var id: String
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-switch") { d in
            let engine = makeSwitch(try dir.store(), role: "operator", ledger: ledger, diagnostics: d)
            return switchStatus(try gen { () throws(GenError) in try engine.rollback(id) }.phase)
        }
    }
}

struct SwitchBootCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot-check",
        abstract: "At boot: roll back every switch left open (in probation, committing or rolling back) to its recorded generation.")
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-switch") { d in
            let engine = makeSwitch(try dir.store(), role: "boot_check", ledger: ledger, diagnostics: d)
            let ended = try gen { () throws(GenError) in try engine.bootCheck() }
            if ended.contains(where: { $0.phase == .rollbackFailed }) { return .software }
            return ended.contains(where: { $0.phase == .rolledBack }) ? .no : .success
        }
    }
}

struct SwitchGuard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "The detached guardian begin starts: carries the probation on if the driver dies.",
        shouldDisplay: false)
    @Argument(help: ArgumentHelp("The switch's id.", valueName: "id")) var id: String
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-switch") { d in
            let engine = makeSwitch(try dir.store(), role: "guardian", ledger: ledger, diagnostics: d)
            return switchStatus(engine.guardSwitch(id).phase)
        }
    }
}

struct SwitchDeadline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadline",
        abstract: "Fired by the systemd timer: end a switch still open after its deadline.",
        shouldDisplay: false)
    @Argument(help: ArgumentHelp("The switch's id.", valueName: "id")) var id: String
    @OptionGroup var dir: SwitchDirOptions
    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        try runTool("osmoda-switch") { d in
            let engine = makeSwitch(try dir.store(), role: "timer", ledger: ledger, diagnostics: d)
            let s = try gen { () throws(GenError) in try engine.enforceDeadline(id) }
            return s.phase.isOpen ? .success : switchStatus(s.phase)
        }
    }
}
