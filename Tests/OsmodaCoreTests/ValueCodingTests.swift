import OsmodaCore
import Testing

// MARK: - Fixtures

struct ProbeFixture: Codable, Equatable {
    var name: String
    var timeoutMS: Int?
    var tags: [String]
    var weight: Double?
    var enabled: Bool

    enum CodingKeys: String, CodingKey {
        case name
        case timeoutMS = "timeout_ms"
        case tags
        case weight
        case enabled
    }
}

struct OwnerFixture: Codable, Equatable {
    var email: String
    var level: UInt8

    enum CodingKeys: String, CodingKey { case email, level }
}

struct ProbeFileFixture: Codable, Equatable {
    var version: Int
    var probes: [ProbeFixture]
    var owner: OwnerFixture?
    var labels: [String: String]?

    enum CodingKeys: String, CodingKey { case version, probes, owner, labels }
}

/// Every integer width the coders name, plus the JSON escape hatch.
struct Numbers: Codable, Equatable {
    var int: Int
    var int64: Int64
    var int32: Int32
    var uint: UInt
    var uint64: UInt64
    var uint32: UInt32
    var uint16: UInt16
    var uint8: UInt8
    var double: Double

    enum CodingKeys: String, CodingKey {
        case int, int64, int32, uint, uint64, uint32, uint16, uint8, double
    }
}

/// Encodes its fields in an order different from their declaration.
struct Reordered: Encodable {
    var a = 1
    var m = "m"
    var z = true

    enum CodingKeys: String, CodingKey { case a, m, z }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(z, forKey: .z)
        try c.encode(a, forKey: .a)
        try c.encode(m, forKey: .m)
    }
}

/// Writes an explicit null where a synthesised encoder would omit the key.
struct ExplicitNull: Encodable {
    var note: String?
    enum CodingKeys: String, CodingKey { case note }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeNil(forKey: .note)
    }
}

enum Severity: String, Codable { case info, warn, crit }

struct WithOpaque: Codable, Equatable {
    var kind: Severity
    var extra: JSONValue

    enum CodingKeys: String, CodingKey { case kind, extra }
}

struct HealthSample: Record, Equatable {
    static let type = "health.sample"
    var host: String
    var cpuPct: Double
    var memBytes: Int64
    var note: String?

    enum CodingKeys: String, CodingKey {
        case host
        case cpuPct = "cpu_pct"
        case memBytes = "mem_bytes"
        case note
    }
}

struct Small8: Codable, Equatable {
    var a: Int8
    var b: Int16
    enum CodingKeys: String, CodingKey { case a, b }
}

struct SmallFloat: Codable, Equatable {
    var f: Float
    enum CodingKeys: String, CodingKey { case f }
}

/// Hand-written coding through nested keyed and unkeyed containers.
struct Nested: Codable, Equatable {
    var host: String
    var load: [Double]
    var limits: (soft: Int, hard: Int)

    enum CodingKeys: String, CodingKey { case host, stats, limits }
    enum StatsKeys: String, CodingKey { case load }
    enum LimitKeys: String, CodingKey { case soft, hard }

    init(host: String, load: [Double], limits: (soft: Int, hard: Int)) {
        self.host = host
        self.load = load
        self.limits = limits
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decode(String.self, forKey: .host)
        let stats = try c.nestedContainer(keyedBy: StatsKeys.self, forKey: .stats)
        var load = try stats.nestedUnkeyedContainer(forKey: .load)
        var values: [Double] = []
        while !load.isAtEnd { values.append(try load.decode(Double.self)) }
        self.load = values
        var pair = try c.nestedUnkeyedContainer(forKey: .limits)
        let soft = try pair.nestedContainer(keyedBy: LimitKeys.self).decode(Int.self, forKey: .soft)
        let hard = try pair.nestedContainer(keyedBy: LimitKeys.self).decode(Int.self, forKey: .hard)
        limits = (soft, hard)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        var stats = c.nestedContainer(keyedBy: StatsKeys.self, forKey: .stats)
        var load = stats.nestedUnkeyedContainer(forKey: .load)
        for v in self.load { try load.encode(v) }
        var pair = c.nestedUnkeyedContainer(forKey: .limits)
        var soft = pair.nestedContainer(keyedBy: LimitKeys.self)
        try soft.encode(limits.soft, forKey: .soft)
        var hard = pair.nestedContainer(keyedBy: LimitKeys.self)
        try hard.encode(limits.hard, forKey: .hard)
    }

