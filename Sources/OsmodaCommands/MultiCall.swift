import ArgumentParser
import OsmodaCLI

/// A tool as it is installed and documented.
public struct ToolEntry: Sendable {
    public var name: String
    public var command: any ParsableCommand.Type
    /// The exit statuses the tool can return, for its man page.
    public var exitStatuses: [ExitStatus]
    /// Tool-specific meanings of statuses, where the generic summary is not enough.
    public var meanings: [ExitStatus: String]
    public var seeAlso: [String]
    /// The manual section: 1 for tools, 8 for the daemon.
    public var section: Int = 1

    public init(name: String, command: any ParsableCommand.Type, exitStatuses: [ExitStatus], meanings: [ExitStatus: String],
                seeAlso: [String], section: Int = 1) {
        self.name = name
        self.command = command
        self.exitStatuses = exitStatuses
        self.meanings = meanings
        self.seeAlso = seeAlso
        self.section = section
    }

    public func exitMeaning(_ s: ExitStatus) -> String { meanings[s] ?? s.summary.prefix(1).uppercased() + s.summary.dropFirst() + "." }
}

/// Every tool, by the name it is installed under.
public let allTools: [ToolEntry] = [
    ToolEntry(name: "osmoda-health", command: HealthCommand.self,
              exitStatuses: [.success, .usage, .ioError],
              meanings: [.success: "The samples were written."],
              seeAlso: ["osmoda-fmt(1)", "osmoda-where(1)"]),
    ToolEntry(name: "osmoda-query", command: QueryCommand.self,
              exitStatuses: [.success, .usage, .unavailable, .ioError],
              meanings: [.usage: "A usage error, such as an unknown table.",
                         .unavailable: "The table's source is unavailable, such as services on a host where systemd is not running."],
              seeAlso: ["osmoda-fmt(1)", "osmoda-where(1)"]),
    ToolEntry(name: "osmoda-check", command: CheckCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .ioError],
              meanings: [.success: "Every probe passed (in one-shot mode and in the last round with --count).",
                         .no: "At least one probe failed.",
                         .dataError: "The probe file is malformed: bad JSON, an unknown field, a wrong type.",
                         .noInput: "The probe file cannot be read."],
              seeAlso: ["osmoda-fmt(1)", "osmoda-where(1)"]),
    ToolEntry(name: "osmoda-where", command: WhereCommand.self,
              exitStatuses: [.success, .usage, .dataError, .noInput, .ioError],
              meanings: [.success: "Every line was read; matching or not, this is success.",
                         .usage: "A usage error, such as an expression that does not compile.",
                         .dataError: "Bad lines were skipped (or, with --strict, the first one stopped the run)."],
              seeAlso: ["osmoda-expr(7)", "osmoda-fmt(1)"]),
    ToolEntry(name: "osmoda-fmt", command: FmtCommand.self,
              exitStatuses: [.success, .usage, .dataError, .noInput, .ioError],
              meanings: [.dataError: "Bad lines were skipped (or, with --strict, the first one stopped the run)."],
              seeAlso: ["osmoda-where(1)"]),
    ToolEntry(name: "osmoda-watch", command: WatchCommand.self,
              exitStatuses: [.success, .usage, .dataError, .noInput, .unavailable, .ioError, .config],
              meanings: [.success: "The input ended; every line was read.",
                         .dataError: "Bad input lines were skipped (or, with --strict, the first one stopped the run), or the state file is damaged.",
                         .noInput: "The rules file or an input file cannot be read.",
                         .unavailable: "With --ledger on: the daemon does not answer and could not be started.",
                         .ioError: "The state file cannot be written, or the output failed.",
                         .config: "The rules file is malformed: bad JSON, an unknown field, a wrong type, an expression that does not compile."],
              seeAlso: ["osmoda-check(1)", "osmoda-expr(7)", "osmoda-ledger(1)"]),
    ToolEntry(name: "osmoda-ledger", command: LedgerCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .unavailable, .software, .ioError, .tempFail, .noPermission, .config],
              meanings: [.no: "verify: the ledger or a checkpoint did not verify.",
                         .dataError: "append: lines were skipped or refused; verify: a checkpoint file is malformed.",
                         .unavailable: "The daemon does not answer and could not be started.",
                         .tempFail: "The daemon is busy or stopping; try again.",
                         .ioError: "The daemon could not write the ledger (ledger.storage or ledger.io: a full disk, an I/O error); nothing of that request was committed.",
                         .noPermission: "The daemon refused this user (auth.denied), or the socket is not accessible.",
                         .config: "The paths cannot be worked out (no XDG_RUNTIME_DIR in user mode)."],
              seeAlso: ["osmodad(8)", "osmoda-where(1)"]),
    ToolEntry(name: "osmoda-keys", command: KeysCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .unavailable, .software, .ioError, .tempFail, .noPermission, .config],
              meanings: [.no: "policy check: the policy would refuse the request.",
                         .usage: "A usage error; init on a vault that exists (vault.exists); export to a file that exists.",
                         .dataError: "Invalid input or params: a malformed transaction, typed data, keystore, keypair, label or policy.",
                         .noInput: "No such key (key.not_found), or an input file cannot be read.",
                         .unavailable: "The daemon does not answer and could not be started, or its ledger is sealed.",
                         .ioError: "The vault's files or the ledger cannot be read or written, or a file is damaged (vault.header_corrupt, vault.key_corrupt); nothing was signed.",
                         .tempFail: "The daemon is busy or stopping; try again.",
                         .noPermission: "Refused: vault.sealed, policy.denied, auth.denied (the role), vault.bad_passphrase or keystore.bad_password.",
                         .config: "No vault yet (vault.not_initialized), or the key file or credential cannot be used."],
              seeAlso: ["osmodad(8)", "osmoda-ledger(1)", "osmoda-records(5)"]),
    ToolEntry(name: "osmoda-cron", command: CronCommand.self,
              exitStatuses: [.success, .usage, .dataError, .ioError],
              meanings: [.usage: "A usage error, such as an unknown time zone or a --from that is not a time.",
                         .dataError: "The expression is invalid; the message names the field and the column."],
              seeAlso: ["osmoda-routines(1)", "crontab(5)"]),
    ToolEntry(name: "osmoda-routines", command: RoutinesCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .ioError, .config],
              meanings: [.success: "Done; for run and run-due, every run succeeded.",
                         .no: "run, run-due: a run failed, timed out, could not start, was skipped or was found interrupted.",
                         .usage: "A usage error, or add of a name that exists without --force.",
                         .dataError: "A definition is invalid (add, enable, disable, run), or a malformed definition file was skipped (list, run-due).",
                         .noInput: "No routine of that name, or the definitions directory cannot be read.",
                         .ioError: "The state or definitions directory cannot be written.",
                         .config: "The default directories cannot be worked out (no XDG_RUNTIME_DIR in user mode)."],
              seeAlso: ["osmoda-cron(1)", "osmoda-expr(7)", "osmoda-records(5)", "crontab(5)", "systemd.timer(5)"]),
    ToolEntry(name: "osmoda-gen", command: GenCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .unavailable, .ioError, .noPermission, .config],
              meanings: [.success: "The records were written; switch and rollback: switch-to-configuration succeeded.",
                         .no: "switch, rollback: switch-to-configuration failed or timed out; the gen.switch record's result says how (pre_switch_failed, activation_failed, units_failed, timeout, failed).",
                         .dataError: "The profile link does not point to a generation, or a command printed no state.",
                         .noInput: "The profile, the generation or the config file does not exist.",
                         .unavailable: "diff: nix is not installed; command backend: a command cannot be run.",
                         .ioError: "The profile link could not be replaced, or output could not be written.",
                         .config: "The command backend's config is malformed."],
              seeAlso: ["osmoda-switch(1)"]),
    ToolEntry(name: "osmoda-switch", command: SwitchCommand.self,
              exitStatuses: [.success, .no, .usage, .dataError, .noInput, .unavailable, .software, .ioError, .tempFail, .config],
              meanings: [.success: "The switch was committed (or, for status, list and deadline, the records were written; for boot-check, nothing was left open).",
                         .no: "The switch was rolled back to its recorded generation (never 0); boot-check: a switch left open was rolled back.",
                         .usage: "A usage error, such as a generation that is already current or rolling back a committed switch.",
                         .dataError: "A probe file or the state file is malformed, or the build command failed; nothing was changed.",
                         .noInput: "The probe file, the config, the generation or the switch does not exist.",
                         .unavailable: "A program the switch needs (the build command) cannot be run.",
                         .software: "THE ROLLBACK FAILED: the system is on neither generation; switch.rollback_failed says why. Act now (osmoda-switch rollback ID retries).",
                         .ioError: "The state directory or the profile link could not be written.",
                         .tempFail: "Another switch is open (in probation); commit or roll it back first.",
                         .config: "The state directory cannot be worked out, or the command backend's config is malformed."],
              seeAlso: ["osmoda-gen(1)", "osmoda-check(1)"]),
    ToolEntry(name: "osmodad", command: DaemonCommand.self,
              exitStatuses: [.success, .usage, .ioError, .tempFail, .config],
              meanings: [.success: "Stopped by SIGTERM or SIGINT after the requests in flight.",
                         .ioError: "The state directory, the ledger or the socket could not be opened.",
                         .tempFail: "Another daemon holds the state directory or answers on the socket.",
                         .config: "roles.json or the paths are invalid."],
              seeAlso: ["osmoda-ledger(1)", "osmoda-keys(1)"], section: 8),
]

