import Foundation
@testable import OsmodaVault
import Testing

/// Web3 Secret Storage v3. The go-ethereum vectors are read in place from
/// `<package>/../shared/conformance/keystore/v3_test_vector.json`, never copied here;
/// a missing file fails the suite.
@Suite("Web3 Secret Storage v3 keystores")
struct KeystoreTests {
    static let vectorFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/keystore/v3_test_vector.json")

    static func vectors() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: vectorFile)
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    static func json(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func password(_ s: String) -> SecretBytes { SecretBytes(copying: Array(s.utf8)) }

    /// A cheap vector (scrypt n = 2) to mutate.
    static func cheapVector() throws -> [String: Any] {
        try #require(vectors()["31_byte_key"]?["json"] as? [String: Any])
    }

    static func code(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? VaultError)?.code ?? "not a VaultError: \(error)" }
    }

    @Test func everyConformanceVectorDecrypts() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 4)
        var kdfs = Set<String>()
        for (name, vector) in vectors.sorted(by: { $0.key < $1.key }) {
            let file = try Self.json(try #require(vector["json"]))
            let password = try #require(vector["password"] as? String)
            let priv = try #require(vector["priv"] as? String)
            let parsed = try KeystoreV3.parse(file)
            switch parsed.kdf {
            case .scrypt: kdfs.insert("scrypt")
            case .pbkdf2: kdfs.insert("pbkdf2")
            }
            let plain = try KeystoreV3.decrypt(parsed, password: Self.password(password))
            let expected = try #require(Hex.decodeSecret(priv))
            #expect(plain.constantTimeEquals(expected), "\(name)")
            // Short keys (the 30- and 31-byte vectors) import left-padded to 32 bytes.
            let key = try KeystoreV3.importEthereumKey(file, password: Self.password(password))
            let padded = try #require(Hex.decodeSecret(String(repeating: "0", count: 64 - priv.count) + priv))
            #expect(key.secret.constantTimeEquals(padded), "\(name)")
        }
        #expect(kdfs == ["scrypt", "pbkdf2"])
    }

    /// The wiki vectors' key has the address the Web3 Secret Storage page shows.
    @Test func wikiVectorAddress() throws {
        let file = try Self.json(try #require(Self.vectors()["wikipage_test_vector_pbkdf2"]?["json"]))
        let key = try KeystoreV3.importEthereumKey(file, password: Self.password("testpassword"))
        #expect(Hex.encode(key.address.bytes) == "008aeeda4d805471df9b2a5b0f38a0c3bcba786b")
    }

    @Test func wrongPasswordAndTampering() throws {
        let vector = try Self.cheapVector()
        let file = try Self.json(vector)
        #expect(Self.code { _ = try KeystoreV3.decrypt(file, password: Self.password("fo")) } == "keystore.bad_password")
        #expect(Self.code { _ = try KeystoreV3.decrypt(file, password: Self.password("")) } == "keystore.bad_password")
        _ = try KeystoreV3.decrypt(file, password: Self.password("foo"))
        // Any byte of the ciphertext, MAC or salt changed: the MAC check fails.
        var crypto = try #require(vector["crypto"] as? [String: Any])
        for field in ["ciphertext", "mac"] {
            var c = crypto
            var hex = Array(try #require(c[field] as? String))
            hex[0] = hex[0] == "0" ? "1" : "0"
            c[field] = String(hex)
            var v = vector
            v["crypto"] = c
            #expect(Self.code { _ = try KeystoreV3.decrypt(try! Self.json(v), password: Self.password("foo")) } == "keystore.bad_password", "\(field)")
        }
        var params = try #require(crypto["kdfparams"] as? [String: Any])
        params["salt"] = String(repeating: "00", count: 32)
        crypto["kdfparams"] = params
        var v = vector
        v["crypto"] = crypto
        #expect(Self.code { _ = try KeystoreV3.decrypt(try! Self.json(v), password: Self.password("foo")) } == "keystore.bad_password")
    }

    /// Absurd KDF parameters are refused before any work is done (this test would
    /// exhaust memory or run for hours otherwise).
    @Test(arguments: [
        ["dklen": 32, "n": 1 << 30, "r": 8, "p": 1],
        ["dklen": 32, "n": 1 << 19, "r": 8, "p": 1],
        ["dklen": 32, "n": 1 << 18, "r": 1, "p": 1 << 20],
        ["dklen": 32, "n": 1 << 62, "r": 1 << 40, "p": 1],
    ] as [[String: Int]])
    func scryptLimits(params: [String: Int]) throws {
        var vector = try Self.cheapVector()
        var crypto = try #require(vector["crypto"] as? [String: Any])
        var p: [String: Any] = params
        p["salt"] = (crypto["kdfparams"] as? [String: Any])?["salt"]
        crypto["kdfparams"] = p
        vector["crypto"] = crypto
        #expect(Self.code { _ = try KeystoreV3.decrypt(try! Self.json(vector), password: Self.password("foo")) } == "keystore.kdf_limits")
    }

    @Test func pbkdf2Limits() throws {
        var vector = try #require(Self.vectors()["wikipage_test_vector_pbkdf2"]?["json"] as? [String: Any])
        var crypto = try #require(vector["crypto"] as? [String: Any])
        var p = try #require(crypto["kdfparams"] as? [String: Any])
        p["c"] = 1_000_000_000
        crypto["kdfparams"] = p
        vector["crypto"] = crypto
        #expect(Self.code { _ = try KeystoreV3.parse(try! Self.json(vector)) } == "keystore.kdf_limits")
    }

    /// Each structural defect gets its own precise error, naming the field.
    @Test func strictParsing() throws {
        let vector = try Self.cheapVector()
        func mutated(_ change: (inout [String: Any], inout [String: Any], inout [String: Any]) -> Void) throws -> [UInt8] {
            var v = vector
            var crypto = v["crypto"] as! [String: Any]
            var params = crypto["kdfparams"] as! [String: Any]
            change(&v, &crypto, &params)
            crypto["kdfparams"] = params
            if v["crypto"] != nil { v["crypto"] = crypto }
            return try Self.json(v)
        }
        func failure(_ file: [UInt8]) -> VaultError? {
            do { _ = try KeystoreV3.parse(file); return nil } catch { return error }
        }
        #expect(failure(try mutated { v, _, _ in v["version"] = 2 })?.code == "keystore.unsupported")
        #expect(failure(try mutated { _, c, _ in c["cipher"] = "aes-128-cbc" })?.code == "keystore.unsupported")
        #expect(failure(try mutated { _, c, _ in c["kdf"] = "argon2" })?.code == "keystore.unsupported")
        #expect(failure(try mutated { _, _, p in p["dklen"] = 16 })?.code == "keystore.unsupported")
        #expect(failure(try mutated { _, _, p in p["n"] = 3 })?.message.contains("power of two") == true)
        #expect(failure(try mutated { _, _, p in p["r"] = 0 })?.code == "keystore.invalid")
        #expect(failure(try mutated { _, _, p in p.removeValue(forKey: "n") })?.message.contains("n, r and p") == true)
        #expect(failure(try mutated { _, _, p in p["c"] = 5 })?.code == "keystore.invalid")
        #expect(failure(try mutated { _, _, p in p["salt"] = "abc" })?.message.contains("kdfparams.salt") == true)
        #expect(failure(try mutated { _, c, _ in c["cipherparams"] = ["iv": "00"] })?.message.contains("cipherparams.iv") == true)
        #expect(failure(try mutated { _, c, _ in c["mac"] = "zz" })?.message.contains("crypto.mac") == true)
        #expect(failure(try mutated { _, c, _ in c["extra"] = 1 })?.message.contains("extra") == true)
        #expect(failure(try mutated { v, _, _ in v["unknown"] = 1 })?.message.contains("unknown") == true)
        #expect(failure(try mutated { v, _, _ in v.removeValue(forKey: "crypto") })?.message.contains("crypto") == true)
        #expect(failure(try mutated { v, c, _ in v["Crypto"] = c })?.message.contains("both") == true)
        #expect(failure(try mutated { v, _, _ in v["address"] = "1234" })?.message.contains("address") == true)
        #expect(failure(Array("[1]".utf8))?.code == "keystore.invalid")
        #expect(failure(Array("{\"version\":3".utf8))?.message.contains("not JSON") == true)
        #expect(failure([UInt8](repeating: 0x20, count: KeystoreV3.maxFileSize + 1))?.code == "keystore.invalid")
        // Vendor extensions and go-ethereum's capitalised "Crypto" are accepted.
        #expect(failure(try mutated { v, _, _ in v["x-ethers"] = ["client": "ethers.js"] }) == nil)
        #expect(failure(try mutated { v, c, _ in v.removeValue(forKey: "crypto"); v["Crypto"] = c }) == nil)
    }

    @Test func exportRoundTrips() throws {
        let key = EthereumPrivateKey.generate()
        let password = Self.password("correct horse battery staple")
        let light = KeystoreV3.ScryptParameters(n: 1 << 10, r: 8, p: 1)
        let file = try KeystoreV3.encrypt(key, password: password, scrypt: light)
        let object = try #require(JSONSerialization.jsonObject(with: Data(file)) as? [String: Any])
        #expect(object["version"] as? Int == 3)
        #expect(object["address"] as? String == Hex.encode(key.address.bytes))
        let id = try #require(object["id"] as? String)
        #expect(UUID(uuidString: id) != nil)
        #expect(Array(id)[14] == "4")
        let crypto = try #require(object["crypto"] as? [String: Any])
        #expect(crypto["kdf"] as? String == "scrypt")
        #expect(crypto["cipher"] as? String == "aes-128-ctr")
        // The key's hex is nowhere in the file.
        key.secret.withUnsafeBytes { #expect(!String(decoding: file, as: UTF8.self).contains(Hex.encode($0))) }

        let back = try KeystoreV3.importEthereumKey(file, password: password)
        #expect(back.secret.constantTimeEquals(key.secret))
        #expect(Self.code { _ = try KeystoreV3.importEthereumKey(file, password: Self.password("wrong")) } == "keystore.bad_password")
        // A second export uses a fresh salt, IV and id.
        let again = try KeystoreV3.encrypt(key, password: password, scrypt: light)
        #expect(again != file)
        // Absurd export parameters are refused.
        #expect(Self.code { _ = try KeystoreV3.encrypt(key, password: password, scrypt: .init(n: 1000, r: 8, p: 1)) } == "keystore.kdf_limits")
    }

    @Test func addressMismatchIsRefused() throws {
        var vector = try Self.cheapVector()
        vector["address"] = String(repeating: "11", count: 20)
        #expect(Self.code { _ = try KeystoreV3.importEthereumKey(try! Self.json(vector), password: Self.password("foo")) } == "keystore.address_mismatch")
    }

    @Test func solanaExportRoundTrips() throws {
        let kp = SolanaKeypair.generate()
        let password = Self.password("solana pw")
        let light = KeystoreV3.ScryptParameters(n: 1 << 10, r: 8, p: 1)
        let file = try KeystoreV3.encrypt(kp, password: password, scrypt: light)
        let object = try #require(JSONSerialization.jsonObject(with: Data(file)) as? [String: Any])
        #expect(object["x-osmoda-chain"] as? String == "solana")
        #expect(object["x-osmoda-address"] as? String == kp.address)
        #expect(object["address"] == nil)
        kp.seed.withUnsafeBytes { #expect(!String(decoding: file, as: UTF8.self).contains(Hex.encode($0))) }
        let back = try KeystoreV3.importSolanaKey(file, password: password)
        #expect(back.publicKey == kp.publicKey && back.seed.constantTimeEquals(kp.seed))
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(file, password: Self.password("no")) } == "keystore.bad_password")
        // Each chain's import refuses the other's file.
        #expect(Self.code { _ = try KeystoreV3.importEthereumKey(file, password: password) } == "keystore.wrong_chain")
        let eth = try KeystoreV3.encrypt(EthereumPrivateKey.generate(), password: password, scrypt: light)
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(eth, password: password) } == "keystore.wrong_chain")
        // A file naming another address is refused after decryption.
        var other = object
        other["x-osmoda-address"] = SolanaKeypair.generate().address
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(try Self.json(other), password: password) } == "keystore.address_mismatch")
        var unknown = object
        unknown["x-osmoda-label"] = "x"
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(try Self.json(unknown), password: password) } == "keystore.invalid")
        var noAddress = object
        noAddress.removeValue(forKey: "x-osmoda-address")
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(try Self.json(noAddress), password: password) } == "keystore.invalid")
        var withEth = object
        withEth["address"] = String(repeating: "11", count: 20)
        #expect(Self.code { _ = try KeystoreV3.importSolanaKey(try Self.json(withEth), password: password) } == "keystore.invalid")
    }
}
