import Foundation
@testable import OsmodaKeys
import OsmodaCore
import OsmodaTestSupport
import OsmodaVault
import Testing

/// The vault's files and lifecycle in-process, on real files in a temporary directory.
@Suite struct VaultTests {
    final class Dir {
        let url: URL
        init() throws { url = try ToolRunner.temporaryDirectory("osmoda-vault") }
        deinit { ToolRunner.removeTemporaryDirectory(url) }
        var state: String { url.appendingPathComponent("state").path }
        func file(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws -> String {
            let p = url.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            chmod(p, mode_t(mode))
            return p
        }
    }

    static func pass(_ s: String) -> SecretBytes { SecretBytes(copying: Array(s.utf8)) }

    static func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as VaultError { return e.code } catch { return "\(error)" }
        return nil
    }

    @Test func passphraseLifecycle() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        #expect(try v.status().initialized == false)
        #expect(Self.code { _ = try v.create(chain: .ethereum, label: "x") } == "vault.not_initialized")
        let header = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        #expect(header.kekSource == .passphrase && header.argon2id != nil)
        let key = try v.create(chain: .ethereum, label: "hot")
        #expect(Self.code { _ = try v.create(chain: .solana, label: "hot") } == "key.label_taken")
        #expect(Self.code { _ = try v.create(chain: .solana, label: "bad label") } == "key.invalid_label")
        #expect(try v.resolve("hot") == key && v.resolve(key.address.lowercased()) == key && v.resolve(key.id) == key)
        let sig = try v.withEthereumKey(key) { k in k.personalSign(Array("m".utf8)) }
        #expect(try Ethereum.recoverPersonalSigner(message: Array("m".utf8), signature: sig).checksummed == key.address)

