import OsmodaCore
import OsmodaSystem
import OsmodaVault

/// Where `osmoda-keys` reads a passphrase or password: never from its arguments.
public enum SecretSource: Sendable, Equatable {
    /// A file (`-` is standard input); one trailing newline is dropped.
    case file(String)
    /// An open descriptor, read to its end; one trailing newline is dropped.
    case fd(Int32)
    /// The controlling terminal, echo off; asked twice when `confirm`.
    case terminal(prompt: String, confirm: Bool)
}

public enum SecretInput {
    /// Reads a secret into locked memory. The scratch buffers are wiped.
    public static func read(_ source: SecretSource) throws(VaultError) -> SecretBytes {
        var bytes: [UInt8] = []
        defer { Scrub.wipe(&bytes) }
        do {
            switch source {
            case .file(let path):
                if path == "-" {
                    try Sys.readSecret(fd: 0, into: &bytes)
                } else {
                    try Sys.readSecretFile(path, into: &bytes)  // not readFile: it leaves copies in freed memory
                }
                trimNewline(&bytes)
            case .fd(let fd):
                try Sys.readSecret(fd: fd, into: &bytes)
                trimNewline(&bytes)
            case .terminal(let prompt, let confirm):
                try Sys.readSecretFromTerminal(prompt: prompt, into: &bytes)
                if confirm {
                    var again: [UInt8] = []
                    defer { Scrub.wipe(&again) }
                    try Sys.readSecretFromTerminal(prompt: "Again: ", into: &again)
                    guard again == bytes else { throw VaultError("input.mismatch", "the two entries differ") }
                }
            }
        } catch let e as SystemError {
            throw VaultError("input.unreadable", "cannot read the secret: \(e)")
        } catch let e as VaultError {
            throw e
        } catch {
            throw VaultError("input.unreadable", "cannot read the secret: \(error)")
        }
        guard !bytes.isEmpty else { throw VaultError("input.empty", "the secret is empty") }
        return SecretBytes(copying: bytes)
    }

    static func trimNewline(_ bytes: inout [UInt8]) {
        if bytes.last == 0x0a { bytes.removeLast() }
        if bytes.last == 0x0d { bytes.removeLast() }
    }

    /// A secret as the hex a request carries (`*_hex`). The text is a `String` for as long
    /// as the request is being sent: the limit docs/vault.md describes.
    public static func hex(_ secret: SecretBytes) -> String {
        secret.withUnsafeBytes { Hex.encode($0) }
    }
}

/// osmoda-keys's exit status for a daemon error code (the table in docs/vault.md).
public enum VaultExit {
    public static func status(forCode code: String) -> Int32? {
        switch code {
        case "vault.sealed", "policy.denied", "auth.denied", "vault.bad_passphrase", "keystore.bad_password": return 77
        case "vault.storage", "vault.header_corrupt", "vault.key_corrupt", "ledger.storage", "ledger.io", "ledger.unavailable",
             "policy.io": return 74
        case "vault.not_initialized", "kek.keyfile", "kek.credential", "kek.parameters", "kek.invalid", "policy.insecure": return 78
        case "vault.exists": return 64
        case "key.not_found": return 66
        case "ledger.verification_failed": return 69
        case "rpc.invalid_params", "key.invalid", "key.invalid_label", "key.label_taken", "key.exists", "key.wrong_chain",
             "address.invalid", "address.bad_checksum", "tx.invalid", "typed_data.invalid", "quantity.invalid", "rlp.invalid",
             "keystore.invalid", "keystore.unsupported", "keystore.kdf_limits", "keystore.address_mismatch", "keystore.wrong_chain",
             "solana.keypair_invalid", "solana.keypair_mismatch", "policy.invalid", "vault.weak_passphrase":
            return 65
        default:
            if code.hasPrefix("policy.") { return 65 }
            return nil
        }
    }
}
