import Foundation
import Synchronization
import OsmodaCore
import OsmodaTestSupport
import OsmodaVault
import Testing

/// A daemon world with the vault: a running osmodad, osmoda-keys as root (admin) or as
/// uid 65534 (whatever roles.json makes it), real files.
struct VaultWorld {
    let world: DaemonWorld
    var daemon: Process?
    var root: URL { world.root }
    var vaultDirectory: URL { root.appendingPathComponent("state/vault") }

    init() throws { world = try DaemonWorld() }

    /// Starts osmodad in a child process (with `environment` added) and waits for its socket.
    mutating func start(_ arguments: [String] = [], environment: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmodad")
        p.arguments = ["--user"] + arguments
        p.environment = ToolRunner.cleanEnvironment(world.env.merging(environment) { $1 })
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        daemon = p
        for _ in 0..<400 {
            if FileManager.default.fileExists(atPath: world.env["OSMODA_SOCKET"] ?? "") { return }
            usleep(20_000)
        }
        throw RunnerError("osmodad did not create its socket")
    }

    /// Stops the daemon this world started (by its pid, SIGTERM) and waits for it.
    mutating func stop() {
        if let d = daemon, d.isRunning {
            kill(d.processIdentifier, SIGTERM)
            d.waitUntilExit()
        }
        daemon = nil
    }

    func file(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
        let url = root.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        chmod(url.path, mode_t(mode))
        return url.path
    }

    func keys(_ args: [String], stdin: Data = Data()) throws -> ToolRunner.Result {
        try ToolRunner.run("osmoda-keys", args + ["--user", "--format", "json"], stdin: stdin,
                           environment: world.env.merging(["OSMODA_NO_AUTOSTART": "1"]) { $1 }, timeout: 120)
    }

    /// Runs osmoda-keys as uid/gid 65534 with no supplementary groups.
    func keysAsNobody(_ args: [String], stdin: Data = Data()) throws -> ToolRunner.Result {
        let tool = ToolRunner.productsDirectory.appendingPathComponent("osmoda-keys").path
        return try ToolRunner.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", tool] + args + ["--user", "--format", "json"],
                                  stdin: stdin, environment: world.env.merging(["OSMODA_NO_AUTOSTART": "1"]) { $1 })
    }

    /// The one record a command printed.
    func record(_ r: ToolRunner.Result, _ sourceLocation: SourceLocation = #_sourceLocation) -> JSONObject {
        let lines = jsonLines(r)
        #expect(r.status == 0, "exit \(r.status): \(r.stderrText)", sourceLocation: sourceLocation)
        #expect(lines.count == 1, "\(r.stdoutText)", sourceLocation: sourceLocation)
        // Every field osmoda-keys prints is documented in osmoda-records(5).
        for line in lines {
            #expect((try? RecordSchemaTests.undocumentedFields(line)) == [], "\(line)", sourceLocation: sourceLocation)
        }
        return lines.first ?? JSONObject()
    }

    /// Creates a passphrase vault with the cheapest Argon2id parameters.
    func initPassphrase(_ passphrase: String = "correct horse battery") throws {
        let pass = try file("pass", passphrase + "\n")
        let r = try keys(["init", "--passphrase-file", pass, "--kdf", "minimum"])
        #expect(record(r)["kek_source"] == .string("passphrase"))
    }

    /// Puts a policy in force (as admin).
    func setPolicy(_ json: String) throws {
        let r = try keys(["policy", "set"], stdin: Data(json.utf8))
        #expect(r.status == 0, "\(r.stderrText)")
    }

    /// Writes a v3 keystore (light scrypt) of a known key, for importing.
    func keystore(_ name: String, privateKeyHex: String, password: String) throws -> String {
        let key = try EthereumPrivateKey(try #require(Hex.decodeSecret(privateKeyHex)))
        let bytes = try KeystoreV3.encrypt(key, password: SecretBytes(copying: Array(password.utf8)), scrypt: .light)
        let url = root.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The ledger's entries of the vault, as (entry type, payload).
    func vaultEntries() throws -> [(type: String, actorUID: Int64?, payload: JSONObject)] {
        let r = try world.ledger(["query"])
        return jsonLines(r).compactMap { e in
            guard case .string(let t)? = e["entry_type"], t.hasPrefix("vault.") else { return nil }
            var payload = JSONObject()
            if case .object(let p)? = e["payload"] { payload = p }
            var uid: Int64?
            if case .int(let u)? = e["actor_uid"] { uid = u }
            return (t, uid, payload)
        }
    }

    func snapshot() throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        guard let items = fm.enumerator(atPath: vaultDirectory.path) else { return out }
        for case let name as String in items {
            let url = vaultDirectory.appendingPathComponent(name)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue { out[name] = try Data(contentsOf: url) }
        }
        return out
    }
}

