import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaKeys
import OsmodaSystem
import OsmodaVault

/// `osmoda-keys`: the key vault in osmodad — lifecycle, keys, signing, spend policy.
public struct KeysCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-keys",
        abstract: "Keep Ethereum and Solana keys in osmodad and sign under a default-deny spend policy.",
        discussion: """
            The keys live in osmodad, sealed at rest under a key-encryption key that is never \
            stored beside them (a passphrase through Argon2id, a key file or a systemd \
            credential); this tool asks the daemon over its socket and never sees a private \
            key. Signing is for the agent role, under the spend policy (default deny: a request \
            no rule allows is refused); lifecycle and key management are for admins. Every \
            request, allowed or refused, is recorded in the ledger. Passphrases and passwords \
            are read from a file, a descriptor or the terminal, never from the arguments. \
            Output is JSON Lines: vault.*, key.* (key.signature for signatures) and policy.decision records \
            (osmoda-records(5)). docs/vault.md describes the files, roles and threat model.

            Examples:
              osmoda-keys init --passphrase-file /run/secrets/vault-pass
              osmoda-keys create --chain ethereum --label ops-hot
              osmoda-keys import --label cold --keystore UTC--2026-…json --password-fd 3 3<pw
              osmoda-keys sign-message --key ops-hot --message 'hello'
              echo '{"chain_id":1,"nonce":0,"to":"0x…","value_wei":"1000","gas_limit":21000,"gas_price_wei":"1"}' | osmoda-keys sign-tx --key ops-hot
              osmoda-keys sign-transfer --key sol-1 --to 9xQe… --lamports 5000 --blockhash EkSn…
              osmoda-keys policy check --key ops-hot --kind transaction --amount 10 --destination 0x…
            """,
        version: "osmoda-keys (osmoda) \(osmodaVersion)",
        subcommands: [KeysInit.self, KeysUnlock.self, KeysLock.self, KeysStatus.self, KeysCreate.self, KeysList.self,
                      KeysAddress.self, KeysDelete.self, KeysImport.self, KeysExport.self, KeysSignMessage.self,
                      KeysSignTypedData.self, KeysSignTx.self, KeysSignTransfer.self, KeysPolicy.self, KeysBenchRaw.self]
    )

    public init() {}
}

/// The tool's failure for a daemon error: the vault's table first (docs/vault.md).
func keysFailure(_ e: ClientError) -> ToolFailure {
    switch e {
    case .rpc(let r):
        if let status = VaultExit.status(forCode: r.code.rawValue) {
            return ToolFailure(e.description, status: ExitStatus(rawValue: status) ?? .software)
        }
    case .permissionDenied(let m) where !m.hasPrefix("cannot connect"):
        // The daemon's refusal by role: name its stable code, as for every other refusal.
        return ToolFailure("\(m) (\(RPCErrorCode.denied.rawValue))", status: .noPermission)
    default: break
    }
    return clientFailure(e)
}

func vaultFailure(_ e: VaultError) -> ToolFailure {
    let status: ExitStatus
    switch e.code {
    case "input.mismatch", "input.empty": status = .usage
    case "input.unreadable": status = .noInput
    default: status = ExitStatus(rawValue: VaultExit.status(forCode: e.code) ?? 65) ?? .dataError
    }
    return ToolFailure("\(e.message) (\(e.code))", status: status)
}

/// One call to the vault, printed as one record.
func vaultCall(_ mode: DaemonModeOptions, _ method: String, _ params: JSONObject = JSONObject()) throws(ToolFailure) -> JSONValue {
    let paths = try mode.paths()
    let client: DaemonClient
    do { client = try DaemonClient.connect(paths: paths) } catch { throw keysFailure(error) }
    defer { client.close() }
    do { return try client.call(method, .object(params)) } catch { throw keysFailure(error) }
}

func emitRecord(_ type: String, _ reply: JSONValue, format: OutputFormat, extra: JSONObject = JSONObject()) throws(ToolFailure) {
    let sink = RecordSink(format: format)
    var record = replyRecord(type, reply)
    record.members += extra.members
    try sink.emit(record)
    try sink.flush()
}

