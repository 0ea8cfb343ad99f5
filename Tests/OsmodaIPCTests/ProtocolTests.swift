import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import Testing

private func decode(_ text: String) -> Result<RPCRequest, RPCRequest.Rejection> {
    do {
        return .success(try RPCRequest.decode(Array(text.utf8)))
    } catch {
        return .failure(error)
    }
}

private func rejection(_ text: String) -> RPCRequest.Rejection? {
    if case .failure(let r) = decode(text) { return r }
    return nil
}

@Suite struct RequestCoding {
    @Test func roundTrips() throws {
        let requests = [
            RPCRequest(id: .number(7), method: "daemon.ping"),
            RPCRequest(id: .string("a-1"), method: "ledger.append", params: .object(JSONObject(["type": .string("x.y")]))),
            RPCRequest(id: .null, method: "m", params: .array([.int(1), .bool(true)])),
            RPCRequest(id: nil, method: "note"),
        ]
        for r in requests {
            let line = r.encoded()
            #expect(line.last == 0x0A)
            #expect(!line.dropLast().contains(0x0A))
            #expect(try RPCRequest.decode(Array(line.dropLast())) == r)
        }
        #expect(String(decoding: requests[0].encoded(), as: UTF8.self) == #"{"jsonrpc":"2.0","id":7,"method":"daemon.ping"}"# + "\n")
        #expect(RPCRequest(id: nil, method: "note").isNotification)
    }

    @Test func whitespaceAndCarriageReturnAreFine() throws {
        let r = try RPCRequest.decode(Array(" {\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"m\"}\r".utf8))
        #expect(r == RPCRequest(id: .number(1), method: "m"))
    }

    @Test func parseErrors() {
        for text in ["{", "nope", "", "{\"jsonrpc\":\"2.0\",}", "\u{FEFF}{}"] {
            let r = rejection(text)
            #expect(r?.error.code == .parseError, "\(text)")
            #expect(r?.error.number == -32700)
            #expect(r?.id == .null)
        }
    }

