import OsmodaIPC

/// The process at the other end of a connection, as the kernel reports it
/// (`SO_PEERCRED`, `SO_PEERGROUPS`, `/proc/PID/exe`), and the role that gives it.
///
/// This is the only source of "who acted": nothing in a request can change it. The
/// credentials are those the peer had when it called `connect(2)`; they are read once
/// per connection, and the role is worked out from them again for every request.
public struct Peer: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups; empty where the kernel does not report them.
    public var groups: [UInt32]
    /// The peer's executable, from `readlink /proc/PID/exe` at connect time; `nil` when it
    /// could not be read (the process had gone, or `/proc` is mounted with `hidepid`).
    public var exe: String?
    public var role: Role

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32] = [], exe: String? = nil, role: Role) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.exe = exe
        self.role = role
    }

    /// The peer as `daemon.whoami` reports it.
    public var identity: CallerIdentity {
        CallerIdentity(pid: pid, uid: uid, gid: gid, groups: groups, exe: exe, role: role)
    }
}

/// A connection's credentials before a role is given to them.
struct Credentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
    var groups: [UInt32]
    var exe: String?

    func peer(role: Role) -> Peer {
        Peer(pid: pid, uid: uid, gid: gid, groups: groups, exe: exe, role: role)
    }
}
