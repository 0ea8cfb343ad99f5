import OsmodaCore

/// `switch.begin`: a switch went on probation (or tried to: see `result`).
public struct SwitchBeginRecord: Record {
    public static let type = "switch.begin"
    public var id: String
    public var backend: String
    public var from: Int?
    public var to: Int?
    public var fromPath: String
    public var toPath: String
    public var action: String
    public var exitStatus: Int?
    public var result: String
    public var detail: String?
    public var ttlMs: Int64
    public var intervalMs: Int64
    public var tolerance: Int
    public var confirm: Bool
    public var checks: Int
    public var deadline: String
    public var guardianPid: Int32?
    public var timerUnit: String?

    enum CodingKeys: String, CodingKey {
        case id, backend, from, to
        case fromPath = "from_path"
        case toPath = "to_path"
        case action
        case exitStatus = "exit_status"
        case result, detail
        case ttlMs = "ttl_ms"
        case intervalMs = "interval_ms"
        case tolerance, confirm, checks, deadline
        case guardianPid = "guardian_pid"
        case timerUnit = "timer_unit"
    }
}

/// `switch.check`: one round of checks during probation.
public struct SwitchCheckRecord: Record {
    public static let type = "switch.check"
    public var id: String
    public var round: Int
    public var ok: Bool
    public var passed: Int
    public var failed: Int
    public var failedChecks: [String]
    public var consecutiveFailures: Int
    public var tolerance: Int
    public var detail: String?
    public var by: String

    enum CodingKeys: String, CodingKey {
        case id, round, ok, passed, failed
        case failedChecks = "failed_checks"
        case consecutiveFailures = "consecutive_failures"
        case tolerance, detail, by
    }
}

/// The type name of a transition record.
public protocol TransitionKind: Sendable { static var type: String { get } }
public enum CommitKind: TransitionKind { public static var type: String { "switch.commit" } }
public enum RollbackKind: TransitionKind { public static var type: String { "switch.rollback" } }
public enum RollbackFailedKind: TransitionKind { public static var type: String { "switch.rollback_failed" } }

/// `switch.commit`, `switch.rollback`, `switch.rollback_failed`: the end of a switch.
///
/// `from` → `to` is the direction of the action: for a commit the recorded state →
/// the new one, for a rollback the new state → the recorded one.
public struct SwitchTransitionRecord<K: TransitionKind>: Record {
    public static var type: String { K.type }
    public var id: String
    public var from: Int?
    public var to: Int?
    public var toPath: String
    public var by: String
    public var reason: String
    public var action: String
    public var exitStatus: Int?
    public var result: String
    public var detail: String?
    public var started: String
    public var ended: String
    public var durationMs: Double
    /// From the verdict that decided it (a failed check round) to the start of the action.
    public var verdictToStartMs: Double?

    enum CodingKeys: String, CodingKey {
        case id, from, to
        case toPath = "to_path"
        case by, reason, action
        case exitStatus = "exit_status"
        case result, detail, started, ended
        case durationMs = "duration_ms"
        case verdictToStartMs = "verdict_to_start_ms"
    }
}

/// `switch.state`: a switch as `status` and `list` show it.
public struct SwitchStateRecord: Record {
    public static let type = "switch.state"
    public var id: String
    public var phase: String
    public var backend: String
    public var from: Int?
    public var to: Int?
    public var fromPath: String
    public var toPath: String
    public var created: String
    public var deadline: String
    public var confirm: Bool
    public var confirmed: Bool
    public var rounds: Int
    public var consecutiveFailures: Int
    public var tolerance: Int
    public var overdue: Bool
    public var reason: String?
    public var by: String?
    public var ended: String?
    public var driverPid: Int32?
    public var guardianPid: Int32?

    public init(_ s: SwitchState, nowMs: Int64) {
        id = s.id
        phase = s.phase.rawValue
        backend = s.backend.kind
        from = s.from.number
        to = s.to.number
        fromPath = s.from.path
        toPath = s.to.path
        created = Timestamp(millisecondsSinceEpoch: s.createdMs).rfc3339
        deadline = Timestamp(millisecondsSinceEpoch: s.deadlineMs).rfc3339
        confirm = s.confirm
        confirmed = s.confirmed
        rounds = s.rounds
        consecutiveFailures = s.consecutiveFailures
        tolerance = s.tolerance
        overdue = s.phase.isOpen && nowMs > s.deadlineMs
        reason = s.reason
        by = s.by
        ended = s.endedMs.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 }
        driverPid = s.driverPid
        guardianPid = s.guardianPid
    }

    enum CodingKeys: String, CodingKey {
        case id, phase, backend, from, to
        case fromPath = "from_path"
        case toPath = "to_path"
        case created, deadline, confirm, confirmed, rounds
        case consecutiveFailures = "consecutive_failures"
        case tolerance, overdue, reason, by, ended
        case driverPid = "driver_pid"
        case guardianPid = "guardian_pid"
    }
}

/// `gen.switch`: osmoda-gen switched or rolled back to an explicit generation.
public struct GenSwitchRecord: Record {
    public static let type = "gen.switch"
    public var from: Int?
    public var to: Int?
    public var toPath: String
    public var action: String
    public var exitStatus: Int?
    public var result: String
    public var detail: String?
    public var durationMs: Double

    public init(from: Int?, to: GenRef, activation a: Activation) {
        self.from = from
        self.to = to.number
        toPath = to.path
        action = a.action
        exitStatus = a.exitStatus
        result = a.result.rawValue
        detail = a.detail.isEmpty ? nil : a.detail
        durationMs = a.durationMs
    }

    enum CodingKeys: String, CodingKey {
        case from, to
        case toPath = "to_path"
        case action
        case exitStatus = "exit_status"
        case result, detail
        case durationMs = "duration_ms"
    }
}

/// `gen.diff`: one package-level difference between two generations, from
/// `nix store diff-closures`.
public struct GenDiffRecord: Record {
    public static let type = "gen.diff"
    public var from: Int
    public var to: Int
    public var package: String
    /// What changed, as nix says it: `1.2 → 1.3, +12.5 KiB`, `∅ → 2.0`.
    public var change: String

    public init(from: Int, to: Int, package: String, change: String) {
        self.from = from
        self.to = to
        self.package = package
        self.change = change
    }
}