        // Files: 0700 directories, 0600 files, no KEK and no plaintext key in them.
        let attrs = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int) ?? -1 }
        #expect(try attrs(v.directory.path) == 0o700 && attrs(v.directory.keysPath) == 0o700)
        #expect(try attrs(v.directory.headerPath) == 0o600 && attrs(v.directory.keyPath(key.id)) == 0o600)

        v.lock()
        #expect(Self.code { _ = try v.withEthereumKey(key) { _ in 0 } } == "vault.sealed")
        let before = try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath))
        #expect(Self.code { _ = try v.unlock(.passphrase(Self.pass("a wrong passphrase"))) } == "vault.bad_passphrase")
        #expect(Self.code { _ = try v.unlock(.keyFile("/nonexistent")) } == "vault.bad_passphrase", "a passphrase vault takes a passphrase")
        #expect(!v.isUnlocked)
        #expect(try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath)) == before)
        #expect(try v.unlock(.passphrase(Self.pass("a good passphrase"))) == .passphrase)
        #expect(Self.code { _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum()) } == "vault.exists")
    }

    @Test func keyFileRules() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        let kek = [UInt8](repeating: 7, count: 32)
        #expect(Self.code { _ = try v.initialize(.keyFile("relative.key")) } == "kek.keyfile")
        #expect(Self.code { _ = try v.initialize(.keyFile(try d.file("loose.key", kek, mode: 0o640))) } == "kek.keyfile")
        #expect(Self.code { _ = try v.initialize(.keyFile(try d.file("short.key", Array(kek[0..<31])))) } == "kek.keyfile")
        try FileManager.default.createDirectory(atPath: d.state, withIntermediateDirectories: true)
        let inside = d.state + "/vault.key"
        try Data(kek).write(to: URL(fileURLWithPath: inside))
        chmod(inside, 0o600)
        #expect(Self.code { _ = try v.initialize(.keyFile(inside)) } == "kek.keyfile", "not beside the keys")
        #expect(Self.code { _ = try v.initialize(.keyFile(d.state + "/../state/vault.key")) } == "kek.keyfile")
        #expect(try v.status().initialized == false, "a refused init writes nothing")
        // Raw and hex forms of the same 32 bytes are the same KEK.
        let raw = try d.file("raw.key", kek)
        let hex = try d.file("hex.key", Array((String(repeating: "07", count: 32) + "\n").utf8))
        _ = try v.initialize(.keyFile(raw))
        v.lock()
        #expect(try v.unlock(.keyFile(hex)) == .keyfile)
        v.lock()
        #expect(try v.unlock(nil) == .keyfile, "the header names the key file")
        // A credential with the same bytes opens it too.
        let creds = d.url.appendingPathComponent("creds").path
        try FileManager.default.createDirectory(atPath: creds, withIntermediateDirectories: true)
        try Data(kek).write(to: URL(fileURLWithPath: creds + "/kek"))
        let v2 = Vault(stateDirectory: d.state, environment: { $0 == "CREDENTIALS_DIRECTORY" ? creds : nil })
        #expect(try v2.unlock(.credential("kek")) == .credential)
        #expect(Self.code { _ = try v2.unlock(.credential("../kek")) } == "kek.credential")
        let v3 = Vault(stateDirectory: d.state, environment: { _ in nil })
        #expect(Self.code { _ = try v3.unlock(.credential("kek")) } == "kek.credential")
    }

    @Test func damageIsConfined() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        let a = try v.create(chain: .solana, label: "a")
        let b = try v.create(chain: .solana, label: "b")
        // A sealed key moved under another id does not open (AEAD bound to the id).
        var moved = try v.directory.readKey(a.id)
        moved.sealed = try v.directory.readKey(b.id).sealed
        try v.directory.writeKey(moved)
        #expect(Self.code { _ = try v.withSolanaKey(try v.resolve("a")) { _ in 0 } } == "vault.key_corrupt")
        #expect(try v.withSolanaKey(try v.resolve("b")) { k in k.address } == b.address)
        // Garbage: listed with its error, the other key listed and usable.
        try Data("{".utf8).write(to: URL(fileURLWithPath: v.directory.keyPath(a.id)))
        let list = try v.list()
        #expect(list.count == 2)
        #expect(list.first { $0.id == a.id }?.error?.code == "vault.key_corrupt")
        #expect(list.first { $0.id == b.id }?.address == b.address)
        // A damaged header: every operation says so; nothing is rewritten.
        try Data("[]".utf8).write(to: URL(fileURLWithPath: v.directory.headerPath))
        #expect(Self.code { _ = try v.status() } == "vault.header_corrupt")
        #expect(Self.code { _ = try v.unlock(.passphrase(Self.pass("a good passphrase"))) } == "vault.header_corrupt")
        #expect(Self.code { _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum()) } == "vault.header_corrupt")
        #expect(try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath)) == Data("[]".utf8))
    }

    @Test func exportImportAndSolanaCLI() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        let numbers = [174, 47, 154, 16, 202, 193, 206, 113, 199, 190, 53, 133, 169, 175, 31, 56,
                       222, 53, 138, 189, 224, 216, 117, 173, 10, 149, 53, 45, 73, 251, 237, 246,
                       15, 185, 186, 82, 177, 240, 148, 69, 241, 227, 167, 80, 141, 89, 240, 121,
                       121, 35, 172, 247, 68, 251, 226, 218, 48, 63, 176, 109, 168, 89, 238, 135]
        let cli = SecretBytes(copying: Array(("[" + numbers.map(String.init).joined(separator: ",") + "]").utf8))
        let k = try v.importSolanaCLI(cli, label: "cookbook")
        #expect(k.address == "24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p" && k.origin == "imported")
        #expect(Self.code { _ = try v.importSolanaCLI(cli, label: "again") } == "key.exists")
        #expect(Self.code { _ = try v.export(k, password: Self.pass("short"), scrypt: .light) } == "vault.weak_passphrase")
        let file = try v.export(k, password: Self.pass("export password"), scrypt: .light)
        #expect(!String(decoding: file, as: UTF8.self).contains("ae2f9a10"), "the seed is not in the export")
        _ = try v.delete("cookbook")
        #expect(try v.importKeystore(file, password: Self.pass("export password"), label: "back").address == k.address)
    }

    @Test func exitTableMatchesTheContract() {
        for code in ["vault.sealed", "policy.denied", "auth.denied", "vault.bad_passphrase"] { #expect(VaultExit.status(forCode: code) == 77) }
        for code in ["rpc.invalid_params", "tx.invalid", "policy.invalid", "keystore.invalid"] { #expect(VaultExit.status(forCode: code) == 65) }
        for code in ["ledger.storage", "ledger.unavailable", "vault.key_corrupt", "vault.header_corrupt"] { #expect(VaultExit.status(forCode: code) == 74) }
        #expect(VaultExit.status(forCode: "something.else") == nil)
    }

    @Test func paramsAreStrictAndSecretsStayOutOfMessages() throws {
        let p = try Params(.object(JSONObject(["key": .string("k"), "passphrase_hex": .string("zz-secret-zz")])))
        #expect(Self.code { try p.only(["key"]) } == "rpc.invalid_params")
        do { _ = try p.secret("passphrase_hex"); Issue.record("accepted") } catch {
            #expect(!error.message.contains("zz-secret-zz"))
        }
        let ok = try Params(.object(JSONObject(["passphrase_hex": .string("0x6869")])))
        #expect(try ok.secret("passphrase_hex")?.withUnsafeBytes { Array($0) } == [0x68, 0x69])
        var scratch: [UInt8] = [1, 2, 3]
        Scrub.wipe(&scratch)
        #expect(scratch == [0, 0, 0])
    }
}