/// Where a passphrase or password comes from: a file, a descriptor, or the terminal.
struct SecretOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the passphrase from this file ('-': standard input); one trailing newline is dropped.", valueName: "file"), completion: .file())
    var file: String?
    @Option(name: .customLong("passphrase-fd"), help: ArgumentHelp("Read the passphrase from this open descriptor.", valueName: "fd"))
    var fd: Int32?

    func validate() throws {
        if file != nil && fd != nil { throw ValidationError("--passphrase-file and --passphrase-fd exclude each other") }
    }

    var given: Bool { file != nil || fd != nil }

    func read(prompt: String, confirm: Bool = false) throws(ToolFailure) -> SecretBytes {
        let source: SecretSource = file.map { .file($0) } ?? fd.map { .fd($0) } ?? .terminal(prompt: prompt, confirm: confirm)
        do { return try SecretInput.read(source) } catch { throw vaultFailure(error) }
    }
}

/// The same for the password of a keystore file.
struct PasswordOptions: ParsableArguments {
    @Option(name: .customLong("password-file"), help: ArgumentHelp("Read the keystore password from this file ('-': standard input); one trailing newline is dropped.", valueName: "file"), completion: .file())
    var file: String?
    @Option(name: .customLong("password-fd"), help: ArgumentHelp("Read the keystore password from this open descriptor.", valueName: "fd"))
    var fd: Int32?

    func validate() throws {
        if file != nil && fd != nil { throw ValidationError("--password-file and --password-fd exclude each other") }
    }

    func read(prompt: String, confirm: Bool = false) throws(ToolFailure) -> SecretBytes {
        let source: SecretSource = file.map { .file($0) } ?? fd.map { .fd($0) } ?? .terminal(prompt: prompt, confirm: confirm)
        do { return try SecretInput.read(source) } catch { throw vaultFailure(error) }
    }
}

struct KeyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The key: its id, label or address.", valueName: "key"))
    var key: String
}

func absolute(_ path: String, _ option: String) throws(ToolFailure) -> String {
    guard path.hasPrefix("/") else { throw ToolFailure("\(option) must be an absolute path (the daemon reads it)", status: .usage) }
    return path
}

struct KeysInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the vault and leave it unlocked (admin).",
        discussion: "The key-encryption key comes from a passphrase (Argon2id; asked twice on the terminal unless given by file or descriptor), a key file of 32 bytes (raw or 64 hex digits, mode 0600, outside the state directory) or a systemd credential of the same form. Prints a vault.init record.")
    @OptionGroup var secret: SecretOptions
    @Option(name: .customLong("key-file"), help: ArgumentHelp("Use this key file (absolute path, read by the daemon) instead of a passphrase.", valueName: "file"), completion: .file())
    var keyFile: String?
    @Option(name: .long, help: ArgumentHelp("Use this systemd credential ($CREDENTIALS_DIRECTORY/NAME of the daemon) instead of a passphrase.", valueName: "name"))
    var credential: String?
    @Option(name: .long, help: ArgumentHelp("Argon2id cost: moderate (256 MiB, 3 passes), or minimum, for tests only.", valueName: "profile"))
    var kdf = "moderate"
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws {
        let n = (secret.given ? 1 : 0) + (keyFile != nil ? 1 : 0) + (credential != nil ? 1 : 0)
        if n > 1 { throw ValidationError("give one of a passphrase, --key-file and --credential") }
        if kdf != "moderate" && kdf != "minimum" { throw ValidationError("--kdf is moderate or minimum") }
    }

    func run() throws {
        try runTool("osmoda-keys") { _ in
            var params = JSONObject(["kdf": .string(kdf)])
            if let keyFile {
                params["key_file"] = .string(try absolute(keyFile, "--key-file"))
            } else if let credential {
                params["credential"] = .string(credential)
            } else {
                params["passphrase_hex"] = .string(SecretInput.hex(try secret.read(prompt: "New vault passphrase: ", confirm: true)))
            }
            try emitRecord("vault.init", try vaultCall(mode, VaultMethod.initialize, params), format: output.format)
            return .success
        }
    }
}

