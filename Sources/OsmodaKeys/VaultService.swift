import OsmodaCore
import OsmodaDaemon
import OsmodaIPC
import OsmodaLedger
import OsmodaSystem
import OsmodaVault
import Synchronization

/// The vault's methods in osmodad (docs/vault.md): lifecycle, keys, signing under the
/// spend policy. Every request — allowed, refused by role or policy, or failed — is
/// recorded in the ledger with the caller's credentials and no secret material; a
/// signature or an exported keystore is released only after its entry is durable.
public enum VaultService {
    public struct Options: Sendable {
        /// Unlock at start from this key file …
        public var autoUnlockKeyFile: String?
        /// … or from this systemd credential (`$CREDENTIALS_DIRECTORY/<name>`).
        public var autoUnlockCredential: String?
        public init(autoUnlockKeyFile: String? = nil, autoUnlockCredential: String? = nil) {
            self.autoUnlockKeyFile = autoUnlockKeyFile
            self.autoUnlockCredential = autoUnlockCredential
        }
    }

    /// What `DaemonMain.run` calls to add the vault to the daemon.
    public static func registration(_ options: Options) -> DaemonServiceRegistration {
        { (router: inout Router, context: DaemonServiceContext) throws(DaemonMain.StartFailure) in
            let gate: PolicyGate
            do { gate = try PolicyGate(stateDirectory: context.paths.stateDirectory, store: context.store) } catch {
                throw DaemonMain.StartFailure(message: "cannot load the vault's spend policy: \(error)", status: 78)
            }
            let service = VaultServiceCore(vault: Vault(stateDirectory: context.paths.stateDirectory), gate: gate,
                                           committer: context.committer, log: context.log)
            service.register(on: &router)
            service.autoUnlock(options)
        }
    }
}

/// The vault's methods, their ledger entries and their error mapping.
final class VaultServiceCore: Sendable {
    let vault: Vault
    let gate: PolicyGate
    let committer: GroupCommitter
    let log: @Sendable (String) -> Void
    /// Role refusals recorded per uid: a caller with no role (or too low a one) must not be
    /// able to write the ledger without bound by knocking in a loop.
    let denials: Mutex<DenialBudget>
    let monotonicNanos: @Sendable () -> UInt64

    init(vault: Vault, gate: PolicyGate, committer: GroupCommitter, log: @escaping @Sendable (String) -> Void,
         denialBudget: DenialBudget = DenialBudget(), monotonicNanos: @escaping @Sendable () -> UInt64 = { Sys.monotonicNanos() }) {
        self.vault = vault
        self.gate = gate
        self.committer = committer
        self.log = log
        self.denials = Mutex(denialBudget)
        self.monotonicNanos = monotonicNanos
    }

    /// What a handler gives back: the reply, the non-secret facts for the ledger entry,
    /// and how to undo a change when its entry cannot be written.
    struct Outcome {
        var reply: JSONObject
        var audit: JSONObject = JSONObject()
        var undo: (@Sendable () -> Void)?
    }

    /// A signing request ready for the policy: what it asks, and how to sign it.
    struct SignPlan {
        var request: SpendRequest
        var audit: JSONObject
        var sign: () throws(VaultError) -> (result: JSONObject, details: JSONObject)
    }

    static func actor(_ peer: Peer) -> Actor { Actor(uid: peer.uid, gid: peer.gid, pid: peer.pid, exe: peer.exe ?? "") }

    static func rpc(_ e: VaultError) -> RPCError { RPCError(RPCErrorCode(rawValue: e.code), e.message) }

    /// Appends one entry; the reply waits until it is durable.
    func record(_ type: String, _ payload: JSONObject, _ actor: Actor) throws(RPCError) -> AppendedEntry {
        let request = AppendRequest(type: type, payload: JSONWriter.serialize(.object(payload)), actor: actor)
        do { return try committer.submit(request) } catch {
            throw RPCError(RPCErrorCode(rawValue: error.code.rawValue), "the ledger cannot record this request, so it was not done: \(error.message)")
        }
    }