    static func == (a: Nested, b: Nested) -> Bool {
        a.host == b.host && a.load == b.load && a.limits == b.limits
    }
}

// MARK: - Helpers

func decodeText<T: Decodable>(_ type: T.Type, _ json: String, allowUnknownFields: Bool = false) -> Result<T, ValueDecodingError> {
    guard let v = parseResult(json).value else {
        return .failure(ValueDecodingError(path: "", message: "test fixture is not JSON: \(json)"))
    }
    return Result { () throws(ValueDecodingError) -> T in try ValueDecoder.decode(type, from: v, allowUnknownFields: allowUnknownFields) }
}

func encodedText(_ value: some Encodable) throws -> String {
    JSONWriter.serialize(try ValueEncoder.encode(value))
}

@Suite("ValueEncoder")
struct ValueEncoderTests {
    static let probe = ProbeFixture(name: "web", timeoutMS: 500, tags: ["a", "b"], weight: nil, enabled: true)

    @Test("keys come out in the order they are encoded; nil optionals are omitted")
    func orderAndNil() throws {
        #expect(try encodedText(Self.probe) == #"{"name":"web","timeout_ms":500,"tags":["a","b"],"enabled":true}"#)
        #expect(try encodedText(Reordered()) == #"{"z":true,"a":1,"m":"m"}"#)
    }

    @Test("encodeNil writes an explicit null")
    func explicitNull() throws {
        #expect(try encodedText(ExplicitNull()) == #"{"note":null}"#)
    }

    @Test("nested structs, arrays, dictionaries and enums")
    func nested() throws {
        let file = ProbeFileFixture(
            version: 2,
            probes: [Self.probe, ProbeFixture(name: "db", timeoutMS: nil, tags: [], weight: 0.5, enabled: false)],
            owner: OwnerFixture(email: "ops@example.org", level: 3),
            labels: ["env": "prod"]
        )
        #expect(try encodedText(file) == #"{"version":2,"probes":[{"name":"web","timeout_ms":500,"tags":["a","b"],"enabled":true},{"name":"db","tags":[],"weight":0.5,"enabled":false}],"owner":{"email":"ops@example.org","level":3},"labels":{"env":"prod"}}"#)
        #expect(try encodedText(WithOpaque(kind: .warn, extra: .array([.int(1), object(["k": .null])]))) == #"{"kind":"warn","extra":[1,{"k":null}]}"#)
        #expect(try encodedText([Severity.info, .crit]) == #"["info","crit"]"#)
        #expect(try encodedText([[1, 2], [3]]) == "[[1,2],[3]]")
        #expect(try encodedText("top") == #""top""#)
        #expect(try encodedText(Optional<Int>.none) == "null")
    }

    @Test("nested keyed and unkeyed containers")
    func nestedContainers() throws {
        let n = Nested(host: "h", load: [0.5, 1.25], limits: (soft: 1, hard: 2))
        #expect(try encodedText(n) == #"{"host":"h","stats":{"load":[0.5,1.25]},"limits":[{"soft":1},{"hard":2}]}"#)
        #expect(try ValueDecoder.decode(Nested.self, from: try ValueEncoder.encode(n)) == n)
        let e = try #require(decodeText(Nested.self, #"{"host":"h","stats":{"load":[1,"x"]},"limits":[{"soft":1},{"hard":2}]}"#).error)
        #expect(e.description == "'stats.load[1]': expected a number, found string")
        let extra = try #require(decodeText(Nested.self, #"{"host":"h","stats":{"load":[],"avg":1},"limits":[{"soft":1},{"hard":2,"max":3}]}"#).error)
        #expect(extra.description == "'stats.avg': unknown field")
        let short = try #require(decodeText(Nested.self, #"{"host":"h","stats":{"load":[]},"limits":[{"soft":1}]}"#).error)
        #expect(short.description == "'limits': array has too few elements")
    }

