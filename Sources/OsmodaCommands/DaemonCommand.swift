import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaDaemon
import OsmodaIPC
import OsmodaKeys
import OsmodaSystem

/// Where a tool finds the daemon: `--user` or `--system`, and the `OSMODA_*` overrides.
struct DaemonModeOptions: ParsableArguments {
    @Flag(name: .long, help: "User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.")
    var user = false

    @Flag(name: .long, help: "System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.")
    var system = false

    func validate() throws {
        if user && system { throw ValidationError("--user and --system exclude each other") }
    }

    /// The paths in force; without a flag, system mode for root or when the system
    /// socket exists, user mode otherwise.
    func paths() throws(ToolFailure) -> Paths {
        let mode: Paths.Mode? = user ? .user : system ? .system : nil
        do { return try Paths.current(mode: mode) } catch {
            throw ToolFailure(error.message, status: .config)
        }
    }
}

/// `osmodad`: the daemon, only writer of the ledger.
public struct DaemonCommand: ParsableCommand {
    public static let configuration = CommandConfiguration.tool(
        "osmodad",
        abstract: "The osmoda daemon: the only writer of the audit ledger.",
        discussion: """
            osmodad keeps the tamper-evident audit ledger (docs/ledger-format.md) and answers \
            newline-delimited JSON-RPC 2.0 on a Unix socket (docs/protocol.md). Every request \
            is authorised by the peer's credentials (SO_PEERCRED) against roles.json in the \
            config directory: admin, agent or reader; anyone else is refused. The actor of every \
            ledger entry is taken from those credentials, never from the request. It opens no \
            network socket.

            It takes an exclusive lock on its state directory, so a second daemon there is \
            refused. At start it verifies the tail of the ledger against the last signed \
            checkpoint; if that fails it keeps serving reads but refuses appends until an admin \
            recovers (see the recovery section of docs/ledger-format.md). Under systemd it adopts \
            a socket-activated listener (LISTEN_FDS) and reports READY=1 and STOPPING=1; SIGTERM \
            stops it after the requests in flight, with every acknowledged entry on disk. SIGHUP \
            reads roles.json again and puts it in force for every later request, on open \
            connections too; a file that does not load is logged and the roles in force stay. \
            It signs a checkpoint every --checkpoint-every when entries were appended since the \
            last one, and one more at shutdown, so a witness never trails the ledger by more \
            than that interval even if the daemon is killed.

            It also holds the key vault (osmoda-keys(1), docs/vault.md): keys sealed at rest, \
            unsealed one request at a time in locked memory, signing under the spend policy with \
            every request recorded in the ledger. The vault starts sealed; --vault-key-file or \
            --vault-credential unlock it at start. Core dumps are disabled.

            In user mode the tools start it on demand when its socket does not answer, as \
            gpg-agent is started; OSMODA_NO_AUTOSTART=1 turns that off. The paths can be \
            moved with OSMODA_SOCKET, OSMODA_STATE_DIR and OSMODA_CONFIG_DIR.

            Examples:
              osmodad --user
              OSMODA_STATE_DIR=/srv/osmoda osmodad --system
            """
    )

    @Option(name: .long, help: ArgumentHelp(
        "Recover a ledger that failed verification, then exit: archive it unchanged and start a new epoch whose first entry records this acknowledgement and who gave it. Only when no daemon runs.",
        valueName: "acknowledgement"))
    var recover: String?

    @Option(name: .customLong("checkpoint-every"), help: ArgumentHelp(
        "Sign a checkpoint this often when entries were appended since the last one (e.g. 30s, 5m); 0 signs only at shutdown and on request.",
        valueName: "duration"))
    var checkpointEvery = "5m"

    @Option(name: .customLong("vault-key-file"), help: ArgumentHelp(
        "Unlock the key vault at start from this key file (32 bytes, mode 0600, outside the state directory).",
        valueName: "file"), completion: .file())
    var vaultKeyFile: String?

    @Option(name: .customLong("vault-credential"), help: ArgumentHelp(
        "Unlock the key vault at start from this systemd credential ($CREDENTIALS_DIRECTORY/NAME, LoadCredential=).",
        valueName: "name"))
    var vaultCredential: String?

    @OptionGroup var mode: DaemonModeOptions

    public init() {}

    public func validate() throws {
        if checkpointEvery != "0", try parseInterval(checkpointEvery) ?? 0 < 1000 {
            throw ValidationError("--checkpoint-every must be at least 1s, or 0")
        }
        if vaultKeyFile != nil && vaultCredential != nil {
            throw ValidationError("--vault-key-file and --vault-credential exclude each other")
        }
    }

    public func run() throws {
        try runTool("osmodad") { diagnostics in
            let paths = try mode.paths()
            if let recover {
                do {
                    let r = try DaemonMain.recover(paths: paths, acknowledging: recover)
                    let out = RecordOutput()
                    try out.write(.object(JSONObject([
                        "type": .string("ledger.recovery"), "ts": .string(Sys.now().rfc3339),
                        "archived_database": .string(r.archivedDatabase), "origin": .string(r.origin),
                        "first_entry_hash": .string(r.firstEntryHash), "checkpoint_note": .string(r.checkpointNote),
                    ])))
                    try out.flush()
                    return .success
                } catch let error as DaemonMain.StartFailure {
                    throw ToolFailure(error.message, status: ExitStatus(rawValue: error.status) ?? .software)
                }
            }
            do {
                let every = checkpointEvery == "0" ? nil : try? parseInterval(checkpointEvery)
                try DaemonMain.run(paths: paths, version: "osmodad (osmoda) \(osmodaVersion)", checkpointEveryMs: every,
                                   services: [VaultService.registration(.init(autoUnlockKeyFile: vaultKeyFile,
                                                                              autoUnlockCredential: vaultCredential))]) { line in
                    diagnostics.note(line)
                }
            } catch let error as DaemonMain.StartFailure {
                throw ToolFailure(error.message, status: ExitStatus(rawValue: error.status) ?? .software)
            }
            return .success
        }
    }
}