    @Test func invalidRequests() {
        let cases: [(String, RPCID, String)] = [
            (#"[{"jsonrpc":"2.0","id":1,"method":"m"}]"#, .null, "batch requests are not supported; send one request per line"),
            (#""hello""#, .null, "a request must be a JSON object, not string"),
            (#"{"jsonrpc":"2.0","id":1,"method":"m","id":2}"#, .null, "duplicate member 'id'"),
            (#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#, .null, "'id' must be a string, an integer or null"),
            (#"{"jsonrpc":"2.0","id":{},"method":"m"}"#, .null, "'id' must be a string, an integer or null"),
            (#"{"jsonrpc":"1.0","id":3,"method":"m"}"#, .number(3), #"'jsonrpc' must be "2.0""#),
            (#"{"id":3,"method":"m"}"#, .number(3), #"'jsonrpc' must be "2.0""#),
            (#"{"jsonrpc":"2.0","id":"x","method":5}"#, .string("x"), "'method' must be a string"),
            (#"{"jsonrpc":"2.0","id":4,"method":"m","params":3}"#, .number(4), "'params' must be an object or an array"),
            (#"{"jsonrpc":"2.0","id":4,"method":"m","parms":{}}"#, .number(4), "unknown member 'parms'"),
        ]
        for (text, id, message) in cases {
            let r = rejection(text)
            #expect(r?.error.code == .invalidRequest, "\(text)")
            #expect(r?.error.number == -32600)
            #expect(r?.id == id, "\(text)")
            #expect(r?.error.message == message, "\(text)")
        }
    }

    @Test func tooDeep() {
        let deep = #"{"jsonrpc":"2.0","id":1,"method":"m","params":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(rejection(deep)?.error.code == .parseError)
    }
}

@Suite struct ResponseCoding {
    @Test func resultAndErrorRoundTrip() throws {
        let ok = RPCResponse(id: .number(1), result: .object(JSONObject(["pong": .bool(true)])))
        #expect(String(decoding: ok.encoded(), as: UTF8.self) == #"{"jsonrpc":"2.0","id":1,"result":{"pong":true}}"# + "\n")
        #expect(try RPCResponse.decode(Array(ok.encoded().dropLast())) == ok)

        let failed = RPCResponse(id: .null, error: .tooLarge(limit: 10))
        #expect(String(decoding: failed.encoded(), as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"request is larger than 10 bytes","data":{"code":"rpc.too_large","limit":10}}}"# + "\n")
        #expect(try RPCResponse.decode(Array(failed.encoded().dropLast())) == failed)
    }

    @Test func codeFromNumberWhenDataIsMissing() throws {
        let r = try RPCResponse.decode(Array(#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}}"#.utf8))
        #expect(r.errorCode == .methodNotFound)
        let other = try RPCResponse.decode(Array(#"{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"no"}}"#.utf8))
        #expect(other.errorCode == "rpc.error")
    }

    @Test func malformedResponses() {
        for text in ["[]", #"{"id":1,"result":1}"#, #"{"jsonrpc":"2.0","result":1}"#, #"{"jsonrpc":"2.0","id":1}"#,
                     #"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}"#,
                     #"{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}"#] {
            #expect(throws: RPCResponse.Malformed.self, "\(text)") { try RPCResponse.decode(Array(text.utf8)) }
        }
    }

    @Test func numericCodes() {
        let table: [(RPCErrorCode, Int)] = [
            (.parseError, -32700), (.invalidRequest, -32600), (.methodNotFound, -32601), (.invalidParams, -32602),
            (.internalError, -32603), (.tooLarge, -32001), (.timeout, -32002), (.denied, -32003), (.busy, -32004),
            (.stopping, -32005), ("ledger.sealed", -32000),
        ]
        for (code, number) in table { #expect(code.number == number, "\(code)") }
    }

    @Test func rolesAreOrdered() {
        #expect(Role.reader < .agent && Role.agent < .admin)
        #expect(Role.allCases.max() == .admin)
    }
}

@Suite struct Framing {
    private func events(_ chunks: [String], limit: Int = 16) -> [String] {
        var f = FrameBuffer(limit: limit)
        var out: [String] = []
        for c in chunks {
            f.append(Array(c.utf8))
            while let e = f.next() {
                switch e {
                case .frame(let b): out.append(String(decoding: b, as: UTF8.self))
                case .oversized: out.append("<oversized>")
                }
            }
        }
        if let e = f.finish() {
            switch e {
            case .frame(let b): out.append("<last>" + String(decoding: b, as: UTF8.self))
            case .oversized: out.append("<oversized>")
            }
        }
        return out
    }

    @Test func splitsAcrossChunks() {
        #expect(events(["ab", "c\nde", "f\n\ng\n"]) == ["abc", "def", "", "g"])
        #expect(events(["a\r\n"]) == ["a\r"])
    }

    @Test func lastLineWithoutNewline() {
        #expect(events(["a\nbc"]) == ["a", "<last>bc"])
        #expect(events(["a\n"]) == ["a"])
    }

    @Test func oversizedThenResynchronises() {
        // Over the limit within one chunk, with its newline.
        #expect(events([String(repeating: "x", count: 17) + "\nok\n"]) == ["<oversized>", "ok"])
        // Over the limit before its newline arrives: reported once, dropped to the newline.
        #expect(events([String(repeating: "x", count: 20), String(repeating: "y", count: 40), "z\nok\n"]) == ["<oversized>", "ok"])
        // Exactly at the limit is fine.
        #expect(events([String(repeating: "x", count: 16) + "\n"]) == [String(repeating: "x", count: 16)])
        // An oversized last frame is not reported twice at the end of the stream.
        #expect(events([String(repeating: "x", count: 40)]) == ["<oversized>"])
    }

    @Test func partialFrameState() {
        var f = FrameBuffer(limit: 8)
        #expect(!f.hasPartialFrame)
        f.append(Array("ab".utf8))
        #expect(f.next() == nil)
        #expect(f.hasPartialFrame)
        f.append(Array("\n".utf8))
        #expect(f.next() == .frame(Array("ab".utf8)))
        #expect(!f.hasPartialFrame)
        f.append(Array(String(repeating: "z", count: 9).utf8))
        #expect(f.next() == .oversized)
        #expect(f.hasPartialFrame)
    }

    @Test func largeFramesCompact() {
        var f = FrameBuffer(limit: 1 << 20)
        let line = Array(String(repeating: "a", count: 100_000).utf8) + [0x0A]
        var count = 0
        for _ in 0..<30 {
            f.append(line)
            while case .frame(let b)? = f.next() {
                #expect(b.count == 100_000)
                count += 1
            }
        }
        #expect(count == 30)
        #expect(!f.hasPartialFrame)
    }
}

@Suite struct PathResolution {
    @Test func systemDefaultsAndOverrides() throws {
        let p = try Paths.resolve(mode: .system, environment: [:], workingDirectory: "/w")
        #expect(p == Paths(mode: .system, socket: "/run/osmoda/osmodad.sock", stateDirectory: "/var/lib/osmoda", configDirectory: "/etc/osmoda"))
        #expect(p.lockFile == "/var/lib/osmoda/osmodad.lock")
        #expect(p.rolesFile == "/etc/osmoda/roles.json")
        let o = try Paths.resolve(mode: .system, environment: ["OSMODA_SOCKET": "s.sock", "OSMODA_STATE_DIR": "/st/", "OSMODA_CONFIG_DIR": "/c"],
                                  workingDirectory: "/w")
        #expect(o.socket == "/w/s.sock" && o.stateDirectory == "/st" && o.configDirectory == "/c")
    }

    @Test func userFromXDG() throws {
        let env = ["XDG_RUNTIME_DIR": "/run/user/1000", "XDG_STATE_HOME": "/h/state", "XDG_CONFIG_HOME": "/h/conf", "HOME": "/home/u"]
        let p = try Paths.resolve(mode: .user, environment: env, workingDirectory: "/")
        #expect(p == Paths(mode: .user, socket: "/run/user/1000/osmoda/osmodad.sock", stateDirectory: "/h/state/osmoda", configDirectory: "/h/conf/osmoda"))
    }

    @Test func userDefaultsFromHome() throws {
        let env = ["XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/u/", "XDG_STATE_HOME": "relative", "XDG_CONFIG_HOME": ""]
        let p = try Paths.resolve(mode: .user, environment: env, workingDirectory: "/")
        #expect(p.stateDirectory == "/home/u/.local/state/osmoda")
        #expect(p.configDirectory == "/home/u/.config/osmoda")
        let fallback = try Paths.resolve(mode: .user, environment: ["XDG_RUNTIME_DIR": "/r"], workingDirectory: "/", home: "/pw")
        #expect(fallback.stateDirectory == "/pw/.local/state/osmoda")
    }

    @Test func userNeedsARuntimeDirectoryOrASocket() throws {
        #expect(throws: PathsError.self) { try Paths.resolve(mode: .user, environment: ["HOME": "/h"], workingDirectory: "/") }
        #expect(throws: PathsError.self) { try Paths.resolve(mode: .user, environment: ["HOME": "/h", "XDG_RUNTIME_DIR": "run"], workingDirectory: "/") }
        let p = try Paths.resolve(mode: .user, environment: ["HOME": "/h", "OSMODA_SOCKET": "/t/s"], workingDirectory: "/")
        #expect(p.socket == "/t/s")
        #expect(throws: PathsError.self) { try Paths.resolve(mode: .user, environment: ["OSMODA_SOCKET": "/t/s"], workingDirectory: "/") }
    }

    @Test func defaultMode() {
        #expect(Paths.defaultMode(uid: 0, systemSocketExists: false) == .system)
        #expect(Paths.defaultMode(uid: 1000, systemSocketExists: true) == .system)
        #expect(Paths.defaultMode(uid: 1000, systemSocketExists: false) == .user)
    }
}

@Suite struct RolesConfig {
    private let accounts = AccountNames(
        users: AccountNames.parse("root:x:0:0::/root:/bin/sh\n# comment\nagent:x:1001:1001::/h:/bin/sh\n+nis\nbob:x:1002:100::/h:/bin/sh\n"),
        groups: AccountNames.parse("root:x:0:\nwheel:x:10:alice\nusers:x:100:\nbad:x:notanumber:\n"))

    @Test func parsesAccountFiles() {
        #expect(accounts.users == ["root": 0, "agent": 1001, "bob": 1002])
        #expect(accounts.groups == ["root": 0, "wheel": 10, "users": 100])
    }

    @Test func resolvesNamesAndPicksTheHighestRole() throws {
        let json = #"{"admin":{"groups":["wheel"]},"agent":{"users":["agent"],"uids":[2000]},"reader":{"gids":[100],"uids":[2000]}}"#
        let file = try ValueDecoder.decode(RolesFile.self, from: try JSONReader.parse(json))
        let roles = try Roles.resolve(file, implicitAdmin: 4242, accounts: accounts)
        #expect(roles.role(uid: 4242, gids: []) == .admin)
        #expect(roles.role(uid: 1001, gids: [1001]) == .agent)
        #expect(roles.role(uid: 2000, gids: []) == .agent)
        #expect(roles.role(uid: 1002, gids: [100]) == .reader)
        #expect(roles.role(uid: 1002, gids: [100, 10]) == .admin)
        #expect(roles.role(uid: 3000, gids: [3000]) == nil)
        #expect(roles.role(uid: 0, gids: [0]) == nil, "root is admin only as the implicit admin")
    }

    @Test func unknownNamesAndFieldsAreErrors() throws {
        let misspelt = try ValueDecoder.decode(RolesFile.self, from: try JSONReader.parse(#"{"admin":{"groups":["wheell"]}}"#))
        #expect(throws: RolesError("admin: no group 'wheell'")) { try Roles.resolve(misspelt, implicitAdmin: 0, accounts: accounts) }
        #expect(throws: ValueDecodingError.self) { try ValueDecoder.decode(RolesFile.self, from: try JSONReader.parse(#"{"admins":{}}"#)) }
        #expect(throws: ValueDecodingError.self) { try ValueDecoder.decode(RolesFile.self, from: try JSONReader.parse(#"{"admin":{"uid":[1]}}"#)) }
    }

    @Test func loadsFromAFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(try Roles.load(path: dir.file("roles.json"), implicitAdmin: 7) == Roles(implicitAdmin: 7))
        try dir.write("roles.json", #"{"reader":{"uids":[65534]}}"#)
        #expect(try Roles.load(path: dir.file("roles.json"), implicitAdmin: 7).byUID == [65534: .reader])
        try dir.write("roles.json", #"{"reader":{"uids":[65534]},"colour":1}"#)
        do {
            _ = try Roles.load(path: dir.file("roles.json"), implicitAdmin: 7)
            Issue.record("accepted an unknown field")
        } catch {
            #expect(error.message.contains("roles.json': 'colour'"), "\(error.message)")
        }
        try dir.write("roles.json", "{")
        #expect(throws: RolesError.self) { try Roles.load(path: dir.file("roles.json"), implicitAdmin: 7) }
    }

    @Test func implicitAdminByMode() {
        #expect(Roles.implicitAdmin(mode: .system, ownUID: 1000) == 0)
        #expect(Roles.implicitAdmin(mode: .user, ownUID: 1000) == 1000)
    }
}

@Suite struct Routing {
    private let me = Credentials(pid: 10, uid: 500, gid: 500, groups: [20], exe: "/bin/tool")

    private func router() -> Router {
        var r = Router()
        r.register("test.echo", role: .reader) { (peer, params) throws(RPCError) in
            .object(JSONObject(["uid": .int(Int64(peer.uid)), "role": .string(peer.role.rawValue), "params": params]))
        }
        r.register("test.admin", role: .admin) { (_, _) throws(RPCError) in .bool(true) }
        r.register("test.fail", role: .reader) { (_, _) throws(RPCError) in throw RPCError("ledger.sealed", "sealed") }
        struct Add: Codable, Sendable { var a: Int; var b: Int }
        struct Sum: Codable, Sendable { var sum: Int; var note: String? }
        r.register("test.add", role: .agent, params: Add.self) { (_, p) throws(RPCError) in Sum(sum: p.a + p.b, note: nil) }
        return r
    }

    private func call(_ method: String, _ params: JSONValue? = nil, roles: Roles) -> RPCResponse? {
        router().handle(RPCRequest(id: .number(1), method: method, params: params), credentials: me, roles: roles)
    }

    @Test func runsHandlersWithThePeer() {
        let roles = Roles(implicitAdmin: 0, byUID: [500: .reader])
        let r = call("test.echo", roles: roles)
        #expect(r?.resultValue == .object(JSONObject(["uid": .int(500), "role": .string("reader"), "params": .object(JSONObject())])))
        #expect(call("test.fail", roles: roles)?.rpcError == RPCError("ledger.sealed", "sealed"))
        #expect(router().methods == ["test.add", "test.admin", "test.echo", "test.fail"])
    }

    @Test func strangersLearnNothing() {
        let roles = Roles(implicitAdmin: 0)
        #expect(call("test.echo", roles: roles)?.errorCode == .denied)
        #expect(call("no.such", roles: roles)?.errorCode == .denied)
    }

    @Test func roleTooLow() {
        let roles = Roles(implicitAdmin: 0, byGID: [20: .reader])
        let e = call("test.admin", roles: roles)?.rpcError
        #expect(e?.code == .denied)
        #expect(e?.message == "'test.admin' needs role 'admin'; uid 500 has 'reader'")
        #expect(e?.details["required_role"] == .string("admin"))
        #expect(call("no.such", roles: roles)?.errorCode == .methodNotFound)
    }

    @Test func typedParams() {
        let roles = Roles(implicitAdmin: 500)
        let ok = call("test.add", .object(JSONObject(["a": .int(2), "b": .int(3)])), roles: roles)
        #expect(ok?.resultValue == .object(JSONObject(["sum": .int(5), "note": .null])))
        let bad = call("test.add", .object(JSONObject(["a": .int(2), "c": .int(3)])), roles: roles)
        #expect(bad?.errorCode == .invalidParams)
        #expect(call("test.add", .array([.int(1)]), roles: roles)?.errorCode == .invalidParams)
    }

    @Test func notificationsGetNoResponse() {
        let r = router().handle(RPCRequest(id: nil, method: "test.echo"), credentials: me, roles: Roles(implicitAdmin: 500))
        #expect(r == nil)
    }
}
