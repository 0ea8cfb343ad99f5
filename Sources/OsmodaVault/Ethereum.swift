import CSecp256k1

/// One libsecp256k1 context for the process, randomised once against side channels.
/// Every call below takes it `const`, which the library documents as thread-safe.
nonisolated(unsafe) let secp256k1: OpaquePointer = {
    guard let ctx = osmoda_secp256k1_context_create() else { fatalError("secp256k1_context_create failed") }
    let seed = SecretBytes(randomCount: 32)
    let ok = seed.withBytePointer { secp256k1_context_randomize(ctx, $0) }
    precondition(ok == 1, "secp256k1_context_randomize failed")
    return ctx
}()

/// A 20-byte Ethereum address. `description` is the EIP-55 checksummed form.
public struct EthereumAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// The address of a 64-byte uncompressed public key (x ‖ y, no 0x04 prefix):
    /// the last 20 bytes of its Keccak-256.
    public init(publicKey64 key: [UInt8]) {
        precondition(key.count == 64)
        bytes = Array(Keccak256.hash(key)[12...])
    }

    /// Parses `0x` + 40 hex digits. All-lower-case and all-upper-case forms carry no
    /// checksum and are accepted; a mixed-case form must be a valid EIP-55 checksum.
    public init(parsing text: String) throws(VaultError) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 42, utf8[0] == 0x30, utf8[1] == 0x78 || utf8[1] == 0x58 else {
            throw VaultError("address.invalid", "an Ethereum address is 0x followed by 40 hex digits")
        }
        guard let b = Hex.decode(String(decoding: utf8[2...], as: UTF8.self)), b.count == 20 else {
            throw VaultError("address.invalid", "an Ethereum address is 0x followed by 40 hex digits")
        }
        bytes = b
        let body = utf8[2...]
        let hasLower = body.contains { (0x61...0x66).contains($0) }
        let hasUpper = body.contains { (0x41...0x46).contains($0) }
        if hasLower && hasUpper && Array(checksummed.utf8) != [0x30, 0x78] + Array(body) {
            throw VaultError("address.bad_checksum", "the mixed-case address \(text) fails its EIP-55 checksum (expected \(checksummed))")
        }
    }

    /// EIP-55: hex digit i is upper case when nibble i of keccak256(lower-case hex) is ≥ 8.
    public var checksummed: String {
        let lower = Array(Hex.encode(bytes).utf8)
        let hash = Keccak256.hash(lower)
        var out: [UInt8] = [0x30, 0x78]
        for (i, c) in lower.enumerated() {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            out.append(c >= 0x61 && nibble >= 8 ? c - 0x20 : c)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { checksummed }
}

/// A 65-byte recoverable signature r ‖ s ‖ v with v = 27 or 28, as `personal_sign`,
/// ethers and web3 produce and `ecrecover` consumes.
public struct EthereumSignature: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(r: [UInt8], s: [UInt8], recoveryID: UInt8) {
        precondition(r.count == 32 && s.count == 32 && recoveryID < 2)
        bytes = r + s + [27 + recoveryID]
    }

    /// 65 bytes; v may be 27/28 or 0/1.
    public init(bytes: [UInt8]) throws(VaultError) {
        guard bytes.count == 65 else {
            throw VaultError("signature.invalid", "an Ethereum signature is 65 bytes (r ‖ s ‖ v), not \(bytes.count)")
        }
        let v = bytes[64]
        guard v == 27 || v == 28 || v == 0 || v == 1 else {
            throw VaultError("signature.invalid", "the recovery byte v must be 27 or 28 (or 0 or 1), not \(v)")
        }
        self.bytes = Array(bytes[0..<64]) + [v < 27 ? v + 27 : v]
    }

    public var r: [UInt8] { Array(bytes[0..<32]) }
    public var s: [UInt8] { Array(bytes[32..<64]) }
    public var v: UInt8 { bytes[64] }
    public var recoveryID: Int32 { Int32(bytes[64] - 27) }
    public var description: String { Hex.encode(bytes, prefix: true) }
}

/// A secp256k1 private key in secret memory.
public struct EthereumPrivateKey: Sendable {
    public let secret: SecretBytes

