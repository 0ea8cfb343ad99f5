import Foundation
import OsmodaCore
import OsmodaKeys
@testable import OsmodaLedger
import OsmodaTestSupport
import OsmodaVault
import Synchronization
import Testing

/// A clock the test sets: every reading returns the current value.
final class SetClock: Sendable {
    private let now = Mutex<Int64>(1_790_000_000_000)
    var clock: @Sendable () -> Timestamp { { [self] in Timestamp(millisecondsSinceEpoch: now.withLock { $0 }) } }
    var ms: Int64 { now.withLock { $0 } }
    func set(_ v: Int64) { now.withLock { $0 = v } }
    func advance(_ d: Int64) { now.withLock { $0 += d } }
}

/// A state directory with a real ledger store and a gate on it.
final class GateWorld: @unchecked Sendable {
    let dir: URL
    let clock = SetClock()
    var store: LedgerStore
    var gate: PolicyGate
    static let admin = Actor(uid: 0, gid: 0, pid: 100, exe: "/usr/bin/osmoda-keys")
    static let agent = Actor(uid: 1000, gid: 1000, pid: 200, exe: "/usr/bin/agent")

    init(policy: String? = nil) throws {
        dir = try ToolRunner.temporaryDirectory("osmoda-policy")
        store = try LedgerStore.open(stateDirectory: dir.path, options: .init(name: "test", clock: clock.clock))
        gate = try PolicyGate(stateDirectory: dir.path, store: store, clock: clock.clock, daemonActor: Self.admin)
        if let policy { _ = try gate.setPolicy(JSONReader.parse(policy), actor: Self.admin) }
    }

    var statePath: String { dir.path }

    /// Closes and reopens store and gate, as a daemon restart does.
    func restart() throws {
        store.close()
        store = try LedgerStore.open(stateDirectory: dir.path, options: .init(name: "test", clock: clock.clock))
        gate = try PolicyGate(stateDirectory: dir.path, store: store, clock: clock.clock, daemonActor: Self.admin)
    }

    /// A signing that returns a fake signature and counts its calls.
    func sign(_ r: SpendRequest, calls: Counter? = nil) throws(VaultError) -> (decision: PolicyDecision, entry: AppendedEntry, result: String) {
        try gate.authorize(r, actor: Self.agent) { () throws(VaultError) -> (result: String, details: JSONObject) in
            calls?.add()
            return ("sig-\(r.keyID)", JSONObject(["tx_hash": .string("0xabc")]))
        }
    }

    func entries(type: String? = nil) throws -> [LedgerEntry] {
        var out: [LedgerEntry] = []
        try store.entries { e in if type == nil || e.entry.type == type { out.append(e.entry) } }
        return out
    }

    func payloads(type: String = "vault.sign") throws -> [JSONObject] {
        try entries(type: type).map { e in
            guard case .object(let o) = try JSONReader.parse(e.payload) else { throw RunnerError("payload is not an object") }
            return o
        }
    }

    deinit {
        store.close()
        ToolRunner.removeTemporaryDirectory(dir)
    }
}

