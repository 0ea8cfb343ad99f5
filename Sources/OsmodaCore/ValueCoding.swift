/// Encodes `Encodable` values to `JSONValue` in the order their `CodingKeys` are
/// written, without Foundation.
///
/// Several keyed containers requested from one encoder write into the same object,
/// which is how a record envelope puts `type` and `ts` ahead of a record's own fields.
/// `nil` optionals are omitted, as `JSONEncoder` does, unless `absentAsNull` asks for
/// `null` (table rows carry every column, ADR 0002).
public enum ValueEncoder {
    public static func encode(_ value: some Encodable, absentAsNull: Bool = false) throws -> JSONValue {
        let box = Box(absentAsNull: absentAsNull)
        try value.encode(to: _Encoder(box: box, codingPath: []))
        return box.resolve()
    }
}

/// Mutable storage for a value under construction.
final class Box {
    /// Write `null` for a `nil` optional instead of leaving the key out.
    let absentAsNull: Bool
    var value: JSONValue?
    var object: JSONObject?
    var array: [Box]?
    var keyedChildren: [(String, Box)] = []

    init(absentAsNull: Bool) { self.absentAsNull = absentAsNull }

    /// A child that inherits the encoding options.
    func child() -> Box { Box(absentAsNull: absentAsNull) }

    /// Resolves children into a plain value.
    func resolve() -> JSONValue {
        if object != nil {
            var o = JSONObject()
            for (k, child) in keyedChildren { if let v = child.resolvedOrNil() { o.append(k, v) } }
            return .object(o)
        }
        if let array { return .array(array.map { $0.resolve() }) }
        return value ?? .null
    }

    func resolvedOrNil() -> JSONValue? {
        if object == nil && array == nil && value == nil { return nil }
        return resolve()
    }
}

struct _Encoder: Encoder {
    let box: Box
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.object == nil { box.object = JSONObject() }
        return KeyedEncodingContainer(KeyedEnc<Key>(box: box, codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.array == nil { box.array = [] }
        return UnkeyedEnc(box: box, codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleEnc(box: box, codingPath: codingPath)
    }
}

private func primitive(_ value: some Encodable) -> JSONValue? {
    switch value {
    case let v as String: return .string(v)
    case let v as Bool: return .bool(v)
    case let v as Int: return .int(Int64(v))
    case let v as Int64: return .int(v)
    case let v as Int32: return .int(Int64(v))
    case let v as Int16: return .int(Int64(v))
    case let v as Int8: return .int(Int64(v))
    case let v as UInt32: return .int(Int64(v))
    case let v as UInt16: return .int(Int64(v))
    case let v as UInt8: return .int(Int64(v))
    case let v as UInt64: return v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v))
    case let v as UInt: return v <= UInt(Int64.max) ? .int(Int64(v)) : .double(Double(v))
    case let v as Double: return .double(v)
    case let v as Float: return .double(Double(v))
    case let v as JSONValue: return v
    default: return nil
    }
}

private func encodeNested(_ value: some Encodable, parent: Box, path: [any CodingKey]) throws -> Box {
    let child = parent.child()
    if let p = primitive(value) {
        child.value = p
    } else {
        try value.encode(to: _Encoder(box: child, codingPath: path))
    }
    return child
}

