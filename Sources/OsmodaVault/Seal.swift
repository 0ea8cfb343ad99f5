import CSodium
import OsmodaCore

/// The chains the vault holds keys for. The raw value is bound into each sealed key.
public enum Chain: String, Sendable, Codable, CaseIterable {
    case ethereum
    case solana
}

/// The 32-byte key-encryption key (KEK) that seals every private key at rest. It comes
/// from a passphrase (Argon2id), a key file or a systemd credential, and is never
/// stored beside the keys it seals.
public struct KeyEncryptionKey: Sendable {
    public static let count = 32
    let secret: SecretBytes

    /// A KEK from 32 bytes (a key file, a systemd credential).
    public init(_ secret: SecretBytes) throws(VaultError) {
        guard secret.count == Self.count else {
            throw VaultError("kek.invalid", "a key-encryption key is \(Self.count) bytes, not \(secret.count)")
        }
        self.secret = secret
    }

    private init(checked secret: SecretBytes) { self.secret = secret }

    /// A fresh random KEK.
    public static func generate() -> KeyEncryptionKey {
        KeyEncryptionKey(checked: SecretBytes(randomCount: count))
    }

    /// Argon2id (libsodium `crypto_pwhash`, version 1.3) over the passphrase, with the
    /// parameters recorded in the vault's header.
    public static func derive(passphrase: SecretBytes, parameters: KEKParameters) throws(VaultError) -> KeyEncryptionKey {
        try parameters.validate()
        guard let salt = Hex.decode(parameters.salt) else { throw VaultError("kek.parameters", "the salt is not hexadecimal") }
        var rc: Int32 = -1
        let out = passphrase.withBytePointer { pw in
            SecretBytes(count: count) { dst in
                rc = crypto_pwhash(dst.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(count),
                                   UnsafeRawPointer(pw).assumingMemoryBound(to: CChar.self), UInt64(passphrase.count),
                                   salt, parameters.opsLimit, Int(parameters.memLimit), crypto_pwhash_alg_argon2id13())
            }
        }
        guard rc == 0 else {
            throw VaultError("kek.derive_failed", "Argon2id could not allocate \(parameters.memLimit >> 20) MiB")
        }
        return try KeyEncryptionKey(out)
    }

    /// A value that proves, at unlock, that a passphrase or key file gives this KEK —
    /// without decrypting any key. Store it in the vault header.
    public func makeVerifier() -> [UInt8] {
        Seal.seal(SecretBytes(count: 0) { _ in }, associatedData: Self.verifierAD, kek: self)
    }

    /// Throws `vault.bad_passphrase` when this KEK did not make `verifier`.
    public func check(verifier: [UInt8]) throws(VaultError) {
        do {
            _ = try Seal.open(verifier, associatedData: Self.verifierAD, kek: self)
        } catch where error.code == "seal.mismatch" {
            throw VaultError("vault.bad_passphrase", "the passphrase or key file does not unlock this vault")
        }
    }

    static let verifierAD = Seal.associatedData(id: "", context: "kek-check")
}

/// The Argon2id parameters of a passphrase-derived KEK, recorded in the vault header so
/// that the same passphrase derives the same key after upgrades change the defaults.
public struct KEKParameters: Sendable, Equatable, Codable {
    public var algorithm: String
    public var opsLimit: UInt64
    /// Bytes of memory.
    public var memLimit: UInt64
    /// 16 bytes, hex.
    public var salt: String

    enum CodingKeys: String, CodingKey {
        case algorithm, opsLimit = "ops_limit", memLimit = "mem_limit", salt
    }

    public static let algorithmName = "argon2id13"
    /// A corrupted or hostile header must not make unlock allocate or spin without bound.
    public static let maxOpsLimit: UInt64 = 16
    public static let maxMemLimit: UInt64 = 1 << 30

    public init(opsLimit: UInt64, memLimit: UInt64, salt: [UInt8]) {
        algorithm = Self.algorithmName
        self.opsLimit = opsLimit
        self.memLimit = memLimit
        self.salt = Hex.encode(salt)
    }

    /// libsodium's MODERATE profile (3 passes, 256 MiB, about a second) with a fresh salt.
    public static func moderate() -> KEKParameters {
        KEKParameters(opsLimit: UInt64(crypto_pwhash_argon2id_opslimit_moderate()),
                      memLimit: UInt64(crypto_pwhash_argon2id_memlimit_moderate()),
                      salt: randomBytes(Int(crypto_pwhash_argon2id_saltbytes())))
    }

    /// The cheapest parameters libsodium accepts: for tests only.
    public static func minimum() -> KEKParameters {
        KEKParameters(opsLimit: UInt64(crypto_pwhash_argon2id_opslimit_min()),
                      memLimit: UInt64(crypto_pwhash_argon2id_memlimit_min()),
                      salt: randomBytes(Int(crypto_pwhash_argon2id_saltbytes())))
    }

