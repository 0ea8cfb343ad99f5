import OsmodaCore
import OsmodaVault

/// The spend policy: default deny, with rules per key and per chain.
///
/// The document (what `policy set` takes and `policy show` prints):
///
///     {"keys":   {"<key id>":  <rule>, …},
///      "chains": {"ethereum": <rule>, "solana": <rule>}}
///
/// and a rule, every field optional:
///
///     {"max_per_tx": "<base units>", "max_per_24h": "<base units>",
///      "max_signatures_per_24h": <integer>, "destinations": ["<address>", …],
///      "allow_messages": false, "allow_typed_data": false}
///
/// Semantics (docs/vault-policy.md has the table):
/// - The rules that *apply* to a request are the rule of its key (`key:<id>`) and the
///   rule of its chain (`chain:<name>`). None applies → denied by `default_deny`.
/// - Every applicable rule must allow; the key's rule is checked first, then the
///   chain's; the first check that fails decides and is named `<rule>.<field>`.
/// - Within a rule the checks run in a fixed order: kind (`allow_messages`,
///   `allow_typed_data`), `destinations` and `max_per_tx` (transactions and transfers),
///   `max_signatures_per_24h` (every kind), `max_per_24h` (transactions and transfers). An absent limit sets no limit; an absent allowlist allows any
///   destination; messages and typed data are refused unless allowed.
/// - The 24 h windows count what was *allowed and signed*: per key for a key rule,
///   over every key of the chain for a chain rule.
public struct Policy: Sendable, Equatable {
    /// One rule's limits.
    public struct Rule: Sendable, Equatable {
        public var maxPerTransaction: Amount?
        public var maxPer24h: Amount?
        public var maxSignaturesPer24h: Int64?
        /// `nil`: any destination; otherwise the allowed ones.
        public var destinations: [Destination]?
        public var allowMessages = false
        public var allowTypedData = false
        /// The EIP-155 chain ids an Ethereum transaction may be signed for; `nil` allows
        /// any. The 24 h amounts are counted across chain ids: give each network its
        /// own key where that matters.
        public var chainIDs: [UInt64]?

        public init() {}
    }

    /// An allowlisted address, in canonical form.
    public struct Destination: Sendable, Hashable {
        public var chain: Chain
        /// The address bytes (20 for Ethereum, 32 for Solana).
        public var bytes: [UInt8]

        /// Parses an address of `chain`, or of either chain when `nil` (Ethereum for
        /// `0x…`, Solana otherwise).
        public init?(parsing text: String, chain: Chain?) {
            let c = chain ?? (text.hasPrefix("0x") || text.hasPrefix("0X") ? .ethereum : .solana)
            switch c {
            case .ethereum:
                guard let a = try? EthereumAddress(parsing: text) else { return nil }
                bytes = a.bytes
            case .solana:
                guard let b = Base58.decode(text), b.count == 32, Base58.encode(b) == text else { return nil }
                bytes = b
            }
            self.chain = c
        }

        /// The canonical text: EIP-55 for Ethereum, base58 for Solana.
        public var text: String {
            switch chain {
            case .ethereum: EthereumAddress(bytes: bytes)?.checksummed ?? ""
            case .solana: Base58.encode(bytes)
            }
        }
    }

    /// Where a rule applies.
    public enum Scope: Sendable, Hashable, CustomStringConvertible {
        case key(String)
        case chain(Chain)

        /// `key:<id>` or `chain:<name>`: the prefix of the rule names in decisions.
        public var description: String {
            switch self {
            case .key(let id): "key:\(id)"
            case .chain(let c): "chain:\(c.rawValue)"
            }
        }
    }

    public var keys: [String: Rule] = [:]
    public var chains: [Chain: Rule] = [:]

    /// The empty policy: denies everything.
    public init() {}

    /// What the rolling window holds for a scope: signatures and their total amount
    /// (`nil` when the total exceeds 2²⁵⁶ − 1, which no limit can allow).
    public struct Usage: Sendable, Equatable {
        public var signatures: Int64
        public var amount: Amount?