struct KeysUnlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Unlock the vault (admin).",
        discussion: "A passphrase vault asks for its passphrase (terminal, or --passphrase-file/--passphrase-fd); a key-file or credential vault is unlocked from the file or credential its header names, or the one given. A wrong passphrase is vault.bad_passphrase (exit 77) and changes nothing.")
    @OptionGroup var secret: SecretOptions
    @Option(name: .customLong("key-file"), help: ArgumentHelp("Unlock with this key file (absolute path, read by the daemon).", valueName: "file"), completion: .file())
    var keyFile: String?
    @Option(name: .long, help: ArgumentHelp("Unlock with this systemd credential of the daemon.", valueName: "name"))
    var credential: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-keys") { _ in
            var params = JSONObject()
            if let keyFile {
                params["key_file"] = .string(try absolute(keyFile, "--key-file"))
            } else if let credential {
                params["credential"] = .string(credential)
            } else {
                var ask = secret.given
                if !ask, case .string("passphrase")? = try vaultCall(mode, VaultMethod.status)["kek_source"] { ask = true }
                if ask { params["passphrase_hex"] = .string(SecretInput.hex(try secret.read(prompt: "Vault passphrase: "))) }
            }
            try emitRecord("vault.unlock", try vaultCall(mode, VaultMethod.unlock, params), format: output.format)
            return .success
        }
    }
}

struct KeysLock: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lock", abstract: "Seal the vault: forget the key-encryption key (agent or admin).")
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("vault.lock", try vaultCall(mode, VaultMethod.lock), format: output.format)
            return .success
        }
    }
}

struct KeysStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print whether the vault exists and is sealed, and how many keys it holds.")
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("vault.status", try vaultCall(mode, VaultMethod.status), format: output.format)
            return .success
        }
    }
}

struct KeysCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a key in the vault (admin) and print it as key.created.")
    @Option(name: .long, help: ArgumentHelp("ethereum or solana.", valueName: "chain"))
    var chain: String
    @Option(name: .long, help: ArgumentHelp("A unique name: 1 to 64 of A-Z a-z 0-9 . _ -.", valueName: "label"))
    var label: String
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("key.created", try vaultCall(mode, VaultMethod.create, JSONObject(["chain": .string(chain), "label": .string(label)])),
                           format: output.format)
            return .success
        }
    }
}

struct KeysList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print every key as a key.info record.",
        discussion: "A key whose file is damaged is printed with its error (and exit 74); the others are printed as usual.")
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { diagnostics in
            let reply = try vaultCall(mode, VaultMethod.list)
            let sink = RecordSink(format: output.format)
            var damaged = 0
            let ts = JSONValue.string(Sys.now().rfc3339)
            if case .array(let keys)? = reply["keys"] {
                for case .object(let k) in keys {
                    var o = JSONObject(["type": .string("key.info"), "ts": ts])
                    for m in k.members where m.key != "id" { o[m.key == "error" ? "error" : m.key] = m.value }
                    o.members.insert(.init(key: "key", value: k["id"] ?? .null), at: 2)
                    if k["error"] != nil {
                        damaged += 1
                        if case .object(let e)? = k["error"], case .string(let message)? = e["message"] { diagnostics.error(message) }
                    }
                    try sink.emit(o)
                }
            }
            try sink.flush()
            return damaged > 0 ? .ioError : .success
        }
    }
}

struct KeysAddress: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "address", abstract: "Print one key's address as a key.info record.")
    @OptionGroup var key: KeyOption
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("key.info", try vaultCall(mode, VaultMethod.address, JSONObject(["key": .string(key.key)])), format: output.format)
            return .success
        }
    }
}

struct KeysDelete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a key from the vault (admin); print key.deleted.")
    @OptionGroup var key: KeyOption
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("key.deleted", try vaultCall(mode, VaultMethod.delete, JSONObject(["key": .string(key.key)])), format: output.format)
            return .success
        }
    }
}

