import OsmodaCore
import OsmodaIPC
import OsmodaSystem
import OsmodaVault
import Synchronization

/// The vault as osmodad holds it: the files under `<state>/vault/` and, while unlocked,
/// the key-encryption key in locked memory. Private keys are unsealed one request at a
/// time, used, and freed (zeroed) when the request ends; only the KEK stays in memory.
///
/// Thread-safe: the KEK is behind a mutex, held for bookkeeping
/// only, never while a key signs or Argon2id runs.
public final class Vault: Sendable {
    public let directory: VaultDirectory
    /// `<state>`: a key file or credential there would sit beside the keys it guards.
    let stateDirectory: String
    let environment: @Sendable (String) -> String?
    let clock: @Sendable () -> Timestamp

    struct State {
        var kek: KeyEncryptionKey?
        var source: KEKSource?
    }
    let state = Mutex(State())
    /// Serialises `initialize` and adding keys: two concurrent inits must not both pass
    /// the "no vault yet" check and write headers with different KEKs over each other, nor
    /// two creates or imports both pass the "label free, key not present" check.
    let lifecycle = Mutex(())

    public init(stateDirectory: String, environment: @escaping @Sendable (String) -> String? = { Sys.env($0) },
                clock: @escaping @Sendable () -> Timestamp = { Sys.now() }) {
        self.stateDirectory = stateDirectory
        directory = VaultDirectory(stateDirectory: stateDirectory)
        self.environment = environment
        self.clock = clock
    }

    // MARK: Lifecycle

    /// How a KEK is given: a passphrase (its bytes), a key file's path, or a credential's name.
    public enum Unlocker: Sendable {
        case passphrase(SecretBytes)
        case keyFile(String)
        case credential(String)

        public var source: KEKSource {
            switch self {
            case .passphrase: return .passphrase
            case .keyFile: return .keyfile
            case .credential: return .credential
            }
        }
    }

    public struct Status: Sendable, Equatable {
        public var initialized: Bool
        public var sealed: Bool
        public var kekSource: KEKSource?
        public var keys: Int
        public var format: Int?
    }

    public func status() throws(VaultError) -> Status {
        let header = try directory.readHeader()
        let unlocked = state.withLock { $0.kek != nil }
        let keys = header == nil ? 0 : try directory.keyIDs().count
        return Status(initialized: header != nil, sealed: !unlocked, kekSource: header?.kekSource, keys: keys, format: header?.format)
    }

    public var isUnlocked: Bool { state.withLock { $0.kek != nil } }

    /// Creates the vault and leaves it unlocked. `parameters` are the Argon2id ones for a
    /// passphrase (`KEKParameters.moderate()` unless a test asks for the minimum).
    public func initialize(_ unlocker: Unlocker, parameters: KEKParameters = .moderate()) throws(VaultError) -> VaultHeader {
        try lifecycle.withLock { (_) throws(VaultError) -> VaultHeader in try initializeLocked(unlocker, parameters: parameters) }
    }

    private func initializeLocked(_ unlocker: Unlocker, parameters: KEKParameters) throws(VaultError) -> VaultHeader {
        if try directory.readHeader() != nil { throw VaultError("vault.exists", "a vault already exists at '\(directory.path)'") }
        let kek: KeyEncryptionKey
        var header = VaultHeader(format: VaultHeader.currentFormat, kekSource: unlocker.source, argon2id: nil, keyFile: nil,
                                 credential: nil, verifier: "", created: clock().rfc3339)
        switch unlocker {
        case .passphrase(let p):
            guard p.count >= 8 else { throw VaultError("vault.weak_passphrase", "a passphrase is at least 8 bytes") }
            kek = try KeyEncryptionKey.derive(passphrase: p, parameters: parameters)
            header.argon2id = parameters
        case .keyFile(let path):
            kek = try readKEK(keyFile: path)
            header.keyFile = path
        case .credential(let name):
            kek = try readKEK(credential: name)
            header.credential = name
        }
        header.verifier = Hex.encode(kek.makeVerifier())
        try directory.create(header)
        state.withLock { $0 = State(kek: kek, source: unlocker.source) }
        return header
    }

