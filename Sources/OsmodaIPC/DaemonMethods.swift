/// The names of the methods every daemon answers, whatever services it runs.
public enum DaemonMethod {
    /// `{}` → `{"pong": true}`; role `reader`. Checks that the daemon answers and that the
    /// caller has a role.
    public static let ping = "daemon.ping"
    /// `{}` → `DaemonStatus`; role `reader`.
    public static let status = "daemon.status"
    /// `{}` → `CallerIdentity`: who the daemon takes the caller to be; role `reader`.
    public static let whoami = "daemon.whoami"
}

/// The result of `daemon.ping`.
public struct PingResult: Codable, Sendable, Equatable {
    public var pong: Bool
    public init(pong: Bool = true) { self.pong = pong }
}

/// The result of `daemon.status`.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int32
    public var uptimeMs: Int64
    /// `system` or `user`.
    public var mode: String
    public var socket: String
    public var stateDir: String
    /// Whether the listening socket came from systemd (`LISTEN_FDS`).
    public var socketActivated: Bool
    public var connections: ConnectionCounts

    enum CodingKeys: String, CodingKey {
        case version, pid, mode, socket, connections
        case uptimeMs = "uptime_ms"
        case stateDir = "state_dir"
        case socketActivated = "socket_activated"
    }

    public init(version: String, pid: Int32, uptimeMs: Int64, mode: String, socket: String, stateDir: String,
                socketActivated: Bool, connections: ConnectionCounts) {
        self.version = version
        self.pid = pid
        self.uptimeMs = uptimeMs
        self.mode = mode
        self.socket = socket
        self.stateDir = stateDir
        self.socketActivated = socketActivated
        self.connections = connections
    }
}

/// Connection counters in `daemon.status`.
public struct ConnectionCounts: Codable, Sendable, Equatable {
    /// Open now.
    public var active: Int
    /// The cap on open connections, in all and per uid.
    public var limit: Int
    public var perUidLimit: Int
    /// Since the start: accepted and served, refused with `daemon.busy`, closed for idling
    /// or for a frame not finished in time.
    public var accepted: Int
    public var refusedBusy: Int
    public var timedOut: Int

    enum CodingKeys: String, CodingKey {
        case active, limit, accepted
        case perUidLimit = "per_uid_limit"
        case refusedBusy = "refused_busy"
        case timedOut = "timed_out"
    }

    public init(active: Int, limit: Int, perUidLimit: Int, accepted: Int, refusedBusy: Int, timedOut: Int) {
        self.active = active
        self.limit = limit
        self.perUidLimit = perUidLimit
        self.accepted = accepted
        self.refusedBusy = refusedBusy
        self.timedOut = timedOut
    }
}

/// The result of `daemon.whoami`: the caller as the daemon sees it, from `SO_PEERCRED`.
public struct CallerIdentity: Codable, Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups (`SO_PEERGROUPS`); empty where the kernel does not say.
    public var groups: [UInt32]
    /// `/proc/PID/exe`, or null when it could not be read.
    public var exe: String?
    public var role: Role

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32], exe: String?, role: Role) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.exe = exe
        self.role = role
    }
}