struct KeysImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a key (admin): an Ethereum v3 keystore or the Solana CLI's keypair file.",
        discussion: "--keystore takes a Web3 Secret Storage v3 file (scrypt or pbkdf2; also osmoda's Solana export) and its password; --solana-keypair takes the 64-number JSON array of solana-keygen. The file is read here and sent to the daemon; the Solana keypair, which is plaintext, travels only as hex and is parsed into locked memory there. Prints key.imported.")
    @Option(name: .long, help: ArgumentHelp("A unique name for the key.", valueName: "label"))
    var label: String
    @Option(name: .long, help: ArgumentHelp("A v3 keystore file.", valueName: "file"), completion: .file())
    var keystore: String?
    @Option(name: .customLong("solana-keypair"), help: ArgumentHelp("A Solana CLI keypair file (JSON array of 64 numbers).", valueName: "file"), completion: .file())
    var solanaKeypair: String?
    @OptionGroup var password: PasswordOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws {
        if (keystore == nil) == (solanaKeypair == nil) { throw ValidationError("give one of --keystore and --solana-keypair") }
    }

    func run() throws {
        try runTool("osmoda-keys") { _ in
            var params = JSONObject(["label": .string(label)])
            if let keystore {
                let bytes: [UInt8]
                do { bytes = try Sys.readFile(keystore, limit: KeystoreV3.maxFileSize) } catch {
                    throw ToolFailure("cannot read '\(keystore)': \(error)", status: .noInput)
                }
                params["keystore_json"] = .string(String(decoding: bytes, as: UTF8.self))
                params["password_hex"] = .string(SecretInput.hex(try password.read(prompt: "Keystore password: ")))
            } else if let solanaKeypair {
                let secret: SecretBytes
                do { secret = try SecretInput.read(.file(solanaKeypair)) } catch {
                    throw ToolFailure("cannot read '\(solanaKeypair)': \(error)", status: .noInput)
                }
                params["solana_keypair_hex"] = .string(SecretInput.hex(secret))
            }
            try emitRecord("key.imported", try vaultCall(mode, VaultMethod.importKey, params), format: output.format)
            return .success
        }
    }
}

struct KeysExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a key encrypted under a new password (admin): a v3 keystore file.",
        discussion: "Ethereum keys become a standard Web3 Secret Storage v3 keystore (scrypt); Solana keys the same format marked x-osmoda-chain. The file is created with mode 0600 and must not exist. Nothing leaves the daemon in plaintext. Prints key.exported.")
    @OptionGroup var key: KeyOption
    @Option(name: .long, help: ArgumentHelp("The keystore file to create.", valueName: "file"), completion: .file())
    var out: String
    @Option(name: .long, help: ArgumentHelp("scrypt cost: standard (256 MiB) or light (4 MiB).", valueName: "cost"))
    var scrypt = "standard"
    @OptionGroup var password: PasswordOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-keys") { _ in
            if FileStatus.exists(out) { throw ToolFailure("'\(out)' exists; export does not overwrite", status: .usage) }
            let pw = SecretInput.hex(try password.read(prompt: "Export password: ", confirm: true))
            let reply = try vaultCall(mode, VaultMethod.export, JSONObject(["key": .string(key.key), "password_hex": .string(pw), "scrypt": .string(scrypt)]))
            guard let keystore = reply["keystore"] else { throw ToolFailure("the daemon sent no keystore", status: .software) }
            var bytes: [UInt8] = []
            JSONWriter.write(keystore, into: &bytes)
            bytes.append(0x0a)
            do { try Sys.writeFileAtomically(out, bytes, mode: 0o600) } catch { throw ToolFailure("cannot write '\(out)': \(error)", status: .ioError) }
            var shown = JSONObject()
            if case .object(let o) = reply { shown.members = o.members.filter { $0.key != "keystore" } }
            shown["file"] = .string(out)
            try emitRecord("key.exported", .object(shown), format: output.format)
            return .success
        }
    }
}

/// Reads a JSON document from a file or standard input.
func readJSONDocument(_ path: String?) throws(ToolFailure) -> JSONValue {
    let bytes: [UInt8]
    do {
        if let path, path != "-" { bytes = try Sys.readFile(path, limit: 1 << 20) } else {
            var b: [UInt8] = []
            try Sys.readSecret(fd: 0, into: &b, limit: 1 << 20)
            bytes = b
        }
    } catch { throw ToolFailure("cannot read '\(path ?? "-")': \(error)", status: .noInput) }
    do { return try JSONReader.parse(bytes) } catch { throw ToolFailure("'\(path ?? "<stdin>")': \(error)", status: .dataError) }
}