        public init(signatures: Int64, amount: Amount?) {
            self.signatures = signatures
            self.amount = amount
        }

        public static let none = Usage(signatures: 0, amount: .zero)
    }

    /// The rules that apply to `request`, in evaluation order (key first, then chain).
    public func applicableRules(_ request: SpendRequest) -> [(scope: Scope, rule: Rule)] {
        var out: [(Scope, Rule)] = []
        if let r = keys[request.keyID] { out.append((.key(request.keyID), r)) }
        if let r = chains[request.chain] { out.append((.chain(request.chain), r)) }
        return out
    }

    /// Decides `request`. `usage` is asked only for scopes whose rule has a 24 h limit,
    /// and only once a request got that far.
    public func evaluate<E: Error>(_ request: SpendRequest, usage: (Scope) throws(E) -> Usage) throws(E) -> PolicyDecision {
        let rules = applicableRules(request)
        guard !rules.isEmpty else {
            return PolicyDecision(
                allowed: false, rule: "default_deny",
                reason: "no rule applies to key \(request.keyID) or chain \(request.chain.rawValue); the policy denies by default")
        }
        let moves = request.kind == .transaction || request.kind == .transfer
        var asked = Amount.zero
        if moves {
            guard let bytes = request.amount else {
                return PolicyDecision(allowed: false, rule: "request.amount", reason: "a \(request.kind.rawValue) must state its amount")
            }
            guard let a = Amount(bigEndian: bytes) else {
                return PolicyDecision(allowed: false, rule: "request.amount", reason: "the amount does not fit in 256 bits")
            }
            asked = a
        }
        var destination: Destination?
        if let d = request.destination {
            guard let parsed = Destination(parsing: d, chain: request.chain) else {
                return PolicyDecision(allowed: false, rule: "request.destination", reason: "'\(d)' is not a \(request.chain.rawValue) address")
            }
            destination = parsed
        }
        for (scope, rule) in rules {
            func deny(_ field: String, _ why: String) -> PolicyDecision {
                PolicyDecision(allowed: false, rule: "\(scope).\(field)", reason: why)
            }
            switch request.kind {
            case .message where !rule.allowMessages:
                return deny("allow_messages", "\(scope) does not allow raw message signing")
            case .typedData where !rule.allowTypedData:
                return deny("allow_typed_data", "\(scope) does not allow typed-data signing")
            default: break
            }
            // The allowlist restricts where value goes: transactions and transfers. A
            // message or typed data has no destination to restrict.
            if moves, let allowed = rule.destinations {
                guard let destination else {
                    return deny("destinations", "\(scope) allows only listed destinations and the request has none")
                }
                guard allowed.contains(destination) else {
                    return deny("destinations", "\(destination.text) is not in \(scope)'s destination allowlist")
                }
            }
            if request.kind == .transaction, let ids = rule.chainIDs {
                guard let id = request.chainID, ids.contains(id) else {
                    let listed = ids.map(String.init).joined(separator: ", ")
                    return deny("chain_ids", "chain id \(request.chainID.map(String.init) ?? "none") is not in \(scope)'s chain ids (\(listed))")
                }
            }
            if moves, let max = rule.maxPerTransaction, asked > max {
                return deny("max_per_tx", "amount \(asked) exceeds \(scope)'s limit of \(max) per transaction")
            }
            guard rule.maxSignaturesPer24h != nil || (moves && rule.maxPer24h != nil) else { continue }
            let used = try usage(scope)
            if let max = rule.maxSignaturesPer24h, used.signatures >= max {
                return deny(
                    "max_signatures_per_24h",
                    "\(used.signatures) signatures in the last 24 h; \(scope) allows \(max)")
            }
            if moves, let max = rule.maxPer24h {
                guard let total = used.amount?.adding(asked), total <= max else {
                    let usedText = used.amount.map(String.init(describing:)) ?? "more than 2^256-1"
                    return deny("max_per_24h", "\(usedText) used in the last 24 h + \(asked) asked exceeds \(scope)'s limit of \(max)")
                }
            }
        }
        let names = rules.map { "\($0.scope)" }
        return PolicyDecision(
            allowed: true, rule: names.joined(separator: ","),
            reason: "allowed by \(names.joined(separator: " and "))")
    }
}

