import CSodium

/// libsodium must be initialised once per process before use; `sodium_init` is itself
/// idempotent and thread-safe, and a Swift global is initialised exactly once.
enum Sodium {
    static let ready: Bool = sodium_init() >= 0

    static func require() throws(LedgerStoreError) {
        guard ready else { throw LedgerStoreError(.key, "libsodium failed to initialise") }
    }
}

/// An Ed25519 note verifier key, in the text form of Go's `golang.org/x/mod/sumdb/note`,
/// which the C2SP ecosystem shares: `<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>`.
///
/// The key ID is the one C2SP signed-note recommends for Ed25519:
/// the first 4 bytes of `SHA-256(name || 0x0A || 0x01 || public key)`.
public struct NoteVerifierKey: Sendable, Equatable, CustomStringConvertible {
    /// The signed-note signature type byte for Ed25519.
    public static let ed25519Type: UInt8 = 0x01

    public let name: String
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    /// The 4-byte key ID (big-endian in signatures).
    public let keyID: [UInt8]

    /// Checks the name (non-empty, no Unicode spaces, no `+`) and the key length.
    public init(name: String, publicKey: [UInt8]) throws(LedgerStoreError) {
        guard Self.isValidName(name) else {
            throw LedgerStoreError(.key, "invalid key name '\(name)': it must be non-empty, without spaces or '+'")
        }
        guard publicKey.count == 32 else { throw LedgerStoreError(.key, "an Ed25519 public key has 32 bytes, not \(publicKey.count)") }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, type: Self.ed25519Type, publicKey: publicKey)
    }

    /// Parses the text form and checks that its key ID matches the name and key.
    public init(parsing text: String) throws(LedgerStoreError) {
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        // The name and the ID hold no '+'; the base64 key may.
        let parts = trimmed.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count == 8, let id = LedgerHash.bytes(hex: String(parts[1])),
              let material = CheckpointBase64.decode(String(parts[2])), material.count == 33, material[0] == Self.ed25519Type
        else { throw LedgerStoreError(.key, "not an Ed25519 note verifier key (<name>+<hex id>+<base64 key>)") }
        try self.init(name: String(parts[0]), publicKey: Array(material[1...]))
        guard id == keyID else { throw LedgerStoreError(.key, "the verifier key's ID does not match its name and key") }
    }

    public var description: String {
        "\(name)+\(LedgerHash.hex(keyID))+\(CheckpointBase64.encode([Self.ed25519Type] + publicKey))"
    }

    /// Whether `signature` (64 bytes) is this key's Ed25519 signature of `message`
    /// (`crypto_sign_verify_detached`, which refuses non-canonical and small-order inputs).
    public func isValidSignature(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard Sodium.ready, signature.count == 64 else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// C2SP signed-note: key names are non-empty and contain no Unicode space and no `+`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    static func keyID(name: String, type: UInt8, publicKey: [UInt8]) -> [UInt8] {
        Array(LedgerHash.sha256(Array(name.utf8) + [0x0A, type] + publicKey).prefix(4))
    }
}

/// The Ed25519 key that signs checkpoints, with its secret in libsodium guarded memory
/// (`sodium_malloc`: guard pages, zeroed when freed).
///
/// Custody today: the daemon generates the key on the first open of a state directory
/// and keeps it in `checkpoint.key` there, mode 0600, written atomically. That file is
/// *not* encrypted: it is protected by its mode and the state directory's (0700), as an
/// SSH host key is. The vault issue takes custody of this key later (sealed under a
/// key-encryption key that is not stored beside it); until then, whoever can read the
/// state directory as its owner or root can sign checkpoints, which is why checkpoints
/// kept *elsewhere* are what detect a re-chain by root.
///
/// The file holds one line in Go's `sumdb/note` signer-key form:
/// `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>`.
public final class CheckpointSigner: @unchecked Sendable {
    // @unchecked: the secret is written once in init and only read afterwards.
    private let secret: UnsafeMutableRawPointer
    public let verifierKey: NoteVerifierKey

    public var name: String { verifierKey.name }

