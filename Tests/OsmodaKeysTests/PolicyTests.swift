import OsmodaCore
import OsmodaKeys
import OsmodaVault
import Testing

/// Addresses used across the policy tests.
enum Addr {
    static let ethA = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  // EIP-55 example
    static let ethB = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"  // EIP-55 example
    static let solA = "11111111111111111111111111111111"  // the system program
    static let solB = "SysvarRent111111111111111111111111111111111"
}

func policy(_ text: String) throws -> Policy {
    try Policy(bytes: Array(text.utf8))
}

func amount(_ text: String) -> [UInt8] {
    Amount(decimal: text)!.bigEndian
}

func tx(_ key: String = "k1", _ chain: Chain = .ethereum, _ value: String = "1", to: String? = Addr.ethA) -> SpendRequest {
    SpendRequest(keyID: key, chain: chain, kind: chain == .ethereum ? .transaction : .transfer, amount: amount(value), destination: to)
}

@Suite struct AmountTests {
    @Test func parsesAndPrintsExactly() throws {
        let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        #expect(Amount(decimal: max) == Amount.max)
        #expect(Amount.max.description == max)
        #expect(Amount(decimal: "0") == .zero)
        #expect(Amount(decimal: "18446744073709551616")?.description == "18446744073709551616")  // 2^64
        #expect(Amount(decimal: "1000000000000000000000")!.bigEndian == (try Quantity.parse(decimal: "1000000000000000000000")))
        for text in ["1", "9", "10", "255", "256", "10000000000000000000", "99999999999999999999999999999999999999"] {
            #expect(Amount(decimal: text)?.description == text)
            #expect(Amount(bigEndian: Amount(decimal: text)!.bigEndian) == Amount(decimal: text))
        }
    }

    @Test func refusesWhatIsNotABaseUnitInteger() {
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936"  // 2^256
        for bad in ["", "-1", "+1", "1.5", "1e18", "01", " 1", "1 ", "0x10", "１", over, String(repeating: "9", count: 79)] {
            #expect(Amount(decimal: bad) == nil, "\(bad)")
        }
        #expect(Amount(bigEndian: [UInt8](repeating: 1, count: 33)) == nil)
        #expect(Amount(bigEndian: [0] + [UInt8](repeating: 0xff, count: 32)) == .max)
    }

    @Test func checkedArithmetic() {
        #expect(Amount.max.adding(Amount(1)) == nil)
        #expect(Amount.max.adding(.zero) == .max)
        #expect(Amount(UInt64.max).adding(Amount(1))?.description == "18446744073709551616")
        #expect(Amount(1).subtracting(Amount(2)) == nil)
        #expect(Amount(decimal: "18446744073709551616")!.subtracting(Amount(1)) == Amount(UInt64.max))
        #expect(Amount(decimal: "18446744073709551616")! > Amount(UInt64.max))
        #expect(Amount(2) < Amount(10))
    }

    @Test func digitSumsCarryExactly() {
        #expect(Amount.max.digits32 == [UInt32](repeating: .max, count: 8))
        #expect(Amount(digitSums: Amount.max.digits32.map { Int64($0) }) == .max)
        // The sum of 2^31 rows of 0xFFFFFFFF in digit 0.
        let many = Int64(1 << 31) * Int64(UInt32.max)
        #expect(Amount(digitSums: [many])?.description == "9223372034707292160")
        // A carry out of the top digit is an overflow, never a wrap.
        #expect(Amount(digitSums: [0, 0, 0, 0, 0, 0, 0, 1 << 32]) == nil)
        #expect(Amount(digitSums: [1, 0, 0, 0, 0, 0, 0, Int64(UInt32.max)])?.description
            == Amount.max.subtracting(Amount(decimal: "26959946667150639794667015087019630673637144422540572481103610249214")!)?.description)
        #expect(Amount(digitSums: [-1]) == nil)
        for text in ["0", "1", "4294967296", "1000000000000000000000", "115792089237316195423570985008687907853269984665640564039457584007913129639935"] {
            let a = Amount(decimal: text)!
            #expect(Amount(digitSums: a.digits32.map { Int64($0) }) == a)
        }
    }
}

