#if canImport(Glibc)
import Glibc
#endif
import CShim
import OsmodaCore
import OsmodaIPC
import OsmodaLedger
import OsmodaSystem

/// `osmodad` from start to stop: lock the state directory, open and verify the
/// ledger, load the roles, serve until SIGTERM.
///
/// Order matters: the lock comes first, so a second daemon on the same state
/// directory is refused before it touches the ledger or the socket.
/// What a service that osmodad hosts beside the ledger (the vault) is given at start.
public struct DaemonServiceContext: Sendable {
    public let paths: Paths
    public let store: LedgerStore
    public let committer: GroupCommitter
    public let log: @Sendable (String) -> Void
}

/// Adds a service's methods to the router before the daemon serves; a thrown failure
/// stops the start with its status.
public typealias DaemonServiceRegistration = @Sendable (inout Router, DaemonServiceContext) throws(DaemonMain.StartFailure) -> Void

public enum DaemonMain {
    /// Why the daemon could not start, with the exit status the tool reports.
    public struct StartFailure: Error, Sendable, CustomStringConvertible {
        public init(message: String, status: Int32) {
            self.message = message
            self.status = status
        }
        public var message: String
        /// A sysexits code: 75 (locked: try again), 78 (configuration), 74 (I/O).
        public var status: Int32
        public var description: String { message }
    }

    /// - Parameter checkpointEveryMs: sign a checkpoint this often when the ledger grew;
    ///   `nil` signs only at shutdown and on request.
    /// - Parameter services: more services to register after the ledger's (osmoda's
    ///   module layering keeps them out of this module: the vault depends on it).
    public static func run(paths: Paths, version: String, checkpointEveryMs: Int64? = nil,
                           services: [DaemonServiceRegistration] = [],
                           log: @escaping @Sendable (String) -> Void) throws(StartFailure) {
        // Keys will live in this process: never dump its memory to disk.
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        // RLIMIT_CORE alone is not enough: a core_pattern pipe handler gets the dump and is
        // only told the limit, and a process of the same uid could still read our memory
        // via /proc or ptrace. Not dumpable closes both (as ssh-agent does).
        _ = osmoda_set_dumpable(0)
        Sys.ignoreSIGPIPE()
        // A parent may have blocked signals (a Dispatch worker thread's mask is inherited
        // through exec): SIGTERM must reach us, or a stop request would hang.
        Sys.unblockStopSignals()

        let lock: StateDirectoryLock
        do { lock = try StateDirectoryLock.acquire(stateDirectory: paths.stateDirectory) } catch {
            throw StartFailure(message: error.message, status: error.code == DaemonError.lockedCode ? 75 : 74)
        }
        let store: LedgerStore
        // The host name names the ledger in its checkpoints' origin line.
        do { store = try LedgerStore.open(stateDirectory: paths.stateDirectory, options: LedgerStore.Options(name: Sys.hostname())) } catch {
            throw StartFailure(message: "cannot open the ledger: \(error)", status: 74)
        }
        if let sealed = store.sealedReason {
            // Fail closed: serve reads and verification, refuse appends (docs/ledger-format.md, Recovery).
            log("ledger verification failed; appends are refused until an admin recovers: \(sealed)")
        }
        let loadRoles: @Sendable () throws(RolesError) -> Roles = {
            try Roles.load(path: paths.rolesFile, implicitAdmin: Roles.implicitAdmin(mode: paths.mode, ownUID: getuid()))
        }
        let roles: Roles
        do { roles = try loadRoles() } catch {
            throw StartFailure(message: "\(error)", status: 78)
        }
        var router = Router()
        let committer = GroupCommitter(store: store)
        LedgerService.register(on: &router, store: store, committer: committer)
        let context = DaemonServiceContext(paths: paths, store: store, committer: committer, log: log)
        for service in services { try service(&router, context) }
        let env = ThisProcess.environment()
        let server: DaemonServer
        do {
            server = try DaemonServer(
                paths: paths, roles: roles, router: router, lock: lock,
                options: DaemonOptions(version: version,
                                       activation: SocketActivation.fromEnvironment(env, pid: getpid()),
                                       notifier: ServiceNotifier.fromEnvironment(env), log: log,
                                       reloadRoles: { try loadRoles() }))
        } catch {
            throw StartFailure(message: error.message, status: error.code == DaemonError.socketInUseCode ? 75 : 74)
        }
        SocketActivation.clearEnvironment()
        let timer = checkpointEveryMs.map { CheckpointTimer(store: store, intervalMs: $0, log: log) }
        if let timer, !timer.start() { log("cannot start the checkpoint timer; checkpoints are signed at shutdown and on request only") }
        server.run()
        timer?.stop()
        // A last signed checkpoint, so the next start verifies everything written now.
        if store.sealedReason == nil, (try? store.lastSeq) ?? 0 > 0 {
            do { _ = try store.checkpoint() } catch { log("cannot write the shutdown checkpoint: \(error)") }
        }
        store.close()
    }
}

extension DaemonMain {
    /// What `recover` did, for the tool's record.
    public struct RecoveryReport: Sendable {
        public var archivedDatabase: String
        public var origin: String
        public var firstEntryHash: String
        public var checkpointNote: String
    }

    /// Recovers a sealed ledger (docs/ledger-format.md, Recovery): takes the state lock,
    /// so no daemon may be running, archives the database unchanged and starts a new
    /// epoch whose first entry records `acknowledging` and who ran this.
    public static func recover(paths: Paths, acknowledging: String) throws(StartFailure) -> RecoveryReport {
        let lock: StateDirectoryLock
        do { lock = try StateDirectoryLock.acquire(stateDirectory: paths.stateDirectory) } catch {
            throw StartFailure(message: error.message, status: error.code == DaemonError.lockedCode ? 75 : 74)
        }
        defer { lock.release() }
        let actor = Actor(uid: getuid(), gid: getgid(), pid: getpid(), exe: PathCalls.readLink("/proc/self/exe") ?? "")
        do {
            let r = try LedgerStore.recover(stateDirectory: paths.stateDirectory, acknowledging: acknowledging, actor: actor)
            defer { r.store.close() }
            return RecoveryReport(archivedDatabase: r.archivedDatabase, origin: r.store.origin,
                                  firstEntryHash: LedgerHash.hex(r.entry.hash), checkpointNote: r.checkpoint.note)
        } catch {
            throw StartFailure(message: "\(error)", status: error.code.rawValue == "ledger.not_sealed" ? 64 : 74)
        }
    }
}