/// Dispatches on the name the binary was called by, busybox-style (ADR 0001).
///
/// `osmoda-tools health …` works too, for a binary that has no links yet.
public enum MultiCall {
    public static func main(_ argv: [String]) -> Never {
        let called = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        var args = Array(argv.dropFirst())
        var name = called
        let names = allTools.map(\.name).joined(separator: ", ")
        if allTools.first(where: { $0.name == called }) == nil {
            // Called as osmoda-tools: the first argument names the tool.
            guard let first = args.first, !first.hasPrefix("-") else {
                let asked = args.first ?? ""
                if asked == "--version" { printTo(1, "osmoda-tools (osmoda) \(osmodaVersion)\n"); exit(0) }
                let usage = "usage: osmoda-tools TOOL [ARGS...], or call this binary as one of its links\ntools: \(names)\n"
                if asked == "--help" || asked == "-h" { printTo(1, usage); exit(0) }
                printTo(2, "osmoda-tools: error: no tool named\n" + usage)
                exit(64)
            }
            name = first.hasPrefix("osmoda-") ? first : "osmoda-" + first
            args.removeFirst()
        }
        guard let tool = allTools.first(where: { $0.name == name }) else {
            printTo(2, "osmoda-tools: error: unknown tool '\(name)'; this binary provides \(names)\n")
            exit(64)
        }
        ToolMain.run(tool.command, args)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func printTo(_ fd: Int32, _ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
}