    @Test("integers of every width stay integers; UInt64 beyond Int64 becomes a double")
    func integerWidths() throws {
        let n = Numbers(int: -1, int64: Int64.min, int32: Int32.max, uint: 7, uint64: UInt64(Int64.max), uint32: UInt32.max, uint16: 65535, uint8: 255, double: 1.5)
        let v = try ValueEncoder.encode(n)
        #expect(identical(v, object([
            "int": .int(-1), "int64": .int(Int64.min), "int32": .int(Int64(Int32.max)), "uint": .int(7),
            "uint64": .int(Int64.max), "uint32": .int(Int64(UInt32.max)), "uint16": .int(65535), "uint8": .int(255),
            "double": .double(1.5),
        ])))
        var big = n
        big.uint64 = UInt64.max
        #expect(identical(try ValueEncoder.encode(big)["uint64"] ?? .null, .double(18_446_744_073_709_551_615.0)))
    }

    @Test("RecordEnvelope puts type and ts first")
    func envelope() throws {
        let sample = HealthSample(host: "h1", cpuPct: 12.5, memBytes: 1 << 33, note: nil)
        let ts = Timestamp(millisecondsSinceEpoch: 951_782_400_123)
        let expected = #"{"type":"health.sample","ts":"2000-02-29T00:00:00.123Z","host":"h1","cpu_pct":12.5,"mem_bytes":8589934592}"#
        #expect(try encodedText(RecordEnvelope(ts: ts, record: sample)) == expected)
        #expect(String(decoding: try sample.jsonLine(at: ts), as: UTF8.self) == expected)
        // The line is one record the reader accepts, with type and ts as its first keys.
        let parsed = try #require(recordResult(expected).value)
        #expect(parsed.keys.prefix(2) == ["type", "ts"])
        #expect(!expected.contains("\n"))
    }
}

@Suite("ValueDecoder")
struct ValueDecoderTests {
    @Test("decoding what was encoded gives the value back")
    func roundTrip() throws {
        let file = ProbeFileFixture(
            version: 2,
            probes: [
                ProbeFixture(name: "web", timeoutMS: 500, tags: ["a"], weight: 1.25, enabled: true),
                ProbeFixture(name: "db", timeoutMS: nil, tags: [], weight: nil, enabled: false),
            ],
            owner: OwnerFixture(email: "e", level: 255),
            labels: ["k": "v", "k2": "v2"]
        )
        let decoded = try ValueDecoder.decode(ProbeFileFixture.self, from: try ValueEncoder.encode(file))
        #expect(decoded == file)
        let numbers = Numbers(int: Int.min, int64: Int64.max, int32: Int32.min, uint: UInt(Int64.max), uint64: 0, uint32: UInt32.max, uint16: 0, uint8: 0, double: -0.5)
        #expect(try ValueDecoder.decode(Numbers.self, from: try ValueEncoder.encode(numbers)) == numbers)
        let opaque = WithOpaque(kind: .crit, extra: object(["anything": object(["goes": .array([.int(1)])])]))
        #expect(try ValueDecoder.decode(WithOpaque.self, from: try ValueEncoder.encode(opaque)) == opaque)
    }

