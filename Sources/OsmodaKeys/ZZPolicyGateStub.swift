// TEMPORARY: stands in for vault-policy's PolicyGate until its branch is merged. Deleted then.
import OsmodaCore
import OsmodaLedger
import OsmodaVault

public final class PolicyGate: Sendable {
    let store: LedgerStore
    public init(stateDirectory: String, store: LedgerStore,
                clock: @escaping @Sendable () -> Timestamp = LedgerStore.systemClock) throws(VaultError) {
        self.store = store
    }
    public func currentPolicy() -> (policy: JSONValue, version: Int) { (.object(JSONObject()), 0) }
    public func setPolicy(_ json: JSONValue, actor: Actor) throws(VaultError) -> AppendedEntry {
        do { return try store.append(AppendRequest(type: "vault.policy.set", payload: JSONWriter.serialize(json), actor: actor)) } catch {
            throw VaultError("ledger.unavailable", "\(error)")
        }
    }
    public func check(_ request: SpendRequest) throws(VaultError) -> PolicyDecision {
        PolicyDecision(allowed: true, rule: "stub", reason: "stub")
    }
    public func authorize<T: Sendable>(_ request: SpendRequest, actor: Actor,
                                       sign: () throws(VaultError) -> (result: T, details: JSONObject)) throws(VaultError) -> (decision: PolicyDecision, entry: AppendedEntry, result: T) {
        let r = try sign()
        var p = JSONObject(["key": .string(request.keyID), "decision": .string("allowed")])
        p.members += r.details.members
        do {
            let e = try store.append(AppendRequest(type: "vault.sign", payload: JSONWriter.serialize(.object(p)), actor: actor))
            return (PolicyDecision(allowed: true, rule: "stub", reason: "stub"), e, r.result)
        } catch { throw VaultError("ledger.unavailable", "\(error)") }
    }
}
