import OsmodaCore

/// EIP-712 typed structured data, as `eth_signTypedData_v4` takes it: `types`
/// (including `EIP712Domain`), `primaryType`, `domain`, `message`. Arrays, nested
/// structs, `bytesN`, `uintN`/`intN` (JSON integers, or decimal or 0x-hex strings,
/// never floating point) are supported. Strict: a message member not in its type, a
/// missing member, an undefined type, a value out of its type's range is an error,
/// because a signer must sign exactly what it shows.
public struct EIP712TypedData: Sendable {
    public struct Member: Sendable, Equatable {
        public var name: String
        public var type: String
    }

    public var types: [String: [Member]]
    public var primaryType: String
    public var domain: JSONObject
    public var message: JSONObject

    static let maxDepth = 32

    static func bad(_ message: String) -> VaultError { VaultError("typed_data.invalid", message) }

    public init(json: JSONValue) throws(VaultError) {
        guard case .object(let root) = json else { throw Self.bad("typed data must be an object") }
        for key in root.keys where !["types", "primaryType", "domain", "message"].contains(key) {
            throw Self.bad("unknown member '\(key)'")
        }
        guard case .object(let typeObject)? = root["types"] else { throw Self.bad("'types' must be an object") }
        var types = [String: [Member]]()
        for m in typeObject.members {
            guard case .array(let fields) = m.value else { throw Self.bad("'types.\(m.key)' must be an array") }
            guard Self.isIdentifier(m.key), Self.atomicWidth(m.key) == nil, m.key != "uint", m.key != "int" else {
                throw Self.bad("'\(m.key)' is not a valid struct type name")
            }
            var members = [Member]()
            for (i, f) in fields.enumerated() {
                guard case .object(let o) = f, case .string(let name)? = o["name"], case .string(let type)? = o["type"], o.members.count == 2 else {
                    throw Self.bad("'types.\(m.key)[\(i)]' must be {\"name\": …, \"type\": …}")
                }
                guard !members.contains(where: { $0.name == name }) else { throw Self.bad("'types.\(m.key)' repeats member '\(name)'") }
                members.append(Member(name: name, type: type))
            }
            types[m.key] = members
        }
        guard types["EIP712Domain"] != nil else { throw Self.bad("'types' must define EIP712Domain") }
        guard case .string(let primary)? = root["primaryType"] else { throw Self.bad("'primaryType' must be a string") }
        guard types[primary] != nil else { throw Self.bad("primaryType '\(primary)' is not defined in 'types'") }
        guard case .object(let domain)? = root["domain"] else { throw Self.bad("'domain' must be an object") }
        guard case .object(let message)? = root["message"] else { throw Self.bad("'message' must be an object") }
        self.types = types
        primaryType = primary
        self.domain = domain
        self.message = message
        // Every referenced type must resolve.
        for (name, members) in types {
            for m in members where Self.atomicWidth(Self.baseType(m.type)) == nil && types[Self.baseType(m.type)] == nil {
                throw Self.bad("'\(name).\(m.name)' has undefined type '\(m.type)'")
            }
        }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(0x30...0x39).contains(f) else { return false }
        return s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x5f || $0 == 0x24 }
    }

    /// "Person[][2]" → "Person".
    static func baseType(_ t: String) -> String {
        if let i = t.firstIndex(of: "[") { return String(t[..<i]) }
        return t
    }

    /// Atomic and dynamic types: `nil` if not one; otherwise a marker.
    static func atomicWidth(_ t: String) -> Int? {
        switch t {
        case "address", "bool", "string", "bytes": return 0
        default: break
        }
        for prefix in ["uint", "int"] where t.hasPrefix(prefix) {
            let n = t.dropFirst(prefix.count)
            if n.isEmpty { return nil }  // EIP-712 needs an explicit width
            if let bits = Int(n), bits >= 8, bits <= 256, bits % 8 == 0, String(bits) == n { return bits }
            return nil
        }
        if t.hasPrefix("bytes"), let n = Int(t.dropFirst(5)), n >= 1, n <= 32, String(n) == t.dropFirst(5) { return n }
        return nil
    }

    /// `Type(member,…)` followed by its referenced struct types, sorted by name.
    public func encodeType(_ type: String) throws(VaultError) -> String {
        var deps = Set<String>()
        try collect(type, into: &deps, depth: 0)
        deps.remove(type)
        return ([type] + deps.sorted()).map { t in
            t + "(" + types[t]!.map { "\($0.type) \($0.name)" }.joined(separator: ",") + ")"
        }.joined()
    }

    private func collect(_ type: String, into deps: inout Set<String>, depth: Int) throws(VaultError) {
        guard depth < Self.maxDepth else { throw Self.bad("types nest deeper than \(Self.maxDepth)") }
        guard !deps.contains(type), let members = types[type] else { return }
        deps.insert(type)
        for m in members { try collect(Self.baseType(m.type), into: &deps, depth: depth + 1) }
    }

    public func typeHash(_ type: String) throws(VaultError) -> [UInt8] {
        Keccak256.hash(Array(try encodeType(type).utf8))
    }

    public func hashStruct(_ type: String, _ value: JSONObject) throws(VaultError) -> [UInt8] {
        try hashStruct(type, value, path: type, depth: 0)
    }

    private func hashStruct(_ type: String, _ value: JSONObject, path: String, depth: Int) throws(VaultError) -> [UInt8] {
        guard depth < Self.maxDepth else { throw Self.bad("'\(path)' nests deeper than \(Self.maxDepth)") }
        guard let members = types[type] else { throw Self.bad("'\(path)': undefined type '\(type)'") }
        for key in value.keys where !members.contains(where: { $0.name == key }) {
            throw Self.bad("'\(path).\(key)' is not a member of \(type)")
        }
        var data = try typeHash(type)
        for m in members {
            guard let v = value[m.name] else { throw Self.bad("'\(path).\(m.name)' is missing") }
            data += try encodeValue(m.type, v, path: "\(path).\(m.name)", depth: depth + 1)
        }
        return Keccak256.hash(data)
    }

    private func encodeValue(_ type: String, _ value: JSONValue, path: String, depth: Int) throws(VaultError) -> [UInt8] {
        if type.hasSuffix("]"), let open = type.lastIndex(of: "[") {
            let element = String(type[..<open])
            let lengthText = type[type.index(after: open)..<type.index(before: type.endIndex)]
            guard case .array(let items) = value else { throw Self.bad("'\(path)' must be an array (\(type))") }
            if !lengthText.isEmpty {
                guard let n = Int(lengthText), n == items.count else {
                    throw Self.bad("'\(path)' has \(items.count) elements; \(type) needs \(lengthText)")
                }
            }
            var concat = [UInt8]()
            for (i, item) in items.enumerated() {
                concat += try encodeValue(element, item, path: "\(path)[\(i)]", depth: depth + 1)
            }
            return Keccak256.hash(concat)
        }
        if types[type] != nil {
            guard case .object(let o) = value else { throw Self.bad("'\(path)' must be an object (\(type))") }
            return try hashStruct(type, o, path: path, depth: depth)
        }
        switch type {
        case "string":
            guard case .string(let s) = value else { throw Self.bad("'\(path)' must be a string") }
            return Keccak256.hash(Array(s.utf8))
        case "bytes":
            guard case .string(let s) = value, s.hasPrefix("0x"), let b = Hex.decode(s) else { throw Self.bad("'\(path)' must be 0x-hex bytes") }
            return Keccak256.hash(b)
        case "bool":
            guard case .bool(let b) = value else { throw Self.bad("'\(path)' must be true or false") }
            return [UInt8](repeating: 0, count: 31) + [b ? 1 : 0]
        case "address":
            guard case .string(let s) = value else { throw Self.bad("'\(path)' must be an address string") }
            let a: EthereumAddress
            do { a = try EthereumAddress(parsing: s) } catch { throw Self.bad("'\(path)': \(error.message)") }
            return [UInt8](repeating: 0, count: 12) + a.bytes
        default: break
        }
        if type.hasPrefix("bytes"), let n = Self.atomicWidth(type) {
            guard case .string(let s) = value, s.hasPrefix("0x"), let b = Hex.decode(s), b.count == n else {
                throw Self.bad("'\(path)' must be 0x-hex of exactly \(n) bytes")
            }
            return b + [UInt8](repeating: 0, count: 32 - n)
        }
        if let bits = Self.atomicWidth(type) {
            return try encodeInteger(value, bits: bits, signed: type.hasPrefix("int"), path: path)
        }
        throw Self.bad("'\(path)': undefined type '\(type)'")
    }

    /// A 32-byte big-endian word; two's complement for negative `intN`.
    private func encodeInteger(_ value: JSONValue, bits: Int, signed: Bool, path: String) throws(VaultError) -> [UInt8] {
        var negative = false
        var magnitude: [UInt8]
        switch value {
        case .int(let i):
            negative = i < 0
            magnitude = RLP.minimalBigEndian(i.magnitude)
        case .string(let s):
            var text = Substring(s)
            if text.hasPrefix("-") { negative = true; text = text.dropFirst() }
            if text.hasPrefix("0x") {
                let digits = text.dropFirst(2)
                guard !digits.isEmpty, digits.count <= 64, !digits.contains("x"), !digits.contains("X"),
                      let b = Hex.decode((digits.count % 2 == 1 ? "0" : "") + digits) else {
                    throw Self.bad("'\(path)' is not a hex integer")
                }
                magnitude = Array(b.drop { $0 == 0 })
            } else {
                do { magnitude = try Quantity.parse(decimal: String(text)) } catch { throw Self.bad("'\(path)': \(error.message)") }
            }
        default:
            throw Self.bad("'\(path)' must be an integer or a decimal/hex string, not \(value.typeName)")
        }
        if negative && magnitude.isEmpty { negative = false }
        guard !negative || signed else { throw Self.bad("'\(path)' is negative but \(signed ? "int" : "uint")\(bits) is unsigned") }
        // Range: uintN < 2^N; intN in [-2^(N-1), 2^(N-1)).
        let limitBits = signed ? bits - 1 : bits
        let bitLength = magnitude.isEmpty ? 0 : (magnitude.count - 1) * 8 + (8 - magnitude[0].leadingZeroBitCount)
        let isMinimumNegative = negative && bitLength == limitBits + 1 && magnitude.dropFirst().allSatisfy { $0 == 0 }
            && magnitude[0] == UInt8(1) << UInt8((limitBits) % 8)
        guard bitLength <= limitBits || isMinimumNegative else {
            throw Self.bad("'\(path)' does not fit in \(signed ? "int" : "uint")\(bits)")
        }
        var word = [UInt8](repeating: 0, count: 32 - magnitude.count) + magnitude
        if negative {
            // Two's complement: invert and add one.
            for k in 0..<32 { word[k] = ~word[k] }
            var k = 31
            while k >= 0 {
                word[k] &+= 1
                if word[k] != 0 { break }
                k -= 1
            }
        }
        return word
    }

    public func domainSeparator() throws(VaultError) -> [UInt8] {
        try hashStruct("EIP712Domain", domain, path: "domain", depth: 0)
    }

    /// keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)) — what is signed.
    /// A primaryType of EIP712Domain signs the domain alone (no message hash), as v4 does.
    public func signingHash() throws(VaultError) -> [UInt8] {
        var data: [UInt8] = [0x19, 0x01] + (try domainSeparator())
        if primaryType != "EIP712Domain" { data += try hashStruct(primaryType, message, path: "message", depth: 0) }
        return Keccak256.hash(data)
    }
}

extension EthereumPrivateKey {
    /// `eth_signTypedData_v4`.
    public func signTypedData(_ data: EIP712TypedData) throws(VaultError) -> EthereumSignature {
        sign(digest: try data.signingHash())
    }
}
