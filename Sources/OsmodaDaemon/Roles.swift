import OsmodaCore
import OsmodaIPC
import OsmodaSystem

/// `roles.json` as written: for each role, the uids, gids, user names and group names
/// that have it. Every member is optional; unknown fields are an error.
///
///     {
///       "admin":  { "groups": ["wheel"] },
///       "agent":  { "users": ["agent"], "uids": [1001] },
///       "reader": { "gids": [100] }
///     }
public struct RolesFile: Codable, Sendable, Equatable {
    public struct Members: Codable, Sendable, Equatable {
        public var uids: [UInt32]?
        public var gids: [UInt32]?
        /// User names, looked up in the passwd file when the roles are loaded.
        public var users: [String]?
        /// Group names, looked up in the group file when the roles are loaded.
        public var groups: [String]?

        public init(uids: [UInt32]? = nil, gids: [UInt32]? = nil, users: [String]? = nil, groups: [String]? = nil) {
            self.uids = uids
            self.gids = gids
            self.users = users
            self.groups = groups
        }
    }

    public var admin: Members?
    public var agent: Members?
    public var reader: Members?

    public init(admin: Members? = nil, agent: Members? = nil, reader: Members? = nil) {
        self.admin = admin
        self.agent = agent
        self.reader = reader
    }
}

/// User and group names to ids, from files in the format of /etc/passwd and /etc/group.
/// Names only: whether a process is in a group is what the kernel says of it
/// (`SO_PEERGROUPS`), not the member list of /etc/group.
public struct AccountNames: Sendable, Equatable {
    public var users: [String: UInt32]
    public var groups: [String: UInt32]

    public init(users: [String: UInt32] = [:], groups: [String: UInt32] = [:]) {
        self.users = users
        self.groups = groups
    }

    /// Reads `passwd` and `group`; a file that cannot be read gives no names. Blank
    /// lines, comments and NIS `+`/`-` lines are skipped; for a name given twice, the first.
    public static func read(passwd: String = "/etc/passwd", group: String = "/etc/group") -> AccountNames {
        AccountNames(users: parse(Sys.readText(passwd) ?? ""), groups: parse(Sys.readText(group) ?? ""))
    }

    /// `name:password:id:…` lines to a name → id table.
    static func parse(_ text: String) -> [String: UInt32] {
        var table: [String: UInt32] = [:]
        for line in text.split(separator: "\n") {
            guard let first = line.first, first != "#", first != "+", first != "-" else { continue }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, !fields[0].isEmpty, let id = UInt32(fields[2]) else { continue }
            let name = String(fields[0])
            if table[name] == nil { table[name] = id }
        }
        return table
    }
}

/// Why `roles.json` was refused: a configuration error (exit 78).
public struct RolesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Who has which role, by uid and by gid.
///
/// A caller's role is the highest that its uid, its primary gid or any of its
/// supplementary gids has; a caller with none is refused (`auth.denied`). The
/// implicit admin (root in system mode, the daemon's own uid in user mode) is admin
/// whatever the file says.
public struct Roles: Sendable, Equatable {
    public var implicitAdmin: UInt32
    public var byUID: [UInt32: Role]
    public var byGID: [UInt32: Role]

    public init(implicitAdmin: UInt32, byUID: [UInt32: Role] = [:], byGID: [UInt32: Role] = [:]) {
        self.implicitAdmin = implicitAdmin
        self.byUID = byUID
        self.byGID = byGID
    }

    /// The implicit admin for a mode: uid 0 in system mode, `ownUID` in user mode.
    public static func implicitAdmin(mode: Paths.Mode, ownUID: UInt32) -> UInt32 {
        mode == .system ? 0 : ownUID
    }

    /// The role of a caller, or `nil` for a stranger.
    public func role(uid: UInt32, gids: [UInt32]) -> Role? {
        if uid == implicitAdmin { return .admin }
        var best = byUID[uid]
        for gid in gids {
            if let r = byGID[gid], best.map({ r > $0 }) ?? true { best = r }
        }
        return best
    }

    /// Resolves names to ids; a name that is not in `accounts` is an error, so that a
    /// misspelt group grants nothing silently.
    public static func resolve(_ file: RolesFile, implicitAdmin: UInt32, accounts: AccountNames) throws(RolesError) -> Roles {
        var roles = Roles(implicitAdmin: implicitAdmin)
        // Lowest first, so that a higher role for the same id wins.
        for (role, members) in [(Role.reader, file.reader), (.agent, file.agent), (.admin, file.admin)] {
            guard let members else { continue }
            for uid in members.uids ?? [] { roles.byUID[uid] = role }
            for gid in members.gids ?? [] { roles.byGID[gid] = role }
            for name in members.users ?? [] {
                guard let uid = accounts.users[name] else { throw RolesError("\(role.rawValue): no user '\(name)'") }
                roles.byUID[uid] = role
            }
            for name in members.groups ?? [] {
                guard let gid = accounts.groups[name] else { throw RolesError("\(role.rawValue): no group '\(name)'") }
                roles.byGID[gid] = role
            }
        }
        return roles
    }

    /// Loads `path` (`roles.json`); a missing file gives the implicit admin alone.
    ///
    /// - Throws: `RolesError` naming the file for a file that is not JSON, has unknown
    ///   or mistyped fields, or names an unknown user or group.
    public static func load(path: String, implicitAdmin: UInt32, accounts: @autoclosure () -> AccountNames = AccountNames.read()) throws(RolesError) -> Roles {
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(path, limit: 1 << 20)
        } catch {
            if error.code == Errno.noEntry { return Roles(implicitAdmin: implicitAdmin) }
            throw RolesError("\(error)")
        }
        let file: RolesFile
        do {
            file = try ValueDecoder.decode(RolesFile.self, from: try JSONReader.parse(bytes))
        } catch let e as JSONError {
            throw RolesError("'\(path)': \(e)")
        } catch let e as ValueDecodingError {
            throw RolesError("'\(path)': \(e)")
        } catch {
            throw RolesError("'\(path)': \(error)")
        }
        do {
            return try resolve(file, implicitAdmin: implicitAdmin, accounts: accounts())
        } catch {
            throw RolesError("'\(path)': \(error.message)")
        }
    }
}