    /// A signer from a 32-byte Ed25519 seed (`crypto_sign_seed_keypair`).
    public init(name: String, seed: [UInt8]) throws(LedgerStoreError) {
        try Sodium.require()
        guard seed.count == 32 else { throw LedgerStoreError(.key, "an Ed25519 seed has 32 bytes, not \(seed.count)") }
        guard let secret = sodium_malloc(64) else { throw LedgerStoreError(.key, "sodium_malloc failed") }
        var publicKey = [UInt8](repeating: 0, count: 32)
        let rc = seed.withUnsafeBufferPointer { s -> Int32 in
            guard let base = s.baseAddress else { return -1 }
            return crypto_sign_seed_keypair(&publicKey, secret.assumingMemoryBound(to: UInt8.self), base)
        }
        guard rc == 0 else {
            sodium_free(secret)
            throw LedgerStoreError(.key, "crypto_sign_seed_keypair failed")
        }
        do {
            self.verifierKey = try NoteVerifierKey(name: name, publicKey: publicKey)
        } catch {
            sodium_free(secret)
            throw error
        }
        self.secret = secret
    }

    /// A new key from libsodium's CSPRNG (`randombytes_buf`).
    public static func generate(name: String) throws(LedgerStoreError) -> CheckpointSigner {
        try Sodium.require()
        var seed = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&seed, 32)
        defer { sodium_memzero(&seed, 32) }
        return try CheckpointSigner(name: name, seed: seed)
    }

    /// Parses the `PRIVATE+KEY+…` text form and checks its key ID.
    public convenience init(privateKeyText text: String) throws(LedgerStoreError) {
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let parts = trimmed.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY", let id = LedgerHash.bytes(hex: String(parts[3])),
              id.count == 4, var material = CheckpointBase64.decode(String(parts[4])), material.count == 33,
              material[0] == NoteVerifierKey.ed25519Type
        else { throw LedgerStoreError(.key, "not an Ed25519 note signer key (PRIVATE+KEY+<name>+<hex id>+<base64 seed>)") }
        defer { sodium_memzero(&material, material.count) }
        try self.init(name: String(parts[2]), seed: Array(material[1...]))
        guard id == verifierKey.keyID else { throw LedgerStoreError(.key, "the signer key's ID does not match its name and key") }
    }

    deinit { sodium_free(secret) }

    /// The `PRIVATE+KEY+…` text (one line, newline-terminated) for `checkpoint.key`.
    func privateKeyText() -> [UInt8] {
        // The seed is the first half of libsodium's 64-byte secret key.
        var material = [NoteVerifierKey.ed25519Type] + Array(UnsafeRawBufferPointer(start: secret, count: 32))
        defer { sodium_memzero(&material, material.count) }
        let text = "PRIVATE+KEY+\(name)+\(LedgerHash.hex(verifierKey.keyID))+\(CheckpointBase64.encode(material))\n"
        return Array(text.utf8)
    }

    /// The 64-byte Ed25519 signature of `message` (`crypto_sign_detached`).
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        var length: UInt64 = 0
        _ = crypto_sign_detached(&signature, &length, message, UInt64(message.count), secret.assumingMemoryBound(to: UInt8.self))
        return signature
    }

    public static let keyFileName = "checkpoint.key"
    public static let publicKeyFileName = "checkpoint.pub"

    /// Loads `checkpoint.key` from `directory`, or creates it (with `checkpoint.pub`)
    /// named `name` when it does not exist. An existing key keeps its own name.
    ///
    /// Refuses a key file that group or others can read or write. Not an error: a
    /// missing `checkpoint.pub`, which is rewritten from the key.
    static func loadOrCreate(directory: String, name: String) throws(LedgerStoreError) -> CheckpointSigner {
        let keyPath = StoreSystem.join(directory, keyFileName)
        let pubPath = StoreSystem.join(directory, publicKeyFileName)
        let signer: CheckpointSigner
        if let st = try StoreSystem.fileStatus(keyPath) {
            guard st.mode & 0o077 == 0 else {
                throw LedgerStoreError(.key, "'\(keyPath)' is accessible by group or others (mode \(String(st.mode, radix: 8))); chmod 600 it")
            }
            var bytes = try StoreSystem.readFile(keyPath, limit: 4096)
            defer { sodium_memzero(&bytes, bytes.count) }
            do {
                signer = try CheckpointSigner(privateKeyText: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw LedgerStoreError(.key, "'\(keyPath)': \(error.message)")
            }
        } else {
            signer = try generate(name: name)
            var text = signer.privateKeyText()
            defer { sodium_memzero(&text, text.count) }
            try StoreSystem.writeFileAtomically(keyPath, text, mode: 0o600, exclusive: true)
        }
        let pub = Array((signer.verifierKey.description + "\n").utf8)
        let existing = try StoreSystem.fileStatus(pubPath) != nil ? try StoreSystem.readFile(pubPath, limit: 4096) : []
        if existing != pub {
            try StoreSystem.writeFileAtomically(pubPath, pub, mode: 0o644, exclusive: false)
        }
        return signer
    }
}
