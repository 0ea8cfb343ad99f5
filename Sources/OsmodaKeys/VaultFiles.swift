import OsmodaCore
import OsmodaIPC
import OsmodaSystem
import OsmodaVault

/// Where the KEK comes from. The KEK itself is never written anywhere.
public enum KEKSource: String, Sendable, Codable, CaseIterable {
    /// Argon2id over a passphrase; the parameters are in the header.
    case passphrase
    /// A file of 32 bytes (raw, or 64 hex digits), kept away from the vault.
    case keyfile
    /// A systemd credential, `$CREDENTIALS_DIRECTORY/<name>`, same content as a key file.
    case credential
}

/// `<state>/vault/vault.json`: what the vault is and how to unlock it, never the KEK.
public struct VaultHeader: Sendable, Codable, Equatable {
    public static let currentFormat = 1
    public var format: Int
    public var kekSource: KEKSource
    /// Argon2id parameters (passphrase only).
    public var argon2id: KEKParameters?
    /// Where the key file was at init (key file only): a hint for unlock, not a secret.
    public var keyFile: String?
    /// The credential's name (credential only).
    public var credential: String?
    /// XChaCha20-Poly1305 of nothing under the KEK, hex: proves a KEK right without a key.
    public var verifier: String
    public var created: String

    enum CodingKeys: String, CodingKey {
        case format, kekSource = "kek_source", argon2id, keyFile = "key_file", credential, verifier, created
    }
}

/// `<state>/vault/keys/<id>.json`: one key's public metadata and its sealed secret.
public struct KeyFile: Sendable, Codable, Equatable {
    public static let currentFormat = 1
    public var format: Int
    public var id: String
    public var chain: Chain
    public var label: String
    public var address: String
    public var created: String
    /// How the key came in: `created` or `imported`.
    public var origin: String
    /// `Seal` of the secret (32-byte secp256k1 scalar or Ed25519 seed), bound to id and chain; hex.
    public var sealed: String
}

/// The vault's directory: reads and writes the header and key files. Every write is
/// atomic and durable (`Sys.writeFileAtomically`), files 0600, directories 0700.
public struct VaultDirectory: Sendable {
    public let path: String
    public var headerPath: String { path + "/vault.json" }
    public var keysPath: String { path + "/keys" }

    public init(stateDirectory: String) { path = stateDirectory + "/vault" }

    public func keyPath(_ id: String) -> String { keysPath + "/" + id + ".json" }

    static func storage(_ e: SystemError) -> VaultError { VaultError("vault.storage", "\(e)") }

    /// The header, or `nil` when the vault was never initialised; a damaged header is
    /// `vault.header_corrupt`.
    public func readHeader() throws(VaultError) -> VaultHeader? {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(headerPath, limit: 64 << 10) } catch {
            if error.code == Errno.noEntry { return nil }
            throw Self.storage(error)
        }
        let header: VaultHeader
        do { header = try ValueDecoder.decode(VaultHeader.self, from: try JSONReader.parse(bytes)) } catch {
            throw VaultError("vault.header_corrupt", "'\(headerPath)' is damaged: \(error)")
        }
        guard header.format == VaultHeader.currentFormat else {
            throw VaultError("vault.header_corrupt", "'\(headerPath)': format \(header.format) is not supported (this build reads \(VaultHeader.currentFormat))")
        }
        if header.kekSource == .passphrase {
            guard let p = header.argon2id else { throw VaultError("vault.header_corrupt", "'\(headerPath)': a passphrase vault needs 'argon2id'") }
            do { try p.validate() } catch { throw VaultError("vault.header_corrupt", "'\(headerPath)': argon2id: \(error.message)") }
        }
        guard Hex.decode(header.verifier) != nil else { throw VaultError("vault.header_corrupt", "'\(headerPath)': 'verifier' is not hex") }
        return header
    }

    /// Makes the directories (0700) and writes a new header. Refuses when one exists.
    public func create(_ header: VaultHeader) throws(VaultError) {
        do {
            try Sys.makeDirectories(path, mode: 0o700)
            try Sys.makeDirectories(keysPath, mode: 0o700)
        } catch { throw Self.storage(error) }
        if FileStatus.exists(headerPath) { throw VaultError("vault.exists", "a vault already exists at '\(path)'") }
        try write(header, to: headerPath)
    }

    func write<T: Encodable>(_ value: T, to file: String) throws(VaultError) {
        var bytes: [UInt8] = []
        do { JSONWriter.write(try ValueEncoder.encode(value), into: &bytes) } catch {
            throw VaultError("vault.storage", "cannot encode '\(file)': \(error)")
        }
        bytes.append(0x0a)
        do { try Sys.writeFileAtomically(file, bytes, mode: 0o600) } catch { throw Self.storage(error) }
    }

    /// The ids of the key files present, sorted.
    public func keyIDs() throws(VaultError) -> [String] {
        let names: [String]
        do { names = try Sys.listDirectory(keysPath) } catch {
            if error.code == Errno.noEntry { return [] }
            throw Self.storage(error)
        }
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }
    }

    /// One key's file; a missing one is `key.not_found`, a damaged one `vault.key_corrupt`
    /// naming that key only.
    public func readKey(_ id: String) throws(VaultError) -> KeyFile {
        let file = keyPath(id)
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(file, limit: 64 << 10) } catch {
            if error.code == Errno.noEntry { throw VaultError("key.not_found", "no key '\(id)'") }
            throw Self.storage(error)
        }
        let key: KeyFile
        do { key = try ValueDecoder.decode(KeyFile.self, from: try JSONReader.parse(bytes)) } catch {
            throw VaultError("vault.key_corrupt", "key '\(id)': '\(file)' is damaged: \(error)")
        }
        guard key.format == KeyFile.currentFormat else {
            throw VaultError("vault.key_corrupt", "key '\(id)': format \(key.format) is not supported")
        }
        guard key.id == id else { throw VaultError("vault.key_corrupt", "key '\(id)': the file names id '\(key.id)'") }
        guard Hex.decode(key.sealed) != nil else { throw VaultError("vault.key_corrupt", "key '\(id)': 'sealed' is not hex") }
        return key
    }

    public func writeKey(_ key: KeyFile) throws(VaultError) {
        try write(key, to: keyPath(key.id))
    }

    public func deleteKey(_ id: String) throws(VaultError) {
        do {
            try Sys.removeFile(keyPath(id))
            try Sys.syncDirectory(of: keyPath(id))
        } catch {
            if error.code == Errno.noEntry { throw VaultError("key.not_found", "no key '\(id)'") }
            throw Self.storage(error)
        }
    }

    /// Removes the header, then the keys directory and the vault directory if empty.
    func removeEmpty() throws(VaultError) {
        do {
            try Sys.removeFile(headerPath)
            try Sys.syncDirectory(of: headerPath)
        } catch { throw Self.storage(error) }
        try? Sys.removeDirectory(keysPath)
    }
}