    /// The facts of a failed request, in the shape the gate's `vault.sign` entries use.
    /// The message is clipped: it may echo what the caller sent (a key reference, a
    /// member's name), and an entry over the ledger's payload limit would not be
    /// written at all — a request the caller could keep out of the ledger by padding it.
    static func failure(_ e: VaultError) -> JSONObject {
        JSONObject(["outcome": .string("error"),
                    "error": .object(JSONObject(["code": .string(clip(e.code, 128)), "message": .string(clip(e.message, maxAuditText))]))])
    }

    /// Caller-given text in an entry is at most this many UTF-8 bytes (then "…").
    static let maxAuditText = 1024
    static let maxKeyRef = 128

    static func clip(_ s: String, _ limit: Int) -> String {
        guard s.utf8.count > limit else { return s }
        var out = String.UnicodeScalarView()
        var n = 0
        for scalar in s.unicodeScalars {
            let width = UTF8.width(scalar)
            if n + width > limit { break }
            out.append(scalar)
            n += width
        }
        return String(out) + "…"
    }

    // MARK: Registration

    func register(on router: inout Router) {
        let signing: Set<String> = [VaultMethod.signMessage, VaultMethod.signTypedData, VaultMethod.signTransaction, VaultMethod.signTransfer]
        func add(_ method: String, _ role: Role, _ handler: @escaping RPCHandler) {
            router.register(method, role: role, onDenied: { [self] d in recordDenial(d, type: signing.contains(method) ? "vault.sign" : method) },
                            handler)
        }
        func plain(_ method: String, _ role: Role, _ body: @escaping @Sendable (Peer, Params) throws(VaultError) -> Outcome) {
            add(method, role) { [self] (peer, raw) throws(RPCError) -> JSONValue in try run(method, peer, raw, body) }
        }
        func sign(_ method: String, _ prepare: @escaping @Sendable (Params) throws(VaultError) -> SignPlan) {
            add(method, .agent) { [self] (peer, raw) throws(RPCError) -> JSONValue in try runSign(method, peer, raw, prepare) }
        }

        plain(VaultMethod.initialize, .admin) { [self] (_, p) throws(VaultError) in try initialize(p) }
        plain(VaultMethod.unlock, .admin) { [self] (_, p) throws(VaultError) in try unlock(p) }
        plain(VaultMethod.lock, .agent) { [self] (_, p) throws(VaultError) in
            try p.only([])
            let was = vault.lock()
            return Outcome(reply: JSONObject(["sealed": .bool(true), "was_sealed": .bool(!was)]),
                           audit: JSONObject(["was_sealed": .bool(!was)]))
        }
        plain(VaultMethod.status, .reader) { [self] (_, p) throws(VaultError) in
            try p.only([])
            let s = try vault.status()
            return Outcome(reply: JSONObject([
                "initialized": .bool(s.initialized), "sealed": .bool(s.sealed),
                "kek_source": s.kekSource.map { .string($0.rawValue) } ?? .null, "keys": .int(Int64(s.keys)),
                "format": s.format.map { .int(Int64($0)) } ?? .null,
            ]))
        }
        plain(VaultMethod.create, .admin) { [self] (_, p) throws(VaultError) in
            try p.only(["chain", "label"])
            guard let chain = Chain(rawValue: try p.string("chain")) else {
                throw Params.invalid("'chain' is ethereum or solana")
            }
            let key = try vault.create(chain: chain, label: try p.string("label"))
            return Outcome(reply: Self.keyJSON(key), audit: Self.keyJSON(key), undo: { [vault] in _ = try? vault.delete(key.id) })
        }
        plain(VaultMethod.list, .reader) { [self] (_, p) throws(VaultError) in
            try p.only([])
            let keys = try vault.list()
            let items: [JSONValue] = keys.map { k in
                if let e = k.error {
                    return .object(JSONObject(["id": .string(k.id), "error": .object(JSONObject(["code": .string(e.code), "message": .string(e.message)]))]))
                }
                return .object(JSONObject([
                    "id": .string(k.id), "chain": .string(k.chain?.rawValue ?? ""), "label": .string(k.label ?? ""),
                    "address": .string(k.address ?? ""), "created": .string(k.created ?? ""), "origin": .string(k.origin ?? ""),
                ]))
            }
            return Outcome(reply: JSONObject(["keys": .array(items)]), audit: JSONObject(["count": .int(Int64(items.count))]))
        }
        plain(VaultMethod.address, .reader) { [self] (_, p) throws(VaultError) in
            try p.only(["key"])
            let key = try vault.resolve(try p.string("key"))
            return Outcome(reply: Self.keyJSON(key), audit: JSONObject(["key": .string(key.id)]))
        }
        plain(VaultMethod.delete, .admin) { [self] (_, p) throws(VaultError) in
            try p.only(["key"])
            let key = try vault.delete(try p.string("key"))
            return Outcome(reply: Self.keyJSON(key), audit: Self.keyJSON(key))
        }
        plain(VaultMethod.importKey, .admin) { [self] (_, p) throws(VaultError) in try importKey(p) }
        plain(VaultMethod.export, .admin) { [self] (_, p) throws(VaultError) in try export(p) }

        sign(VaultMethod.signMessage) { [self] p throws(VaultError) in try planMessage(p) }
        sign(VaultMethod.signTypedData) { [self] p throws(VaultError) in try planTypedData(p) }
        sign(VaultMethod.signTransaction) { [self] p throws(VaultError) in try planTransaction(p) }
        sign(VaultMethod.signTransfer) { [self] p throws(VaultError) in try planTransfer(p) }

        plain(VaultMethod.policyShow, .reader) { [self] (_, p) throws(VaultError) in
            try p.only([])
            let (policy, version) = gate.currentPolicy()
            return Outcome(reply: JSONObject(["policy": policy, "version": .int(Int64(version))]),
                           audit: JSONObject(["version": .int(Int64(version))]))
        }
        plain(VaultMethod.policyCheck, .agent) { [self] (_, p) throws(VaultError) in
            try p.only(["key", "kind", "amount", "destination", "chain_id"])
            let key = try vault.resolve(try p.string("key"))
            guard let kind = SpendRequest.Kind(rawValue: try p.string("kind")) else {
                throw Params.invalid("'kind' is one of transaction, transfer, message, typed_data")
            }
            var request = SpendRequest(keyID: key.id, chain: key.chain, kind: kind)
            if let amount = try p.optionalString("amount") { request.amount = try Quantity.parse(decimal: amount) }
            request.destination = try p.optionalString("destination")
            if let v = p.object["chain_id"] {
                guard case .int(let n) = v, n >= 1 else { throw Params.invalid("'chain_id' must be a positive integer") }
                request.chainID = UInt64(n)
            }
            let d = try gate.check(request)
            var audit = Self.requestJSON(request)
            audit["allowed"] = .bool(d.allowed)
            audit["rule"] = .string(d.rule)
            return Outcome(reply: JSONObject(["key": .string(key.id), "allowed": .bool(d.allowed), "rule": .string(d.rule), "reason": .string(d.reason)]),
                           audit: audit)
        }
        // Setting the policy is recorded by the gate itself (vault.policy.set); a refusal here.
        add(VaultMethod.policySet, .admin) { [self] (peer, raw) throws(RPCError) -> JSONValue in
            let actor = Self.actor(peer)
            do throws(VaultError) {
                let p = try Params(raw)
                try p.only(["policy"])
                guard let policy = p.object["policy"] else { throw Params.invalid("'policy': missing required field") }
                let entry = try gate.setPolicy(policy, actor: actor)
                let version = gate.currentPolicy().version
                return .object(JSONObject(["version": .int(Int64(version)), "seq": .int(Int64(entry.seq))]))
            } catch {
                var audit = JSONObject(["method": .string(VaultMethod.policySet)])
                audit.members += Self.failure(error).members
                _ = try? record(VaultMethod.policySet, audit, actor)
                throw Self.rpc(error)
            }
        }
    }