func emitSignature(_ kind: String, _ reply: JSONValue, format: OutputFormat) throws(ToolFailure) {
    try emitRecord("key.signature", reply, format: format, extra: JSONObject(["kind": .string(kind)]))
}

/// Signs a JSON document read from `file` (or standard input): sends it as the `member`
/// param of `method` with the key, and prints the key.signature record of that kind.
func signDocument(_ file: String?, as member: String, method: String, key: KeyOption, output: FormatOptions,
                  mode: DaemonModeOptions) throws {
    try runTool("osmoda-keys") { _ in
        let doc = try readJSONDocument(file)
        try emitSignature(member, try vaultCall(mode, method, JSONObject(["key": .string(key.key), member: doc])), format: output.format)
        return .success
    }
}

struct KeysSignMessage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-message", abstract: "Sign a message (agent, under policy): EIP-191 personal_sign, or Ed25519 for Solana.",
        discussion: "Ethereum: the 65-byte r‖s‖v signature (v 27/28) in hex, as personal_sign gives it. Solana: the Ed25519 signature in base58 (and hex). Prints a key.signature record.")
    @OptionGroup var key: KeyOption
    @Option(name: .long, help: ArgumentHelp("The message as text (signed as its UTF-8 bytes).", valueName: "text"))
    var message: String?
    @Option(name: .customLong("message-hex"), help: ArgumentHelp("The message as hex bytes.", valueName: "hex"))
    var messageHex: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws {
        if (message == nil) == (messageHex == nil) { throw ValidationError("give one of --message and --message-hex") }
    }

    func run() throws {
        try runTool("osmoda-keys") { _ in
            var params = JSONObject(["key": .string(key.key)])
            if let message { params["message"] = .string(message) }
            if let messageHex { params["message_hex"] = .string(messageHex) }
            try emitSignature("message", try vaultCall(mode, VaultMethod.signMessage, params), format: output.format)
            return .success
        }
    }
}

struct KeysSignTypedData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-typed-data", abstract: "Sign EIP-712 typed data, v4 (agent, under policy).",
        discussion: "Reads the eth_signTypedData_v4 JSON ({types, primaryType, domain, message}) from the file or standard input. Prints a key.signature record with the signing hash.")
    @OptionGroup var key: KeyOption
    @Argument(help: ArgumentHelp("The typed-data JSON file; '-' or none: standard input.", valueName: "file"), completion: .file())
    var file: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try signDocument(file, as: "typed_data", method: VaultMethod.signTypedData, key: key, output: output, mode: mode)
    }
}

struct KeysSignTx: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-tx", abstract: "Sign an Ethereum transaction from its JSON description (agent, under policy).",
        discussion: "Members: chain_id, nonce, to, value_wei, gas_limit, data, and gas_price_wei (legacy EIP-155) or max_fee_per_gas_wei with max_priority_fee_per_gas_wei (EIP-1559, with an optional access_list). Amounts are decimal strings of wei. Prints a key.signature record with raw (for eth_sendRawTransaction) and hash.")
    @OptionGroup var key: KeyOption
    @Argument(help: ArgumentHelp("The transaction JSON file; '-' or none: standard input.", valueName: "file"), completion: .file())
    var file: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try signDocument(file, as: "transaction", method: VaultMethod.signTransaction, key: key, output: output, mode: mode)
    }
}

