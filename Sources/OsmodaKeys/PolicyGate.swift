import OsmodaCore
import OsmodaLedger
import OsmodaSystem
import OsmodaVault
import Synchronization

/// Decides signing requests under the spend policy and records them in the ledger.
///
/// Where things live:
/// - `<state>/vault/policy.json` (0600): the policy document, as `policy set` takes it.
/// - In the ledger's database, beside (never inside) the ledger's own tables:
///   `ext_vault_policy` (the policy in force and its version) and `ext_vault_usage`
///   (one row per allowed signature: ts, key, chain, amount), which the 24 h windows
///   count. Keeping them in the ledger database is what lets a decision, its counters
///   and its ledger entry commit in one SQLite transaction (ADR 0030).
///
/// The policy in force is the one recorded in `ext_vault_policy`, read inside each
/// decision's transaction, so a decision never sees a policy whose `vault.policy.set`
/// (or `vault.policy.load`) entry is not committed. At start the file is authoritative:
/// when it differs from the recorded policy, the gate records it as `vault.policy.load`
/// (next version); until that succeeds, `check` and `currentPolicy` show the file's
/// policy and `authorize` retries the recording first and refuses while it fails.
///
/// `ext_vault_usage_totals` keeps a running total per scope so a decision reads O(1)
/// rows; it is rebuilt from the usage rows at every start.
public final class PolicyGate: Sendable {
    public let store: LedgerStore
    /// `<state>/vault/policy.json`.
    public let policyPath: String
    let clock: @Sendable () -> Timestamp
    let daemonActor: Actor

    /// The rolling window, in milliseconds: a usage row counts while `ts > now − window`.
    public static let windowMilliseconds: Int64 = 86_400_000

    /// The last policy read from the database (a parse cache keyed by version), and the
    /// policy read from the file at start, used until the database records one.
    struct Cached: Sendable {
        var version: Int
        var policy: Policy
        /// The ledger whose entry recorded it (`LedgerStore.ledgerID`); a policy carried
        /// into a new epoch by `recover` is recorded again there.
        var ledgerID = ""
    }

    private let cache: Mutex<Cached>
    private let fallback: Cached
    /// Serialises `setPolicy` and the recording of a load (file write + transaction).
    private let setLock = Mutex(())
    /// The file's policy, read at start, while it is not yet recorded in the ledger.
    private let pendingLoad: Mutex<Policy?>

    static let schemaSQL = """
        CREATE TABLE IF NOT EXISTS ext_vault_usage (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            key TEXT NOT NULL,
            chain TEXT NOT NULL,
            amount TEXT NOT NULL CHECK (length(amount) BETWEEN 1 AND 78),
            d0 INTEGER NOT NULL CHECK (d0 BETWEEN 0 AND 4294967295),
            d1 INTEGER NOT NULL CHECK (d1 BETWEEN 0 AND 4294967295),
            d2 INTEGER NOT NULL CHECK (d2 BETWEEN 0 AND 4294967295),
            d3 INTEGER NOT NULL CHECK (d3 BETWEEN 0 AND 4294967295),
            d4 INTEGER NOT NULL CHECK (d4 BETWEEN 0 AND 4294967295),
            d5 INTEGER NOT NULL CHECK (d5 BETWEEN 0 AND 4294967295),
            d6 INTEGER NOT NULL CHECK (d6 BETWEEN 0 AND 4294967295),
            d7 INTEGER NOT NULL CHECK (d7 BETWEEN 0 AND 4294967295)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS ext_vault_usage_by_key ON ext_vault_usage (key, ts);
        CREATE INDEX IF NOT EXISTS ext_vault_usage_by_chain ON ext_vault_usage (chain, ts);
        CREATE INDEX IF NOT EXISTS ext_vault_usage_by_ts ON ext_vault_usage (ts);
        CREATE TABLE IF NOT EXISTS ext_vault_usage_totals (
            scope TEXT PRIMARY KEY,
            signatures INTEGER NOT NULL CHECK (signatures >= 0),
            d0 INTEGER NOT NULL CHECK (d0 >= 0), d1 INTEGER NOT NULL CHECK (d1 >= 0),
            d2 INTEGER NOT NULL CHECK (d2 >= 0), d3 INTEGER NOT NULL CHECK (d3 >= 0),
            d4 INTEGER NOT NULL CHECK (d4 >= 0), d5 INTEGER NOT NULL CHECK (d5 >= 0),
            d6 INTEGER NOT NULL CHECK (d6 >= 0), d7 INTEGER NOT NULL CHECK (d7 >= 0)
        ) STRICT;
        DELETE FROM ext_vault_usage_totals;
        INSERT INTO ext_vault_usage_totals
            SELECT 'key:' || key, count(*), sum(d0), sum(d1), sum(d2), sum(d3), sum(d4), sum(d5), sum(d6), sum(d7)
            FROM ext_vault_usage GROUP BY key;
        INSERT INTO ext_vault_usage_totals
            SELECT 'chain:' || chain, count(*), sum(d0), sum(d1), sum(d2), sum(d3), sum(d4), sum(d5), sum(d6), sum(d7)
            FROM ext_vault_usage GROUP BY chain;
        CREATE TABLE IF NOT EXISTS ext_vault_policy (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL CHECK (version >= 1),
            policy TEXT NOT NULL,
            ts INTEGER NOT NULL,
            ledger_id TEXT NOT NULL
        ) STRICT;
        """

