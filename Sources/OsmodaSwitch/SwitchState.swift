import OsmodaCheck
import OsmodaCore
import OsmodaSystem

/// Where a switch is in its life (docs/safeswitch.md has the state machine).
public enum SwitchPhase: String, Codable, Sendable {
    /// The new state is active (not the boot default); checks are judging it.
    case probation
    /// A commit was decided and is being carried out.
    case committing
    /// A rollback was decided and is being carried out.
    case rollingBack = "rolling_back"
    /// The new state is the default. Final.
    case committed
    /// The system is back on the recorded state. Final.
    case rolledBack = "rolled_back"
    /// The rollback did not complete: the system is in neither state. Needs a person.
    case rollbackFailed = "rollback_failed"

    /// Whether the switch still needs someone to finish it.
    public var isOpen: Bool { self == .probation || self == .committing || self == .rollingBack }
}

/// The checks of a switch, kept as given so that any process can rebuild them.
public struct CheckSource: Codable, Sendable, Equatable {
    /// A probe file's text, as osmoda-check reads it.
    public var probeFile: String?
    /// Probe flags: `["tcp", "127.0.0.1:80"]` pairs.
    public var flags: [[String]]
    /// The timeout of probes given by flags.
    public var flagTimeoutMs: Int

    public init(probeFile: String?, flags: [[String]], flagTimeoutMs: Int) {
        self.probeFile = probeFile
        self.flags = flags
        self.flagTimeoutMs = flagTimeoutMs
    }

    /// The probes, validated like osmoda-check's.
    public func specs() throws(ProbeSpecError) -> [ProbeSpec] {
        var out: [ProbeSpec] = []
        if let probeFile { out += try ProbeFile.parse(Array(probeFile.utf8)).probes }
        for pair in flags where pair.count == 2 {
            out.append(try ProbeSpec.parseFlag(pair[0], value: pair[1], timeoutMs: flagTimeoutMs))
        }
        return out
    }

    enum CodingKeys: String, CodingKey {
        case probeFile = "probe_file"
        case flags
        case flagTimeoutMs = "flag_timeout_ms"
    }
}

/// How to rebuild the backend in another process (the guardian, boot-check).
public struct BackendSpec: Codable, Sendable, Equatable {
    public var kind: String
    public var profile: String?
    public var booted: String?
    public var command: CommandConfig?

    public init(kind: String, profile: String? = nil, booted: String? = nil, command: CommandConfig? = nil) {
        self.kind = kind
        self.profile = profile
        self.booted = booted
        self.command = command
    }

    public func make() -> any SwitchBackend {
        if kind == "command", let command { return CommandBackend(config: command) }
        return NixOSBackend(profile: NixProfile(path: profile ?? NixProfile.defaultPath, bootedPath: booted ?? NixProfile.defaultBooted))
    }
}

/// The persisted state of one switch: `<state-dir>/<id>.json`, replaced atomically
/// and fsynced at every transition.
public struct SwitchState: Codable, Sendable, Equatable {
    public var version = 1
    public var id: String
    public var phase: SwitchPhase
    public var backend: BackendSpec
    /// The state it came from: where a rollback returns, whatever happened meanwhile.
    public var from: GenRef
    /// The state on probation.
    public var to: GenRef
    public var createdMs: Int64
    /// Wall-clock deadline, so that it survives a reboot.
    public var deadlineMs: Int64
    public var ttlMs: Int64
    public var intervalMs: Int64
    public var tolerance: Int
    public var confirm: Bool
    public var confirmed: Bool
    public var activationTimeoutMs: Int64
    public var checks: CheckSource
    public var rounds: Int
    public var consecutiveFailures: Int
    public var lastRoundOK: Bool?
    public var driverPid: Int32?
    public var driverStart: String?
    public var guardianPid: Int32?
    public var guardianStart: String?
    /// The kernel's boot id when the switch began: after a reboot no recorded pid is ours.
    public var bootID: String?
    public var timerUnit: String?
    /// The process group of an activation (switch-to-configuration, or a command) that
    /// is running, with its leader's start time: whoever takes the switch over after
    /// its runner died kills it first, so that it cannot finish after a rollback.
    public var activationPgid: Int32?
    /// When the activation on probation succeeded; nil until then. A switch whose
    /// activation never completed (its driver died first) is never committed.
    public var activatedMs: Int64?
    public var activationStart: String?
    /// Why it ended, and who ended it.
    public var reason: String?
    public var by: String?
    public var endedMs: Int64?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case version, id, phase, backend, from, to
        case createdMs = "created_ms"
        case deadlineMs = "deadline_ms"
        case ttlMs = "ttl_ms"
        case intervalMs = "interval_ms"
        case tolerance, confirm, confirmed
        case activationTimeoutMs = "activation_timeout_ms"
        case checks, rounds
        case consecutiveFailures = "consecutive_failures"
        case lastRoundOK = "last_round_ok"
        case driverPid = "driver_pid"
        case driverStart = "driver_start"
        case guardianPid = "guardian_pid"
        case guardianStart = "guardian_start"
        case bootID = "boot_id"
        case timerUnit = "timer_unit"
        case activationPgid = "activation_pgid"
        case activatedMs = "activated_ms"
        case activationStart = "activation_start"
        case reason, by
        case endedMs = "ended_ms"
        case detail
    }
}