    @Test("null and absent optionals decode as nil; ints decode as doubles; integral doubles as ints")
    func lenientForms() throws {
        let p = try decodeText(ProbeFixture.self, #"{"name":"n","timeout_ms":null,"tags":[],"weight":3,"enabled":false}"#).get()
        #expect(p == ProbeFixture(name: "n", timeoutMS: nil, tags: [], weight: 3, enabled: false))
        let q = try decodeText(ProbeFixture.self, #"{"name":"n","timeout_ms":2.0,"tags":[],"enabled":true}"#).get()
        #expect(q.timeoutMS == 2)
    }

    @Test("an unknown field is an error naming its dotted path", arguments: [
        (#"{"version":1,"probes":[{"name":"a","tags":[],"enabled":true},{"name":"b","timout_ms":5,"tags":[],"enabled":true}]}"#, "'probes[1].timout_ms': unknown field"),
        (#"{"version":1,"probes":[],"extra":true}"#, "'extra': unknown field"),
        (#"{"version":1,"probes":[],"owner":{"email":"e","level":1,"emial":"x"}}"#, "'owner.emial': unknown field"),
        (#"{"version":1,"probes":[{"name":"a","tags":[],"enabled":true,"tags ":[]}]}"#, "'probes[0].tags ': unknown field"),
    ])
    func unknownField(_ json: String, _ expected: String) throws {
        let e = try #require(decodeText(ProbeFileFixture.self, json).error)
        #expect(e.description == expected)
        #expect(e.message == "unknown field")
        // The same document is accepted when unknown fields are allowed.
        #expect(decodeText(ProbeFileFixture.self, json, allowUnknownFields: true).value != nil)
    }

    @Test("fields inside a JSONValue member are not checked for unknown keys")
    func opaqueIsNotChecked() throws {
        let v = try decodeText(WithOpaque.self, #"{"kind":"info","extra":{"x":{"y":[{"z":1}]}}}"#).get()
        #expect(v.extra == object(["x": object(["y": .array([object(["z": .int(1)])])])]))
    }

    @Test("a value of the wrong type names the field and both types", arguments: [
        (#"{"version":"1","probes":[]}"#, "'version': expected an integer, found string"),
        (#"{"version":1,"probes":{}}"#, "'probes': expected an array, found object"),
        (#"{"version":1,"probes":[{"name":7,"tags":[],"enabled":true}]}"#, "'probes[0].name': expected a string, found number"),
        (#"{"version":1,"probes":[{"name":"a","tags":[],"enabled":"yes"}]}"#, "'probes[0].enabled': expected a boolean, found string"),
        (#"{"version":1,"probes":[{"name":"a","tags":["x",null],"enabled":true}]}"#, "'probes[0].tags[1]': expected a string, found null"),
        (#"{"version":1,"probes":[{"name":"a","tags":[],"weight":"heavy","enabled":true}]}"#, "'probes[0].weight': expected a number, found string"),
        (#"{"version":1,"probes":[],"owner":[]}"#, "'owner': expected an object, found array"),
        (#"{"version":null,"probes":[]}"#, "'version': expected an integer, found null"),
        (#"{"version":1.5,"probes":[]}"#, "'version': expected an integer, found 1.5"),
        (#"[]"#, "expected an object, found array"),
    ])
    func wrongType(_ json: String, _ expected: String) throws {
        let e = try #require(decodeText(ProbeFileFixture.self, json).error)
        #expect(e.description == expected)
    }

    @Test("a missing required field names its path", arguments: [
        (#"{"probes":[]}"#, "'version': missing required field"),
        (#"{"version":1,"probes":[{"tags":[],"enabled":true}]}"#, "'probes[0].name': missing required field"),
        (#"{"version":1,"probes":[],"owner":{"email":"e"}}"#, "'owner.level': missing required field"),
    ])
    func missingField(_ json: String, _ expected: String) throws {
        let e = try #require(decodeText(ProbeFileFixture.self, json).error)
        #expect(e.description == expected)
        #expect(e.message == "missing required field")
    }

    @Test("integers out of a field's range are errors", arguments: [
        (#"{"version":1,"probes":[],"owner":{"email":"e","level":256}}"#, "'owner.level': number 256 out of range"),
        (#"{"version":1,"probes":[],"owner":{"email":"e","level":-1}}"#, "'owner.level': number -1 out of range"),
        (#"{"version":1e30,"probes":[]}"#, "'version': expected an integer, found 1e+30"),
    ])
    func integerRange(_ json: String, _ expected: String) throws {
        let e = try #require(decodeText(ProbeFileFixture.self, json).error)
        #expect(e.description == expected)
    }

    @Test("each integer width checks its own range")
    func integerWidths() throws {
        let base: [String: JSONValue] = [
            "int": .int(0), "int64": .int(0), "int32": .int(0), "uint": .int(0), "uint64": .int(0),
            "uint32": .int(0), "uint16": .int(0), "uint8": .int(0), "double": .int(0),
        ]
        let outOfRange: [(String, JSONValue)] = [
            ("int32", .int(Int64(Int32.max) + 1)), ("int32", .int(Int64(Int32.min) - 1)), ("uint", .int(-1)), ("uint64", .int(-1)),
            ("uint32", .int(Int64(UInt32.max) + 1)), ("uint16", .int(65536)), ("uint8", .int(256)), ("int64", .double(1e19)),
        ]
        for (field, bad) in outOfRange {
            var members = JSONObject()
            for key in ["int", "int64", "int32", "uint", "uint64", "uint32", "uint16", "uint8", "double"] {
                members.append(key, key == field ? bad : base[key] ?? .null)
            }
            let r = Result { () throws(ValueDecodingError) -> Numbers in try ValueDecoder.decode(Numbers.self, from: .object(members)) }
            let e = try #require(r.error, "\(field) = \(bad) accepted")
            #expect(e.path == field)
        }
    }

    @Test("enums with raw values decode by name, and refuse unknown names")
    func enums() throws {
        #expect(try decodeText(WithOpaque.self, #"{"kind":"crit","extra":null}"#).get().kind == .crit)
        let e = try #require(decodeText(WithOpaque.self, #"{"kind":"fatal","extra":null}"#).error)
        #expect(e.path == "kind")
    }

    @Test("ValueDecodingError's description with and without a path")
    func errorDescription() {
        #expect(ValueDecodingError(path: "a.b[2]", message: "unknown field").description == "'a.b[2]': unknown field")
        #expect(ValueDecodingError(path: "", message: "expected an object, found number").description == "expected an object, found number")
    }

    // MARK: - Integer widths the coders do not list

    // Int8, Int16 and Float are not in the coders' tables of primitives: encoding an
    // Int8 or Int16, or decoding a Float, recurses until the stack overflows. Each runs
    // in a child process so the crash fails only its own test.

    @Test("Int8 and Int16 fields encode")
    func encodeSmallIntegers() async {
        await #expect(processExitsWith: .success) {
            let v = try ValueEncoder.encode(Small8(a: -8, b: 16))
            guard v == object(["a": .int(-8), "b": .int(16)]) else { fatalError("wrong value \(v)") }
        }
    }

    @Test("Int8 and Int16 fields decode")
    func decodeSmallIntegers() async {
        await #expect(processExitsWith: .success) {
            let v = try ValueDecoder.decode(Small8.self, from: object(["a": .int(-8), "b": .int(16)]))
            guard v == Small8(a: -8, b: 16) else { fatalError("wrong value \(v)") }
        }
    }

    @Test("Float fields decode")
    func decodeFloat() async {
        await #expect(processExitsWith: .success) {
            let v = try ValueDecoder.decode(SmallFloat.self, from: object(["f": .double(1.5)]))
            guard v == SmallFloat(f: 1.5) else { fatalError("wrong value \(v)") }
        }
    }

    @Test("Float fields encode as doubles")
    func encodeFloat() throws {
        #expect(identical(try ValueEncoder.encode(SmallFloat(f: 1.5)), object(["f": .double(1.5)])))
    }
}
