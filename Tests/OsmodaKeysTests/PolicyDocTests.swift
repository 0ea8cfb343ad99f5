import Foundation
import OsmodaCore
import OsmodaKeys
import OsmodaLedger
import OsmodaVault
import Testing

/// `docs/vault-policy.md`: its example policy parses, its decision table holds, and
/// its `vault.sign` example is what the gate writes, so the page cannot drift.
@Suite("docs/vault-policy.md")
struct PolicyDocTests {
    static let doc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/vault-policy.md")

    /// The lines of the fenced block after `<!-- checked: NAME -->`.
    static func block(_ name: String) throws -> [Substring] {
        let text = try String(contentsOf: doc, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let marker = try #require(lines.firstIndex { $0 == "<!-- checked: \(name) -->" }, "no '\(name)' block in the doc")
        let open = marker + 1
        try #require(open < lines.count && lines[open].hasPrefix("```"))
        let close = try #require(lines[(open + 1)...].firstIndex { $0.hasPrefix("```") })
        return Array(lines[(open + 1)..<close])
    }

    static func examplePolicy() throws -> String {
        try block("policy-example").joined(separator: "\n")
    }

    @Test func theDecisionTableHolds() throws {
        let p = try Policy(bytes: Array(Self.examplePolicy().utf8))
        let listed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        let other = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
        let rows: [(SpendRequest, String, Bool)] = [
            (SpendRequest(keyID: "k_other", chain: .solana, kind: .transfer, amount: [1], destination: Addr.solA), "default_deny", false),
            (tx("k_12ab", .ethereum, "100000000000000000", to: listed), "key:k_12ab,chain:ethereum", true),
            (tx("k_12ab", .ethereum, "100000000000000000", to: other), "key:k_12ab.destinations", false),
            (tx("k_12ab", .ethereum, "200000000000000000", to: listed), "key:k_12ab.max_per_tx", false),
            (tx("k_other", .ethereum, "1000000000000000000", to: other), "chain:ethereum", true),
            (SpendRequest(keyID: "k_other", chain: .ethereum, kind: .message), "chain:ethereum.allow_messages", false),
            (SpendRequest(keyID: "k_12ab", chain: .ethereum, kind: .typedData), "key:k_12ab.allow_typed_data", false),
            (SpendRequest(keyID: "k_sol1", chain: .solana, kind: .message), "key:k_sol1", true),
        ]
        let text = try String(contentsOf: Self.doc, encoding: .utf8)
        for (request, rule, allowed) in rows {
            let d = p.evaluate(request) { (_: Policy.Scope) -> Policy.Usage in .none }
            #expect(d.rule == rule && d.allowed == allowed, "\(request): \(d)")
            #expect(text.contains("| `\(rule)`"), "the table does not name \(rule)")
        }
    }

    @Test func theSignEntryIsWhatTheGateWrites() throws {
        let w = try GateWorld()
        _ = try w.gate.setPolicy(JSONReader.parse(Self.examplePolicy()), actor: GateWorld.admin)
        let r = try w.gate.authorize(tx("k_12ab", .ethereum, "100000000000000000"), actor: GateWorld.agent) {
            () throws(VaultError) -> (result: Int, details: JSONObject) in (0, JSONObject(["tx_hash": .string("0x…")]))
        }
        let expected = try Self.block("sign-entry").map { $0.drop { $0 == " " } }.joined()
        #expect(String(decoding: r.entry.entry.payload, as: UTF8.self) == expected)
    }
}
