import OsmodaCore
import OsmodaSystem

/// One run of a routine, as kept in its history.
public struct RunEntry: Codable, Sendable, Equatable {
    /// `NAME-STARTMS-PID-SEQ`, unique per scheduler process.
    public var id: String
    /// What started it: `cron`, `interval`, `reboot`, `event`, `manual`, `catch-up`, `queued`.
    public var trigger: String
    /// The scheduled time the run stands for (ms since the epoch), when it had one.
    public var scheduledFor: Int64?
    public var started: Int64
    public var ended: Int64?
    /// `running` until it ends; then `ok`, `failed`, `timeout`, `error` (could not start),
    /// `skipped` (overlap policy) or `interrupted` (the scheduler died during the run).
    public var outcome: String
    public var exitStatus: Int?
    public var signal: Int?
    public var durationMs: Int64?
    public var stdoutTail: String?
    public var stderrTail: String?
    public var detail: String?
    /// The scheduler process that ran it and its boot, to tell a live run from an interrupted one.
    public var schedulerPid: Int32
    public var bootID: String
    /// The child's process id (its process group id).
    public var childPid: Int32?
    /// The scheduler's start time (`processStartTicks`), so that a later process that
    /// got the same pid is not taken for it.
    public var schedulerStart: UInt64?

    enum CodingKeys: String, CodingKey {
        case id, trigger, scheduledFor = "scheduled_for_ms", started = "started_ms", ended = "ended_ms", outcome
        case exitStatus = "exit_status", signal, durationMs = "duration_ms", stdoutTail = "stdout_tail"
        case stderrTail = "stderr_tail", detail, schedulerPid = "scheduler_pid", bootID = "boot_id", childPid = "child_pid"
        case schedulerStart = "scheduler_start_ticks"
    }
}

/// What is kept about one routine between runs of the scheduler.
public struct RoutineState: Codable, Sendable, Equatable {
    public var name: String
    /// cron: the last scheduled time that was run (or skipped on purpose); the next
    /// is computed after it. interval: when the last run started.
    public var lastDue: Int64?
    /// When it is next due (ms), for `list` and for interval triggers.
    public var nextDue: Int64?
    /// reboot: the boot in which it last ran (or was first seen).
    public var bootID: String?
    /// Runs, oldest first, at most `StateStore.historyLimit`.
    public var runs: [RunEntry]

    enum CodingKeys: String, CodingKey {
        case name, lastDue = "last_due_ms", nextDue = "next_due_ms", bootID = "boot_id", runs
    }

    public init(name: String) {
        self.name = name
        self.runs = []
    }
}

/// The state directory: `NAME.state.json` per routine, each replaced atomically
/// (`Sys.writeFileAtomically`) on every change.
public final class StateStore: @unchecked Sendable {
    public static let historyLimit = 100
    /// The most of each output tail a history entry keeps (the routine.run record carries
    /// up to `output_limit_bytes`): with 100 runs the file stays under about a megabyte,
    /// however large the limit, and rewriting it on every run stays cheap.
    public static let historyTailLimit = 4096
    public let directory: String
    /// Guards the files against the scheduler's own threads (one writer per routine at a time).
    let monitor = ConditionMonitor()

    public init(directory: String) throws(SystemError) {
        self.directory = directory
        try Sys.makeDirectories(directory, mode: 0o700)
    }

    func path(_ name: String) -> String { directory + "/" + name + ".state.json" }

    /// The saved state, or a fresh one when there is none. An unreadable or corrupt file
    /// is an error: state is never silently reset.
    public func load(_ name: String) throws(DefinitionError) -> RoutineState {
        let p = path(name)
        guard FileStatus.exists(p) else { return RoutineState(name: name) }
        do {
            let bytes = try Sys.readFile(p)
            return try ValueDecoder.decode(RoutineState.self, from: try JSONReader.parse(bytes))
        } catch {
            throw DefinitionError(path: p, message: "corrupt state file: \(error)")
        }
    }

    public func save(_ s: RoutineState) throws(SystemError) {
        var s = s
        if s.runs.count > Self.historyLimit { s.runs.removeFirst(s.runs.count - Self.historyLimit) }
        for k in s.runs.indices {
            s.runs[k].stdoutTail = s.runs[k].stdoutTail.map { Self.tail($0, Self.historyTailLimit) }
            s.runs[k].stderrTail = s.runs[k].stderrTail.map { Self.tail($0, Self.historyTailLimit) }
        }
        let value = (try? ValueEncoder.encode(s)) ?? .null
        var out: [UInt8] = []
        JSONWriter.write(value, into: &out)
        out.append(0x0A)
        try Sys.writeFileAtomically(path(s.name), out, mode: 0o600)
    }

    /// The last `limit` bytes of `text` or fewer, starting on a whole character.
    static func tail(_ text: String, _ limit: Int) -> String {
        let u = text.utf8
        guard u.count > limit else { return text }
        var start = u.index(u.endIndex, offsetBy: -limit)
        while start < u.endIndex && u[start] & 0xC0 == 0x80 { start = u.index(after: start) }
        return String(decoding: u[start...], as: UTF8.self)
    }

    /// Loads, changes and saves one routine's state under the store's lock.
    @discardableResult
    public func update(_ name: String, _ change: (inout RoutineState) -> Void) throws -> RoutineState {
        try monitor.withLock {
            var s = try load(name)
            change(&s)
            try save(s)
            return s
        }
    }

    /// Marks as `interrupted` the runs left `running` by a scheduler that is gone (another
    /// boot, or a process that no longer exists). Returns the runs it marked.
    public func markInterrupted(_ name: String, bootID: String, isAlive: (RunEntry) -> Bool) throws -> [RunEntry] {
        var marked: [RunEntry] = []
        let s = try load(name)
        guard s.runs.contains(where: { $0.outcome == "running" }) else { return [] }
        try update(name) { s in
            for k in s.runs.indices where s.runs[k].outcome == "running" {
                let r = s.runs[k]
                if r.bootID != bootID || !isAlive(r) {
                    s.runs[k].outcome = "interrupted"
                    s.runs[k].detail = "the scheduler (pid \(r.schedulerPid)) ended during the run; its end and exit status are unknown"
                    marked.append(s.runs[k])
                }
            }
        }
        return marked
    }
}

/// The current boot: `/proc/sys/kernel/random/boot_id`, else `btime` from `/proc/stat`.
public func currentBootID(procRoot: String = "/proc") -> String {
    if let id = Sys.readText(procRoot + "/sys/kernel/random/boot_id") {
        let t = id.split(whereSeparator: { $0 == "\n" }).first.map(String.init) ?? ""
        if !t.isEmpty { return t }
    }
    if let stat = Sys.readText(procRoot + "/stat") {
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return "btime-" + line.dropFirst(6)
        }
    }
    return "unknown"
}

/// A process's start time in clock ticks after boot (field 22 of `/proc/PID/stat`), or
/// `nil` when it cannot be read. With the pid it names one process for the whole boot.
public func processStartTicks(_ pid: Int32, procRoot: String = "/proc") -> UInt64? {
    guard let stat = Sys.readText("\(procRoot)/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
    // After the command's closing parenthesis: field 3 (state) onwards.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19 else { return nil }
    return UInt64(fields[19])
}
