#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaSystem
import Testing

/// A uid that is not this process's.
private let otherUID: UInt32 = getuid() == 4242 ? 4243 : 4242

private func adminOnlyRouter() -> Router {
    var r = Router()
    r.register("test.admin", role: .admin) { (_, _) throws(RPCError) in .bool(true) }
    return r
}

@Suite struct Authorisation {
    @Test func strangerIsRefusedEverything() throws {
        let d = try TestDaemon(router: adminOnlyRouter(), roles: Roles(implicitAdmin: otherUID)).start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(requestLine(DaemonMethod.ping, id: 1) + requestLine("no.such", id: 2) + requestLine("test.admin", id: 3))
        for id in 1...3 {
            let r = try raw.response()
            #expect(r.id == .number(Int64(id)) && r.errorCode == .denied && r.rpcError?.number == -32003)
            #expect(r.rpcError?.message == "uid \(getuid()) has no role in this daemon")
        }
        do {
            _ = try d.client().call(DaemonMethod.ping)
            Issue.record("a stranger was served")
        } catch let e as ClientError {
            #expect(e == .permissionDenied("daemon.ping: uid \(getuid()) has no role in this daemon"))
            #expect(e.exitStatus == 77)
        }
    }

    @Test func readerMayReadButNotAdminister() throws {
        let roles = Roles(implicitAdmin: otherUID, byUID: [getuid(): .reader])
        let d = try TestDaemon(router: adminOnlyRouter(), roles: roles).start()
        defer { d.close() }
        let client = try d.client()
        #expect(try client.call(DaemonMethod.ping) != .null)
        #expect(try client.call(DaemonMethod.whoami, params: NoParams(), as: CallerIdentity.self).role == .reader)
        let raw = try d.raw()
        try raw.send(requestLine("test.admin", id: 8))
        let e = try #require(try raw.response().rpcError)
        #expect(e.code == .denied && e.details["required_role"] == .string("admin") && e.details["role"] == .string("reader"))
    }

    @Test func roleByGroup() throws {
        let d = try TestDaemon(roles: Roles(implicitAdmin: otherUID, byGID: [getgid(): .agent])).start()
        defer { d.close() }
        #expect(try d.client().call(DaemonMethod.whoami, params: NoParams(), as: CallerIdentity.self).role == .agent)
    }

    @Test func rolesAreCheckedOnEveryRequest() throws {
        let d = try TestDaemon(roles: Roles(implicitAdmin: otherUID)).start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(requestLine(DaemonMethod.ping, id: 1))
        #expect(try raw.response().errorCode == .denied)
        d.server.replaceRoles(Roles(implicitAdmin: otherUID, byUID: [getuid(): .reader]))
        try raw.send(requestLine(DaemonMethod.ping, id: 2))
        #expect(try raw.response().resultValue != nil)
        d.server.replaceRoles(Roles(implicitAdmin: otherUID))
        try raw.send(requestLine(DaemonMethod.ping, id: 3))
        #expect(try raw.response().errorCode == .denied)
    }
}

/// Where the tests run as root: a real second uid (nobody, 65534) through `setpriv`,
/// with a small Python client, so that the daemon sees another process and another uid.
private let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { PathCalls.isExecutableFile($0) }

@Suite(.enabled(if: getuid() == 0 && python3 != nil && setpriv != nil, "needs root, setpriv and /usr/bin/python3"))
struct SecondUID {
    private static let client = """
    import json, os, socket, sys
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    f = s.makefile("rwb")
    print(os.getpid(), flush=True)
    for i, m in enumerate(sys.argv[2:]):
        f.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": m}) + "\\n").encode())
        f.flush()
        print(f.readline().decode().strip(), flush=True)
    """

    /// Runs the client as uid/gid 65534 with no supplementary groups; its pid and the
    /// responses it read.
    private func asNobody(_ socket: String, _ methods: [String]) throws -> (pid: Int32, responses: [RPCResponse]) {
        let argv = [setpriv ?? "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python3 ?? "python3", "-c", Self.client, socket] + methods
        let r = try Spawn.run(SpawnOptions(argv: argv, cwd: "/", timeoutMs: 30_000))
        let lines = String(decoding: r.stdoutTail, as: UTF8.self).split(separator: "\n").map(String.init)
        guard r.exitStatus == 0, let first = lines.first, let pid = Int32(first) else {
            throw TestFailure("client failed: \(r.statusDescription): \(String(decoding: r.stderrTail, as: UTF8.self))")
        }
        return (pid, try lines.dropFirst().map { try RPCResponse.decode(Array($0.utf8)) })
    }

    /// A system-mode daemon whose socket the other uid can reach.
    private func daemon(rolesJSON: String?) throws -> TestDaemon {
        let dir = try TempDir()
        try PathCalls.chmod(dir.path, mode: 0o755)
        let paths = Paths(mode: .system, socket: dir.file("run/osmodad.sock"), stateDirectory: dir.file("state"), configDirectory: dir.file("config"))
        try PathCalls.makeDirectories(paths.configDirectory, mode: 0o755)
        if let rolesJSON { try dir.write("config/roles.json", rolesJSON) }
        let roles = try Roles.load(path: paths.rolesFile, implicitAdmin: Roles.implicitAdmin(mode: .system, ownUID: getuid()))
        return try TestDaemon(roles: roles, mode: .system, socketMode: 0o666, dir: dir).start()
    }

    @Test func strangerUIDIsRefused() throws {
        let d = try daemon(rolesJSON: nil)
        defer { d.close() }
        let (_, responses) = try asNobody(d.paths.socket, [DaemonMethod.ping, DaemonMethod.whoami])
        #expect(responses.count == 2)
        for r in responses {
            #expect(r.errorCode == .denied)
            #expect(r.rpcError?.message == "uid 65534 has no role in this daemon")
        }
        // Root is still the implicit admin.
        #expect(try d.client().call(DaemonMethod.whoami, params: NoParams(), as: CallerIdentity.self).role == .admin)
    }

    @Test func mappedUIDIsServedAsItself() throws {
        let d = try daemon(rolesJSON: #"{"reader":{"uids":[65534]}}"#)
        defer { d.close() }
        let (pid, responses) = try asNobody(d.paths.socket, [DaemonMethod.ping, DaemonMethod.whoami])
        #expect(responses.first?.resultValue == .object(JSONObject(["pong": .bool(true)])))
        let me = try ValueDecoder.decode(CallerIdentity.self, from: try #require(responses.last?.resultValue))
        #expect(me.pid == pid && me.pid != getpid())
        #expect(me.uid == 65534 && me.gid == 65534 && me.groups.isEmpty && me.role == .reader)
        #expect(me.exe?.hasPrefix("/usr/bin/python3") == true, "\(me.exe ?? "nil")")
    }

    @Test(.enabled(if: AccountNames.read().groups["nogroup"] == 65534, "needs group 'nogroup' (65534) in /etc/group"))
    func groupNameFromEtcGroup() throws {
        let d = try daemon(rolesJSON: #"{"agent":{"groups":["nogroup"]}}"#)
        defer { d.close() }
        let (_, responses) = try asNobody(d.paths.socket, [DaemonMethod.whoami])
        let me = try ValueDecoder.decode(CallerIdentity.self, from: try #require(responses.first?.resultValue))
        #expect(me.role == .agent)
    }
}