    /// Loads `<stateDirectory>/vault/policy.json` (absent = empty policy = deny all),
    /// creates the gate's tables in the ledger's database if needed, and records the
    /// file's policy as `vault.policy.load` (by `daemonActor`) when it is not the one
    /// recorded. A malformed file is `policy.invalid` (with the file's path and the
    /// field); one writable by group or others, or owned by another user than the
    /// daemon's or root, is `policy.insecure`; a read-only or closed store is the
    /// store's error. A sealed store is not
    /// an error here: every `authorize` will refuse until it is recovered.
    public init(
        stateDirectory: String, store: LedgerStore, clock: @escaping @Sendable () -> Timestamp = LedgerStore.systemClock,
        daemonActor: Actor? = nil
    ) throws(VaultError) {
        self.store = store
        self.policyPath = stateDirectory + "/vault/policy.json"
        self.clock = clock
        self.daemonActor = daemonActor ?? Actor(uid: Sys.effectiveUID, gid: 0, pid: Sys.processID(), exe: "osmodad")
        do throws(LedgerStoreError) {
            try store.prepareExtensionSchema(Self.schemaSQL)
        } catch {
            throw Self.ledgerError(error)
        }
        let fromFile = try Self.readFile(policyPath)
        fallback = Cached(version: 0, policy: fromFile)
        cache = Mutex(fallback)
        pendingLoad = Mutex(nil)
        var needed = true
        do throws(LedgerStoreError) {
            needed = try needsLoad(fromFile)
        } catch {
            if error.code == .closed || error.code == .readOnly { throw Self.ledgerError(error) }
        }
        if needed {
            pendingLoad.withLock { $0 = fromFile }
            // A store that cannot record it now (sealed, busy) refuses every signing
            // until it can: `authorize` tries again first.
            if store.sealedReason == nil { try? ensureLoaded() }
        }
    }

    static func readFile(_ path: String) throws(VaultError) -> Policy {
        // The file decides what may be signed: refuse one that another user could have
        // written, as cron (and osmoda-routines) refuse such definitions.
        if let info = try? FileStatus.stat(path) {
            if info.mode & 0o022 != 0 {
                throw VaultError(
                    "policy.insecure", "\(path): refused: writable by group or others (mode \(String(info.mode, radix: 8))); chmod go-w it")
            }
            let me = Sys.effectiveUID
            if info.ownerUID != me && info.ownerUID != 0 {
                throw VaultError("policy.insecure", "\(path): refused: owned by uid \(info.ownerUID), not by the daemon's user (\(me)) or root")
            }
        }
        let bytes: [UInt8]
        do throws(SystemError) {
            bytes = try Sys.readFile(path, limit: 1 << 20)
        } catch {
            if error.code == 2 { return Policy() }  // ENOENT: no policy, deny all
            throw VaultError("policy.io", "cannot read the policy: \(error)")
        }
        do throws(VaultError) {
            return try Policy(bytes: bytes)
        } catch {
            throw VaultError(error.code, "\(path): \(error.message)")
        }
    }

    /// Whether the file's policy must be recorded before anything is decided: it
    /// differs from the recorded one, or that was recorded in another ledger (before
    /// a `recover`). A missing file with nothing recorded needs nothing.
    private func needsLoad(_ fromFile: Policy) throws(LedgerStoreError) -> Bool {
        let recorded = try store.readExtension { tx throws(LedgerStoreError) in try Self.recordedPolicy(tx) }
        if let recorded, recorded.policy == fromFile, recorded.ledgerID == store.ledgerID {
            cache.withLock { $0 = recorded }
            return false
        }
        return !(recorded == nil && fromFile == Policy())
    }