struct KeyedEnc<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: Box
    var codingPath: [any CodingKey]

    private func put(_ key: Key, _ child: Box) {
        if let i = box.keyedChildren.firstIndex(where: { $0.0 == key.stringValue }) {
            box.keyedChildren[i].1 = child
        } else {
            box.keyedChildren.append((key.stringValue, child))
        }
    }
    private func put(_ key: Key, _ v: JSONValue) {
        let b = box.child()
        b.value = v
        put(key, b)
    }

    mutating func encodeNil(forKey key: Key) throws { put(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, .double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, .int(value)) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        put(key, try encodeNested(value, parent: box, path: codingPath + [key]))
    }
    mutating func encodeIfPresent(_ value: (some Encodable)?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { put(key, .string(value)) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        if let value { put(key, .int(Int64(value))) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
        if let value { put(key, .double(value)) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        if let value { put(key, .bool(value)) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
        if let value { put(key, .int(value)) } else if box.absentAsNull { put(key, .null) }
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = box.child()
        child.object = JSONObject()
        put(key, child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(box: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = box.child()
        child.array = []
        put(key, child)
        return UnkeyedEnc(box: child, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { _Encoder(box: box, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = box.child()
        put(key, child)
        return _Encoder(box: child, codingPath: codingPath + [key])
    }
}

struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ i: Int) { stringValue = String(i); intValue = i }
    init?(stringValue: String) { self.stringValue = stringValue; intValue = Int(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}

struct UnkeyedEnc: UnkeyedEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]
    var count: Int { box.array?.count ?? 0 }

    private func add(_ b: Box) { box.array?.append(b) }
    private func add(_ v: JSONValue) { let b = box.child(); b.value = v; add(b) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: some Encodable) throws {
        add(try encodeNested(value, parent: box, path: codingPath + [IndexKey(count)]))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = box.child()
        child.object = JSONObject()
        add(child)
        return KeyedEncodingContainer(KeyedEnc<NestedKey>(box: child, codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = box.child()
        child.array = []
        add(child)
        return UnkeyedEnc(box: child, codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder {
        let child = box.child()
        add(child)
        return _Encoder(box: child, codingPath: codingPath)
    }
}

struct SingleEnc: SingleValueEncodingContainer {
    let box: Box
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws { box.value = .null }
    mutating func encode(_ value: Bool) throws { box.value = .bool(value) }
    mutating func encode(_ value: String) throws { box.value = .string(value) }
    mutating func encode(_ value: Double) throws { box.value = .double(value) }
    mutating func encode(_ value: Int) throws { box.value = .int(Int64(value)) }
    mutating func encode(_ value: some Encodable) throws {
        if let p = primitive(value) { box.value = p; return }
        try value.encode(to: _Encoder(box: box, codingPath: codingPath))
    }
}

// MARK: - Decoding

/// Why a `JSONValue` could not be decoded into a typed value: the dotted path of the
/// field, and what was wrong with it.
public struct ValueDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? message : "'\(path)': \(message)" }
}

/// Decodes typed values from `JSONValue`, refusing fields the type does not know.
///
/// An unknown field is an error, not something to ignore: a misspelt `timeout_ms`
/// in a probe file must not silently fall back to the default.
public enum ValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, allowUnknownFields: Bool = false) throws(ValueDecodingError) -> T {
        let log = AccessLog()
        do {
            let result = try T(from: _Decoder(value: value, codingPath: [], log: log))
            if !allowUnknownFields { try log.checkUnknown(value, path: []) }
            return result
        } catch let e as ValueDecodingError {
            throw e
        } catch let e as DecodingError {
            throw translate(e)
        } catch {
            throw ValueDecodingError(path: "", message: "\(error)")
        }
    }

    static func translate(_ e: DecodingError) -> ValueDecodingError {
        switch e {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            var path = dotted(c.codingPath)
            var msg = c.debugDescription
            if case .keyNotFound(let k, _) = e {
                path = dotted(c.codingPath + [k])
                msg = "missing required field"
            }
            return ValueDecodingError(path: path, message: msg)
        @unknown default:
            return ValueDecodingError(path: "", message: "\(e)")
        }
    }
}

func dotted(_ path: [any CodingKey]) -> String {
    var s = ""
    for k in path {
        if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
    }
    return s
}

/// Remembers which object members a decode looked at, to find unknown fields.
final class AccessLog {
    var seen: Set<String> = []
    var opaque: Set<String> = []

    func note(_ path: [any CodingKey]) { seen.insert(dotted(path)) }
    func noteOpaque(_ path: [any CodingKey]) { opaque.insert(dotted(path)) }

    func checkUnknown(_ value: JSONValue, path: [any CodingKey]) throws(ValueDecodingError) {
        if opaque.contains(dotted(path)) { return }
        switch value {
        case .object(let o):
            for m in o.members {
                let key = dotted(path + [AnyKey(m.key)])
                guard seen.contains(key) else {
                    throw ValueDecodingError(path: key, message: "unknown field")
                }
                try checkUnknown(m.value, path: path + [AnyKey(m.key)])
            }
        case .array(let items):
            for (i, item) in items.enumerated() { try checkUnknown(item, path: path + [IndexKey(i)]) }
        default: return
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

struct _Decoder: Decoder {
    let value: JSONValue
    var codingPath: [any CodingKey]
    let log: AccessLog
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: codingPath, debugDescription: "expected an object, found \(value.typeName)"))
        }
        return KeyedDecodingContainer(KeyedDec<Key>(object: o, codingPath: codingPath, log: log))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else {
            throw DecodingError.typeMismatch([JSONValue].self, .init(codingPath: codingPath, debugDescription: "expected an array, found \(value.typeName)"))
        }
        return UnkeyedDec(items: a, codingPath: codingPath, log: log)
    }
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleDec(value: value, codingPath: codingPath, log: log)
    }
}

private func mismatch(_ expected: String, _ v: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "expected \(expected), found \(v.typeName)"))
}

/// The value as `T`, which the caller has just checked it is.
private func cast<T>(_ value: Any, _ path: [any CodingKey]) throws -> T {
    guard let typed = value as? T else {
        throw DecodingError.typeMismatch(T.self, .init(codingPath: path, debugDescription: "internal: cannot convert to \(T.self)"))
    }
    return typed
}

private func decodePrimitive<T: Decodable>(_ type: T.Type, _ v: JSONValue, _ path: [any CodingKey], _ log: AccessLog) throws -> T {
    func int<I: FixedWidthInteger>(_: I.Type) throws -> I {
        switch v {
        case .int(let i):
            guard let r = I(exactly: i) else { throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "number \(i) out of range")) }
            return r
        case .double(let d):
            guard let r = I(exactly: d) else { throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "expected an integer, found \(d)")) }
            return r
        default: throw mismatch("an integer", v, path)
        }
    }
    switch type {
    case is String.Type:
        guard case .string(let s) = v else { throw mismatch("a string", v, path) }
        return try cast(s, path)
    case is Bool.Type:
        guard case .bool(let b) = v else { throw mismatch("a boolean", v, path) }
        return try cast(b, path)
    case is Double.Type:
        guard let d = v.number else { throw mismatch("a number", v, path) }
        return try cast(d, path)
    case is Int.Type: return try cast(try int(Int.self), path)
    case is Int64.Type: return try cast(try int(Int64.self), path)
    case is Int32.Type: return try cast(try int(Int32.self), path)
    case is Int16.Type: return try cast(try int(Int16.self), path)
    case is Int8.Type: return try cast(try int(Int8.self), path)
    case is Float.Type:
        guard let d = v.number else { throw mismatch("a number", v, path) }
        return try cast(Float(d), path)
    case is UInt64.Type: return try cast(try int(UInt64.self), path)
    case is UInt32.Type: return try cast(try int(UInt32.self), path)
    case is UInt16.Type: return try cast(try int(UInt16.self), path)
    case is UInt8.Type: return try cast(try int(UInt8.self), path)
    case is UInt.Type: return try cast(try int(UInt.self), path)
    case is JSONValue.Type:
        log.noteOpaque(path)
        return try cast(v, path)
    default:
        return try T(from: _Decoder(value: v, codingPath: path, log: log))
    }
}