    // MARK: Running a request

    func run(_ method: String, _ peer: Peer, _ raw: JSONValue,
             _ body: (Peer, Params) throws(VaultError) -> Outcome) throws(RPCError) -> JSONValue {
        let actor = Self.actor(peer)
        var audit = JSONObject(["method": .string(method)])
        let outcome: Outcome
        do throws(VaultError) {
            outcome = try body(peer, try Params(raw))
        } catch {
            audit.members += Self.failure(error).members
            _ = try? record(method, audit, actor)
            throw Self.rpc(error)
        }
        audit["outcome"] = .string("ok")
        audit.members += outcome.audit.members
        let entry: AppendedEntry
        do { entry = try record(method, audit, actor) } catch {
            outcome.undo?()
            throw error
        }
        var reply = outcome.reply
        reply["seq"] = .int(Int64(entry.seq))
        return .object(reply)
    }

    func runSign(_ method: String, _ peer: Peer, _ raw: JSONValue,
                 _ prepare: (Params) throws(VaultError) -> SignPlan) throws(RPCError) -> JSONValue {
        let actor = Self.actor(peer)
        let plan: SignPlan
        do throws(VaultError) {
            // A sealed vault answers every signing request alike — malformed, naming an
            // unknown key or not — before reading it and before the policy.
            guard vault.isUnlocked else {
                _ = try vault.currentKEK()  // vault.not_initialized or vault.header_corrupt when so
                throw Vault.sealed
            }
            plan = try prepare(try Params(raw))
        } catch {
            var audit = JSONObject(["method": .string(method), "decision": .string("error")])
            // The key as the caller named it (id, label or address: public), when it did.
            if case .string(let ref)? = raw["key"] { audit["key_ref"] = .string(Self.clip(ref, Self.maxKeyRef)) }
            audit.members += Self.failure(error).members.filter { $0.key != "outcome" }
            _ = try? record("vault.sign", audit, actor)
            throw Self.rpc(error)
        }
        do throws(VaultError) {
            let r = try gate.authorize(plan.request, actor: actor, sign: plan.sign)
            var reply = r.result
            reply["rule"] = .string(r.decision.rule)
            reply["seq"] = .int(Int64(r.entry.seq))
            return .object(reply)
        } catch {
            throw Self.rpc(error)
        }
    }