    /// Records a pending load (`vault.policy.load`, next version, by `daemonActor`).
    /// Until it is recorded, `authorize` and `setPolicy` try again first and fail with
    /// the ledger's error, and `check` and `currentPolicy` show the file's policy: a
    /// policy tightened in the file while the daemon was stopped is never bypassed by
    /// the older recorded one.
    func ensureLoaded() throws(VaultError) {
        guard pendingLoad.withLock({ $0 }) != nil else { return }
        try setLock.withLock { _ throws(VaultError) in
            guard let fromFile = pendingLoad.withLock({ $0 }) else { return }
            let path = policyPath
            let actor = daemonActor
            let now = clock()
            do throws(LedgerStoreError) {
                let (_, loaded) = try store.appendAtomically { tx throws(LedgerStoreError) in
                    let version = (try Self.recordedPolicy(tx)?.version ?? 0) + 1
                    let row = try self.writeRow(tx, version: version, policy: fromFile, now: now)
                    var payload = JSONObject()
                    payload.append("version", .int(Int64(version)))
                    payload.append("source", .string(path))
                    payload.append("policy", fromFile.json)
                    return (AppendRequest(type: "vault.policy.load", payload: Self.bytes(payload), actor: actor), row)
                }
                cache.withLock { $0 = loaded }
                pendingLoad.withLock { $0 = nil }
            } catch {
                throw Self.ledgerError(error)
            }
        }
    }

    // MARK: - Reading the policy

    /// The policy in force (for `vault.policy.show`) in canonical form, and its version
    /// (how many times a policy was set or loaded; 0 before the first).
    public func currentPolicy() -> (policy: JSONValue, version: Int) {
        let c = (try? store.readExtension { tx throws(LedgerStoreError) in try self.inForce(tx) }) ?? cache.withLock { $0 }
        if let pending = pendingLoad.withLock({ $0 }) { return (pending.json, c.version) }
        return (c.policy.json, c.version)
    }

    /// The policy recorded in the database, or `nil` when none is.
    static func recordedPolicy(_ tx: LedgerTransaction) throws(LedgerStoreError) -> Cached? {
        let rows = try tx.query("SELECT version, policy, ledger_id FROM ext_vault_policy WHERE id = 1")
        guard let row = rows.first, let version = row[0].int, let text = row[1].text else { return nil }
        guard let policy = try? Policy(bytes: Array(text.utf8)) else {
            throw LedgerStoreError(.storage, "ext_vault_policy holds a policy that does not parse (version \(version))")
        }
        return Cached(version: Int(version), policy: policy, ledgerID: row[2].text ?? "")
    }

    /// The policy in force as this transaction sees it: the recorded one (parsed once
    /// per version), or the file's when none is recorded yet.
    func inForce(_ tx: LedgerTransaction) throws(LedgerStoreError) -> Cached {
        let rows = try tx.query("SELECT version FROM ext_vault_policy WHERE id = 1")
        guard let version = rows.first?[0].int else { return fallback }
        let cached = cache.withLock { $0 }
        if cached.version == Int(version) { return cached }
        guard let recorded = try Self.recordedPolicy(tx) else { return fallback }
        cache.withLock { c in if c.version < recorded.version { c = recorded } }
        return recorded
    }

    func writeRow(_ tx: LedgerTransaction, version: Int, policy: Policy, now: Timestamp) throws(LedgerStoreError) -> Cached {
        try tx.execute(
            "INSERT OR REPLACE INTO ext_vault_policy (id, version, policy, ts, ledger_id) VALUES (1, ?, ?, ?, ?)",
            [.int(Int64(version)), .text(JSONWriter.serialize(policy.json)), .int(now.millisecondsSinceEpoch), .text(store.ledgerID)])
        return Cached(version: version, policy: policy, ledgerID: store.ledgerID)
    }

    // MARK: - Setting the policy

    /// The largest policy document accepted, serialized (it is recorded whole in the
    /// `vault.policy.set` entry, whose payload is limited to 64 KiB).
    public static let maxPolicyBytes = 60_000

