import OsmodaCore

/// `routine.run`: a run started (`outcome` `running`) or ended (any other outcome).
public struct RoutineRunRecord: Record, Equatable {
    public static let type = "routine.run"
    public var name: String
    public var runId: String
    public var trigger: String
    public var outcome: String
    public var scheduledFor: String?
    public var started: String
    public var ended: String?
    public var durationMs: Int64?
    public var exitStatus: Int?
    public var signal: Int?
    public var stdoutTail: String?
    public var stderrTail: String?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case name, runId = "run_id", trigger, outcome, scheduledFor = "scheduled_for", started, ended
        case durationMs = "duration_ms", exitStatus = "exit_status", signal, stdoutTail = "stdout_tail"
        case stderrTail = "stderr_tail", detail
    }

    public init(name: String, entry e: RunEntry) {
        func iso(_ ms: Int64) -> String { Timestamp(millisecondsSinceEpoch: ms).rfc3339 }
        self.name = name
        self.runId = e.id
        self.trigger = e.trigger
        self.outcome = e.outcome
        self.scheduledFor = e.scheduledFor.map(iso)
        self.started = iso(e.started)
        self.ended = e.ended.map(iso)
        self.durationMs = e.durationMs
        self.exitStatus = e.exitStatus
        self.signal = e.signal
        self.stdoutTail = e.stdoutTail
        self.stderrTail = e.stderrTail
        self.detail = e.detail
    }

    /// When the record happened: the end of a finished run, else its start.
    public var timestamp: Timestamp { Timestamp(rfc3339: ended ?? started) ?? Timestamp(millisecondsSinceEpoch: 0) }
}