    func recordDenial(_ d: DeniedRequest, type: String) {
        let (admitted, suppressed) = denials.withLock { $0.admit(uid: d.uid, now: monotonicNanos()) }
        guard admitted else {
            if suppressed == 1 {
                log("uid \(d.uid): more than \(DenialBudget.perWindow) refused vault requests within \(DenialBudget.windowNanos / 1_000_000_000) s; further refusals in this window are counted, not recorded one by one")
            }
            return
        }
        var audit = JSONObject(["method": .string(d.method)])
        if suppressed > 0 { audit["suppressed_before"] = .int(Int64(suppressed)) }
        audit[type == "vault.sign" ? "decision" : "outcome"] = .string("denied")
        audit["rule"] = .string("role")
        audit["error"] = .object(JSONObject(["code": .string(d.error.code.rawValue), "message": .string(d.error.message)]))
        audit["role"] = d.role.map { .string($0.rawValue) } ?? .null
        audit["required_role"] = .string(d.requiredRole.rawValue)
        _ = try? record(type, audit, Actor(uid: d.uid, gid: d.gid, pid: d.pid, exe: d.exe ?? ""))
    }

    // MARK: Lifecycle

    /// The KEK source a request names, its secret decoded straight into locked memory.
    func unlocker(_ p: Params) throws(VaultError) -> Vault.Unlocker? {
        var given: [Vault.Unlocker] = []
        if let pass = try p.secret("passphrase_hex") { given.append(.passphrase(pass)) }
        if let file = try p.optionalString("key_file") { given.append(.keyFile(file)) }
        if let name = try p.optionalString("credential") { given.append(.credential(name)) }
        guard given.count <= 1 else { throw Params.invalid("give one of passphrase_hex, key_file and credential") }
        return given.first
    }