func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s } else { return nil } }

func hexOf(_ v: JSONValue?) throws -> [UInt8] {
    guard let s = string(v), let b = Hex.decode(s) else { throw RunnerError("not hex: \(String(describing: v))") }
    return b
}

func b58Of(_ v: JSONValue?) throws -> [UInt8] {
    guard let s = string(v), let b = Base58.decode(s) else { throw RunnerError("not base58: \(String(describing: v))") }
    return b
}

func b64Of(_ v: JSONValue?) throws -> Data {
    guard let s = string(v), let b = Data(base64Encoded: s) else { throw RunnerError("not base64: \(String(describing: v))") }
    return b
}

let canSwitchUser = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

@Suite(.serialized) struct VaultEndToEndTests {
    static let allowAll = #"{"chains": {"ethereum": {"allow_messages": true, "allow_typed_data": true}, "solana": {"allow_messages": true}}}"#

    /// init → create → sign (each kind) → verify with the library → lock → sealed →
    /// restart stays sealed → unlock → signs again; every request is in the ledger.
    @Test func lifecycleAndSignaturesThatVerify() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        // Before init: status says so; signing says the vault does not exist.
        #expect(w.record(try w.keys(["status"]))["initialized"] == .bool(false))
        try w.initPassphrase()
        let status = w.record(try w.keys(["status"]))
        #expect(status["sealed"] == .bool(false))
        let eth = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "hot"]))
        let sol = w.record(try w.keys(["create", "--chain", "solana", "--label", "sol"]))
        let ethAddress = try #require(string(eth["address"]))
        let solAddress = try #require(string(sol["address"]))
        #expect(try EthereumAddress(parsing: ethAddress).checksummed == ethAddress)
        #expect(Base58.decode(solAddress)?.count == 32)
        // Default deny: no policy yet.
        let refused = try w.keys(["sign-message", "--key", "hot", "--message", "hi"])
        #expect(refused.status == 77)
        #expect(refused.stderrText.contains("policy.denied"), "\(refused.stderrText)")
        try w.setPolicy(VaultEndToEndTests.allowAll)

        // EIP-191 personal_sign, recovered to the key's address.
        let msg = w.record(try w.keys(["sign-message", "--key", "hot", "--message", "hello vault"]))
        let sig = try EthereumSignature(bytes: try hexOf(msg["signature"]))
        #expect(try Ethereum.recoverPersonalSigner(message: Array("hello vault".utf8), signature: sig).checksummed == ethAddress)
        #expect(msg["type"] == .string("key.signature") && msg["kind"] == .string("message"))

        // EIP-1559 transaction: the hash is keccak(raw) and the signature recovers to the key.
        let txJSON = #"{"chain_id": 1, "nonce": 7, "to": "0x3535353535353535353535353535353535353535", "value_wei": "1000", "gas_limit": 21000, "max_fee_per_gas_wei": "30000000000", "max_priority_fee_per_gas_wei": "1000000000"}"#
        let tx = w.record(try w.keys(["sign-tx", "--key", "hot"], stdin: Data(txJSON.utf8)))
        let raw = try hexOf(tx["raw"])
        #expect(raw.first == 0x02)
        #expect(string(tx["hash"]) == Hex.encode(Keccak256.hash(raw), prefix: true))
        let built = try EthereumTransaction(json: JSONReader.parse(txJSON))
        let txSig = try EthereumSignature(bytes: try hexOf(tx["signature"]))
        #expect(try Ethereum.recoverAddress(digest: built.signingHash, signature: txSig).checksummed == ethAddress)

        // Solana message and transfer: Ed25519 verifies against the address.
        let smsg = w.record(try w.keys(["sign-message", "--key", "sol", "--message-hex", "0x68656c6c6f"]))
        let ssig = try b58Of(smsg["signature"])
        #expect(SolanaKeypair.verify(signature: ssig, message: Array("hello".utf8), publicKey: try #require(Base58.decode(solAddress))))
        let blockhash = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"
        let to = "24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p"
        let transfer = w.record(try w.keys(["sign-transfer", "--key", "sol", "--to", to, "--lamports", "5000", "--blockhash", blockhash]))
        let wire = try b64Of(transfer["transaction"])
        let expected = try SolanaTransfer(from: solAddress, to: to, lamports: 5000, recentBlockhash: blockhash)
        #expect(Array(wire.dropFirst(65)) == expected.message)
        #expect(SolanaKeypair.verify(signature: Array(wire[1..<65]), message: expected.message, publicKey: try #require(Base58.decode(solAddress))))
        #expect(string(transfer["signature"]) == Base58.encode(Array(wire[1..<65])))

        // Lock: every signing request is vault.sealed (77); reads still work.
        #expect(w.record(try w.keys(["lock"]))["sealed"] == .bool(true))
        for args in [["sign-message", "--key", "hot", "--message", "x"], ["sign-transfer", "--key", "sol", "--to", to, "--lamports", "1", "--blockhash", blockhash]] {
            let r = try w.keys(args)
            #expect(r.status == 77, "\(args): \(r.stderrText)")
            #expect(r.stderrText.contains("vault.sealed"))
        }
        #expect(try w.keys(["list"]).status == 0)

        // Unlock, restart: sealed again until unlocked; the keys are still there.
        let pass = w.root.appendingPathComponent("pass").path
        #expect(try w.keys(["unlock", "--passphrase-file", pass]).status == 0)
        w.stop()
        try w.start()
        #expect(w.record(try w.keys(["status"]))["sealed"] == .bool(true))
        #expect(try w.keys(["sign-message", "--key", "hot", "--message", "x"]).status == 77)
        #expect(try w.keys(["unlock", "--passphrase-file", pass]).status == 0)
        let again = w.record(try w.keys(["sign-message", "--key", ethAddress, "--message", "hello vault"]))
        #expect(again["signature"] == msg["signature"], "RFC 6979: the same key and message give the same signature")

        // The ledger holds every request, and no secret: the passphrase's hex never appears.
        let entries = try w.vaultEntries()
        let types = entries.map(\.type)
        for t in ["vault.init", "vault.keys.create", "vault.sign", "vault.lock", "vault.unlock", "vault.status", "vault.policy.set"] {
            #expect(types.contains(t), "\(t) missing from \(types)")
        }
        let signs = entries.filter { $0.type == "vault.sign" }
        #expect(signs.contains { string($0.payload["decision"]) == "denied" && string($0.payload["rule"]) == "default_deny" })
        #expect(signs.contains { string($0.payload["decision"]) == "allowed" && $0.payload["details"]?["tx_hash"] == tx["hash"] })
        #expect(signs.filter { $0.payload["error"]?["code"] == .string("vault.sealed") && string($0.payload["decision"]) == "error" }.count >= 3)
        #expect(signs.contains { $0.payload["error"]?["code"] == .string("vault.sealed") && string($0.payload["key_ref"]) == "sol" })
        let dump = try w.world.ledger(["query"]).stdoutText
        let passHex = Hex.encode(Array("correct horse battery".utf8))
        #expect(!dump.contains(passHex) && !dump.contains("correct horse"))
        #expect(try w.world.ledger(["verify"]).status == 0)
    }

    /// EIP-155's example transaction, signed by the daemon with the example's key
    /// imported from a keystore, byte for byte; EIP-712's Mail example likewise.
    @Test func publishedVectorsEndToEnd() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        try w.initPassphrase()
        let pw = try w.file("pw", "keystore password\n")
        let eip155 = try w.keystore("eip155.json", privateKeyHex: String(repeating: "46", count: 32), password: "keystore password")
        let k = w.record(try w.keys(["import", "--label", "eip155", "--keystore", eip155, "--password-file", pw]))
        #expect(k["address"] == .string("0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"))
        let cowHex = Hex.encode(Keccak256.hash(Array("cow".utf8)))
        let cow = try w.keystore("cow.json", privateKeyHex: cowHex, password: "keystore password")
        #expect(w.record(try w.keys(["import", "--label", "cow", "--keystore", cow, "--password-file", pw]))["address"]
            == .string("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"))
        try w.setPolicy(VaultEndToEndTests.allowAll)

        let tx = #"{"chain_id": 1, "nonce": 9, "to": "0x3535353535353535353535353535353535353535", "value_wei": "1000000000000000000", "gas_limit": 21000, "gas_price_wei": "20000000000"}"#
        let signed = w.record(try w.keys(["sign-tx", "--key", "eip155"], stdin: Data(tx.utf8)))
        #expect(signed["raw"] == .string("0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"))
        let raw = try hexOf(signed["raw"])
        #expect(signed["hash"] == .string(Hex.encode(Keccak256.hash(raw), prefix: true)))
        #expect(signed["tx_type"] == .string("legacy"))

        let mail = """
        {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}
        """
        let typed = w.record(try w.keys(["sign-typed-data", "--key", "cow"], stdin: Data(mail.utf8)))
        #expect(typed["digest"] == .string("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"))
        #expect(typed["signature"] == .string("0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"))
    }

    /// go-ethereum's keystore vectors (scrypt, pbkdf2, 30- and 31-byte keys) import
    /// through osmoda-keys and give the address of their private key; the Solana CLI's
    /// keypair file imports with its known address; export → delete → import round-trips.
    @Test func keystoreVectorsAndSolanaImportExport() throws {
        let vectors = ToolRunner.conformanceDirectory.appendingPathComponent("keystore/v3_test_vector.json")
        let all = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: vectors)) as? [String: [String: Any]])
        #expect(all.count >= 4)
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        try w.initPassphrase()
        for (name, vector) in all.sorted(by: { $0.key < $1.key }) {
            let json = try JSONSerialization.data(withJSONObject: try #require(vector["json"]))
            let file = w.root.appendingPathComponent("\(name).json")
            try json.write(to: file)
            let pw = try w.file("\(name).pw", try #require(vector["password"] as? String))
            let priv = try #require(vector["priv"] as? String)
            let padded = String(repeating: "0", count: 64 - priv.count) + priv
            let want = try EthereumPrivateKey(try #require(Hex.decodeSecret(padded))).address.checksummed
            let label = name.replacingOccurrences(of: "_", with: "-")
            let r = w.record(try w.keys(["import", "--label", label, "--keystore", file.path, "--password-file", pw]))
            #expect(r["address"] == .string(want), "\(name)")
            #expect(r["type"] == .string("key.imported"))
            // The scrypt and pbkdf2 vectors hold the same key: the vault refuses a key twice.
            #expect(try w.keys(["delete", "--key", label]).status == 0)
        }
        // A wrong keystore password: refused, nothing added.
        let anyVector = try #require(all["wikipage_test_vector_pbkdf2"])
        let file = w.root.appendingPathComponent("again.json")
        try JSONSerialization.data(withJSONObject: try #require(anyVector["json"])).write(to: file)
        let bad = try w.keys(["import", "--label", "again", "--keystore", file.path, "--password-file", try w.file("bad.pw", "nope")])
        #expect(bad.status == 77 && bad.stderrText.contains("keystore.bad_password"), "\(bad.status) \(bad.stderrText)")

        let numbers = [174, 47, 154, 16, 202, 193, 206, 113, 199, 190, 53, 133, 169, 175, 31, 56,
                       222, 53, 138, 189, 224, 216, 117, 173, 10, 149, 53, 45, 73, 251, 237, 246,
                       15, 185, 186, 82, 177, 240, 148, 69, 241, 227, 167, 80, 141, 89, 240, 121,
                       121, 35, 172, 247, 68, 251, 226, 218, 48, 63, 176, 109, 168, 89, 238, 135]
        let keypair = try w.file("id.json", "[" + numbers.map(String.init).joined(separator: ",") + "]\n")
        let sol = w.record(try w.keys(["import", "--label", "cookbook", "--solana-keypair", keypair]))
        #expect(sol["address"] == .string("24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p"))

        // Export (encrypted only), delete, import back: the same addresses.
        let pw = try w.file("export.pw", "export password")
        _ = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "made"]))
        for (label, address) in [("cookbook", "24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p"), ("made", nil)] {
            let out = w.root.appendingPathComponent("\(label).export.json").path
            let ex = w.record(try w.keys(["export", "--key", label, "--out", out, "--scrypt", "light", "--password-file", pw]))
            let exported = try String(contentsOfFile: out, encoding: .utf8)
            #expect(exported.contains("\"ciphertext\"") && exported.contains("\"scrypt\""))
            #expect(!exported.contains("174,47,154"))
            let attrs = try FileManager.default.attributesOfItem(atPath: out)
            #expect((attrs[.posixPermissions] as? Int) == 0o600)
            #expect(try w.keys(["delete", "--key", label]).status == 0)
            let back = w.record(try w.keys(["import", "--label", label, "--keystore", out, "--password-file", pw]))
            #expect(back["address"] == ex["address"])
            if let address { #expect(back["address"] == .string(address)) }
        }
    }

    /// A wrong passphrase, a damaged header and one damaged key file: each gets its code
    /// and exit status, and nothing changes; the other keys keep working.
    @Test func failurePathsChangeNothing() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        try w.initPassphrase()
        let a = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "a"]))
        let b = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "b"]))
        try w.setPolicy(VaultEndToEndTests.allowAll)
        #expect(try w.keys(["init", "--passphrase-file", w.root.appendingPathComponent("pass").path, "--kdf", "minimum"]).status == 64,
                "a second init is refused")
        _ = try w.keys(["lock"])

        // Wrong passphrase: 77, still sealed, files unchanged.
        let before = try w.snapshot()
        let wrong = try w.keys(["unlock", "--passphrase-file", try w.file("wrong", "not the passphrase")])
        #expect(wrong.status == 77 && wrong.stderrText.contains("vault.bad_passphrase"), "\(wrong.stderrText)")
        #expect(w.record(try w.keys(["status"]))["sealed"] == .bool(true))
        #expect(try w.snapshot() == before)

        // A damaged header: a clear error, nothing unlocked, the file left as it is.
        let header = w.vaultDirectory.appendingPathComponent("vault.json")
        let good = try Data(contentsOf: header)
        try Data("{\"format\": 1, \"kek_source\": ".utf8).write(to: header)
        let damaged = try w.snapshot()
        let pass = w.root.appendingPathComponent("pass").path
        let r = try w.keys(["unlock", "--passphrase-file", pass])
        #expect(r.status == 74 && r.stderrText.contains("vault.header_corrupt"), "\(r.status) \(r.stderrText)")
        #expect(try w.keys(["status"]).status == 74)
        #expect(try w.snapshot() == damaged)
        try good.write(to: header)
        #expect(try w.keys(["unlock", "--passphrase-file", pass]).status == 0)

        // One damaged key file (a flipped byte in its sealed key): that key fails, b signs.
        let aFile = w.vaultDirectory.appendingPathComponent("keys/\(string(a["key"]) ?? "").json")
        var text = try String(contentsOf: aFile, encoding: .utf8)
        let range = try #require(text.range(of: "\"sealed\":\""))
        let i = text.index(range.upperBound, offsetBy: 70)
        text.replaceSubrange(i...i, with: text[i] == "0" ? "1" : "0")
        try Data(text.utf8).write(to: aFile)
        let aSign = try w.keys(["sign-message", "--key", "a", "--message", "m"])
        #expect(aSign.status == 74 && aSign.stderrText.contains("vault.key_corrupt"), "\(aSign.status) \(aSign.stderrText)")
        #expect(try w.keys(["sign-message", "--key", "b", "--message", "m"]).status == 0)
        // Garbage in a's file: list shows a's error and b, exits 74.
        try Data("not json".utf8).write(to: aFile)
        let list = try w.keys(["list"])
        #expect(list.status == 74)
        let listed = jsonLines(list)
        #expect(listed.count == 2)
        #expect(listed.contains { $0["key"] == b["key"] && $0["address"] == b["address"] })
        #expect(listed.contains { $0["key"] == a["key"] && $0["error"] != nil })
        #expect(try w.keys(["sign-message", "--key", string(b["key"]) ?? "", "--message", "m"]).status == 0)
    }

    /// osmodad holds the KEK: besides RLIMIT_CORE 0 it must not be dumpable, so no core
    /// handler gets its memory and another process of its uid cannot read it via /proc.
    /// Run as uid 65534, since for root's processes /proc belongs to root either way.
    @Test(.enabled(if: canSwitchUser, "needs root and setpriv for a second uid"))
    func theDaemonIsNotDumpable() throws {
        let world = try DaemonWorld()
        defer { world.remove() }
        #expect(chown(world.root.path, 65534, 65534) == 0)
        chmod(world.root.path, 0o755)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups",
                       ToolRunner.productsDirectory.appendingPathComponent("osmodad").path, "--user"]
        p.environment = ToolRunner.cleanEnvironment(world.env)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        var up = false
        for _ in 0..<400 {
            if FileManager.default.fileExists(atPath: world.env["OSMODA_SOCKET"] ?? "") { up = true; break }
            usleep(20_000)
        }
        try #require(up, "osmodad as 65534 did not create its socket")
        var st = stat()
        #expect(stat("/proc/\(p.processIdentifier)/mem", &st) == 0)
        #expect(st.st_uid == 0, "a non-dumpable process's /proc entries belong to root; owner \(st.st_uid)")
        let limits = try String(contentsOfFile: "/proc/\(p.processIdentifier)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        #expect(core.split(separator: " ").filter { !$0.isEmpty }.dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
    }

    /// A stranger (no role) and an agent asking for admin operations: auth.denied (77),
    /// nothing changes, and each refusal is in the ledger with its uid. The agent signs
    /// within policy, and is refused beyond it.
    @Test(.enabled(if: canSwitchUser, "needs root and setpriv for a second uid"))
    func rolesAndPolicy() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        w.world.openSocketToOthers()
        try w.initPassphrase()
        let hot = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "hot"]))
        let id = try #require(string(hot["key"]))

        // A stranger: every vault request refused, even status.
        for args in [["status"], ["list"], ["sign-message", "--key", "hot", "--message", "x"]] {
            let r = try w.keysAsNobody(args)
            #expect(r.status == 77 && r.stderrText.contains("has no role") && r.stderrText.contains("(auth.denied)"), "\(args): \(r.stderrText)")
        }
        // Make 65534 the agent (SIGHUP reloads roles.json).
        let config = w.root.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try Data(#"{"agent": {"uids": [65534]}}"#.utf8).write(to: config.appendingPathComponent("roles.json"))
        kill(try #require(w.daemon).processIdentifier, SIGHUP)
        var listed: Int32 = -1
        for _ in 0..<100 {
            listed = try w.keysAsNobody(["list"]).status
            if listed == 0 { break }
            usleep(50_000)
        }
        #expect(listed == 0, "the agent may list")
        let before = try w.snapshot()
        for (args, input) in [(["create", "--chain", "ethereum", "--label", "mine"], ""), (["delete", "--key", "hot"], ""),
                              (["export", "--key", "hot", "--out", "/tmp/never-\(getpid()).json", "--password-fd", "0"], "passphrase long enough\n"),
                              (["policy", "set", "-"], VaultEndToEndTests.allowAll), (["unlock", "--passphrase-fd", "0"], "passphrase long enough\n")] {
            let r = try w.keysAsNobody(args, stdin: Data(input.utf8))
            #expect(r.status == 77 && r.stderrText.contains("needs role 'admin'") && r.stderrText.contains("(auth.denied)"), "\(args): \(r.status) \(r.stderrText)")
        }
        #expect(try w.snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-\(getpid()).json"))

        // Policy: 1000 wei per transaction, two signatures a day, one destination, mainnet only.
        let dest = "0x3535353535353535353535353535353535353535"
        try w.setPolicy(#"{"keys": {"\#(id)": {"max_per_tx": "1000", "max_signatures_per_24h": 2, "destinations": ["\#(dest)"], "chain_ids": [1]}}}"#)
        func tx(_ value: String, to: String = dest, nonce: Int, chain: Int = 1) -> Data {
            Data(#"{"chain_id": \#(chain), "nonce": \#(nonce), "to": "\#(to)", "value_wei": "\#(value)", "gas_limit": 21000, "gas_price_wei": "1"}"#.utf8)
        }
        let check = try w.keysAsNobody(["policy", "check", "--key", "hot", "--kind", "transaction", "--amount", "1001", "--destination", dest,
                                        "--chain-id", "1"])
        #expect(check.status == 1)
        #expect(string(jsonLines(check).first?["rule"])?.hasSuffix("max_per_tx") == true, "\(check.stdoutText)")
        #expect(try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("1000", nonce: 0)).status == 0)
        let over = try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("1001", nonce: 1))
        #expect(over.status == 77 && over.stderrText.contains("policy.denied"), "\(over.stderrText)")
        let elsewhere = try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("1", to: "0x" + String(repeating: "44", count: 20), nonce: 1))
        #expect(elsewhere.status == 77)
        let otherChain = try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("1", nonce: 1, chain: 5))
        #expect(otherChain.status == 77 && otherChain.stderrText.contains("chain_ids"), "\(otherChain.stderrText)")
        let checkChain = try w.keysAsNobody(["policy", "check", "--key", "hot", "--kind", "transaction", "--amount", "1",
                                             "--destination", dest, "--chain-id", "5"])
        #expect(checkChain.status == 1 && string(jsonLines(checkChain).first?["rule"])?.hasSuffix("chain_ids") == true, "\(checkChain.stdoutText)")
        let message = try w.keysAsNobody(["sign-message", "--key", "hot", "--message", "x"])
        #expect(message.status == 77, "raw messages are refused unless allowed")
        #expect(try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("5", nonce: 1)).status == 0)
        let third = try w.keysAsNobody(["sign-tx", "--key", "hot"], stdin: tx("5", nonce: 2))
        #expect(third.status == 77 && third.stderrText.contains("max_signatures_per_24h"), "\(third.stderrText)")

        // The ledger: refusals by role and by policy, with uid 65534 as the actor, no secrets.
        let entries = try w.vaultEntries().filter { $0.actorUID == 65534 }
        #expect(entries.contains { $0.type == "vault.status" && string($0.payload["outcome"]) == "denied" })
        #expect(entries.contains { $0.type == "vault.keys.create" && string($0.payload["outcome"]) == "denied" && string($0.payload["role"]) == "agent" })
        #expect(entries.contains { $0.type == "vault.sign" && string($0.payload["decision"]) == "denied" && $0.payload["role"] == .null })
        let signs = entries.filter { $0.type == "vault.sign" }
        #expect(signs.filter { string($0.payload["decision"]) == "allowed" }.count == 2)
        #expect(signs.contains { string($0.payload["rule"])?.hasSuffix("max_per_tx") == true })
        #expect(signs.contains { string($0.payload["rule"])?.hasSuffix("chain_ids") == true && $0.payload["chain_id"] == .int(5) })
        #expect(!(try w.world.ledger(["query"]).stdoutText.contains(Hex.encode(Array("passphrase long enough".utf8)))))
    }

    /// The key file and credential sources, and unlocking at start from osmodad's flag.
    @Test func keyFileCredentialAndAutoUnlock() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        let keyFile = try w.file("vault.key", String(repeating: "ab", count: 32) + "\n")
        let loose = try w.file("loose.key", String(repeating: "ab", count: 32), mode: 0o644)
        try w.start()
        let refused = try w.keys(["init", "--key-file", loose])
        #expect(refused.status == 78 && refused.stderrText.contains("chmod 600"), "\(refused.stderrText)")
        #expect(w.record(try w.keys(["init", "--key-file", keyFile]))["kek_source"] == .string("keyfile"))
        _ = w.record(try w.keys(["create", "--chain", "solana", "--label", "s"]))
        w.stop()
        // Restarted with --vault-key-file: unlocked at start.
        try w.start(["--vault-key-file", keyFile])
        #expect(w.record(try w.keys(["status"]))["sealed"] == .bool(false))
        w.stop()
        // Restarted without: sealed; unlock with no argument uses the header's key file.
        try w.start()
        #expect(w.record(try w.keys(["status"]))["sealed"] == .bool(true))
        #expect(w.record(try w.keys(["unlock"]))["kek_source"] == .string("keyfile"))
        // Another key file: vault.bad_passphrase.
        let other = try w.file("other.key", String(repeating: "cd", count: 32))
        _ = try w.keys(["lock"])
        #expect(try w.keys(["unlock", "--key-file", other]).status == 77)
        w.stop()
        // A systemd credential: $CREDENTIALS_DIRECTORY/<name>.
        let creds = w.root.appendingPathComponent("creds")
        try FileManager.default.createDirectory(at: creds, withIntermediateDirectories: true)
        try Data(String(repeating: "ab", count: 32).utf8).write(to: creds.appendingPathComponent("vault-kek"))
        try w.start(["--vault-credential", "vault-kek"], environment: ["CREDENTIALS_DIRECTORY": creds.path])
        #expect(w.record(try w.keys(["status"]))["sealed"] == .bool(false), "the credential holds the same KEK")
        let unlocks = try w.vaultEntries().filter { $0.type == "vault.unlock" && $0.payload["at_start"] == .bool(true) }
        #expect(unlocks.count == 2)
        #expect(unlocks.allSatisfy { string($0.payload["outcome"]) == "ok" })
    }

    /// Twelve signing requests at once against a limit of five signatures a day: exactly
    /// five are signed, the rest refused, and the ledger agrees; the counters survive a
    /// restart. osmodad runs with core dumps off.
    @Test func concurrentRequestsRespectTheLimitAcrossARestart() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        try w.start()
        let limits = try String(contentsOfFile: "/proc/\(try #require(w.daemon).processIdentifier)/limits", encoding: .utf8)
        let core = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        #expect(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
        try w.initPassphrase()
        let key = try #require(string(w.record(try w.keys(["create", "--chain", "solana", "--label", "s"]))["key"]))
        try w.setPolicy(#"{"keys": {"\#(key)": {"allow_messages": true, "max_signatures_per_24h": 5}}}"#)
        let statuses = Mutex([Int32]())
        let client = w
        DispatchQueue.concurrentPerform(iterations: 12) { i in
            let r = try? client.keys(["sign-message", "--key", "s", "--message", "m\(i)"])
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        let all = statuses.withLock { $0 }
        #expect(all.filter { $0 == 0 }.count == 5, "\(all)")
        #expect(all.filter { $0 == 77 }.count == 7, "\(all)")
        let signs = try w.vaultEntries().filter { $0.type == "vault.sign" }
        #expect(signs.filter { string($0.payload["decision"]) == "allowed" }.count == 5)
        #expect(signs.filter { string($0.payload["decision"]) == "denied" }.count == 7)
        // A restart keeps the window's count: still refused after unlocking again.
        w.stop()
        try w.start()
        #expect(try w.keys(["unlock", "--passphrase-file", w.root.appendingPathComponent("pass").path]).status == 0)
        let after = try w.keys(["sign-message", "--key", "s", "--message", "after restart"])
        #expect(after.status == 77 && after.stderrText.contains("max_signatures_per_24h"), "\(after.stderrText)")
    }

    /// A ledger that cannot be written: nothing is signed, and the vault cannot even be
    /// unlocked, since an unlock the ledger cannot record does not stand.
    @Test func aLedgerThatCannotBeWrittenSignsNothing() throws {
        var w = try VaultWorld()
        defer { w.stop(); w.world.remove() }
        let keyFile = try w.file("vault.key", String(repeating: "5a", count: 32))
        try w.start()
        _ = w.record(try w.keys(["init", "--key-file", keyFile]))
        _ = w.record(try w.keys(["create", "--chain", "ethereum", "--label", "e"]))
        try w.setPolicy(VaultEndToEndTests.allowAll)
        _ = w.record(try w.keys(["sign-message", "--key", "e", "--message", "before"]))
        w.stop()   // a clean stop writes a checkpoint; then an entry is edited by hand
        let edited = try ToolRunner.run("/usr/bin/sqlite3", [w.world.database, "UPDATE entries SET type = 'vault.x' WHERE seq = (SELECT max(seq) FROM entries)"])
        try #require(edited.status == 0, "\(edited.stderrText)")
        // The ledger fails its check at start and refuses appends: the unlock at start
        // cannot be recorded, so the vault stays sealed.
        try w.start(["--vault-key-file", keyFile])
        let sign = try w.keys(["sign-message", "--key", "e", "--message", "after"])
        #expect(sign.status != 0 && sign.stdout.isEmpty, "\(sign.status) \(sign.stderrText)")
        let unlock = try w.keys(["unlock", "--key-file", keyFile])
        #expect(unlock.status == 69 && unlock.stderrText.contains("ledger.verification_failed"), "\(unlock.status) \(unlock.stderrText)")
        let again = try w.keys(["sign-message", "--key", "e", "--message", "after"])
        #expect(again.status != 0 && again.stdout.isEmpty, "\(again.stderrText)")
    }
}