@Suite struct PolicyParseTests {
    /// Each malformed document and the exact message it gets (code `policy.invalid`).
    static let cases: [(String, String)] = [
        (#"[]"#, "policy: must be an object, not array"),
        (#"{"rules":[]}"#, "policy.rules: unknown field; expected one of keys, chains"),
        (#"{"keys":[]}"#, "keys: must be an object, not array"),
        (#"{"chains":{"bitcoin":{}}}"#, "chains.bitcoin: unknown chain 'bitcoin'; expected one of ethereum, solana"),
        (#"{"keys":{"k1":{"max_per_tx":100}}}"#,
         #"keys.k1.max_per_tx: must be a string of base-10 digits (base units, e.g. "1000000000000000000"), not number 100"#),
        (#"{"keys":{"k1":{"max_per_tx":"1.5"}}}"#,
         "keys.k1.max_per_tx: '1.5' is not a non-negative integer below 2^256 in base units (digits only, no sign, fraction, exponent or leading zeros)"),
        (#"{"keys":{"k1":{"max_per_24h":"-1"}}}"#,
         "keys.k1.max_per_24h: '-1' is not a non-negative integer below 2^256 in base units (digits only, no sign, fraction, exponent or leading zeros)"),
        (#"{"chains":{"ethereum":{"max_per_24h":"115792089237316195423570985008687907853269984665640564039457584007913129639936"}}}"#,
         "chains.ethereum.max_per_24h: '115792089237316195423570985008687907853269984665640564039457584007913129639936' is not a non-negative integer below 2^256 in base units (digits only, no sign, fraction, exponent or leading zeros)"),
        (#"{"keys":{"k1":{"max_signatures_per_24h":-1}}}"#, "keys.k1.max_signatures_per_24h: must be a non-negative integer, not -1"),
        (#"{"keys":{"k1":{"max_signatures_per_24h":1.0}}}"#, "keys.k1.max_signatures_per_24h: must be a non-negative integer, not 1.0"),
        (#"{"keys":{"k1":{"max_signatures_per_24h":"5"}}}"#, #"keys.k1.max_signatures_per_24h: must be a non-negative integer, not "5""#),
        (#"{"keys":{"k1":{"allow_messages":"yes"}}}"#, "keys.k1.allow_messages: must be true or false, not string"),
        (#"{"keys":{"k1":{"max_per_day":"1"}}}"#,
         "keys.k1.max_per_day: unknown field; expected one of max_per_tx, max_per_24h, max_signatures_per_24h, destinations, allow_messages, allow_typed_data, chain_ids"),
        (#"{"chains":{"solana":{"chain_ids":[1]}}}"#, "chains.solana.chain_ids: applies to Ethereum transactions only"),
        (#"{"keys":{"k1":{"chain_ids":1}}}"#, "keys.k1.chain_ids: must be an array of EIP-155 chain ids, not number"),
        (#"{"keys":{"k1":{"chain_ids":[0]}}}"#, "keys.k1.chain_ids[0]: must be a positive integer chain id, not 0"),
        (#"{"keys":{"k1":{"chain_ids":["1"]}}}"#, #"keys.k1.chain_ids[0]: must be a positive integer chain id, not "1""#),
        (#"{"keys":{"k1":{"chain_ids":[1,10,1]}}}"#, "keys.k1.chain_ids[2]: chain id 1 is listed twice"),
        (#"{"keys":{"k1":{},"k1":{}}}"#, "keys.k1: appears twice"),
        (#"{"keys":{"k 1":{}}}"#, "keys.k 1: a key id is 1 to 128 printable ASCII characters without spaces"),
        (#"{"chains":{"ethereum":{"destinations":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}}}"#,
         "chains.ethereum.destinations: must be an array of addresses, not string"),
        (#"{"chains":{"ethereum":{"destinations":["0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]}}}"#,
         "chains.ethereum.destinations[0]: '0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed' is not a ethereum address"),
        (#"{"chains":{"solana":{"destinations":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]}}}"#,
         "chains.solana.destinations[0]: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' is not a solana address"),
        (#"{"chains":{"ethereum":{"destinations":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"]}}}"#,
         "chains.ethereum.destinations[1]: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed' is listed twice"),
        (#"{"keys":{"k1":{"destinations":[1]}}}"#, "keys.k1.destinations[0]: must be a string, not number"),
        ("{\"keys\":\n{,}}", "policy: line 2, column 2: expected a string key, found ','"),
    ]

    @Test(arguments: cases) func malformedPoliciesArePinned(_ c: (String, String)) {
        #expect(throws: VaultError("policy.invalid", c.1)) { try policy(c.0) }
    }

    @Test func canonicalFormRoundTrips() throws {
        let p = try policy(#"""
            {"chains":{"solana":{"max_per_tx":"5"},"ethereum":{"destinations":["0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"],"allow_messages":true}},
             "keys":{"zz":{"max_signatures_per_24h":3},"aa":{"max_per_24h":"1000000000000000000000"}}}
            """#)
        let text = JSONWriter.serialize(p.json)
        #expect(text == #"{"keys":{"aa":{"max_per_24h":"1000000000000000000000","allow_messages":false,"allow_typed_data":false},"zz":{"max_signatures_per_24h":3,"allow_messages":false,"allow_typed_data":false}},"chains":{"ethereum":{"destinations":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],"allow_messages":true,"allow_typed_data":false},"solana":{"max_per_tx":"5","allow_messages":false,"allow_typed_data":false}}}"#)
        #expect(try Policy(json: p.json) == p)
    }
}

@Suite struct PolicySemanticsTests {
    /// Evaluates with fixed usage per scope.
    func decide(_ p: Policy, _ r: SpendRequest, usage: [Policy.Scope: Policy.Usage] = [:]) -> PolicyDecision {
        p.evaluate(r) { (scope: Policy.Scope) -> Policy.Usage in usage[scope] ?? .none }
    }

    /// The precedence table of docs/vault-policy.md: request, usage → deciding rule.
    @Test func precedenceTable() throws {
        let p = try policy(#"""
            {"keys":{"k1":{"max_per_tx":"100","max_per_24h":"150","max_signatures_per_24h":3,"destinations":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]},
                     "k2":{"allow_messages":true},
                     "k3":{"allow_messages":true,"allow_typed_data":true,"destinations":[]},
                     "s1":{"max_per_tx":"10"}},
             "chains":{"ethereum":{"max_per_tx":"1000","max_per_24h":"200","allow_typed_data":true}}}
            """#)
        let msg = { (k: String, c: Chain) in SpendRequest(keyID: k, chain: c, kind: .message) }
        let typed = { (k: String) in SpendRequest(keyID: k, chain: .ethereum, kind: .typedData) }
        let k1 = Policy.Scope.key("k1")
        let eth = Policy.Scope.chain(.ethereum)
        let rows: [(SpendRequest, [Policy.Scope: Policy.Usage], Bool, String)] = [
            // No rule for the key, none for the chain.
            (tx("s9", .solana, "1", to: Addr.solA), [:], false, "default_deny"),
            // Key rule and chain rule both apply and both allow.
            (tx("k1", .ethereum, "100"), [:], true, "key:k1,chain:ethereum"),
            // Only the chain rule applies (unknown key on a chain with a rule).
            (tx("k9", .ethereum, "200", to: Addr.ethB), [:], true, "chain:ethereum"),
            (tx("k9", .ethereum, "1001", to: Addr.ethB), [:], false, "chain:ethereum.max_per_tx"),
            // Only the key rule applies (no Solana chain rule).
            (tx("s1", .solana, "10", to: Addr.solA), [:], true, "key:s1"),
            (tx("s1", .solana, "11", to: Addr.solA), [:], false, "key:s1.max_per_tx"),
            // The key rule is checked first: both would deny, the key rule is named.
            (tx("k1", .ethereum, "5000"), [:], false, "key:k1.max_per_tx"),
            // The key rule allows, the chain rule (a ceiling for all keys) denies.
            (tx("k1", .ethereum, "60"), [eth: .init(signatures: 1, amount: Amount(150))], false, "chain:ethereum.max_per_24h"),
            (tx("k1", .ethereum, "50"), [eth: .init(signatures: 1, amount: Amount(150))], true, "key:k1,chain:ethereum"),
            // Destination allowlist of the key rule; a missing destination is not listed.
            (tx("k1", .ethereum, "1", to: Addr.ethB), [:], false, "key:k1.destinations"),
            (tx("k1", .ethereum, "1", to: nil), [:], false, "key:k1.destinations"),
            // Lower-case spelling of a listed address is the same address.
            (tx("k1", .ethereum, "1", to: Addr.ethA.lowercased()), [:], true, "key:k1,chain:ethereum"),
            // Signature count, then amount window, of the key rule.
            (tx("k1", .ethereum, "1"), [k1: .init(signatures: 3, amount: Amount(0))], false, "key:k1.max_signatures_per_24h"),
            (tx("k1", .ethereum, "1"), [k1: .init(signatures: 2, amount: Amount(149))], true, "key:k1,chain:ethereum"),
            (tx("k1", .ethereum, "2"), [k1: .init(signatures: 2, amount: Amount(149))], false, "key:k1.max_per_24h"),
            // An overflowed window total never allows.
            (tx("k1", .ethereum, "0"), [k1: .init(signatures: 0, amount: nil)], false, "key:k1.max_per_24h"),
            // Messages: refused unless a rule allows; every applicable rule must allow.
            (msg("k2", .solana), [:], true, "key:k2"),
            (msg("k2", .ethereum), [:], false, "chain:ethereum.allow_messages"),
            (msg("k1", .ethereum), [:], false, "key:k1.allow_messages"),
            (typed("k9"), [:], true, "chain:ethereum"),
            (typed("k2"), [:], false, "key:k2.allow_typed_data"),
            // An allowlist restricts value, not messages: an empty one stops every
            // transaction of the key, and no message.
            (msg("k3", .solana), [:], true, "key:k3"),
            (typed("k3"), [:], true, "key:k3,chain:ethereum"),
            (tx("k3", .ethereum, "0"), [:], false, "key:k3.destinations"),
            (tx("k3", .ethereum, "0", to: nil), [:], false, "key:k3.destinations"),
            // A transaction without an amount, or with one beyond 256 bits.
            (SpendRequest(keyID: "k9", chain: .ethereum, kind: .transaction, amount: nil, destination: Addr.ethB), [:], false, "request.amount"),
            (SpendRequest(keyID: "k9", chain: .ethereum, kind: .transaction, amount: [UInt8](repeating: 1, count: 33), destination: Addr.ethB), [:], false,
             "request.amount"),
            (SpendRequest(keyID: "k9", chain: .ethereum, kind: .transaction, amount: [1], destination: "0xnope"), [:], false, "request.destination"),
        ]
        for (i, row) in rows.enumerated() {
            let d = decide(p, row.0, usage: row.1)
            #expect(d.allowed == row.2 && d.rule == row.3, "row \(i): \(d)")
        }
    }

    @Test func emptyPolicyDeniesEverything() {
        for kind in SpendRequest.Kind.allCases {
            let d = decide(Policy(), SpendRequest(keyID: "k", chain: .solana, kind: kind, amount: [1], destination: Addr.solA))
            #expect(!d.allowed && d.rule == "default_deny")
        }
    }

    @Test func limitsAreInclusive() throws {
        let big = "1000000000000000000000000"  // 10^24 wei, beyond 2^64
        let p = try policy(#"{"keys":{"k1":{"max_per_tx":"\#(big)","max_per_24h":"\#(big)"}}}"#)
        let next = Amount(decimal: big)!.adding(Amount(1))!.description
        #expect(decide(p, tx("k1", .ethereum, big)).allowed)
        #expect(decide(p, tx("k1", .ethereum, next)).rule == "key:k1.max_per_tx")
        let used = Amount(decimal: big)!.subtracting(Amount(7))!
        #expect(decide(p, tx("k1", .ethereum, "7"), usage: [.key("k1"): .init(signatures: 9, amount: used)]).allowed)
        #expect(decide(p, tx("k1", .ethereum, "8"), usage: [.key("k1"): .init(signatures: 9, amount: used)]).rule == "key:k1.max_per_24h")
    }

    /// `chain_ids` pins the EIP-155 chain ids of Ethereum transactions, in a key rule and
    /// in a chain rule (both must allow); other kinds are not affected.
    @Test func chainIDsPinTransactions() throws {
        let p = try policy(#"{"keys":{"k1":{"chain_ids":[1,10]}},"chains":{"ethereum":{"chain_ids":[1]}}}"#)
        func eth(_ id: UInt64?) -> SpendRequest {
            var r = tx("k1", .ethereum, "1")
            r.chainID = id
            return r
        }
        #expect(decide(p, eth(1)).allowed)
        #expect(decide(p, eth(10)).rule == "chain:ethereum.chain_ids")
        #expect(decide(p, eth(5)).rule == "key:k1.chain_ids")
        #expect(decide(p, eth(nil)).rule == "key:k1.chain_ids")
        #expect(decide(try policy(#"{"keys":{"k1":{"chain_ids":[]}}}"#), eth(1)).rule == "key:k1.chain_ids")
        // Messages carry no chain id and are governed by allow_messages alone.
        let m = try policy(#"{"keys":{"k1":{"chain_ids":[1],"allow_messages":true}}}"#)
        #expect(decide(m, SpendRequest(keyID: "k1", chain: .ethereum, kind: .message)).allowed)
        #expect(JSONWriter.serialize(m.json) == #"{"keys":{"k1":{"allow_messages":true,"allow_typed_data":false,"chain_ids":[1]}},"chains":{}}"#)
        #expect(try Policy(json: m.json) == m)
    }

    @Test func usageIsAskedOnlyWhenAWindowLimitApplies() throws {
        let p = try policy(#"{"keys":{"k1":{"max_per_tx":"10"}}}"#)
        var asked = 0
        _ = p.evaluate(tx("k1", .ethereum, "1")) { (_: Policy.Scope) -> Policy.Usage in
            asked += 1
            return .none
        }
        #expect(asked == 0)
    }
}