    func initialize(_ p: Params) throws(VaultError) -> Outcome {
        try p.only(["source", "passphrase_hex", "key_file", "credential", "kdf"])
        guard let unlocker = try unlocker(p) else { throw Params.invalid("give one of passphrase_hex, key_file and credential") }
        if let source = try p.optionalString("source"), source != unlocker.source.rawValue {
            throw Params.invalid("'source' is \(source) but a \(unlocker.source.rawValue) was given")
        }
        let parameters: KEKParameters
        switch try p.optionalString("kdf") ?? "moderate" {
        case "moderate": parameters = .moderate()
        case "minimum": parameters = .minimum()
        case let other: throw Params.invalid("'kdf' is moderate or minimum (tests only), not \(other)")
        }
        let header = try vault.initialize(unlocker, parameters: parameters)
        var facts = JSONObject(["kek_source": .string(header.kekSource.rawValue), "format": .int(Int64(header.format))])
        if let a = header.argon2id {
            facts["argon2id"] = .object(JSONObject(["ops_limit": .int(Int64(a.opsLimit)), "mem_limit": .int(Int64(a.memLimit))]))
        }
        if let f = header.keyFile { facts["key_file"] = .string(f) }
        if let c = header.credential { facts["credential"] = .string(c) }
        var reply = facts
        reply["sealed"] = .bool(false)
        // A vault whose creation the ledger cannot record is not created.
        return Outcome(reply: reply, audit: facts, undo: { [vault] in vault.uninitialize() })
    }

    func unlock(_ p: Params) throws(VaultError) -> Outcome {
        try p.only(["passphrase_hex", "key_file", "credential"])
        let wasUnlocked = vault.isUnlocked
        let source = try vault.unlock(try unlocker(p))
        // An unlock the ledger cannot record does not stand.
        return Outcome(reply: JSONObject(["sealed": .bool(false), "kek_source": .string(source.rawValue)]),
                       audit: JSONObject(["kek_source": .string(source.rawValue)]),
                       undo: { [vault] in if !wasUnlocked { vault.lock() } })
    }

    /// Unlocks at start from the key file or credential osmodad was given; a failure is
    /// logged and recorded, and the vault stays sealed (the ledger is still served).
    func autoUnlock(_ options: VaultService.Options) {
        let unlocker: Vault.Unlocker
        if let f = options.autoUnlockKeyFile { unlocker = .keyFile(f) } else if let c = options.autoUnlockCredential { unlocker = .credential(c) } else { return }
        let me = Actor(uid: ThisProcess.uid, gid: ThisProcess.gid, pid: ThisProcess.pid, exe: PathCalls.readLink("/proc/self/exe") ?? "")
        var audit = JSONObject(["method": .string(VaultMethod.unlock), "at_start": .bool(true)])
        do throws(VaultError) {
            let source = try vault.unlock(unlocker)
            audit["outcome"] = .string("ok")
            audit["kek_source"] = .string(source.rawValue)
            log("vault unlocked at start from its \(source.rawValue)")
        } catch {
            audit.members += Self.failure(error).members
            log("vault not unlocked at start: \(error)")
        }
        do { _ = try record(VaultMethod.unlock, audit, me) } catch {
            log("cannot record the vault's unlock at start, so it stays sealed: \(error)")
            vault.lock()
        }
    }

    // MARK: Keys

    static func keyJSON(_ k: KeyFile) -> JSONObject {
        JSONObject([
            "key": .string(k.id), "chain": .string(k.chain.rawValue), "label": .string(k.label), "address": .string(k.address),
            "created": .string(k.created), "origin": .string(k.origin),
        ])
    }

