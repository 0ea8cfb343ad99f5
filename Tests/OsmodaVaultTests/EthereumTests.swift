import Foundation
@testable import OsmodaVault
import Testing

@Suite("Ethereum keys, addresses and signatures")
struct EthereumTests {
    /// The web3.js documentation's example key (web3.eth.accounts.sign).
    static let web3Key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

    static func key(_ hex: String) throws -> EthereumPrivateKey {
        try EthereumPrivateKey(#require(Hex.decodeSecret(hex)))
    }

    @Test func web3DocsAddressAndPersonalSign() throws {
        let key = try Self.key(Self.web3Key)
        #expect(key.address.description == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
        #expect(Hex.encode(Ethereum.personalMessageDigest(Array("Some data".utf8)), prefix: true)
            == "0x1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655")
        let sig = key.personalSign(Array("Some data".utf8))
        #expect(sig.description == "0xb91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a0291c")
        #expect(sig.v == 28)
        #expect(try Ethereum.recoverPersonalSigner(message: Array("Some data".utf8), signature: sig) == key.address)
    }

    /// EIP-55's own examples: all caps, all lower, and mixed.
    @Test(arguments: [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ])
    func eip55Examples(address: String) throws {
        let parsed = try EthereumAddress(parsing: address)
        #expect(parsed.checksummed == address)
        // The lower-case form carries no checksum and parses to the same address.
        #expect(try EthereumAddress(parsing: address.lowercased()) == parsed)
    }

    @Test func badChecksumIsRefused() {
        // One letter's case flipped in a mixed-case address.
        #expect(throws: VaultError.self) { try EthereumAddress(parsing: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") }
        do {
            _ = try EthereumAddress(parsing: "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
            Issue.record("a bad checksum parsed")
        } catch {
            #expect(error.code == "address.bad_checksum")
            #expect(error.message.contains("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))
        }
        for bad in ["", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
                    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", "0xgaaeb6053f3e94c9b9a09f33669435e7ef1beaed"] {
            #expect(throws: VaultError.self, "\(bad)") { try EthereumAddress(parsing: bad) }
        }
    }

    @Test func invalidPrivateKeysAreRefused() throws {
        let zero = SecretBytes(count: 32) { _ in }
        #expect(throws: VaultError("key.invalid", "the private key is zero or not below the secp256k1 group order")) {
            try EthereumPrivateKey(zero)
        }
        // The group order n itself, and n + 1 … are out of range; n - 1 is the largest key.
        let n = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
        #expect(throws: VaultError.self) { try Self.key(n) }
        #expect(throws: VaultError.self) { try Self.key("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff") }
        _ = try Self.key("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")
        #expect(throws: VaultError.self) { try EthereumPrivateKey(SecretBytes(randomCount: 31)) }
    }

    /// Private key 1: the public key is the generator G.
    @Test func keyOneIsTheGenerator() throws {
        let key = try Self.key(String(repeating: "0", count: 63) + "1")
        #expect(Hex.encode(key.publicKey) ==
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
        #expect(key.address.description == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
    }

    @Test func signRecoverRoundTripsOverRandomKeys() throws {
        for i in 0..<200 {
            let key = EthereumPrivateKey.generate()
            let message = (0..<(i * 13 % 300)).map { _ in UInt8.random(in: 0...255) }
            let sig = key.personalSign(message)
            #expect(sig.v == 27 || sig.v == 28)
            // Low s (EIP-2): s ≤ n/2, whose top byte is 0x7f.
            #expect(sig.s[0] <= 0x7f)
            #expect(try Ethereum.recoverPersonalSigner(message: message, signature: sig) == key.address)
            // Deterministic (RFC 6979): the same key and message sign the same.
            #expect(key.personalSign(message) == sig)
            // Another message recovers another address.
            #expect(try Ethereum.recoverPersonalSigner(message: message + [0], signature: sig) != key.address)
        }
    }

    @Test func signatureParsing() throws {
        let key = try Self.key(Self.web3Key)
        let sig = key.personalSign(Array("x".utf8))
        var zeroOne = sig.bytes
        zeroOne[64] -= 27
        #expect(try EthereumSignature(bytes: zeroOne) == sig)
        var bad = sig.bytes
        bad[64] = 29
        #expect(throws: VaultError.self) { try EthereumSignature(bytes: bad) }
        #expect(throws: VaultError.self) { try EthereumSignature(bytes: Array(sig.bytes[0..<64])) }
        // r = 0 is not a valid scalar.
        var zeroR = sig.bytes
        for i in 0..<32 { zeroR[i] = 0 }
        #expect(throws: VaultError.self) {
            try Ethereum.recoverPersonalSigner(message: Array("x".utf8), signature: EthereumSignature(bytes: zeroR))
        }
    }

    @Test func secretsAreRedacted() throws {
        let key = try Self.key(Self.web3Key)
        let texts = [String(describing: key), String(reflecting: key), "\(key.secret)", String(reflecting: key.secret)]
        var dumped = ""
        dump(key, to: &dumped)
        for text in texts + [dumped] {
            #expect(!text.lowercased().contains("4c0883"), "\(text)")
            #expect(!text.contains("76"), "\(text)") // no byte of the key in decimal either
        }
        #expect("\(key.secret)" == "SecretBytes(32 bytes, redacted)")
    }
}
