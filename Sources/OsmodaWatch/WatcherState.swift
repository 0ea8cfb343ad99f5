import OsmodaCore

/// Where a watcher is: `ok`, `failing` (an incident is open and the ladder runs),
/// `failed` (the ladder is exhausted; nothing more is tried until it recovers) or
/// `flapping` (it changed state too often; actions are paused).
public enum WatchStatus: String, Codable, Sendable {
    case ok, failing, failed, flapping
}

/// Where an open incident's ladder is.
public enum LadderPhase: String, Codable, Sendable {
    /// No step is pending (no incident, or the ladder is exhausted).
    case idle
    /// A step was started and has not ended (after a crash: it was interrupted).
    case running
    /// A step ended well; the watcher is given `settle` before it is judged again.
    case settling
    /// Settled, but no matched record has arrived since the step ended: the next
    /// failing record judges it.
    case awaiting
    /// Waiting `backoff` before the same step is attempted again.
    case backoff
}

/// One matched record's outcome in the failure window.
public struct Sample: Codable, Sendable, Equatable {
    public var t: Int64
    public var failed: Bool
}

/// Everything a watcher remembers between records, and between runs (`--state`).
///
/// The counters and when they reset are described in docs/watch.md and tested by
/// `WatchEngineTests`.
public struct WatcherState: Codable, Sendable, Equatable {
    public var status: WatchStatus = .ok
    /// Matched outcomes while healthy: the trip window.
    public var window: [Sample] = []
    /// Consecutive passing records while unhealthy.
    public var passes: Int = 0
    /// The open incident's number, and how many incidents there have been.
    public var incident: Int?
    public var incidents: Int = 0
    /// The ladder position and the attempts of that step in this incident.
    public var step: Int = 0
    public var attempts: Int = 0
    public var phase: LadderPhase = .idle
    /// When `settling` or `backoff` ends, in ms since the epoch.
    public var deadline: Int64?
    /// Whether the last matched record since the step ended failed (`nil`: none yet).
    public var failedSinceStep: Bool?
    /// Per ladder step, when it was started (for `cap.per`), pruned as they age out.
    public var starts: [[Int64]] = []
    /// A rollback already ran in this incident.
    public var rolledBack: Bool = false
    /// The last generation seen while healthy, and when it was learnt.
    public var lastGood: Int?
    public var learnedAt: Int64?
    /// Trips and recoveries, for flapping.
    public var changes: [Int64] = []
    /// While flapping: whether the underlying condition is failing, and since when it has not changed.
    public var underlyingFailing: Bool = false
    public var quietSince: Int64?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case status, window, passes, incident, incidents, step, attempts, phase, deadline
        case failedSinceStep = "failed_since_step"
        case starts
        case rolledBack = "rolled_back"
        case lastGood = "last_good"
        case learnedAt = "learned_at"
        case changes
        case underlyingFailing = "underlying_failing"
        case quietSince = "quiet_since"
    }
}

/// The state file: `{"version": 1, "watchers": {"name": {…}}}`.
public struct StateFile: Codable, Sendable {
    public var version: Int
    public var watchers: [String: WatcherState]

    public init(version: Int = 1, watchers: [String: WatcherState]) {
        self.version = version
        self.watchers = watchers
    }

    public func encoded() -> [UInt8] {
        var names = Array(watchers.keys).sorted()
        names = names.filter { watchers[$0] != nil }
        var obj = JSONObject()
        obj.append("version", .int(Int64(version)))
        var ws = JSONObject()
        for n in names {
            guard let s = watchers[n], let v = try? ValueEncoder.encode(s) else { continue }
            ws.append(n, v)
        }
        obj.append("watchers", .object(ws))
        var out: [UInt8] = []
        JSONWriter.write(.object(obj), into: &out)
        out.append(0x0A)
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws -> StateFile {
        let value = try JSONReader.parse(bytes)
        guard case .object(let o) = value, case .object(let ws)? = o["watchers"] else {
            throw ValueDecodingError(path: "", message: "expected an object with 'watchers'")
        }
        guard o["version"] == .int(1) else { throw ValueDecodingError(path: "version", message: "expected 1") }
        var out: [String: WatcherState] = [:]
        for m in ws.members {
            do {
                out[m.key] = try ValueDecoder.decode(WatcherState.self, from: m.value)
            } catch {
                throw ValueDecodingError(path: "watchers.\(m.key).\(error.path)", message: error.message)
            }
        }
        return StateFile(watchers: out)
    }
}