    public func validate() throws(VaultError) {
        guard algorithm == Self.algorithmName else {
            throw VaultError("kek.parameters", "algorithm \(algorithm) is not supported; only \(Self.algorithmName)")
        }
        let minOps = UInt64(crypto_pwhash_argon2id_opslimit_min()), minMem = UInt64(crypto_pwhash_argon2id_memlimit_min())
        guard (minOps...Self.maxOpsLimit).contains(opsLimit) else {
            throw VaultError("kek.parameters", "ops_limit \(opsLimit) is outside \(minOps)…\(Self.maxOpsLimit)")
        }
        guard (minMem...Self.maxMemLimit).contains(memLimit) else {
            throw VaultError("kek.parameters", "mem_limit \(memLimit) is outside \(minMem)…\(Self.maxMemLimit) bytes")
        }
        guard let s = Hex.decode(salt), s.count == Int(crypto_pwhash_argon2id_saltbytes()) else {
            throw VaultError("kek.parameters", "the salt must be \(crypto_pwhash_argon2id_saltbytes()) bytes of hex")
        }
    }
}

/// Sealing a private key at rest: XChaCha20-Poly1305 under the KEK, with a random
/// 24-byte nonce, and associated data that binds the key to its id and chain, so a
/// sealed key moved to another id or chain, or altered in any byte, does not open.
///
/// Format, version 1:
///
///     "OSVK" ‖ 0x01 ‖ nonce (24) ‖ ciphertext ‖ tag (16)
///
/// Associated data: the 5 header bytes ‖ u32be(len id) ‖ id ‖ u32be(len chain) ‖ chain
/// (UTF-8; length-prefixed, so no two (id, chain) pairs encode alike).
public enum Seal {
    static let magic: [UInt8] = Array("OSVK".utf8)
    static let version: UInt8 = 1
    static let header = magic + [version]
    static let nonceCount = 24
    static let tagCount = 16
    public static let maxIDLength = 256

    /// The associated data for (id, context).
    static func associatedData(id: String, context: String) -> [UInt8] {
        var ad = header
        for field in [id, context] {
            let bytes = Array(field.utf8)
            let n = UInt32(bytes.count)
            ad += [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
            ad += bytes
        }
        return ad
    }

    static func checkID(_ id: String) throws(VaultError) {
        guard !id.isEmpty, id.utf8.count <= maxIDLength else {
            throw VaultError("seal.bad_id", "a key id is 1 to \(maxIDLength) bytes")
        }
    }

    /// Seals `secret` as key `id` of `chain`.
    public static func seal(_ secret: SecretBytes, id: String, chain: Chain, kek: KeyEncryptionKey) throws(VaultError) -> [UInt8] {
        try checkID(id)
        return seal(secret, associatedData: associatedData(id: id, context: chain.rawValue), kek: kek)
    }

    /// Opens a sealed key, which must have been sealed as key `id` of `chain` under `kek`.
    public static func unseal(_ sealed: [UInt8], id: String, chain: Chain, kek: KeyEncryptionKey) throws(VaultError) -> SecretBytes {
        try checkID(id)
        return try open(sealed, associatedData: associatedData(id: id, context: chain.rawValue), kek: kek)
    }

    static func seal(_ secret: SecretBytes, associatedData ad: [UInt8], kek: KeyEncryptionKey) -> [UInt8] {
        let nonce = randomBytes(nonceCount)
        var out = header + nonce + [UInt8](repeating: 0, count: secret.count + tagCount)
        var written: UInt64 = 0
        let start = header.count + nonceCount
        let rc = out.withUnsafeMutableBufferPointer { o in
            secret.withBytePointer { m in
                kek.secret.withBytePointer { k in
                    crypto_aead_xchacha20poly1305_ietf_encrypt(o.baseAddress! + start, &written, m, UInt64(secret.count),
                                                               ad, UInt64(ad.count), nil, nonce, k)
                }
            }
        }
        precondition(rc == 0 && written == UInt64(secret.count + tagCount), "XChaCha20-Poly1305 encryption cannot fail")
        return out
    }

    static func open(_ sealed: [UInt8], associatedData ad: [UInt8], kek: KeyEncryptionKey) throws(VaultError) -> SecretBytes {
        guard sealed.count >= header.count + nonceCount + tagCount, Array(sealed[0..<4]) == magic else {
            throw VaultError("seal.format", "not a sealed osmoda key (too short, or no OSVK header)")
        }
        guard sealed[4] == version else {
            throw VaultError("seal.version", "sealed-key format version \(sealed[4]) is not supported (this build reads \(version))")
        }
        let nonce = Array(sealed[5..<(5 + nonceCount)])
        let body = Array(sealed[(5 + nonceCount)...])
        var rc: Int32 = -1
        let plain = SecretBytes(count: body.count - tagCount) { m in
            var written: UInt64 = 0
            rc = kek.secret.withBytePointer { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(m.baseAddress!.assumingMemoryBound(to: UInt8.self), &written, nil,
                                                           body, UInt64(body.count), ad, UInt64(ad.count), nonce, k)
            }
        }
        guard rc == 0 else {
            throw VaultError("seal.mismatch",
                             "the sealed key does not open: wrong key-encryption key, or its id, chain or bytes were altered")
        }
        return plain
    }
}
