import Foundation
@testable import OsmodaVault
import Testing

@Suite("Solana transfer transactions")
struct SolanaTransferTests {
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                      ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func base64RFC4648(input: String, output: String) {
        #expect(Base64.encode(Array(input.utf8)) == output)
    }

    @Test func base64MatchesFoundation() {
        for n in 0..<100 {
            let b = (0..<n).map { _ in UInt8.random(in: 0...255) }
            #expect(Base64.encode(b) == Data(b).base64EncodedString())
        }
    }

    @Test func shortvec() {
        #expect(SolanaTransfer.shortvec(0) == [0])
        #expect(SolanaTransfer.shortvec(0x7f) == [0x7f])
        #expect(SolanaTransfer.shortvec(0x80) == [0x80, 0x01])
        #expect(SolanaTransfer.shortvec(0x3fff) == [0xff, 0x7f])
        #expect(SolanaTransfer.shortvec(0x4000) == [0x80, 0x80, 0x01])
        #expect(SolanaTransfer.shortvec(0xffff) == [0xff, 0xff, 0x03])
    }

    @Test func transferLayoutAndSignature() throws {
        let kp = SolanaKeypair.generate()
        let to = SolanaKeypair.generate().publicKey
        let blockhash = (0..<32).map { UInt8($0) }
        let transfer = try SolanaTransfer(from: kp.address, to: Base58.encode(to), lamports: 1_000_000_001,
                                          recentBlockhash: Base58.encode(blockhash))
        let signed = try transfer.sign(with: kp)
        // The layout, stated independently from the message format.
        let expectedMessage: [UInt8] = [1, 0, 1, 3] + kp.publicKey + to + [UInt8](repeating: 0, count: 32) + blockhash
            + [1, 2, 2, 0, 1, 12, 2, 0, 0, 0] + [0x01, 0xca, 0x9a, 0x3b, 0, 0, 0, 0]  // 1 000 000 001 LE
        #expect(transfer.message == expectedMessage)
        #expect(signed.raw == [1] + signed.signature + expectedMessage)
        #expect(signed.raw.count == 1 + 64 + 3 + 1 + 96 + 32 + 1 + 1 + 1 + 2 + 1 + 12)
        #expect(SolanaKeypair.verify(signature: signed.signature, message: expectedMessage, publicKey: kp.publicKey))
        #expect(Data(base64Encoded: signed.base64) == Data(signed.raw))
        #expect(Base58.decode(signed.id) == signed.signature)
    }

    @Test func refusals() throws {
        let kp = SolanaKeypair.generate()
        let other = SolanaKeypair.generate()
        let hash = [UInt8](repeating: 9, count: 32)
        #expect(throws: VaultError.self) { try SolanaTransfer(from: kp.publicKey, to: kp.publicKey, lamports: 1, recentBlockhash: hash) }
        #expect(throws: VaultError.self) { try SolanaTransfer(from: kp.publicKey, to: SolanaTransfer.systemProgram, lamports: 1, recentBlockhash: hash) }
        #expect(throws: VaultError.self) { try SolanaTransfer(from: kp.publicKey, to: other.publicKey, lamports: 1, recentBlockhash: [1]) }
        #expect(throws: VaultError.self) { try SolanaTransfer(from: "not base58 0OIl", to: other.address, lamports: 1, recentBlockhash: Base58.encode(hash)) }
        let t = try SolanaTransfer(from: kp.publicKey, to: other.publicKey, lamports: 5, recentBlockhash: hash)
        #expect(throws: VaultError.self) { try t.sign(with: other) }
    }
}