    /// A key from 32 secret bytes; refuses zero and values ≥ the group order.
    public init(_ secret: SecretBytes) throws(VaultError) {
        guard secret.count == 32 else {
            throw VaultError("key.invalid", "a secp256k1 private key is 32 bytes, not \(secret.count)")
        }
        let ok = secret.withBytePointer { secp256k1_ec_seckey_verify(secp256k1, $0) }
        guard ok == 1 else {
            throw VaultError("key.invalid", "the private key is zero or not below the secp256k1 group order")
        }
        self.secret = secret
    }

    /// A fresh key from the CSPRNG (retrying the ~2⁻¹²⁸ chance of an invalid scalar).
    public static func generate() -> EthereumPrivateKey {
        while true {
            if let key = try? EthereumPrivateKey(SecretBytes(randomCount: 32)) { return key }
        }
    }

    /// The 64-byte uncompressed public key x ‖ y.
    public var publicKey: [UInt8] {
        var pub = secp256k1_pubkey()
        let ok = secret.withBytePointer { secp256k1_ec_pubkey_create(secp256k1, &pub, $0) }
        precondition(ok == 1, "a verified private key has a public key")
        return Self.serialize(pub)
    }

    public var address: EthereumAddress { EthereumAddress(publicKey64: publicKey) }

    /// Signs a 32-byte digest: RFC 6979 deterministic nonce (libsecp256k1's default),
    /// low s, with the recovery id.
    public func sign(digest: [UInt8]) -> EthereumSignature {
        precondition(digest.count == 32, "a digest is 32 bytes")
        var sig = secp256k1_ecdsa_recoverable_signature()
        let ok = secret.withBytePointer {
            secp256k1_ecdsa_sign_recoverable(secp256k1, &sig, digest, $0, nil, nil)
        }
        precondition(ok == 1, "signing with a verified key cannot fail")
        var compact = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        secp256k1_ecdsa_recoverable_signature_serialize_compact(secp256k1, &compact, &recid, &sig)
        return EthereumSignature(r: Array(compact[0..<32]), s: Array(compact[32...]), recoveryID: UInt8(recid))
    }

    /// EIP-191 version 0x45, as `personal_sign` and `eth_sign` do it.
    public func personalSign(_ message: some Collection<UInt8>) -> EthereumSignature {
        sign(digest: Ethereum.personalMessageDigest(message))
    }

    static func serialize(_ pub: secp256k1_pubkey) -> [UInt8] {
        var pub = pub
        var out = [UInt8](repeating: 0, count: 65)
        var len = 65
        secp256k1_ec_pubkey_serialize(secp256k1, &out, &len, &pub, osmoda_secp256k1_uncompressed())
        return Array(out[1...])
    }
}

public enum Ethereum {
    /// keccak256("\u{19}Ethereum Signed Message:\n" ‖ decimal length ‖ message).
    public static func personalMessageDigest(_ message: some Collection<UInt8>) -> [UInt8] {
        var h = Keccak256()
        h.update(Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8))
        h.update(message)
        return h.finalize()
    }

    /// The public key (64 bytes) that produced `signature` over `digest`, as ecrecover.
    public static func recoverPublicKey(digest: [UInt8], signature: EthereumSignature) throws(VaultError) -> [UInt8] {
        guard digest.count == 32 else { throw VaultError("signature.invalid", "a digest is 32 bytes") }
        var sig = secp256k1_ecdsa_recoverable_signature()
        let compact = Array(signature.bytes[0..<64])
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1, &sig, compact, signature.recoveryID) == 1 else {
            throw VaultError("signature.invalid", "r or s is not a valid secp256k1 scalar")
        }
        var pub = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(secp256k1, &pub, &sig, digest) == 1 else {
            throw VaultError("signature.unrecoverable", "no public key matches this signature and digest")
        }
        return EthereumPrivateKey.serialize(pub)
    }

    public static func recoverAddress(digest: [UInt8], signature: EthereumSignature) throws(VaultError) -> EthereumAddress {
        EthereumAddress(publicKey64: try recoverPublicKey(digest: digest, signature: signature))
    }

    /// The signer of an EIP-191 personal message.
    public static func recoverPersonalSigner(message: some Collection<UInt8>, signature: EthereumSignature) throws(VaultError) -> EthereumAddress {
        try recoverAddress(digest: personalMessageDigest(message), signature: signature)
    }
}