    static func requestJSON(_ r: SpendRequest) -> JSONObject {
        JSONObject([
            "key": .string(r.keyID), "chain": .string(r.chain.rawValue), "kind": .string(r.kind.rawValue),
            "amount": r.amount.map { .string(Quantity.decimal($0)) } ?? .null,
            // As the caller gave it (policy check): clipped like any caller text.
            "destination": r.destination.map { .string(clip($0, maxAuditText)) } ?? .null,
        ])
    }

    func importKey(_ p: Params) throws(VaultError) -> Outcome {
        try p.only(["label", "keystore_json", "password_hex", "solana_keypair_hex"])
        let label = try p.string("label")
        let key: KeyFile
        var format: String
        if let cli = try p.secret("solana_keypair_hex") {
            guard p.object["keystore_json"] == nil, p.object["password_hex"] == nil else {
                throw Params.invalid("give keystore_json with password_hex, or solana_keypair_hex, not both")
            }
            key = try vault.importSolanaCLI(cli, label: label)
            format = "solana-cli"
        } else {
            let json = Array(try p.string("keystore_json").utf8)
            guard let password = try p.secret("password_hex") else { throw Params.invalid("'password_hex': missing required field") }
            key = try vault.importKeystore(json, password: password, label: label)
            format = "keystore-v3"
        }
        var audit = Self.keyJSON(key)
        audit["format"] = .string(format)
        return Outcome(reply: Self.keyJSON(key), audit: audit, undo: { [vault] in _ = try? vault.delete(key.id) })
    }

    func export(_ p: Params) throws(VaultError) -> Outcome {
        try p.only(["key", "password_hex", "scrypt"])
        let key = try vault.resolve(try p.string("key"))
        guard let password = try p.secret("password_hex") else { throw Params.invalid("'password_hex': missing required field") }
        let scrypt: KeystoreV3.ScryptParameters
        switch try p.optionalString("scrypt") ?? "standard" {
        case "standard": scrypt = .standard
        case "light": scrypt = .light
        case let other: throw Params.invalid("'scrypt' is standard or light, not \(other)")
        }
        let bytes = try vault.export(key, password: password, scrypt: scrypt)
        let keystore: JSONValue
        do { keystore = try JSONReader.parse(bytes) } catch { throw VaultError("vault.internal", "the export is not JSON: \(error)") }
        var reply = Self.keyJSON(key)
        reply["keystore"] = keystore
        var audit = Self.keyJSON(key)
        audit["scrypt_n"] = .int(Int64(scrypt.n))
        return Outcome(reply: reply, audit: audit)
    }

    // MARK: Signing plans

    func signer(_ p: Params, chain: Chain? = nil) throws(VaultError) -> KeyFile {
        let key = try vault.resolve(try p.string("key"))
        if let chain, key.chain != chain {
            throw VaultError("key.wrong_chain", "key '\(key.label)' is a \(key.chain.rawValue) key; this request needs \(chain.rawValue)")
        }
        return key
    }

    static func base(_ key: KeyFile) -> JSONObject {
        JSONObject(["key": .string(key.id), "chain": .string(key.chain.rawValue), "address": .string(key.address)])
    }

    func planMessage(_ p: Params) throws(VaultError) -> SignPlan {
        try p.only(["key", "message_hex", "message"])
        let key = try signer(p)
        let message: [UInt8]
        switch (try p.optionalString("message_hex"), try p.optionalString("message")) {
        case (let h?, nil):
            guard let b = Hex.decode(h) else { throw Params.invalid("'message_hex' is not hex") }
            message = b
        case (nil, let t?): message = Array(t.utf8)
        default: throw Params.invalid("give one of message_hex and message")
        }
        guard message.count <= 64 << 10 else { throw Params.invalid("the message is \(message.count) bytes; the limit is 65536") }
        let vault = self.vault
        return SignPlan(request: SpendRequest(keyID: key.id, chain: key.chain, kind: .message), audit: JSONObject()) { () throws(VaultError) in
            var reply = Self.base(key)
            var details = JSONObject(["message_bytes": .int(Int64(message.count))])
            switch key.chain {
            case .ethereum:
                let sig = try vault.withEthereumKey(key) { k in k.personalSign(message) }
                reply["signature"] = .string(sig.description)
                details["digest"] = .string(Hex.encode(Ethereum.personalMessageDigest(message), prefix: true))
                details["signature"] = .string(sig.description)
            case .solana:
                let sig = try vault.withSolanaKey(key) { k in k.sign(message) }
                reply["signature"] = .string(Base58.encode(sig))
                reply["signature_hex"] = .string(Hex.encode(sig, prefix: true))
                details["signature"] = .string(Base58.encode(sig))
            }
            return (reply, details)
        }
    }