    /// Unlocks with `unlocker`, or with the key file or credential the header names.
    /// A wrong passphrase or key is `vault.bad_passphrase`; nothing changes then.
    public func unlock(_ unlocker: Unlocker?) throws(VaultError) -> KEKSource {
        try unlockReturningGiven(unlocker).source
    }

    func unlockReturningGiven(_ unlocker: Unlocker?) throws(VaultError) -> Unlocker {
        guard let header = try directory.readHeader() else { throw Self.notInitialized }
        let given: Unlocker
        switch (unlocker, header.kekSource) {
        case (let u?, _): given = u
        case (nil, .keyfile):
            guard let path = header.keyFile else { throw VaultError("vault.header_corrupt", "the header names no key file") }
            given = .keyFile(path)
        case (nil, .credential):
            guard let name = header.credential else { throw VaultError("vault.header_corrupt", "the header names no credential") }
            given = .credential(name)
        case (nil, .passphrase):
            throw VaultError("vault.bad_passphrase", "this vault is unlocked with a passphrase; none was given")
        }
        // A key file and a credential hold the same thing (32 bytes): either opens a vault
        // made with the other, so a key file can later be deployed as a credential.
        guard (given.source == .passphrase) == (header.kekSource == .passphrase) else {
            throw VaultError("vault.bad_passphrase", "this vault is unlocked with its \(header.kekSource.rawValue), not a \(given.source.rawValue)")
        }
        let kek: KeyEncryptionKey
        switch given {
        case .passphrase(let p):
            guard let parameters = header.argon2id else { throw VaultError("vault.header_corrupt", "no Argon2id parameters") }
            kek = try KeyEncryptionKey.derive(passphrase: p, parameters: parameters)
        case .keyFile(let path): kek = try readKEK(keyFile: path)
        case .credential(let name): kek = try readKEK(credential: name)
        }
        guard let verifier = Hex.decode(header.verifier) else { throw VaultError("vault.header_corrupt", "'verifier' is not hex") }
        try kek.check(verifier: verifier)
        state.withLock {
            $0.kek = kek
            $0.source = given.source
        }
        return given
    }

    /// Undoes an `initialize` that holds no key yet (its ledger entry could not be
    /// written): locks and removes the header and the empty keys directory.
    func uninitialize() {
        lock()
        guard (try? directory.keyIDs())?.isEmpty ?? false else { return }
        try? directory.removeEmpty()
    }

    /// Forgets the KEK (its memory is zeroed when the last request using it ends).
    /// Returns whether it was unlocked.
    @discardableResult
    public func lock() -> Bool {
        state.withLock {
            let was = $0.kek != nil
            $0.kek = nil
            $0.source = nil
            return was
        }
    }

    static let notInitialized = VaultError("vault.not_initialized", "no vault yet: an admin runs 'osmoda-keys init'")
    static let sealed = VaultError("vault.sealed", "the vault is sealed: an admin runs 'osmoda-keys unlock'")