    /// Validates and installs a new policy: written atomically to policy.json (0600) and
    /// recorded as a `vault.policy.set` ledger entry by `actor`, in the same ledger
    /// transaction that makes it the policy in force. Refused with `policy.invalid`
    /// (path-like field names) when malformed; with the store's `ledger.*` code when the
    /// ledger cannot be written — then the file is restored and nothing changed.
    public func setPolicy(_ json: JSONValue, actor: Actor) throws(VaultError) -> AppendedEntry {
        let policy = try Policy(json: json)
        let text = Array(JSONWriter.serialize(policy.json).utf8)
        guard text.count <= Self.maxPolicyBytes else {
            throw VaultError("policy.invalid", "policy: \(text.count) bytes in canonical form; the limit is \(Self.maxPolicyBytes)")
        }
        return try setLock.withLock { _ throws(VaultError) -> AppendedEntry in
            let path = policyPath
            let previous: [UInt8]? = try? Sys.readFile(path, limit: 1 << 20)
            let now = clock()
            var fileError: VaultError?
            var wroteFile = false
            do throws(LedgerStoreError) {
                let (entry, installed) = try store.appendAtomically { tx throws(LedgerStoreError) in
                    let version = max(try Self.recordedPolicy(tx)?.version ?? 0, fallback.version) + 1
                    let row = try self.writeRow(tx, version: version, policy: policy, now: now)
                    do throws(VaultError) {
                        try Self.writePolicyFile(path, text + [0x0A])
                        wroteFile = true
                    } catch {
                        fileError = error
                        throw LedgerStoreError(.io, error.message)
                    }
                    var payload = JSONObject()
                    payload.append("version", .int(Int64(version)))
                    payload.append("policy", policy.json)
                    return (AppendRequest(type: "vault.policy.set", payload: Self.bytes(payload), actor: actor), row)
                }
                cache.withLock { $0 = installed }
                // The set supersedes a file that was never recorded.
                pendingLoad.withLock { $0 = nil }
                return entry
            } catch {
                if wroteFile {
                    if let previous {
                        try? Self.writePolicyFile(path, previous)
                    } else {
                        try? Sys.removeFile(path)
                    }
                }
                throw fileError ?? Self.ledgerError(error)
            }
        }
    }

    static func writePolicyFile(_ path: String, _ bytes: [UInt8]) throws(VaultError) {
        do throws(SystemError) {
            if let slash = path.lastIndex(of: "/") { try Sys.makeDirectories(String(path[..<slash]), mode: 0o700) }
            try Sys.writeFileAtomically(path, bytes, mode: 0o600)
        } catch {
            throw VaultError("policy.io", "cannot write the policy: \(error)")
        }
    }

    // MARK: - Deciding

    /// What the window holds for `scope` at `now`: rows with `ts > now − 24 h`.
    /// Rows stamped after `now` (a clock stepped back) still count: fail closed.
    static let digits = (0..<8).map { "d\($0)" }
    static let digitSums = digits.map { "coalesce(sum(\($0)), 0)" }.joined(separator: ", ")

    /// What the window holds for `scope` at `cutoff` (= now − 24 h): the rows with
    /// `ts > cutoff`. Rows stamped after `now` (a clock stepped back) still count: fail
    /// closed. Computed as the scope's running total (`ext_vault_usage_totals`, every
    /// row of the scope still stored) minus the stored rows that have left the window
    /// but are not pruned yet — none right after `prune`, so a decision costs O(1)
    /// reads however full the window is.
    static func usage(_ tx: LedgerTransaction, _ scope: Policy.Scope, cutoff: Int64) throws(LedgerStoreError) -> Policy.Usage {
        let totals = try tx.query(
            "SELECT signatures, \(digits.joined(separator: ", ")) FROM ext_vault_usage_totals WHERE scope = ?", [.text(scope.description)])
        var count: Int64 = 0
        var sums = [Int64](repeating: 0, count: 8)
        if let row = totals.first {
            guard row.count == 9, let c = row[0].int else { throw LedgerStoreError(.storage, "ext_vault_usage_totals is malformed") }
            count = c
            for i in 0..<8 { sums[i] = row[i + 1].int ?? -1 }
        }
        let expired: [[SQLValue]]
        switch scope {
        case .key(let id):
            expired = try tx.query(
                "SELECT count(*), \(digitSums) FROM ext_vault_usage WHERE key = ? AND ts <= ?", [.text(id), .int(cutoff)])
        case .chain(let c):
            expired = try tx.query(
                "SELECT count(*), \(digitSums) FROM ext_vault_usage WHERE chain = ? AND ts <= ?", [.text(c.rawValue), .int(cutoff)])
        }
        if let row = expired.first, row.count == 9, let c = row[0].int, c > 0 {
            count -= c
            for i in 0..<8 { sums[i] -= row[i + 1].int ?? 0 }
        }
        guard count >= 0 else { throw LedgerStoreError(.storage, "ext_vault_usage_totals is behind ext_vault_usage") }
        return Policy.Usage(signatures: count, amount: Amount(digitSums: sums))
    }