func vaultCode(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as VaultError {
        return e.code
    } catch {
        return "not a VaultError: \(error)"
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

@Suite struct PolicyGateTests {
    @Test func noPolicyFileDeniesAndRecordsTheDenial() throws {
        let w = try GateWorld()
        #expect(w.gate.currentPolicy().version == 0)
        let calls = Counter()
        #expect(throws: VaultError("policy.denied", "default_deny: no rule applies to key k1 or chain ethereum; the policy denies by default")) {
            _ = try w.sign(tx(), calls: calls)
        }
        #expect(calls.count == 0)
        let p = try w.payloads()
        #expect(p.count == 1)
        #expect(p.first?["decision"] == .string("denied"))
        #expect(p.first?["rule"] == .string("default_deny"))
        #expect(p.first?["amount"] == .string("1"))
        #expect(p.first?["details"] == nil)
    }

    @Test func allowedSignatureIsRecordedWithDetailsAndReturnedAfterCommit() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_per_tx":"1000000000000000000000"}}}"#)
        let r = try w.sign(tx("k1", .ethereum, "1000000000000000000000"))
        #expect(r.result == "sig-k1")
        #expect(r.decision.rule == "key:k1")
        #expect(r.entry.entry.type == "vault.sign")
        let stored = try w.store.entry(seq: r.entry.seq)
        #expect(stored == r.entry)
        let p = try #require(try w.payloads().last)
        #expect(JSONWriter.serialize(.object(p)) == #"{"key":"k1","chain":"ethereum","kind":"transaction","amount":"1000000000000000000000","destination":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","decision":"allowed","rule":"key:k1","reason":"allowed by key:k1","policy_version":1,"details":{"tx_hash":"0xabc"}}"#)
        #expect(try w.store.verifyAll().ok)
    }

    @Test func setPolicyWritesTheFileAndTheLedger() throws {
        let w = try GateWorld()
        let doc = #"{"chains":{"solana":{"max_per_tx":"5"}}}"#
        let entry = try w.gate.setPolicy(JSONReader.parse(doc), actor: GateWorld.admin)
        #expect(entry.entry.type == "vault.policy.set")
        #expect(entry.entry.actor == GateWorld.admin)
        let path = w.statePath + "/vault/policy.json"
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let canonical = #"{"keys":{},"chains":{"solana":{"max_per_tx":"5","allow_messages":false,"allow_typed_data":false}}}"#
        #expect(try String(contentsOfFile: path, encoding: .utf8) == canonical + "\n")
        #expect(w.gate.currentPolicy().version == 1)
        #expect(JSONWriter.serialize(w.gate.currentPolicy().policy) == canonical)
        #expect(String(decoding: entry.entry.payload, as: UTF8.self) == #"{"version":1,"policy":\#(canonical)}"#)
        // A malformed policy changes nothing.
        #expect(throws: VaultError("policy.invalid", "chains.sol: unknown chain 'sol'; expected one of ethereum, solana")) {
            _ = try w.gate.setPolicy(JSONReader.parse(#"{"chains":{"sol":{}}}"#), actor: GateWorld.admin)
        }
        #expect(w.gate.currentPolicy().version == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == canonical + "\n")
        #expect(try w.entries().count == 1)
    }

    @Test func checkChangesNothing() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":1}}}"#)
        let before = try w.entries().count
        for _ in 0..<3 {
            let d = try w.gate.check(tx("k1"))
            #expect(d.allowed && d.rule == "key:k1")
        }
        #expect(try w.entries().count == before)
        _ = try w.sign(tx("k1"))
        let d = try w.gate.check(tx("k1"))
        #expect(!d.allowed && d.rule == "key:k1.max_signatures_per_24h")
        #expect(d.reason == "1 signatures in the last 24 h; key:k1 allows 1")
        #expect(try w.entries().count == before + 1)
    }

    /// The window is (now − 24 h, now]: a signature made at t stops counting at exactly
    /// t + 24 h, and still counts 1 ms before.
    @Test func rollingWindowEdgesToTheMillisecond() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_per_24h":"100","max_signatures_per_24h":2}}}"#)
        let t0 = w.clock.ms
        _ = try w.sign(tx("k1", .ethereum, "60"))  // at t0
        w.clock.set(t0 + 1000)
        _ = try w.sign(tx("k1", .ethereum, "40"))  // at t0 + 1 s: the 24 h amount is used up exactly
        #expect(vaultCode { _ = try w.sign(tx("k1", .ethereum, "1")) } == "policy.denied")

        let day = PolicyGate.windowMilliseconds
        w.clock.set(t0 + day - 1)
        #expect(try w.gate.check(tx("k1", .ethereum, "1")).rule == "key:k1.max_signatures_per_24h")
        w.clock.set(t0 + day)
        // The first signature left the window; 60 is free again, 61 is not.
        #expect(try w.gate.check(tx("k1", .ethereum, "61")).rule == "key:k1.max_per_24h")
        #expect(try w.gate.check(tx("k1", .ethereum, "60")).allowed)
        _ = try w.sign(tx("k1", .ethereum, "60"))
        #expect(vaultCode { _ = try w.sign(tx("k1", .ethereum, "0")) } == "policy.denied")  // 2 signatures in the window
        w.clock.set(t0 + 1000 + day - 1)
        #expect(try w.gate.check(tx("k1", .ethereum, "0")).rule == "key:k1.max_signatures_per_24h")
        w.clock.set(t0 + 1000 + day)
        #expect(try w.gate.check(tx("k1", .ethereum, "40")).allowed)
        #expect(try w.gate.check(tx("k1", .ethereum, "41")).rule == "key:k1.max_per_24h")
    }

    @Test func clockSteppedBackStillCountsLaterSignatures() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":1}}}"#)
        _ = try w.sign(tx("k1"))
        w.clock.advance(-3_600_000)
        #expect(try w.gate.check(tx("k1")).rule == "key:k1.max_signatures_per_24h")
    }

    @Test func restartMidWindowKeepsTheCounters() throws {
        let w = try GateWorld(policy: #"{"chains":{"ethereum":{"max_per_24h":"300"}}}"#)
        _ = try w.sign(tx("k1", .ethereum, "100"))
        _ = try w.sign(tx("k2", .ethereum, "150"))
        w.clock.advance(12 * 3_600_000)
        try w.restart()
        #expect(w.gate.currentPolicy().version == 1)  // the file equals the recorded policy: no reload entry
        #expect(try w.entries(type: "vault.policy.load").isEmpty)
        #expect(vaultCode { _ = try w.sign(tx("k3", .ethereum, "51")) } == "policy.denied")
        _ = try w.sign(tx("k3", .ethereum, "50"))
        #expect(try w.gate.check(tx("k1", .ethereum, "0")).allowed)
        #expect(try w.gate.check(tx("k1", .ethereum, "1")).rule == "chain:ethereum.max_per_24h")
    }

    @Test func aFileChangedWhileStoppedIsRecordedAsALoad() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        w.store.close()
        try Data(#"{"keys":{"k2":{}}}"#.utf8).write(to: w.dir.appendingPathComponent("vault/policy.json"))
        try w.restart()
        #expect(w.gate.currentPolicy().version == 2)
        let loads = try w.payloads(type: "vault.policy.load")
        #expect(loads.count == 1)
        #expect(loads.first?["version"] == .int(2))
        #expect(try w.gate.check(tx("k2")).allowed)
        #expect(try w.gate.check(tx("k1")).rule == "default_deny")
        // A malformed file stops the gate from starting, naming the file and field.
        w.store.close()
        try Data(#"{"keys":{"k2":{"max_per_tx":1}}}"#.utf8).write(to: w.dir.appendingPathComponent("vault/policy.json"))
        w.store = try LedgerStore.open(stateDirectory: w.statePath, options: .init(name: "test", clock: w.clock.clock))
        #expect(throws: VaultError(
            "policy.invalid",
            w.statePath + #"/vault/policy.json: keys.k2.max_per_tx: must be a string of base-10 digits (base units, e.g. "1000000000000000000"), not number 1"#)) {
            _ = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock)
        }
    }

    /// Many threads at once, together asking for more than the 24 h limit allows:
    /// exactly the allowed number succeed, and every request has one ledger entry.
    @Test func concurrentRequestsNeverExceedTheLimit() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_per_24h":"1000","max_signatures_per_24h":100}},"chains":{"ethereum":{}}}"#)
        let threads = 16
        let perThread = 10
        let allowed = Counter()
        let denied = Counter()
        let calls = Counter()
        let gate = w.gate
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                for _ in 0..<perThread {
                    do throws(VaultError) {
                        _ = try gate.authorize(tx("k1", .ethereum, "30"), actor: GateWorld.agent) { () throws(VaultError) -> (result: Int, details: JSONObject) in
                            calls.add()
                            return (t, JSONObject())
                        }
                        allowed.add()
                    } catch {
                        if error.code == "policy.denied" { denied.add() }
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        // 1000 / 30 = 33 signatures fit.
        #expect(allowed.count == 33)
        #expect(calls.count == 33)
        #expect(denied.count == threads * perThread - 33)
        let p = try w.payloads()
        #expect(p.count == threads * perThread)
        #expect(p.filter { $0["decision"] == .string("allowed") }.count == 33)
        #expect(try w.store.verifyAll().ok)
    }

    @Test func aSealedLedgerRefusesAndSignNeverRuns() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        _ = try w.sign(tx("k1"))
        _ = try w.store.checkpoint()
        _ = try w.sign(tx("k1"))
        w.store.close()
        // Tamper with the entry after the checkpoint: the store opens sealed.
        let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
        try raw.execute("UPDATE entries SET payload = CAST(replace(payload, 'k1', 'k2') AS BLOB) WHERE seq = (SELECT max(seq) FROM entries)")
        raw.close()
        try w.restart()
        #expect(w.store.sealedReason != nil)
        let calls = Counter()
        #expect(vaultCode { _ = try w.sign(tx("k1"), calls: calls) } == "ledger.verification_failed")
        #expect(calls.count == 0)
        // check still answers from the recorded policy and usage.
        #expect(try w.gate.check(tx("k1")).allowed)
        // Setting a policy is refused too, and leaves the file and the version alone.
        let path = w.statePath + "/vault/policy.json"
        let before = try String(contentsOfFile: path, encoding: .utf8)
        #expect(vaultCode { _ = try w.gate.setPolicy(JSONReader.parse(#"{"keys":{"k9":{}}}"#), actor: GateWorld.admin) }
            == "ledger.verification_failed")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        #expect(w.gate.currentPolicy().version == 1)
    }

    @Test func aLockedDatabaseRefusesAndSignNeverRuns() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        w.store.close()
        w.store = try LedgerStore.open(stateDirectory: w.statePath, options: .init(name: "test", clock: w.clock.clock, busyTimeoutMilliseconds: 50))
        w.gate = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock)
        let other = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
        try other.execute("BEGIN IMMEDIATE")
        let calls = Counter()
        #expect(vaultCode { _ = try w.sign(tx("k1"), calls: calls) } == "ledger.storage")
        #expect(calls.count == 0)
        try other.execute("ROLLBACK")
        other.close()
        _ = try w.sign(tx("k1"), calls: calls)
        #expect(calls.count == 1)
    }

    /// The signature exists but its entry cannot be written (here: details too large for
    /// a ledger payload): the result is not returned and the usage is not kept.
    @Test func aFailedCommitAfterSigningReturnsNothing() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":1}}}"#)
        let before = try w.entries().count
        #expect(vaultCode {
            _ = try w.gate.authorize(tx("k1"), actor: GateWorld.agent) { () throws(VaultError) -> (result: String, details: JSONObject) in
                ("secret-signature", JSONObject(["blob": .string(String(repeating: "x", count: 70_000))]))
            }
        } == "ledger.payload_too_large")
        #expect(try w.entries().count == before)
        // The usage row was rolled back with the entry: the one allowed signature is still free.
        #expect(try w.gate.check(tx("k1")).allowed)
        #expect(w.store.sealedReason == nil)
    }

    @Test func aClosedOrReadOnlyStoreRefuses() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        w.store.close()
        #expect(vaultCode { _ = try w.sign(tx("k1")) } == "ledger.closed")
        let ro = try LedgerStore.openReadOnly(path: w.statePath + "/" + LedgerStore.databaseFileName)
        defer { ro.close() }
        #expect(vaultCode { _ = try PolicyGate(stateDirectory: w.statePath, store: ro) } == "ledger.read_only")
    }

    @Test func aSigningErrorIsRecordedAndCountsNothing() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":1}}}"#)
        #expect(throws: VaultError("key.corrupt", "key k1 does not unseal")) {
            _ = try w.gate.authorize(tx("k1"), actor: GateWorld.agent) { () throws(VaultError) -> (result: String, details: JSONObject) in
                throw VaultError("key.corrupt", "key k1 does not unseal")
            }
        }
        let p = try #require(try w.payloads().last)
        #expect(p["decision"] == .string("error"))
        #expect(p["error"] == .object(JSONObject(["code": .string("key.corrupt"), "message": .string("key k1 does not unseal")])))
        #expect(try w.gate.check(tx("k1")).allowed)
    }

    @Test func oldUsageIsPrunedInTheSigningTransaction() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        for _ in 0..<5 { _ = try w.sign(tx("k1")) }
        w.clock.advance(PolicyGate.windowMilliseconds)
        func rows() throws -> Int64 {
            let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readOnly])
            defer { raw.close() }
            let s = try raw.prepare("SELECT count(*) FROM ext_vault_usage")
            _ = try s.step()
            return s.int64(0)
        }
        // check sees the rows as expired but leaves them.
        #expect(try w.gate.check(tx("k1")).allowed)
        #expect(try rows() == 5)
        _ = try w.sign(tx("k1"))
        #expect(try rows() == 1)
    }

    /// An admin's `recover` after tampering starts a new ledger epoch: the counters
    /// survive, and the policy in force is recorded again in the new ledger.
    @Test func recoveryKeepsTheCountersAndRecordsThePolicyAgain() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":2}}}"#)
        _ = try w.sign(tx("k1"))
        _ = try w.store.checkpoint()
        _ = try w.sign(tx("k1"))
        w.store.close()
        let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
        try raw.execute("UPDATE entries SET payload = CAST(replace(payload, 'k1', 'k2') AS BLOB) WHERE seq = (SELECT max(seq) FROM entries)")
        raw.close()
        let recovery = try LedgerStore.recover(
            stateDirectory: w.statePath, acknowledging: "tampering investigated", actor: GateWorld.admin,
            options: .init(name: "test", clock: w.clock.clock))
        w.store = recovery.store
        w.gate = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock, daemonActor: GateWorld.admin)
        #expect(try w.gate.check(tx("k1")).rule == "key:k1.max_signatures_per_24h")
        #expect(vaultCode { _ = try w.sign(tx("k1")) } == "policy.denied")
        let loads = try w.payloads(type: "vault.policy.load")
        #expect(loads.count == 1)
        #expect(loads.first?["version"] == .int(2))
        #expect(w.gate.currentPolicy().version == 2)
    }

    /// Window totals beyond 2^64 wei add up exactly, across keys for a chain rule.
    @Test func windowTotalsBeyond64Bits() throws {
        let w = try GateWorld(policy: #"{"chains":{"ethereum":{"max_per_24h":"3000000000000000000000000"}}}"#)
        for k in ["k1", "k2", "k3"] { _ = try w.sign(tx(k, .ethereum, "999999999999999999999999")) }
        #expect(try w.gate.check(tx("k4", .ethereum, "3")).allowed)
        #expect(try w.gate.check(tx("k4", .ethereum, "4")).reason
            == "2999999999999999999999997 used in the last 24 h + 4 asked exceeds chain:ethereum's limit of 3000000000000000000000000")
    }

    /// The running totals always equal the rows they summarise, and the window seen by
    /// `check` equals a brute-force count over every signature made, as the clock runs
    /// over three days of irregular signing.
    @Test func runningTotalsMatchABruteForceWindow() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_per_24h":"1000000000000000000000000000"},"k2":{"max_signatures_per_24h":1000}},"chains":{"ethereum":{"max_per_24h":"1000000000000000000000000000"}}}"#)
        var rng = SplitMix64(seed: 42)
        var made: [(ts: Int64, key: String, amount: Amount)] = []
        let start = w.clock.ms
        while w.clock.ms < start + 3 * PolicyGate.windowMilliseconds {
            w.clock.advance(Int64(rng.next() % 7_200_000))
            let key = rng.next() % 2 == 0 ? "k1" : "k2"
            let value = Amount(rng.next()).adding(Amount(decimal: "18446744073709551616")!)!  // above 2^64
            _ = try w.sign(tx(key, .ethereum, value.description))
            made.append((w.clock.ms, key, value))
            for probe in ["k1", "k2"] {
                let now = w.clock.ms
                let inWindow = made.filter { $0.key == probe && $0.ts > now - PolicyGate.windowMilliseconds }
                let total = inWindow.reduce(Amount.zero) { $0.adding($1.amount)! }
                let d = try w.gate.check(tx(probe, .ethereum, "0"))
                #expect(d.allowed)
                if probe == "k1" {
                    let limit = Amount(decimal: "1000000000000000000000000000")!
                    let over = limit.subtracting(total)!.adding(Amount(1))!
                    #expect(try w.gate.check(tx(probe, .ethereum, over.description)).reason.hasPrefix("\(total) used in the last 24 h"))
                }
            }
        }
        w.store.close()
        let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readOnly])
        defer { raw.close() }
        let s = try raw.prepare("""
            SELECT count(*) FROM (
                SELECT 'key:' || key AS scope, count(*) AS n, sum(d0) AS a, sum(d1) AS b, sum(d2) AS c, sum(d3) AS d FROM ext_vault_usage GROUP BY key
                UNION ALL
                SELECT 'chain:' || chain, count(*), sum(d0), sum(d1), sum(d2), sum(d3) FROM ext_vault_usage GROUP BY chain
            ) r LEFT JOIN ext_vault_usage_totals t ON t.scope = r.scope
            WHERE t.scope IS NULL OR t.signatures != r.n OR t.d0 != r.a OR t.d1 != r.b OR t.d2 != r.c OR t.d3 != r.d
            """)
        _ = try s.step()
        #expect(s.int64(0) == 0)
        #expect(made.count > 50)
    }

    /// A policy file that cannot be written refuses the set, and nothing is recorded.
    @Test func anUnwritablePolicyFileRefusesTheSet() throws {
        let w = try GateWorld()
        try Data("in the way".utf8).write(to: w.dir.appendingPathComponent("vault"))
        let code = vaultCode { _ = try w.gate.setPolicy(JSONReader.parse(#"{"keys":{"k1":{}}}"#), actor: GateWorld.admin) }
        #expect(code == "policy.io")
        #expect(try w.entries().isEmpty)
        #expect(w.gate.currentPolicy().version == 0)
        #expect(try w.gate.check(tx("k1")).rule == "default_deny")
    }

    /// A file changed while the daemon was stopped, found by a gate that cannot record
    /// it (the ledger is sealed): the file's policy is what `check` and `show` report,
    /// and the older recorded policy is never used to sign.
    @Test func anUnrecordedFilePolicyIsNeverBypassed() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        _ = try w.sign(tx("k1"))
        _ = try w.store.checkpoint()
        _ = try w.sign(tx("k1"))
        w.store.close()
        let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
        try raw.execute("UPDATE entries SET payload = CAST(replace(payload, 'k1', 'k2') AS BLOB) WHERE seq = (SELECT max(seq) FROM entries)")
        raw.close()
        try Data(#"{"keys":{"k2":{}}}"#.utf8).write(to: w.dir.appendingPathComponent("vault/policy.json"))
        try w.restart()
        #expect(w.store.sealedReason != nil)
        #expect(try w.gate.check(tx("k1")).rule == "default_deny")
        #expect(try w.gate.check(tx("k2")).allowed)
        #expect(JSONWriter.serialize(w.gate.currentPolicy().policy) == #"{"keys":{"k2":{"allow_messages":false,"allow_typed_data":false}},"chains":{}}"#)
        let calls = Counter()
        #expect(vaultCode { _ = try w.sign(tx("k1"), calls: calls) } == "ledger.verification_failed")
        #expect(vaultCode { _ = try w.sign(tx("k2"), calls: calls) } == "ledger.verification_failed")
        #expect(calls.count == 0)
        // After recovery the file's policy is recorded first, then decides.
        let recovery = try LedgerStore.recover(
            stateDirectory: w.statePath, acknowledging: "checked", actor: GateWorld.admin, options: .init(name: "test", clock: w.clock.clock))
        w.store = recovery.store
        w.gate = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock, daemonActor: GateWorld.admin)
        #expect(vaultCode { _ = try w.sign(tx("k1")) } == "policy.denied")
        _ = try w.sign(tx("k2"))
        #expect(try w.entries().map(\.type) == ["ledger.recovered", "vault.policy.load", "vault.sign", "vault.sign"])
    }

    /// A full disk (SQLite's page limit here) after the signer ran: the signature is
    /// dropped, nothing is counted or recorded, and the next request works again.
    @Test func aFullDiskReturnsNoSignature() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_signatures_per_24h":1}}}"#)
        let before = try w.entries().count
        try w.store.writer.withLock { state in
            let pages = try state.connection?.pragma("page_count") ?? "0"
            try state.connection?.execute("PRAGMA max_page_count = \(pages)")
        }
        let calls = Counter()
        #expect(vaultCode {
            _ = try w.gate.authorize(tx("k1"), actor: GateWorld.agent) { () throws(VaultError) -> (result: String, details: JSONObject) in
                calls.add()
                return ("signature", JSONObject(["raw_tx": .string(String(repeating: "ab", count: 20_000))]))
            }
        } == "ledger.storage")
        #expect(calls.count == 1)
        #expect(try w.entries().count == before)
        #expect(w.store.sealedReason == nil)
        try w.store.writer.withLock { state in try state.connection?.execute("PRAGMA max_page_count = 1073741823") }
        #expect(try w.gate.check(tx("k1")).allowed)
        _ = try w.sign(tx("k1"))
        #expect(try w.store.verifyAll().ok)
    }

    /// `set` writes the file inside the ledger transaction; when the transaction then
    /// fails (here the database is full after the policy row, at the entry), the
    /// previous file is put back and nothing changed.
    @Test func aSetWhoseTransactionFailsAfterTheFileRestoresIt() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        let path = w.statePath + "/vault/policy.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let keys = (0..<300).map { #""key-\#($0)-\#(String(repeating: "x", count: 40))":{}"# }.joined(separator: ",")
        let big = try JSONReader.parse("{\"keys\":{\(keys)}}")
        func inode() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int ?? -1 }
        let original = try inode()
        var restored = 0
        var failures = 0
        for extra in 4..<60 {
            try w.store.writer.withLock { state in
                let pages = Int(try state.connection?.pragma("page_count") ?? "0") ?? 0
                try state.connection?.execute("PRAGMA max_page_count = \(pages + extra)")
            }
            let code = vaultCode { _ = try w.gate.setPolicy(big, actor: GateWorld.admin) }
            try w.store.writer.withLock { state in try state.connection?.execute("PRAGMA max_page_count = 1073741823") }
            if code == nil { break }
            failures += 1
            #expect(code == "ledger.storage")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            #expect(w.gate.currentPolicy().version == 1)
            #expect(try w.entries(type: "vault.policy.set").count == 1)
            // A new inode with the old bytes: the file was written, then put back.
            if try inode() != original { restored += 1 }
        }
        #expect(failures > 0 && restored > 0, "\(failures) failures, \(restored) after the file was written")
        #expect(w.gate.currentPolicy().version == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != before)
    }

    /// A policy file others could have written is refused at start, as cron refuses such files.
    @Test func aPolicyFileOthersCanWriteIsRefused() throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{}}}"#)
        let path = w.statePath + "/vault/policy.json"
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o620], ofItemAtPath: path)
        #expect(throws: VaultError("policy.insecure", "\(path): refused: writable by group or others (mode 620); chmod go-w it")) {
            _ = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        _ = try PolicyGate(stateDirectory: w.statePath, store: w.store, clock: w.clock.clock)
    }
}
