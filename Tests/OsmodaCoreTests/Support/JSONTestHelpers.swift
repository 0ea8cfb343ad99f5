import OsmodaCore
import OsmodaTestSupport

// Helpers shared by the OsmodaCore test files: calling the reader on strings and byte
// arrays, a strict equality for JSON values, and a seeded generator of JSON values.

/// The package root, found from this file's own path (`Tests/OsmodaCoreTests/Support/…`).
func packageRoot() -> String {
    // #filePath here, not as a default argument, which would give the caller's path.
    let file = #filePath
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    // Drop the file name, `Support`, `OsmodaCoreTests` and `Tests`.
    parts.removeLast(4)
    return parts.joined(separator: "/")
}

/// Parses `text` with `JSONReader.parse`, returning the error instead of throwing.
func parseResult(_ bytes: [UInt8]) -> Result<JSONValue, JSONError> {
    bytes.withUnsafeBufferPointer { buf in
        Result { () throws(JSONError) -> JSONValue in try JSONReader.parse(buf) }
    }
}

func parseResult(_ text: String) -> Result<JSONValue, JSONError> { parseResult(Array(text.utf8)) }

/// `JSONReader.parseRecord` on a byte array.
func recordResult(_ bytes: [UInt8], projecting keys: KeyProjection?) -> Result<JSONObject, JSONError> {
    bytes.withUnsafeBufferPointer { buf in
        Result { () throws(JSONError) -> JSONObject in try JSONReader.parseRecord(buf, projecting: keys) }
    }
}

func recordResult(_ text: String, projecting keys: KeyProjection? = nil) -> Result<JSONObject, JSONError> {
    recordResult(Array(text.utf8), projecting: keys)
}

extension Result {
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
    var value: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
}

/// Structural identity, stricter than `==`: `.int(1)` is not `.double(1)`, object members
/// are compared in order with their duplicates, and NaN is identical to NaN.
func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case (.object(let x), .object(let y)): return identical(x, y)
    default: return false
    }
}

func identical(_ a: JSONObject, _ b: JSONObject) -> Bool {
    a.members.count == b.members.count
        && zip(a.members, b.members).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && identical($0.value, $1.value) }
}

/// Shorthand for building objects in tests.
func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue { .object(JSONObject(pairs)) }

/// A seeded generator of JSON values whose text form the writer reproduces exactly:
/// doubles are never integral below 1e15 (the writer prints those as integers, which
/// read back as `.int`), and never non-finite (written as `null`).
struct JSONGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let interestingInts: [Int64] = [
        0, 1, -1, 42, -42, 255, 65_536, Int64(Int32.max), Int64(Int32.min),
        999_999_999_999_999_999, -999_999_999_999_999_999,
        1_000_000_000_000_000_000, -1_000_000_000_000_000_000,
        1_234_567_890_123_456_789, -1_234_567_890_123_456_789,
        9_007_199_254_740_993, -9_007_199_254_740_993,
        Int64.max, Int64.max - 1, Int64.min, Int64.min + 1,
    ]

    static let interestingDoubles: [Double] = [
        0.1, -0.1, 0.5, 1.5, -2.25, 123.456, 1e-5, 3.0e-7, 6.02214076e23, -1e300, 1e308,
        1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        1e15, 1e16, -1e21, 9_007_199_254_740_993.0, 1_000_000_000_000_000.5, 0.30000000000000004,
    ]

    /// Scalars that stress the escaper and the UTF-8 validator.
    static let interestingScalars: [Unicode.Scalar] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\u{9}", "\u{A}", "\u{C}",
        "\u{D}", "\u{1F}", "\u{7F}", "\u{80}", "é", "ß", "\u{7FF}", "\u{800}", "日", "本", "\u{2028}",
        "\u{2029}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "😀", "𝄞", "\u{10FFFF}", "\u{301}",
    ]

    mutating func int() -> Int64 {
        switch rng.below(3) {
        case 0: return rng.pick(Self.interestingInts)
        case 1: return Int64(rng.int(in: -1000...1000))
        default: return Int64(bitPattern: rng.next())
        }
    }

    mutating func double() -> Double {
        while true {
            let d: Double
            switch rng.below(3) {
            case 0: d = rng.pick(Self.interestingDoubles)
            case 1: d = (rng.unit() - 0.5) * 1e6
            default: d = Double(bitPattern: rng.next())
            }
            if d.isFinite && !(d == d.rounded() && abs(d) < 1e15) { return d }
        }
    }

    mutating func string(maxLength: Int = 12) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<rng.int(in: 0...maxLength) {
            if rng.chance(1, in: 3) {
                s.append(rng.pick(Self.interestingScalars))
            } else if let u = Unicode.Scalar(UInt32(rng.int(in: 0x20...0x7E))) {
                s.append(u)
            }
        }
        return String(s)
    }

    mutating func value(depth: Int = 0) -> JSONValue {
        let leaf = depth >= 5 || rng.chance(3, in: 5)
        if leaf {
            switch rng.below(6) {
            case 0: return .null
            case 1: return .bool(rng.bool())
            case 2, 3: return .int(int())
            case 4: return .double(double())
            default: return .string(string())
            }
        }
        if rng.bool() {
            return .array((0..<rng.int(in: 0...5)).map { _ in value(depth: depth + 1) })
        }
        return .object(object(depth: depth + 1))
    }

    mutating func object(depth: Int = 0, maxMembers: Int = 6) -> JSONObject {
        var o = JSONObject()
        for _ in 0..<rng.int(in: 0...maxMembers) {
            // Now and then a duplicate key, which the reader must keep.
            let key = (!o.isEmpty && rng.chance(1, in: 10)) ? rng.pick(o.keys) : string(maxLength: 8)
            o.append(key, value(depth: depth))
        }
        return o
    }

    /// A record-like line: a flat object with `type`, `ts` and a few typed fields.
    mutating func record() -> JSONObject {
        var o = JSONObject()
        o.append("type", .string(rng.pick(["health.sample", "check.result", "watch.alert", "ledger.entry"])))
        o.append("ts", .string(Timestamp(millisecondsSinceEpoch: int() % 4_102_444_800_000).rfc3339))
        for _ in 0..<rng.int(in: 0...6) {
            o.append(string(maxLength: 6), value(depth: 3))
        }
        return o
    }
}

func serialize(_ value: JSONValue) -> [UInt8] {
    var out: [UInt8] = []
    JSONWriter.write(value, into: &out)
    return out
}