// MARK: - Parsing and writing

extension Policy {
    /// Parses a policy document strictly: unknown fields, wrong types, duplicate
    /// members, amounts that are not base-10 integers below 2²⁵⁶ and unknown chains
    /// are `policy.invalid`, with the path of the field (`keys.k1.max_per_tx`).
    public init(json: JSONValue) throws(VaultError) {
        guard case .object(let top) = json else { throw Self.invalid("policy", "must be an object, not \(json.typeName)") }
        try Self.checkMembers(top, allowed: ["keys", "chains"], path: "policy")
        if let keys = top["keys"] {
            guard case .object(let o) = keys else { throw Self.invalid("keys", "must be an object, not \(keys.typeName)") }
            try Self.checkMembers(o, allowed: nil, path: "keys")
            for m in o.members {
                let path = "keys.\(m.key)"
                try Self.checkKeyID(m.key, path: path)
                self.keys[m.key] = try Self.parseRule(m.value, chain: nil, path: path)
            }
        }
        if let chains = top["chains"] {
            guard case .object(let o) = chains else { throw Self.invalid("chains", "must be an object, not \(chains.typeName)") }
            try Self.checkMembers(o, allowed: nil, path: "chains")
            for m in o.members {
                let path = "chains.\(m.key)"
                guard let chain = Chain(rawValue: m.key) else {
                    throw Self.invalid(path, "unknown chain '\(m.key)'; expected one of \(Chain.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                self.chains[chain] = try Self.parseRule(m.value, chain: chain, path: path)
            }
        }
    }

    /// Parses policy text (UTF-8 JSON); syntax errors are `policy.invalid` with the column.
    public init(bytes: [UInt8]) throws(VaultError) {
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONReader.parse(bytes)
        } catch {
            let (line, column) = error.lineAndColumn(in: bytes)
            throw VaultError("policy.invalid", "policy: line \(line), column \(column): \(error.message)")
        }
        try self.init(json: value)
    }

    static let ruleFields = ["max_per_tx", "max_per_24h", "max_signatures_per_24h", "destinations", "allow_messages", "allow_typed_data", "chain_ids"]

    static func parseRule(_ value: JSONValue, chain: Chain?, path: String) throws(VaultError) -> Rule {
        guard case .object(let o) = value else { throw invalid(path, "must be an object, not \(value.typeName)") }
        try checkMembers(o, allowed: ruleFields, path: path)
        var rule = Rule()
        rule.maxPerTransaction = try o["max_per_tx"].map { v throws(VaultError) in try parseAmount(v, path: "\(path).max_per_tx") }
        rule.maxPer24h = try o["max_per_24h"].map { v throws(VaultError) in try parseAmount(v, path: "\(path).max_per_24h") }
        if let v = o["max_signatures_per_24h"] {
            guard case .int(let n) = v, n >= 0 else {
                let shown = if case .double(let d) = v { "\(d)" } else { JSONWriter.serialize(v) }
                throw invalid("\(path).max_signatures_per_24h", "must be a non-negative integer, not \(shown)")
            }
            rule.maxSignaturesPer24h = n
        }
        if let v = o["destinations"] {
            guard case .array(let items) = v else { throw invalid("\(path).destinations", "must be an array of addresses, not \(v.typeName)") }
            var out: [Destination] = []
            for (i, item) in items.enumerated() {
                let p = "\(path).destinations[\(i)]"
                guard case .string(let s) = item else { throw invalid(p, "must be a string, not \(item.typeName)") }
                guard let d = Destination(parsing: s, chain: chain) else {
                    let what = chain.map { "a \($0.rawValue) address" } ?? "an Ethereum (0x + 40 hex, EIP-55 when mixed case) or Solana (base58, 32 bytes) address"
                    throw invalid(p, "'\(s)' is not \(what)")
                }
                guard !out.contains(d) else { throw invalid(p, "'\(s)' is listed twice") }
                out.append(d)
            }
            rule.destinations = out
        }
        if let v = o["chain_ids"] {
            let p = "\(path).chain_ids"
            if chain == .solana { throw invalid(p, "applies to Ethereum transactions only") }
            guard case .array(let items) = v else { throw invalid(p, "must be an array of EIP-155 chain ids, not \(v.typeName)") }
            var ids: [UInt64] = []
            for (i, item) in items.enumerated() {
                guard case .int(let n) = item, n >= 1 else {
                    throw invalid("\(p)[\(i)]", "must be a positive integer chain id, not \(JSONWriter.serialize(item))")
                }
                guard !ids.contains(UInt64(n)) else { throw invalid("\(p)[\(i)]", "chain id \(n) is listed twice") }
                ids.append(UInt64(n))
            }
            rule.chainIDs = ids
        }
        rule.allowMessages = try parseBool(o["allow_messages"], path: "\(path).allow_messages")
        rule.allowTypedData = try parseBool(o["allow_typed_data"], path: "\(path).allow_typed_data")
        return rule
    }

    static func parseAmount(_ v: JSONValue, path: String) throws(VaultError) -> Amount {
        guard case .string(let s) = v else {
            throw invalid(path, "must be a string of base-10 digits (base units, e.g. \"1000000000000000000\"), not \(v.typeName) \(JSONWriter.serialize(v))")
        }
        guard let a = Amount(decimal: s) else {
            throw invalid(path, "'\(s)' is not a non-negative integer below 2^256 in base units (digits only, no sign, fraction, exponent or leading zeros)")
        }
        return a
    }

    static func parseBool(_ v: JSONValue?, path: String) throws(VaultError) -> Bool {
        guard let v else { return false }
        guard case .bool(let b) = v else { throw invalid(path, "must be true or false, not \(v.typeName)") }
        return b
    }

    static func checkKeyID(_ id: String, path: String) throws(VaultError) {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= 128, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid(path, "a key id is 1 to 128 printable ASCII characters without spaces")
        }
    }

