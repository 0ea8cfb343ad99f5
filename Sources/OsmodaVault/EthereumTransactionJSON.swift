import OsmodaCore

extension EthereumTransaction {
    /// The members a JSON transaction description may have.
    static let jsonMembers: Set<String> = [
        "chain_id", "nonce", "to", "value_wei", "gas_limit", "gas_price_wei",
        "max_fee_per_gas_wei", "max_priority_fee_per_gas_wei", "data", "access_list",
    ]

    /// A transaction from its JSON description (snake_case, units in names):
    ///
    ///     {"chain_id": 1, "nonce": 9, "to": "0x3535…", "value_wei": "1000000000000000000",
    ///      "gas_limit": 21000, "gas_price_wei": "20000000000"}
    ///
    /// `gas_price_wei` makes a legacy EIP-155 transaction; `max_fee_per_gas_wei` and
    /// `max_priority_fee_per_gas_wei` make an EIP-1559 one (with an optional
    /// `access_list` of `{"address", "storage_keys"}`). Amounts are decimal strings (or
    /// JSON integers); `to` absent or null creates a contract; `data` is 0x-hex.
    public init(json: JSONValue) throws(VaultError) {
        func bad(_ m: String) -> VaultError { VaultError("tx.invalid", m) }
        guard case .object(let o) = json else { throw bad("a transaction is a JSON object, not \(json.typeName)") }
        for key in o.keys where !Self.jsonMembers.contains(key) { throw bad("unknown member '\(key)'") }

        func integer(_ key: String) throws(VaultError) -> UInt64 {
            guard let v = o[key] else { throw bad("'\(key)' is missing") }
            switch v {
            case .int(let i) where i >= 0: return UInt64(i)
            case .string(let s):
                let q: [UInt8]
                do { q = try Quantity.parse(decimal: s) } catch { throw bad("'\(key)': \(error.message)") }
                guard q.count <= 8 else { throw bad("'\(key)' does not fit in 64 bits") }
                return q.reduce(0) { $0 << 8 | UInt64($1) }
            default: throw bad("'\(key)' must be a non-negative integer")
            }
        }
        func amount(_ key: String) throws(VaultError) -> [UInt8] {
            guard let v = o[key] else { throw bad("'\(key)' is missing") }
            switch v {
            case .int(let i) where i >= 0: return RLP.minimalBigEndian(UInt64(i))
            case .string(let s):
                do { return try Quantity.parse(decimal: s) } catch { throw bad("'\(key)': \(error.message)") }
            default: throw bad("'\(key)' must be a decimal string of wei (or a non-negative integer)")
            }
        }
        func address(_ v: JSONValue, _ path: String) throws(VaultError) -> EthereumAddress {
            guard case .string(let s) = v else { throw bad("'\(path)' must be an address string") }
            do { return try EthereumAddress(parsing: s) } catch { throw bad("'\(path)': \(error.message)") }
        }

        let legacy = o["gas_price_wei"] != nil
        let dynamic = o["max_fee_per_gas_wei"] != nil || o["max_priority_fee_per_gas_wei"] != nil
        let fee: Fee
        switch (legacy, dynamic) {
        case (true, false): fee = .legacy(gasPrice: try amount("gas_price_wei"))
        case (false, true):
            let tip = try amount("max_priority_fee_per_gas_wei"), cap = try amount("max_fee_per_gas_wei")
            guard Quantity.compare(tip, cap) <= 0 else { throw bad("'max_priority_fee_per_gas_wei' exceeds 'max_fee_per_gas_wei'") }
            fee = .eip1559(maxPriorityFeePerGas: tip, maxFeePerGas: cap)
        case (true, true): throw bad("give either gas_price_wei (legacy) or the max_*_per_gas_wei pair (EIP-1559), not both")
        case (false, false): throw bad("give gas_price_wei (legacy) or max_fee_per_gas_wei and max_priority_fee_per_gas_wei (EIP-1559)")
        }

        var to: EthereumAddress?
        if let v = o["to"], v != .null { to = try address(v, "to") }
        var data = [UInt8]()
        if let v = o["data"] {
            guard case .string(let s) = v, s.hasPrefix("0x"), let b = Hex.decode(s) else { throw bad("'data' must be 0x-hex") }
            data = b
        }
        var accessList = [AccessListEntry]()
        if let v = o["access_list"] {
            if case .legacy = fee { throw bad("a legacy transaction (gas_price_wei) has no access_list") }
            guard case .array(let entries) = v else { throw bad("'access_list' must be an array") }
            for (i, e) in entries.enumerated() {
                guard case .object(let eo) = e, let a = eo["address"], case .array(let keys)? = eo["storage_keys"],
                      eo.members.count == 2 else {
                    throw bad("'access_list[\(i)]' must be {\"address\": …, \"storage_keys\": […]}")
                }
                var storage = [[UInt8]]()
                for (k, key) in keys.enumerated() {
                    guard case .string(let s) = key, s.hasPrefix("0x"), let b = Hex.decode(s), b.count == 32 else {
                        throw bad("'access_list[\(i)].storage_keys[\(k)]' must be 32 bytes of 0x-hex")
                    }
                    storage.append(b)
                }
                accessList.append(AccessListEntry(address: try address(a, "access_list[\(i)].address"), storageKeys: storage))
            }
        }
        self.init(chainID: try integer("chain_id"), nonce: try integer("nonce"), fee: fee, gasLimit: try integer("gas_limit"),
                  to: to, value: try amount("value_wei"), data: data, accessList: accessList)
        try validate()
    }

    /// The value in wei as a decimal string (for policy and ledger entries).
    public var valueDecimal: String { Quantity.decimal(value) }
}

extension Quantity {
    /// Compares two minimal big-endian integers: -1, 0 or 1.
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let x = Array(a.drop { $0 == 0 }), y = Array(b.drop { $0 == 0 })
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return 0
    }
}
