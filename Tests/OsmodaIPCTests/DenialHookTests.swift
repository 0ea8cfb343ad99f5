#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import Synchronization
import Testing

/// `Router.register(onDenied:)`: a method's hook sees every request the role check
/// refuses (a stranger's too), before the refusal is answered; the answer is unchanged.
@Suite struct DenialHook {
    @Test func hookSeesRoleRefusalsAndNothingElse() throws {
        let seen = Mutex([DeniedRequest]())
        var router = Router()
        router.register("test.admin", role: .admin, onDenied: { d in seen.withLock { $0.append(d) } }) { (_, _) throws(RPCError) in .bool(true) }
        router.register("test.plain", role: .admin) { (_, _) throws(RPCError) in .bool(true) }
        let c = Credentials(pid: 42, uid: 1001, gid: 1001, groups: [], exe: "/bin/agent")
        let request = { (m: String) in RPCRequest(id: .number(1), method: m) }

        // An agent asking for an admin method: refused, hooked with its role.
        let agent = Roles(implicitAdmin: 0, byUID: [1001: .agent])
        let r1 = router.handle(request("test.admin"), credentials: c, roles: agent)
        guard case .error(let e1)? = r1?.outcome else { Issue.record("served"); return }
        #expect(e1.code == .denied)
        // A stranger: refused as before (no hint of which methods exist), still hooked.
        let none = Roles(implicitAdmin: 0)
        let r2 = router.handle(request("test.admin"), credentials: c, roles: none)
        guard case .error(let e2)? = r2?.outcome else { Issue.record("served"); return }
        #expect(e2.message == "uid 1001 has no role in this daemon")
        // A method without a hook, an unknown method, and an allowed call: no hook.
        _ = router.handle(request("test.plain"), credentials: c, roles: agent)
        _ = router.handle(request("no.such"), credentials: c, roles: none)
        let admin = Roles(implicitAdmin: 1001)
        #expect(router.handle(request("test.admin"), credentials: c, roles: admin)?.outcome == .result(.bool(true)))

        let got = seen.withLock { $0 }
        #expect(got.count == 2)
        #expect(got.first?.role == .agent && got.first?.requiredRole == .admin && got.first?.uid == 1001 && got.first?.exe == "/bin/agent")
        #expect(got.last?.role == nil && got.last?.error == e2)
    }
}