    func planTypedData(_ p: Params) throws(VaultError) -> SignPlan {
        try p.only(["key", "typed_data"])
        let key = try signer(p, chain: .ethereum)
        guard let json = p.object["typed_data"] else { throw Params.invalid("'typed_data': missing required field") }
        let data = try EIP712TypedData(json: json)
        let digest = try data.signingHash()
        let vault = self.vault
        return SignPlan(request: SpendRequest(keyID: key.id, chain: .ethereum, kind: .typedData), audit: JSONObject()) { () throws(VaultError) in
            let sig = try vault.withEthereumKey(key) { k in k.sign(digest: digest) }
            var reply = Self.base(key)
            reply["signature"] = .string(sig.description)
            reply["digest"] = .string(Hex.encode(digest, prefix: true))
            return (reply, JSONObject(["digest": .string(Hex.encode(digest, prefix: true)), "primary_type": .string(data.primaryType),
                                       "signature": .string(sig.description)]))
        }
    }

    func planTransaction(_ p: Params) throws(VaultError) -> SignPlan {
        try p.only(["key", "transaction"])
        let key = try signer(p, chain: .ethereum)
        guard let json = p.object["transaction"] else { throw Params.invalid("'transaction': missing required field") }
        let tx = try EthereumTransaction(json: json)
        let request = SpendRequest(keyID: key.id, chain: .ethereum, kind: .transaction, amount: tx.value, destination: tx.to?.checksummed,
                                   chainID: tx.chainID)
        let vault = self.vault
        return SignPlan(request: request, audit: JSONObject()) { () throws(VaultError) in
            let signed = try vault.withEthereumKey(key) { (k) throws(VaultError) in try tx.sign(with: k) }
            var reply = Self.base(key)
            let type: String
            if case .legacy = tx.fee { type = "legacy" } else { type = "eip1559" }
            reply["tx_type"] = .string(type)
            reply["raw"] = .string(Hex.encode(signed.raw, prefix: true))
            reply["hash"] = .string(Hex.encode(signed.hash, prefix: true))
            reply["signature"] = .string(signed.signature.description)
            return (reply, JSONObject(["tx_hash": .string(Hex.encode(signed.hash, prefix: true)), "tx_type": .string(type),
                                       "chain_id": .int(Int64(tx.chainID)), "nonce": .string(String(tx.nonce)),
                                       "data_bytes": .int(Int64(tx.data.count))]))
        }
    }