/// The state directory: one JSON file per switch, a journal of its records, and a lock.
public struct SwitchStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `$OSMODA_SWITCH_DIR`, else `/var/lib/osmoda/switch` for root, else
    /// `$XDG_STATE_HOME/osmoda/switch` (`~/.local/state/osmoda/switch`).
    public static func defaultDirectory(env: (String) -> String? = Sys.env, euid: UInt32 = Sys.effectiveUID) -> String? {
        if let d = env("OSMODA_SWITCH_DIR"), !d.isEmpty { return d }
        if euid == 0 { return "/var/lib/osmoda/switch" }
        if let x = env("XDG_STATE_HOME"), x.hasPrefix("/") { return x + "/osmoda/switch" }
        if let h = env("HOME"), h.hasPrefix("/") { return h + "/.local/state/osmoda/switch" }
        return nil
    }

    public static func validID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        } && id.first != "-"
    }

    public func path(_ id: String) -> String { "\(directory)/\(id).json" }
    public func journalPath(_ id: String) -> String { "\(directory)/\(id).jsonl" }
    public var lockPath: String { "\(directory)/lock" }

    public func prepare() throws(GenError) {
        do { try Sys.makeDirectories(directory, mode: 0o700) } catch {
            throw GenError(.io, "cannot create the state directory '\(directory)': \(error.message)")
        }
    }

    /// Takes the directory's lock; every transition happens under it.
    public func lock(timeoutMs: Int64) throws(GenError) -> FileLock {
        do {
            guard let l = try FileLock.acquire(lockPath, timeoutMs: timeoutMs) else {
                throw GenError(.io, "the lock '\(lockPath)' stayed held for \(timeoutMs) ms")
            }
            return l
        } catch let e as GenError {
            throw e
        } catch {
            throw GenError(.io, "cannot lock '\(lockPath)': \(error)")
        }
    }

    public func load(_ id: String) throws(GenError) -> SwitchState {
        guard Self.validID(id) else { throw GenError(.usage, "'\(id)' is not a switch id") }
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path(id), limit: 4 << 20) } catch {
            if error.code == ENOENT_CODE { throw GenError(.notFound, "no switch '\(id)' in '\(directory)'") }
            throw GenError(.io, "cannot read '\(path(id))': \(error.message)")
        }
        do {
            return try ValueDecoder.decode(SwitchState.self, from: try JSONReader.parse(bytes))
        } catch {
            throw GenError(.badData, "\(path(id)): \(error)")
        }
    }

    public func save(_ state: SwitchState) throws(GenError) {
        var bytes: [UInt8] = []
        do { JSONWriter.write(try ValueEncoder.encode(state), into: &bytes) } catch {
            throw GenError(.io, "cannot encode the state of '\(state.id)': \(error)")
        }
        bytes.append(0x0A)
        do { try Sys.writeFileAtomically(path(state.id), bytes, mode: 0o600) } catch {
            throw GenError(.io, "cannot write '\(path(state.id))': \(error.description)")
        }
    }

    /// Every switch, oldest first; unreadable files are skipped.
    public func all() throws(GenError) -> [SwitchState] {
        let names: [String]
        do { names = try Sys.listDirectory(directory) } catch {
            if error.code == ENOENT_CODE { return [] }
            throw GenError(.io, "cannot list '\(directory)': \(error.message)")
        }
        let ids = names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(Self.validID)
        return ids.compactMap { try? load($0) }.sorted { ($0.createdMs, $0.id) < ($1.createdMs, $1.id) }
    }

    /// Appends one record line to the switch's journal, durably.
    public func journal(_ id: String, _ line: [UInt8]) {
        try? Sys.appendDurably(journalPath(id), line + [0x0A])
    }
}

let ENOENT_CODE: Int32 = 2