struct KeyedDec<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    var codingPath: [any CodingKey]
    let log: AccessLog

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        log.note(codingPath + [key])
        return object[key.stringValue] != nil
    }

    func value(_ key: Key) throws -> JSONValue {
        log.note(codingPath + [key])
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing required field"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        log.note(codingPath + [key])
        return object[key.stringValue].map { $0 == .null } ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodePrimitive(type, try value(key), codingPath + [key], log)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        log.note(codingPath + [key])
        guard let v = object[key.stringValue], v != .null else { return nil }
        return try decodePrimitive(type, v, codingPath + [key], log)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try _Decoder(value: try value(key), codingPath: codingPath + [key], log: log).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _Decoder(value: try value(key), codingPath: codingPath + [key], log: log).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { _Decoder(value: .object(object), codingPath: codingPath, log: log) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        _Decoder(value: try value(key), codingPath: codingPath + [key], log: log)
    }
}

struct UnkeyedDec: UnkeyedDecodingContainer {
    let items: [JSONValue]
    var codingPath: [any CodingKey]
    let log: AccessLog
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [any CodingKey], log: AccessLog) {
        self.items = items
        self.codingPath = codingPath
        self.log = log
    }

    mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "array has too few elements"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if items[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, p) = try next()
        return try decodePrimitive(type, v, p, log)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next()
        return try _Decoder(value: v, codingPath: p, log: log).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, p) = try next()
        return try _Decoder(value: v, codingPath: p, log: log).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (v, p) = try next()
        return _Decoder(value: v, codingPath: p, log: log)
    }
}

struct SingleDec: SingleValueDecodingContainer {
    let value: JSONValue
    var codingPath: [any CodingKey]
    let log: AccessLog
    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodePrimitive(type, value, codingPath, log) }
}
