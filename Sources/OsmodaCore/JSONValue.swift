#if canImport(Glibc)
import Glibc  // libm, for rounding
#endif

/// A JSON value as the reader produces it and the writer consumes it.
///
/// Integers that fit `Int64` stay exact (`.int`); every other number is a `.double`.
/// Objects keep their keys in input order, duplicates included: lookups take the
/// last occurrence, as jq does.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The value as a `Double`, for numbers only.
    @inlinable
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// jq's truthiness: everything but `false` and `null` is true.
    @inlinable
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        default: return true
        }
    }

    /// The jq-style name of the value's type, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Structural equality where `1` and `1.0` are the same number, and strings are
    /// equal only byte for byte (no Unicode normalisation, as in jq).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return lhs.number == rhs.number
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// Member access for objects; `nil` for a missing key or a non-object.
    @inlinable
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

/// An ordered JSON object.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        @inlinable public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    @inlinable
    public init(_ members: [Member] = []) { self.members = members }

    @inlinable
    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    /// The last value stored under `key`.
    @inlinable
    public subscript(key: String) -> JSONValue? {
        get {
            var i = members.count
            while i > 0 {
                i -= 1
                if members[i].key.utf8.elementsEqual(key.utf8) { return members[i].value }
            }
            return nil
        }
        set {
            if let i = members.lastIndex(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    @inlinable public var keys: [String] { members.map(\.key) }
    @inlinable public var isEmpty: Bool { members.isEmpty }

    @inlinable
    public mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// Equality as a set of (last-wins) key/value pairs, ignoring order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        let lk = Set(lhs.keys.map { Array($0.utf8) }), rk = Set(rhs.keys.map { Array($0.utf8) })
        guard lk == rk else { return false }
        for k in lk {
            let key = String(decoding: k, as: UTF8.self)
            if lhs[key] != rhs[key] { return false }
        }
        return true
    }
}

/// `JSONValue` as a field of a `Codable` type: any JSON at that place, kept as is.
///
/// `ValueEncoder` and `ValueDecoder` pass it through untouched; other coders go
/// through these generic containers (objects then lose duplicate keys).
extension JSONValue: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var o = JSONObject()
            for k in keyed.allKeys { o.append(k.stringValue, try keyed.decode(JSONValue.self, forKey: k)) }
            self = .object(o)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) { self = .double(d) } else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let o):
            var c = encoder.container(keyedBy: Key.self)
            for m in o.members { try c.encode(m.value, forKey: Key(m.key)) }
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for i in items { try c.encode(i) }
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        }
    }
}
