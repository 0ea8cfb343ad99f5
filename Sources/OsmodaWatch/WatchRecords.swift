import OsmodaCore

/// A watcher changed state: a `watch.state` record.
public struct WatchStateRecord: Record, Equatable {
    public static let type = "watch.state"

    public var watcher: String
    /// `ok`, `failing`, `failed` or `flapping`.
    public var state: String
    public var previous: String
    /// Why, for people: `3 failures within 5 records`, `ladder exhausted`.
    public var reason: String
    /// The incident's number for this watcher, while one is open.
    public var incident: Int?

    enum CodingKeys: String, CodingKey { case watcher, state, previous, reason, incident }
}

/// A ladder step started, ended, or was skipped: a `watch.action` record.
public struct WatchActionRecord: Record, Equatable {
    public static let type = "watch.action"

    public var watcher: String
    public var incident: Int
    /// The step's position in the ladder, from 0.
    public var step: Int
    /// `restart`, `rollback`, `notify` or `run`.
    public var kind: String
    /// The attempt of this step in this incident, from 1 (0 for a skipped step).
    public var attempt: Int
    /// `start`, `end` or `skipped`.
    public var phase: String
    /// What the step acts on: the unit, the command line, the URL, the profile.
    public var target: String
    /// On `end` and `skipped`: `ok`, `failed`, `timeout`, `dry_run`, `interrupted` or `skipped`.
    public var result: String?
    /// Why, for people.
    public var detail: String?
    public var exitStatus: Int?
    public var durationMs: Double?
    /// rollback: the generation rolled back to.
    public var generation: Int?
    /// Set (true) when `--dry-run` decided the step without running it.
    public var dryRun: Bool?

    enum CodingKeys: String, CodingKey {
        case watcher, incident, step, kind, attempt, phase, target, result, detail
        case exitStatus = "exit_status"
        case durationMs = "duration_ms"
        case generation
        case dryRun = "dry_run"
    }
}

/// Something a person should know: a `watch.alert` record.
public struct WatchAlertRecord: Record, Equatable {
    public static let type = "watch.alert"

    public var watcher: String
    /// `tripped`, `exhausted`, `flapping`, `resolved` or `notify` (the body a notify step sends).
    public var alert: String
    /// `info`, `warning` or `critical`.
    public var severity: String
    public var state: String
    public var incident: Int?
    public var message: String

    enum CodingKeys: String, CodingKey { case watcher, alert, severity, state, incident, message }
}
