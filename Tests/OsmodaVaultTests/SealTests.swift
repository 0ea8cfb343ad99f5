import Foundation
@testable import OsmodaVault
import OsmodaCore
import Testing

@Suite("Sealing keys at rest")
struct SealTests {
    static func code(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? VaultError)?.code ?? "not a VaultError: \(error)" }
    }

    @Test func sealUnsealRoundTrip() throws {
        let kek = KeyEncryptionKey.generate()
        let key = SecretBytes(randomCount: 32)
        let sealed = try Seal.seal(key, id: "k-1", chain: .ethereum, kek: kek)
        #expect(sealed.count == 5 + 24 + 32 + 16)
        #expect(Array(sealed[0..<5]) == Array("OSVK".utf8) + [1])
        #expect(try Seal.unseal(sealed, id: "k-1", chain: .ethereum, kek: kek).constantTimeEquals(key))
        // A fresh nonce each time: the same key seals differently.
        #expect(try Seal.seal(key, id: "k-1", chain: .ethereum, kek: kek) != sealed)
        // Solana's 64-byte secret keys seal as well.
        let long = SecretBytes(randomCount: 64)
        #expect(try Seal.unseal(Seal.seal(long, id: "s", chain: .solana, kek: kek), id: "s", chain: .solana, kek: kek).constantTimeEquals(long))
    }

    /// The associated data binds id and chain; every other change breaks the tag.
    @Test func everyDifferenceIsRefused() throws {
        let kek = KeyEncryptionKey.generate()
        let key = SecretBytes(randomCount: 32)
        let sealed = try Seal.seal(key, id: "wallet-7", chain: .ethereum, kek: kek)
        #expect(Self.code { _ = try Seal.unseal(sealed, id: "wallet-8", chain: .ethereum, kek: kek) } == "seal.mismatch")
        #expect(Self.code { _ = try Seal.unseal(sealed, id: "wallet-7", chain: .solana, kek: kek) } == "seal.mismatch")
        #expect(Self.code { _ = try Seal.unseal(sealed, id: "wallet-7", chain: .ethereum, kek: KeyEncryptionKey.generate()) } == "seal.mismatch")
        // Flip each bit of the nonce, ciphertext and tag in turn.
        for i in 5..<sealed.count {
            for bit in [0, 7] {
                var bad = sealed
                bad[i] ^= UInt8(1 << bit)
                #expect(Self.code { _ = try Seal.unseal(bad, id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.mismatch", "byte \(i)")
            }
        }
        // Header and length defects get their own errors.
        var badMagic = sealed
        badMagic[0] = 0x58
        #expect(Self.code { _ = try Seal.unseal(badMagic, id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.format")
        var badVersion = sealed
        badVersion[4] = 2
        #expect(Self.code { _ = try Seal.unseal(badVersion, id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.version")
        #expect(Self.code { _ = try Seal.unseal(Array(sealed.dropLast()), id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.mismatch")
        #expect(Self.code { _ = try Seal.unseal(Array(sealed.prefix(44)), id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.format")
        #expect(Self.code { _ = try Seal.unseal(sealed + [0], id: "wallet-7", chain: .ethereum, kek: kek) } == "seal.mismatch")
        #expect(Self.code { _ = try Seal.seal(key, id: "", chain: .ethereum, kek: kek) } == "seal.bad_id")
        #expect(Self.code { _ = try Seal.seal(key, id: String(repeating: "x", count: 257), chain: .ethereum, kek: kek) } == "seal.bad_id")
    }

    /// Length prefixes keep (id, chain) pairs from running into each other.
    @Test func associatedDataIsUnambiguous() {
        let a = Seal.associatedData(id: "ab", context: "c")
        let b = Seal.associatedData(id: "a", context: "bc")
        #expect(a != b)
        #expect(a == Array("OSVK".utf8) + [1, 0, 0, 0, 2] + Array("ab".utf8) + [0, 0, 0, 1] + Array("c".utf8))
    }

    @Test func argon2idKEK() throws {
        let params = KEKParameters.minimum()
        let pass = SecretBytes(copying: Array("hunter2 but longer".utf8))
        let kek = try KeyEncryptionKey.derive(passphrase: pass, parameters: params)
        let verifier = kek.makeVerifier()
        // The same passphrase and parameters derive the same KEK …
        let again = try KeyEncryptionKey.derive(passphrase: SecretBytes(copying: Array("hunter2 but longer".utf8)), parameters: params)
        try again.check(verifier: verifier)
        #expect(again.secret.constantTimeEquals(kek.secret))
        let sealed = try Seal.seal(SecretBytes(randomCount: 32), id: "x", chain: .solana, kek: kek)
        _ = try Seal.unseal(sealed, id: "x", chain: .solana, kek: again)
        // … a wrong passphrase, or another salt, does not.
        let wrong = try KeyEncryptionKey.derive(passphrase: SecretBytes(copying: Array("hunter3 but longer".utf8)), parameters: params)
        #expect(Self.code { try wrong.check(verifier: verifier) } == "vault.bad_passphrase")
        #expect(Self.code { _ = try Seal.unseal(sealed, id: "x", chain: .solana, kek: wrong) } == "seal.mismatch")
        var salted = params
        salted.salt = Hex.encode([UInt8](repeating: 7, count: 16))
        #expect(Self.code { try KeyEncryptionKey.derive(passphrase: pass, parameters: salted).check(verifier: verifier) } == "vault.bad_passphrase")
    }

    @Test func kekParametersAreBoundedAndRecorded() throws {
        let p = KEKParameters.moderate()
        #expect(p.algorithm == "argon2id13")
        #expect(p.opsLimit == 3 && p.memLimit == 256 << 20)
        try p.validate()
        // The header round-trips through JSON with snake_case keys, strictly.
        let json = try ValueEncoder.encode(p)
        #expect(json["ops_limit"] == .int(3))
        #expect(try ValueDecoder.decode(KEKParameters.self, from: json) == p)
        let pass = SecretBytes(copying: Array("pw".utf8))
        for bad in [
            KEKParameters(opsLimit: 0, memLimit: 8192, salt: [UInt8](repeating: 0, count: 16)),
            KEKParameters(opsLimit: 100, memLimit: 8192, salt: [UInt8](repeating: 0, count: 16)),
            KEKParameters(opsLimit: 1, memLimit: 1 << 40, salt: [UInt8](repeating: 0, count: 16)),
            KEKParameters(opsLimit: 1, memLimit: 8192, salt: [UInt8](repeating: 0, count: 8)),
        ] {
            #expect(Self.code { _ = try KeyEncryptionKey.derive(passphrase: pass, parameters: bad) } == "kek.parameters")
        }
        var other = KEKParameters.minimum()
        other.algorithm = "argon2i13"
        #expect(Self.code { try other.validate() } == "kek.parameters")
        #expect(Self.code { _ = try KeyEncryptionKey(SecretBytes(randomCount: 16)) } == "kek.invalid")
    }
}

@Suite("SecretBytes")
struct SecretBytesTests {
    struct Boom: Error {}

    @Test func basics() throws {
        let s = SecretBytes(copying: [1, 2, 3])
        #expect(s.count == 3)
        #expect(s.withUnsafeBytes { Array($0) } == [1, 2, 3])
        #expect(s.constantTimeEquals(SecretBytes(copying: [1, 2, 3])))
        #expect(!s.constantTimeEquals(SecretBytes(copying: [1, 2, 4])))
        #expect(!s.constantTimeEquals(SecretBytes(copying: [1, 2])))
        #expect(s.slice(1..<3).withUnsafeBytes { Array($0) } == [2, 3])
        #expect(SecretBytes(count: 0) { _ in }.count == 0)
        #expect(SecretBytes(randomCount: 32).withUnsafeBytes { Array($0) } != SecretBytes(randomCount: 32).withUnsafeBytes { Array($0) })
        // A throwing fill frees the memory and propagates the error (no double free).
        #expect(throws: Boom.self) { try SecretBytes(count: 8) { _ in throw Boom() } }
        #expect("\(s)" == "SecretBytes(3 bytes, redacted)")
        var dumped = ""
        dump(s, to: &dumped)
        #expect(!dumped.contains("pointer"))
    }
}
