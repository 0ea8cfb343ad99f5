import OsmodaSystem

/// One line of /etc/passwd.
package struct PasswdEntry: Sendable, Equatable {
    package var name: String
    package var uid: Int
    package var gid: Int
    package var gecos: String
    package var home: String
    package var shell: String
}

/// One line of /etc/group.
package struct GroupEntry: Sendable, Equatable {
    package var name: String
    package var gid: Int
    package var members: [String]
}

/// /etc/passwd and /etc/group, read once and looked up by id.
///
/// Only the files are read, not NSS: users that live only in LDAP or systemd's
/// dynamic users have no name here (their `user` is `null`).
package struct UserDatabase {
    package let users: [PasswdEntry]
    package let groups: [GroupEntry]
    private let nameByUID: [Int: String]
    private let nameByGID: [Int: String]

    /// Reads both files; either may be missing (then nothing is found in it).
    package init(etcRoot: String) {
        let reader = ProcfsReader()
        self.init(users: reader.withContents(of: etcRoot + "/passwd") { UserDatabase.parsePasswd($0) } ?? [],
                  groups: reader.withContents(of: etcRoot + "/group") { UserDatabase.parseGroup($0) } ?? [])
    }

    /// Reads both files; /etc/passwd must be readable, /etc/group may be missing.
    package static func load(etcRoot: String) throws(SystemError) -> UserDatabase {
        let reader = ProcfsReader()
        let users = try reader.withContentsOrThrow(of: etcRoot + "/passwd") { parsePasswd($0) }
        let groups = reader.withContents(of: etcRoot + "/group") { parseGroup($0) } ?? []
        return UserDatabase(users: users, groups: groups)
    }

    package init(users: [PasswdEntry], groups: [GroupEntry]) {
        self.users = users
        self.groups = groups
        var byUID: [Int: String] = [:]
        for u in users where byUID[u.uid] == nil { byUID[u.uid] = u.name }
        var byGID: [Int: String] = [:]
        for g in groups where byGID[g.gid] == nil { byGID[g.gid] = g.name }
        nameByUID = byUID
        nameByGID = byGID
    }

    /// The first user name with this uid, as `getpwuid(3)` would find it in files.
    package func userName(_ uid: Int) -> String? { nameByUID[uid] }
    package func groupName(_ gid: Int) -> String? { nameByGID[gid] }

    /// Splits a colon-separated line; `nil` for blank lines, comments and NIS `+`/`-` entries.
    private static func fields(_ line: UnsafeBufferPointer<UInt8>) -> [String]? {
        guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "+"), first != UInt8(ascii: "-") else { return nil }
        return line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    package static func parsePasswd(_ b: UnsafeBufferPointer<UInt8>) -> [PasswdEntry] {
        var out: [PasswdEntry] = []
        var s = ProcfsScanner(b)
        while let line = s.nextLine() {
            guard let f = fields(line), f.count >= 7, !f[0].isEmpty, let uid = Int(f[2]), let gid = Int(f[3]) else { continue }
            out.append(PasswdEntry(name: f[0], uid: uid, gid: gid, gecos: f[4], home: f[5], shell: f[6]))
        }
        return out
    }

    package static func parseGroup(_ b: UnsafeBufferPointer<UInt8>) -> [GroupEntry] {
        var out: [GroupEntry] = []
        var s = ProcfsScanner(b)
        while let line = s.nextLine() {
            guard let f = fields(line), f.count >= 4, !f[0].isEmpty, let gid = Int(f[2]) else { continue }
            let members = f[3].split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
            out.append(GroupEntry(name: f[0], gid: gid, members: members))
        }
        return out
    }
}

extension QueryTables {
    /// The users table: every /etc/passwd entry, in file order, with the names of its
    /// primary group and of every group that lists it as a member.
    package static func users(_ o: QueryOptions) throws(QueryError) -> [UserRecord] {
        let db: UserDatabase
        do throws(SystemError) { db = try UserDatabase.load(etcRoot: o.etcRoot) } catch { throw .io(error) }
        return db.users.map { u in
            var names: [String] = []
            if let primary = db.groupName(u.gid) { names.append(primary) }
            for g in db.groups where g.members.contains(u.name) && !names.contains(g.name) { names.append(g.name) }
            return UserRecord(name: u.name, uid: u.uid, gid: u.gid, group: db.groupName(u.gid), groups: names,
                              gecos: u.gecos, home: u.home, shell: u.shell)
        }
    }
}