    /// Adds (or, with `sign` −1, removes) `count` signatures and the digit sums to a
    /// scope's running total. The table's CHECKs refuse a total that would go negative.
    static func addToTotals(_ tx: LedgerTransaction, scope: String, count: Int64, digits d: [Int64], sign: Int64) throws(LedgerStoreError) {
        if sign > 0 {
            let set = (["signatures"] + digits).map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
            try tx.execute(
                "INSERT INTO ext_vault_usage_totals (scope, signatures, \(digits.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (scope) DO UPDATE SET \(set)",
                [.text(scope), .int(count)] + d.map { .int($0) })
        } else {
            // A plain UPDATE: an upsert would check its negative VALUES row first.
            let set = (["signatures"] + digits).map { "\($0) = \($0) - ?" }.joined(separator: ", ")
            let changed = try tx.execute(
                "UPDATE ext_vault_usage_totals SET \(set) WHERE scope = ?", [.int(count)] + d.map { .int($0) } + [.text(scope)])
            guard changed == 1 else { throw LedgerStoreError(.storage, "ext_vault_usage_totals has no total for \(scope)") }
        }
    }

    /// Deletes the rows that have left the window, and takes them off the totals.
    static func prune(_ tx: LedgerTransaction, cutoff: Int64) throws(LedgerStoreError) {
        let groups = try tx.query(
            "SELECT key, chain, count(*), \(digitSums) FROM ext_vault_usage WHERE ts <= ? GROUP BY key, chain", [.int(cutoff)])
        guard !groups.isEmpty else { return }
        for g in groups {
            guard g.count == 11, let key = g[0].text, let chain = g[1].text, let n = g[2].int else {
                throw LedgerStoreError(.storage, "ext_vault_usage is malformed")
            }
            let d = g[3...].map { $0.int ?? 0 }
            try addToTotals(tx, scope: "key:\(key)", count: n, digits: d, sign: -1)
            try addToTotals(tx, scope: "chain:\(chain)", count: n, digits: d, sign: -1)
        }
        try tx.execute("DELETE FROM ext_vault_usage WHERE ts <= ?", [.int(cutoff)])
        try tx.execute("DELETE FROM ext_vault_usage_totals WHERE signatures = 0")
    }

    /// Dry run: the decision now, with the deciding rule, from a read snapshot.
    /// Changes nothing (no usage, no ledger entry, no pruning).
    public func check(_ request: SpendRequest) throws(VaultError) -> PolicyDecision {
        let now = clock().millisecondsSinceEpoch
        do throws(LedgerStoreError) {
            return try store.readExtension { tx throws(LedgerStoreError) -> PolicyDecision in
                let policy: Policy
                if let pending = self.pendingLoad.withLock({ $0 }) {
                    policy = pending
                } else {
                    policy = try self.inForce(tx).policy
                }
                return try policy.evaluate(request) { scope throws(LedgerStoreError) in
                    try Self.usage(tx, scope, cutoff: now - Self.windowMilliseconds)
                }
            }
        } catch {
            throw Self.ledgerError(error)
        }
    }

    /// What a transaction body hands back to `authorize`.
    private struct Outcome<T: Sendable>: Sendable {
        var decision: PolicyDecision
        var signed: Result<T, VaultError>?
    }