    /// Refuses duplicate members and, when `allowed` is given, unknown ones.
    static func checkMembers(_ o: JSONObject, allowed: [String]?, path: String) throws(VaultError) {
        var seen: Set<String> = []
        for m in o.members {
            guard seen.insert(m.key).inserted else { throw invalid("\(path).\(m.key)", "appears twice") }
            if let allowed, !allowed.contains(m.key) {
                throw invalid("\(path).\(m.key)", "unknown field; expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    static func invalid(_ path: String, _ why: String) -> VaultError {
        VaultError("policy.invalid", "\(path): \(why)")
    }

    /// The policy as a JSON document in canonical form (keys sorted, amounts as
    /// decimal strings, addresses canonical); `init(json:)` reads it back equal.
    public var json: JSONValue {
        func rule(_ r: Rule) -> JSONValue {
            var o = JSONObject()
            if let v = r.maxPerTransaction { o.append("max_per_tx", .string(v.description)) }
            if let v = r.maxPer24h { o.append("max_per_24h", .string(v.description)) }
            if let v = r.maxSignaturesPer24h { o.append("max_signatures_per_24h", .int(v)) }
            if let d = r.destinations { o.append("destinations", .array(d.map { .string($0.text) })) }
            o.append("allow_messages", .bool(r.allowMessages))
            o.append("allow_typed_data", .bool(r.allowTypedData))
            if let ids = r.chainIDs { o.append("chain_ids", .array(ids.map { .int(Int64($0)) })) }
            return .object(o)
        }
        var top = JSONObject()
        var k = JSONObject()
        for id in keys.keys.sorted() { if let r = keys[id] { k.append(id, rule(r)) } }
        var c = JSONObject()
        for chain in Chain.allCases { if let r = chains[chain] { c.append(chain.rawValue, rule(r)) } }
        top.append("keys", .object(k))
        top.append("chains", .object(c))
        return .object(top)
    }
}