    func planTransfer(_ p: Params) throws(VaultError) -> SignPlan {
        try p.only(["key", "to", "lamports", "recent_blockhash"])
        let key = try signer(p, chain: .solana)
        let lamports: UInt64
        switch p.object["lamports"] {
        case .int(let i)? where i >= 0: lamports = UInt64(i)
        case .string(let s)?:
            let q: [UInt8]
            do { q = try Quantity.parse(decimal: s) } catch { throw Params.invalid("'lamports': \(error.message)") }
            guard q.count <= 8 else { throw Params.invalid("'lamports' does not fit in 64 bits") }
            lamports = q.reduce(0) { $0 << 8 | UInt64($1) }
        case nil: throw Params.invalid("'lamports': missing required field")
        default: throw Params.invalid("'lamports' is a non-negative integer (or its decimal string)")
        }
        let transfer = try SolanaTransfer(from: key.address, to: try p.string("to"), lamports: lamports,
                                          recentBlockhash: try p.string("recent_blockhash"))
        var amount: [UInt8] = []
        for i in stride(from: 56, through: 0, by: -8) { amount.append(UInt8(truncatingIfNeeded: lamports >> UInt64(i))) }
        let request = SpendRequest(keyID: key.id, chain: .solana, kind: .transfer, amount: Array(amount.drop { $0 == 0 }),
                                   destination: Base58.encode(transfer.to))
        let vault = self.vault
        return SignPlan(request: request, audit: JSONObject()) { () throws(VaultError) in
            let signed = try vault.withSolanaKey(key) { (k) throws(VaultError) in try transfer.sign(with: k) }
            var reply = Self.base(key)
            reply["transaction"] = .string(signed.base64)
            reply["signature"] = .string(signed.id)
            return (reply, JSONObject(["signature": .string(signed.id), "recent_blockhash": .string(Base58.encode(transfer.recentBlockhash))]))
        }
    }
}

/// How many role refusals per uid the ledger records: `perWindow` in each window of
/// `windowNanos`; beyond that they are counted, and the count is carried by the uid's
/// next recorded refusal (`suppressed_before`). Bounded in memory too (`maxUIDs`).
struct DenialBudget: Sendable {
    static let perWindow = 32
    static let windowNanos: UInt64 = 60_000_000_000
    static let maxUIDs = 4096

    struct Slot: Sendable {
        var windowStart: UInt64
        var recorded: Int
        var suppressed: Int
    }
    var slots: [UInt32: Slot] = [:]

    init() {}

    /// Whether to record this refusal; and the refusals not recorded: for a refusal to
    /// record, those suppressed before it (to report); otherwise the count so far.
    mutating func admit(uid: UInt32, now: UInt64) -> (record: Bool, suppressed: Int) {
        if slots[uid] == nil, slots.count >= Self.maxUIDs {
            slots = slots.filter { now &- $0.value.windowStart < Self.windowNanos }
            if slots.count >= Self.maxUIDs { return (false, 0) }
        }
        var slot = slots[uid] ?? Slot(windowStart: now, recorded: 0, suppressed: 0)
        if now &- slot.windowStart >= Self.windowNanos {
            slot.windowStart = now
            slot.recorded = 0
        }
        defer { slots[uid] = slot }
        if slot.recorded < Self.perWindow {
            slot.recorded += 1
            let carried = slot.suppressed
            slot.suppressed = 0
            return (true, carried)
        }
        slot.suppressed += 1
        return (false, slot.suppressed)
    }
}

/// A request's params, checked strictly: an object with only the members a method knows.
struct Params {
    let object: JSONObject

    init(_ raw: JSONValue) throws(VaultError) {
        switch raw {
        case .object(let o): object = o
        case .null: object = JSONObject()
        default: throw Self.invalid("params must be an object, not \(raw.typeName)")
        }
    }

    static func invalid(_ message: String) -> VaultError { VaultError(RPCErrorCode.invalidParams.rawValue, "params: \(message)") }

    func only(_ known: Set<String>) throws(VaultError) {
        for key in object.keys where !known.contains(key) { throw Self.invalid("'\(key)': unknown field") }
    }

    func optionalString(_ key: String) throws(VaultError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let v?: throw Self.invalid("'\(key)': expected a string, not \(v.typeName)")
        }
    }

    func string(_ key: String) throws(VaultError) -> String {
        guard let s = try optionalString(key) else { throw Self.invalid("'\(key)': missing required field") }
        return s
    }

    /// A secret given as hex, decoded straight into locked memory; the message never
    /// holds its value.
    func secret(_ key: String) throws(VaultError) -> SecretBytes? {
        guard let text = try optionalString(key) else { return nil }
        guard let s = Hex.decodeSecret(text) else { throw Self.invalid("'\(key)' is not hexadecimal") }
        return s
    }
}