    /// A 32-byte KEK from a file: 32 raw bytes, or 64 hex digits and an optional newline.
    /// The file must be absolute, outside the state directory, and not readable by others.
    func readKEK(keyFile path: String) throws(VaultError) -> KeyEncryptionKey {
        guard path.hasPrefix("/") else { throw VaultError("kek.keyfile", "the key file path '\(path)' is not absolute") }
        // No '.' or '..' components, so the prefix check below cannot be walked around.
        guard !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw VaultError("kek.keyfile", "the key file path '\(path)' has '.' or '..' components")
        }
        let state = stateDirectory.hasSuffix("/") ? stateDirectory : stateDirectory + "/"
        guard !path.hasPrefix(state) else {
            throw VaultError("kek.keyfile", "the key file '\(path)' is inside the state directory: it must not sit beside the keys it protects")
        }
        // The same with every link resolved: a link elsewhere pointing into the state
        // directory would put the KEK beside the keys all the same.
        if let resolved = Sys.realPath(path) {
            let stateResolved = Sys.realPath(stateDirectory).map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? state
            guard !resolved.hasPrefix(stateResolved), !resolved.hasPrefix(state) else {
                throw VaultError("kek.keyfile", "the key file '\(path)' resolves to '\(resolved)', inside the state directory: it must not sit beside the keys it protects")
            }
        }
        let info: FileInfo
        do { info = try FileStatus.stat(path) } catch { throw VaultError("kek.keyfile", "cannot read the key file: \(error)") }
        guard info.kind == .regular else { throw VaultError("kek.keyfile", "'\(path)' is not a regular file") }
        guard info.mode & 0o077 == 0 else {
            throw VaultError("kek.keyfile", "'\(path)' is readable or writable by others (mode \(String(info.mode & 0o777, radix: 8))); chmod 600 it")
        }
        // Mode 0600 keeps others out only if the owner is not one of them: a key file
        // owned by another user (the agent's, say) is that user's to read.
        let me = Sys.effectiveUID
        guard info.ownerUID == me || info.ownerUID == 0 else {
            throw VaultError("kek.keyfile", "'\(path)' is owned by uid \(info.ownerUID), not by the daemon's user (\(me)) or root; chown it")
        }
        return try readKEKBytes(path)
    }

    func readKEK(credential name: String) throws(VaultError) -> KeyEncryptionKey {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw VaultError("kek.credential", "'\(name)' is not a credential name")
        }
        guard let dir = environment("CREDENTIALS_DIRECTORY"), dir.hasPrefix("/") else {
            throw VaultError("kek.credential", "no $CREDENTIALS_DIRECTORY: osmodad was not started with systemd credentials (LoadCredential=)")
        }
        return try readKEKBytes(dir + "/" + name)
    }

    func readKEKBytes(_ path: String) throws(VaultError) -> KeyEncryptionKey {
        // Not readFile (its scratch buffer is freed unwiped), and the hex form is decoded
        // from the bytes, never made a String: no copy of the KEK outlives this call.
        var bytes: [UInt8] = []
        defer { Scrub.wipe(&bytes) }
        do { try Sys.readSecretFile(path, into: &bytes, limit: 256) } catch { throw VaultError("kek.keyfile", "cannot read '\(path)': \(error)") }
        if bytes.count == 32 { return try KeyEncryptionKey(SecretBytes(copying: bytes)) }
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0a || bytes[end - 1] == 0x0d { end -= 1 }
        if end == 64 {
            func nibble(_ c: UInt8) -> UInt8? {
                switch c {
                case 0x30...0x39: return c - 0x30
                case 0x41...0x46: return c - 0x41 + 10
                case 0x61...0x66: return c - 0x61 + 10
                default: return nil
                }
            }
            var ok = true
            let secret = SecretBytes(count: 32) { out in
                for i in 0..<32 {
                    guard let hi = nibble(bytes[2 * i]), let lo = nibble(bytes[2 * i + 1]) else { ok = false; return }
                    out[i] = hi << 4 | lo
                }
            }
            if ok { return try KeyEncryptionKey(secret) }
        }
        throw VaultError("kek.keyfile", "'\(path)' holds \(bytes.count) bytes; a key file holds 32 raw bytes or 64 hex digits")
    }

    func currentKEK() throws(VaultError) -> KeyEncryptionKey {
        if let kek = state.withLock({ $0.kek }) { return kek }
        if try directory.readHeader() == nil { throw Self.notInitialized }
        throw Self.sealed
    }

    // MARK: Keys

    /// A key as `list` shows it; `error` is set (and the rest may be empty) for a key
    /// whose file is damaged.
    public struct Listing: Sendable, Equatable {
        public var id: String
        public var chain: Chain?
        public var label: String?
        public var address: String?
        public var created: String?
        public var origin: String?
        public var error: VaultError?
    }

    /// Read afresh for every request (a few hundred bytes): a file damaged or replaced on
    /// disk is noticed at once, not at the next restart.
    func keyFile(_ id: String) throws(VaultError) -> KeyFile {
        try directory.readKey(id)
    }

    /// Every key; a damaged file is listed with its error and does not hide the others.
    public func list() throws(VaultError) -> [Listing] {
        guard try directory.readHeader() != nil else { throw Self.notInitialized }
        var out: [Listing] = []
        for id in try directory.keyIDs() {
            do {
                let k = try keyFile(id)
                out.append(Listing(id: k.id, chain: k.chain, label: k.label, address: k.address, created: k.created, origin: k.origin))
            } catch {
                out.append(Listing(id: id, error: error))
            }
        }
        return out
    }

    /// The key named by id, label or address (in that order).
    public func resolve(_ reference: String) throws(VaultError) -> KeyFile {
        guard try directory.readHeader() != nil else { throw Self.notInitialized }
        let ids = try directory.keyIDs()
        if ids.contains(reference) { return try keyFile(reference) }
        var firstError: VaultError?
        for id in ids {
            do {
                let k = try keyFile(id)
                if k.label == reference || k.address == reference || (k.chain == .ethereum && k.address.lowercased() == reference.lowercased()) {
                    return k
                }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError, firstError.message.contains("'\(reference)'") { throw firstError }
        throw VaultError("key.not_found", "no key with id, label or address '\(reference)'")
    }

    static func checkLabel(_ label: String) throws(VaultError) {
        let ok = !label.isEmpty && label.utf8.count <= 64 && label.utf8.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || c == 0x2d || c == 0x2e || c == 0x5f
        }
        guard ok else { throw VaultError("key.invalid_label", "a label is 1 to 64 of A-Z a-z 0-9 . _ -; '\(label)' is not") }
        // A key is named by id, label or address: a label shaped like an id or an address
        // could stand for another key (`--key 0x…` signing with the wrong one).
        let u = Array(label.utf8)
        func hex(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c) }
        let looksLikeID = u.count == 16 && u.allSatisfy(hex)
        let looksLikeEthereum = u.count == 42 && u[0] == 0x30 && (u[1] == 0x78 || u[1] == 0x58) && u[2...].allSatisfy(hex)
        let looksLikeSolana = (32...44).contains(u.count) && Base58.decode(label)?.count == 32
        guard !looksLikeID, !looksLikeEthereum, !looksLikeSolana else {
            throw VaultError("key.invalid_label", "'\(label)' looks like a key id or an address; a label must not, so that it cannot name another key")
        }
    }

    /// Seals and writes a new key (the vault must be unlocked); labels are unique.
    func add(secret: SecretBytes, chain: Chain, address: String, label: String, origin: String) throws(VaultError) -> KeyFile {
        try Self.checkLabel(label)
        return try lifecycle.withLock { (_) throws(VaultError) -> KeyFile in try addLocked(secret: secret, chain: chain, address: address, label: label, origin: origin) }
    }

    private func addLocked(secret: SecretBytes, chain: Chain, address: String, label: String, origin: String) throws(VaultError) -> KeyFile {
        let kek = try currentKEK()
        for existing in try list() {
            if existing.label == label { throw VaultError("key.label_taken", "a key is already labelled '\(label)' (id \(existing.id))") }
            if existing.address == address { throw VaultError("key.exists", "this key is already in the vault as '\(existing.label ?? existing.id)' (id \(existing.id))") }
        }
        let id = Hex.encode(SecretBytes(randomCount: 8).withUnsafeBytes { Array($0) })
        let sealed = try Seal.seal(secret, id: id, chain: chain, kek: kek)
        let key = KeyFile(format: KeyFile.currentFormat, id: id, chain: chain, label: label, address: address,
                          created: clock().rfc3339, origin: origin, sealed: Hex.encode(sealed))
        try directory.writeKey(key)
        return key
    }

    public func create(chain: Chain, label: String) throws(VaultError) -> KeyFile {
        switch chain {
        case .ethereum:
            let key = EthereumPrivateKey.generate()
            return try add(secret: key.secret, chain: .ethereum, address: key.address.checksummed, label: label, origin: "created")
        case .solana:
            let key = SolanaKeypair.generate()
            return try add(secret: key.seed, chain: .solana, address: key.address, label: label, origin: "created")
        }
    }

    /// Imports a Web3 Secret Storage v3 keystore (scrypt or pbkdf2), or an osmoda
    /// Solana export in the same format.
    public func importKeystore(_ json: [UInt8], password: SecretBytes, label: String) throws(VaultError) -> KeyFile {
        _ = try currentKEK()
        let parsed = try KeystoreV3.parse(json)
        switch parsed.chain {
        case .ethereum:
            let key = try KeystoreV3.importEthereumKey(json, password: password)
            return try add(secret: key.secret, chain: .ethereum, address: key.address.checksummed, label: label, origin: "imported")
        case .solana:
            let key = try KeystoreV3.importSolanaKey(json, password: password)
            return try add(secret: key.seed, chain: .solana, address: key.address, label: label, origin: "imported")
        }
    }

    /// Imports the Solana CLI's 64-byte JSON keypair (given in secret memory).
    public func importSolanaCLI(_ json: SecretBytes, label: String) throws(VaultError) -> KeyFile {
        _ = try currentKEK()
        let key = try SolanaKeypair.importCLI(secret: json)
        return try add(secret: key.seed, chain: .solana, address: key.address, label: label, origin: "imported")
    }

    public func delete(_ reference: String) throws(VaultError) -> KeyFile {
        let key = try resolve(reference)
        try directory.deleteKey(key.id)
        return key
    }

    /// Unseals `key`'s secret for one use; a seal that does not open is `vault.key_corrupt`.
    func unseal(_ key: KeyFile) throws(VaultError) -> SecretBytes {
        let kek = try currentKEK()
        guard let sealed = Hex.decode(key.sealed) else { throw VaultError("vault.key_corrupt", "key '\(key.id)': 'sealed' is not hex") }
        do { return try Seal.unseal(sealed, id: key.id, chain: key.chain, kek: kek) } catch {
            throw VaultError("vault.key_corrupt", "key '\(key.id)' does not open (\(error.code)): its file was altered or moved")
        }
    }

    /// `key` as its file is now: a request resolves its key, then may wait (for the
    /// policy's transaction, behind other signers) before it signs; a key deleted or
    /// replaced meanwhile must not sign.
    func stillCurrent(_ key: KeyFile) throws(VaultError) -> KeyFile {
        let now: KeyFile
        do { now = try keyFile(key.id) } catch {
            if error.code == "key.not_found" { throw VaultError("key.not_found", "key '\(key.id)' was deleted") }
            throw error
        }
        guard now == key else { throw VaultError("vault.key_corrupt", "key '\(key.id)': its file changed while the request was in flight") }
        return now
    }

    public func withEthereumKey<T>(_ key: KeyFile, _ body: (EthereumPrivateKey) throws(VaultError) -> T) throws(VaultError) -> T {
        guard key.chain == .ethereum else { throw VaultError("key.wrong_chain", "key '\(key.label)' is a \(key.chain.rawValue) key, not Ethereum") }
        let key = try stillCurrent(key)
        let k = try EthereumPrivateKey(try unseal(key))
        guard k.address.checksummed == key.address else {
            throw VaultError("vault.key_corrupt", "key '\(key.id)': the sealed key is not the address its file names")
        }
        return try body(k)
    }

    public func withSolanaKey<T>(_ key: KeyFile, _ body: (SolanaKeypair) throws(VaultError) -> T) throws(VaultError) -> T {
        guard key.chain == .solana else { throw VaultError("key.wrong_chain", "key '\(key.label)' is an \(key.chain.rawValue) key, not Solana") }
        let key = try stillCurrent(key)
        let k = try SolanaKeypair(seed: try unseal(key))
        guard k.address == key.address else {
            throw VaultError("vault.key_corrupt", "key '\(key.id)': the sealed key is not the address its file names")
        }
        return try body(k)
    }

    /// The key encrypted under `password` as a v3 keystore (Ethereum) or osmoda's Solana
    /// file in the same format. The only form in which a key leaves the vault.
    public func export(_ key: KeyFile, password: SecretBytes, scrypt: KeystoreV3.ScryptParameters) throws(VaultError) -> [UInt8] {
        guard password.count >= 8 else { throw VaultError("vault.weak_passphrase", "an export password is at least 8 bytes") }
        switch key.chain {
        case .ethereum: return try withEthereumKey(key) { (k) throws(VaultError) in try KeystoreV3.encrypt(k, password: password, scrypt: scrypt) }
        case .solana: return try withSolanaKey(key) { (k) throws(VaultError) in try KeystoreV3.encrypt(k, password: password, scrypt: scrypt) }
        }
    }
}

/// Zeroing of scratch buffers that held secret bytes (libsodium's `sodium_memzero`).
public enum Scrub {
    public static func wipe(_ bytes: inout [UInt8]) { SecretBytes.zeroize(&bytes) }
}
