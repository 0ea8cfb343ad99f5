import Foundation
@testable import OsmodaVault
import Testing

@Suite("Solana: base58 and Ed25519")
struct SolanaTests {
    /// Bitcoin Core's base58_encode_decode.json.
    @Test(arguments: [
        ("", ""), ("61", "2g"), ("626262", "a3gV"), ("636363", "aPEr"),
        ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        ("516b6fcd0f", "ABnLTmg"), ("bf4f89001e670274dd", "3SEo3LWLoPntC"), ("572e4794", "3EFU7m"),
        ("ecac89cad93923c02321", "EJDM8drfXA6uyA"), ("10c8511e", "Rt5zm"), ("00000000000000000000", "1111111111"),
    ])
    func base58Vectors(hex: String, encoded: String) throws {
        let bytes = try #require(Hex.decode(hex))
        #expect(Base58.encode(bytes) == encoded)
        #expect(Base58.decode(encoded) == bytes)
    }

    @Test func base58RejectsAndRoundTrips() {
        for bad in ["0", "O", "I", "l", "2g ", "é", "abc+"] { #expect(Base58.decode(bad) == nil, "\(bad)") }
        #expect(Base58.decode(String(repeating: "z", count: 1000)) == nil)
        // The system program's address is 32 zero bytes.
        #expect(Base58.encode([UInt8](repeating: 0, count: 32)) == "11111111111111111111111111111111")
        for n in [1, 2, 31, 32, 33, 64, 100] {
            for _ in 0..<20 {
                var b = (0..<n).map { _ in UInt8.random(in: 0...255) }
                if Bool.random() { b[0] = 0 }
                #expect(Base58.decode(Base58.encode(b)) == b)
            }
        }
    }

    /// RFC 8032 §7.1, test 1: the keypair, its signature of the empty message, and its
    /// Solana address.
    @Test func rfc8032Test1() throws {
        let seed = try #require(Hex.decodeSecret("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let kp = try SolanaKeypair(seed: seed)
        #expect(Hex.encode(kp.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(kp.address == "FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z")
        let sig = kp.sign([])
        #expect(Hex.encode(sig) == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(SolanaKeypair.verify(signature: sig, message: [], publicKey: kp.publicKey))
    }

    /// The Solana cookbook's "How to Verify a Keypair" example: the CLI-style 64-byte
    /// array and its address.
    @Test func solanaCookbookKeypair() throws {
        let numbers = [174, 47, 154, 16, 202, 193, 206, 113, 199, 190, 53, 133, 169, 175, 31, 56,
                       222, 53, 138, 189, 224, 216, 117, 173, 10, 149, 53, 45, 73, 251, 237, 246,
                       15, 185, 186, 82, 177, 240, 148, 69, 241, 227, 167, 80, 141, 89, 240, 121,
                       121, 35, 172, 247, 68, 251, 226, 218, 48, 63, 176, 109, 168, 89, 238, 135]
        let file = Array(("[" + numbers.map(String.init).joined(separator: ",") + "]\n").utf8)
        let kp = try SolanaKeypair.importCLI(file)
        #expect(kp.address == "24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p")
        #expect(Base58.decode(kp.address) == Array(numbers[32...].map(UInt8.init)))
    }

    @Test func signVerifyRoundTrips() {
        for i in 0..<100 {
            let kp = SolanaKeypair.generate()
            let msg = (0..<(i * 7)).map { _ in UInt8.random(in: 0...255) }
            let sig = kp.sign(msg)
            #expect(SolanaKeypair.verify(signature: sig, message: msg, publicKey: kp.publicKey))
            #expect(!SolanaKeypair.verify(signature: sig, message: msg + [1], publicKey: kp.publicKey))
            var bad = sig
            bad[i % 64] ^= 1
            #expect(!SolanaKeypair.verify(signature: bad, message: msg, publicKey: kp.publicKey))
            #expect(Base58.decode(kp.address) == kp.publicKey)
        }
    }

    static func cliFile(_ kp: SolanaKeypair, spacing: String = ",") -> [UInt8] {
        let seed = kp.seed.withUnsafeBytes { Array($0) }
        return Array(("[" + (seed + kp.publicKey).map(String.init).joined(separator: spacing) + "]").utf8)
    }

    static func code(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? VaultError)?.code ?? "not a VaultError: \(error)" }
    }

    @Test func importsCLIKeypairs() throws {
        let kp = SolanaKeypair.generate()
        let back = try SolanaKeypair.importCLI(Self.cliFile(kp))
        #expect(back.publicKey == kp.publicKey)
        #expect(back.seed.constantTimeEquals(kp.seed))
        // Whitespace and a trailing newline as the CLI writes them.
        _ = try SolanaKeypair.importCLI(Array((" \n" + String(decoding: Self.cliFile(kp, spacing: ", \n"), as: UTF8.self) + "\n").utf8))
    }

    @Test func refusesBadCLIKeypairs() throws {
        let kp = SolanaKeypair.generate()
        let good = String(decoding: Self.cliFile(kp), as: UTF8.self)
        var numbers = good.dropFirst().dropLast().split(separator: ",").map(String.init)
        func file(_ ns: [String]) -> [UInt8] { Array(("[" + ns.joined(separator: ",") + "]").utf8) }
        // Public half of another key.
        let other = SolanaKeypair.generate()
        var swapped = numbers
        for i in 0..<32 { swapped[32 + i] = String(other.publicKey[i]) }
        #expect(Self.code { _ = try SolanaKeypair.importCLI(file(swapped)) } == "solana.keypair_mismatch")
        let invalid = "solana.keypair_invalid"
        #expect(Self.code { _ = try SolanaKeypair.importCLI(file(Array(numbers.prefix(63)))) } == invalid)
        #expect(Self.code { _ = try SolanaKeypair.importCLI(file(numbers + ["1"])) } == invalid)
        #expect(Self.code { _ = try SolanaKeypair.importCLI(Array("[]".utf8)) } == invalid)
        #expect(Self.code { _ = try SolanaKeypair.importCLI(Array("{}".utf8)) } == invalid)
        #expect(Self.code { _ = try SolanaKeypair.importCLI(Array(good.dropLast().utf8)) } == invalid)
        #expect(Self.code { _ = try SolanaKeypair.importCLI(Array((good + "x").utf8)) } == invalid)
        for bad in ["256", "-1", "1.5", "01", "1000", "\"1\"", "1e2", ""] {
            numbers[5] = bad
            let failure: VaultError? = { do { _ = try SolanaKeypair.importCLI(file(numbers)); return nil } catch { return error as? VaultError } }()
            #expect(failure?.code == invalid, "\(bad)")
            // The message names positions, never the key's numbers.
            #expect(failure?.message.contains(numbers.prefix(4).joined(separator: ",")) == false)
        }
    }
}