    /// One signing request, all or nothing. Under the ledger's writer lock and inside
    /// ONE SQLite transaction of the ledger database: evaluates the policy in force
    /// against the rolling 24 h usage stored in the same database; if allowed, runs
    /// `sign` and records the usage; appends a `vault.sign` entry (decision `allowed`,
    /// `denied` or `error`); commits. Only after the commit is durable is the result
    /// returned.
    ///
    /// - The ledger cannot be written (sealed, read-only, closed, I/O error, full disk):
    ///   throws the store's `ledger.*` code, before `sign` runs or with its result
    ///   discarded; nothing is committed.
    /// - Denied: throws `policy.denied` (message `<rule>: <reason>`) after its entry is
    ///   committed.
    /// - `sign` throws: its usage is not recorded; a `vault.sign` entry with decision
    ///   `error` and the error's code and message is committed, then the error is thrown.
    /// - `sign` runs under the ledger's writer lock: it must be quick and must not use
    ///   the ledger store (an append from it would deadlock). Its `details` go into the
    ///   entry and must hold no secret material.
    public func authorize<T: Sendable>(
        _ request: SpendRequest, actor: Actor, sign: () throws(VaultError) -> (result: T, details: JSONObject)
    ) throws(VaultError) -> (decision: PolicyDecision, entry: AppendedEntry, result: T) {
        try ensureLoaded()
        let clock = self.clock
        let committed: (entry: AppendedEntry, value: Outcome<T>)
        do throws(LedgerStoreError) {
            committed = try store.appendAtomically { tx throws(LedgerStoreError) -> (request: AppendRequest, value: Outcome<T>) in
                let now = clock().millisecondsSinceEpoch
                let cutoff = now - Self.windowMilliseconds
                let inForce = try self.inForce(tx)
                try Self.prune(tx, cutoff: cutoff)
                let decision = try inForce.policy.evaluate(request) { scope throws(LedgerStoreError) in
                    try Self.usage(tx, scope, cutoff: cutoff)
                }
                var outcome = Outcome<T>(decision: decision, signed: nil)
                var details: JSONObject?
                if decision.allowed {
                    do throws(VaultError) {
                        let s = try sign()
                        outcome.signed = .success(s.result)
                        details = s.details
                    } catch {
                        outcome.signed = .failure(error)
                    }
                    if case .success = outcome.signed {
                        let amount = request.amount.flatMap { Amount(bigEndian: $0) } ?? .zero
                        try tx.execute(
                            "INSERT INTO ext_vault_usage (ts, key, chain, amount, d0, d1, d2, d3, d4, d5, d6, d7) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [.int(now), .text(request.keyID), .text(request.chain.rawValue), .text(amount.description)]
                                + amount.digits32.map { .int(Int64($0)) })
                        let d = amount.digits32.map { Int64($0) }
                        try Self.addToTotals(tx, scope: Policy.Scope.key(request.keyID).description, count: 1, digits: d, sign: 1)
                        try Self.addToTotals(tx, scope: Policy.Scope.chain(request.chain).description, count: 1, digits: d, sign: 1)
                    }
                }
                let payload = Self.signPayload(request, outcome: outcome, details: details, version: inForce.version)
                return (AppendRequest(type: "vault.sign", payload: payload, actor: actor), outcome)
            }
        } catch {
            throw Self.ledgerError(error)
        }
        let outcome = committed.value
        guard outcome.decision.allowed else {
            throw VaultError("policy.denied", "\(outcome.decision.rule): \(outcome.decision.reason)")
        }
        switch outcome.signed {
        case .success(let result)?:
            return (outcome.decision, committed.entry, result)
        case .failure(let error)?:
            throw error
        case nil:
            throw VaultError("vault.internal", "the request was allowed but not signed")
        }
    }

    private static func signPayload<T>(_ r: SpendRequest, outcome: Outcome<T>, details: JSONObject?, version: Int) -> [UInt8] {
        var p = JSONObject()
        p.append("key", .string(r.keyID))
        p.append("chain", .string(r.chain.rawValue))
        p.append("kind", .string(r.kind.rawValue))
        p.append("amount", r.amount.map { bytes in .string(Amount(bigEndian: bytes)?.description ?? "0x" + Hex.encode(bytes)) } ?? .null)
        p.append("destination", r.destination.map { .string($0) } ?? .null)
        if let id = r.chainID { p.append("chain_id", .int(Int64(bitPattern: id))) }
        let decision: String
        switch outcome.signed {
        case .failure?: decision = "error"
        default: decision = outcome.decision.allowed ? "allowed" : "denied"
        }
        p.append("decision", .string(decision))
        p.append("rule", .string(outcome.decision.rule))
        p.append("reason", .string(outcome.decision.reason))
        p.append("policy_version", .int(Int64(version)))
        if case .failure(let e)? = outcome.signed {
            p.append("error", .object(JSONObject(["code": .string(e.code), "message": .string(e.message)])))
        }
        if let details { p.append("details", .object(details)) }
        return bytes(p)
    }

    static func bytes(_ o: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(.object(o), into: &out)
        return out
    }

    /// A ledger failure as the vault reports it: the store's stable code, unchanged.
    static func ledgerError(_ e: LedgerStoreError) -> VaultError {
        VaultError(e.code.rawValue, "the ledger cannot record this: \(e.message)")
    }
}
