import CSodium

/// An Ed25519 keypair for Solana (libsodium). The secret is the 32-byte seed; libsodium's
/// 64-byte secret key (seed ‖ public key) is what signs, and both live in secret memory.
public struct SolanaKeypair: Sendable {
    public let seed: SecretBytes
    let secretKey: SecretBytes
    public let publicKey: [UInt8]

    /// The keypair of a 32-byte seed (RFC 8032's private key).
    public init(seed: SecretBytes) throws(VaultError) {
        guard seed.count == 32 else {
            throw VaultError("key.invalid", "an Ed25519 seed is 32 bytes, not \(seed.count)")
        }
        self.init(checkedSeed: seed)
    }

    /// The keypair of a seed already known to be 32 bytes.
    private init(checkedSeed seed: SecretBytes) {
        guard sodiumReady else { fatalError("libsodium failed to initialise") }
        var pk = [UInt8](repeating: 0, count: 32)
        secretKey = SecretBytes(count: 64) { sk in
            seed.withBytePointer { s in
                _ = crypto_sign_seed_keypair(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self), s)
            }
        }
        self.seed = seed
        publicKey = pk
    }

    public static func generate() -> SolanaKeypair {
        SolanaKeypair(checkedSeed: SecretBytes(randomCount: 32))
    }

    /// The address: base58 of the public key.
    public var address: String { Base58.encode(publicKey) }

    /// A detached Ed25519 signature (64 bytes) over the message bytes.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        let rc = secretKey.withBytePointer { sk in
            crypto_sign_detached(&sig, nil, message, UInt64(message.count), sk)
        }
        precondition(rc == 0, "Ed25519 signing cannot fail")
        return sig
    }

    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard sodiumReady, signature.count == 64, publicKey.count == 32 else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// Imports the Solana CLI's keypair file (`solana-keygen new -o id.json`): a JSON
    /// array of 64 integers 0…255, seed then public key. The bytes are parsed straight
    /// into secret memory (never through a JSON value or a `String`), and the public
    /// half must be the seed's. Errors name positions, never values.
    public static func importCLI(_ json: [UInt8]) throws(VaultError) -> SolanaKeypair {
        func bad(_ message: String) -> VaultError { VaultError("solana.keypair_invalid", message) }
        guard json.count <= 4096 else { throw bad("the file is \(json.count) bytes; a keypair file is under 4096") }
        var i = 0
        func skipSpace() { while i < json.count, [0x20, 0x09, 0x0a, 0x0d].contains(json[i]) { i += 1 } }
        var error: VaultError?
        var count = 0
        let bytes = SecretBytes(count: 64) { out in
            skipSpace()
            guard i < json.count, json[i] == 0x5b else { error = bad("expected '[' at offset \(i)"); return }
            i += 1
            skipSpace()
            while true {
                guard count < 64 else { error = bad("more than 64 numbers"); return }
                let start = i
                var value = 0
                while i < json.count, (0x30...0x39).contains(json[i]), i - start < 4 {
                    value = value * 10 + Int(json[i] - 0x30)
                    i += 1
                }
                guard i > start else { error = bad("expected a number at offset \(i)"); return }
                guard value <= 255, i - start <= 3, !(json[start] == 0x30 && i - start > 1) else {
                    error = bad("number \(count + 1) (offset \(start)) is not an integer 0…255"); return
                }
                out[count] = UInt8(value)
                value = 0
                count += 1
                skipSpace()
                guard i < json.count else { error = bad("unexpected end after number \(count)"); return }
                if json[i] == 0x2c { i += 1; skipSpace(); continue }
                if json[i] == 0x5d { i += 1; break }
                error = bad("expected ',' or ']' at offset \(i)"); return
            }
            skipSpace()
            if i != json.count { error = bad("unexpected data after the array at offset \(i)") }
        }
        if let error { throw error }
        guard count == 64 else { throw bad("\(count) numbers; a Solana keypair is 64 (seed then public key)") }
        let keypair = try SolanaKeypair(seed: bytes.slice(0..<32))
        let matches = bytes.withUnsafeBytes { Array($0[32..<64]) == keypair.publicKey }
        guard matches else {
            throw VaultError("solana.keypair_mismatch", "the public half of the keypair is not the seed's public key")
        }
        return keypair
    }
}

extension SolanaKeypair {
    /// `importCLI` for a keypair file already held in secret memory (as osmodad receives
    /// it over its socket); the scratch copy the parser reads is wiped.
    public static func importCLI(secret json: SecretBytes) throws(VaultError) -> SolanaKeypair {
        var bytes = json.withUnsafeBytes { Array($0) }
        defer { wipe(&bytes) }
        return try importCLI(bytes)
    }
}