struct KeysSignTransfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-transfer", abstract: "Sign a Solana System Program transfer (agent, under policy).",
        discussion: "Prints a key.signature record with transaction (base64, for sendTransaction with encoding base64) and signature (base58, the transaction id).")
    @OptionGroup var key: KeyOption
    @Option(name: .long, help: ArgumentHelp("The recipient's base58 address.", valueName: "address"))
    var to: String
    @Option(name: .long, help: ArgumentHelp("The amount in lamports.", valueName: "n"))
    var lamports: String
    @Option(name: .long, help: ArgumentHelp("A recent blockhash (base58), from getLatestBlockhash.", valueName: "hash"))
    var blockhash: String
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-keys") { _ in
            let params = JSONObject(["key": .string(key.key), "to": .string(to), "lamports": .string(lamports), "recent_blockhash": .string(blockhash)])
            try emitSignature("transfer", try vaultCall(mode, VaultMethod.signTransfer, params), format: output.format)
            return .success
        }
    }
}

struct KeysPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Show, set (admin) or dry-run the spend policy.",
        subcommands: [KeysPolicyShow.self, KeysPolicySet.self, KeysPolicyCheck.self])
}

struct KeysPolicyShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the policy in force as a vault.policy record.")
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            try emitRecord("vault.policy", try vaultCall(mode, VaultMethod.policyShow), format: output.format)
            return .success
        }
    }
}

struct KeysPolicySet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Put a new policy in force (admin); print vault.policy.set.",
        discussion: "Reads the policy JSON (docs/vault-policy.md) from the file or standard input. A malformed policy is refused with policy.invalid naming the field (exit 65), and the policy in force stays.")
    @Argument(help: ArgumentHelp("The policy JSON file; '-' or none: standard input.", valueName: "file"), completion: .file())
    var file: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            let doc = try readJSONDocument(file)
            try emitRecord("vault.policy.set", try vaultCall(mode, VaultMethod.policySet, JSONObject(["policy": doc])), format: output.format)
            return .success
        }
    }
}

struct KeysPolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Dry run: would the policy allow this request now? Exit 0 yes, 1 no.",
        discussion: "Prints a policy.decision record naming the deciding rule. Changes nothing (the check itself is recorded in the ledger).")
    @OptionGroup var key: KeyOption
    @Option(name: .long, help: ArgumentHelp("transaction, transfer, message or typed_data.", valueName: "kind"))
    var kind: String
    @Option(name: .long, help: ArgumentHelp("The amount in base units (wei, lamports), a decimal integer.", valueName: "n"))
    var amount: String?
    @Option(name: .long, help: ArgumentHelp("The destination address.", valueName: "address"))
    var destination: String?
    @Option(name: .long, help: ArgumentHelp("The EIP-155 chain id of an Ethereum transaction.", valueName: "id"))
    var chainID: UInt64?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions
    func run() throws {
        try runTool("osmoda-keys") { _ in
            var params = JSONObject(["key": .string(key.key), "kind": .string(kind)])
            if let amount { params["amount"] = .string(amount) }
            if let destination { params["destination"] = .string(destination) }
            if let chainID { params["chain_id"] = .int(Int64(clamping: chainID)) }
            let reply = try vaultCall(mode, VaultMethod.policyCheck, params)
            try emitRecord("policy.decision", reply, format: output.format)
            return reply["allowed"] == .bool(true) ? .success : .no
        }
    }
}

/// Signs in this process with throwaway keys, for the benchmark's baseline (bench/run).
struct KeysBenchRaw: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-raw", abstract: "Sign N messages in-process with throwaway keys (for bench/run).", shouldDisplay: false)
    @Option(name: .long, help: "Signatures per chain.")
    var count = 2000
    func run() throws {
        try runTool("osmoda-keys") { _ in
            let sink = RecordSink(format: .json)
            let eth = EthereumPrivateKey.generate(), sol = SolanaKeypair.generate()
            for chain in ["ethereum", "solana"] {
                let start = Sys.monotonicNanos()
                for i in 0..<count {
                    let message = Array("bench message \(i)".utf8)
                    if chain == "ethereum" { _ = eth.personalSign(message) } else { _ = sol.sign(message) }
                }
                let seconds = Double(Sys.monotonicNanos() - start) / 1e9
                try sink.emit(JSONObject(["type": .string("bench.raw"), "ts": .string(Sys.now().rfc3339), "chain": .string(chain),
                                          "signatures": .int(Int64(count)), "seconds": .double(seconds),
                                          "per_second": .double(Double(count) / seconds)]))
            }
            try sink.flush()
            return .success
        }
    }
}
