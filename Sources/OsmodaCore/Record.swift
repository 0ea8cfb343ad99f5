/// A record type: a flat `Encodable` struct with explicit `CodingKeys`, whose JSON
/// form is one line with `type` and `ts` ahead of its own fields (DESIGN §3).
public protocol Record: Encodable, Sendable {
    /// The lowercase `noun.event` name written in the `type` field.
    static var type: String { get }

    /// Whether a `nil` field is written as `null` (table rows, which carry every
    /// column) rather than left out (samples and results). ADR 0002.
    static var writesAbsentAsNull: Bool { get }
}

extension Record {
    public static var writesAbsentAsNull: Bool { false }

    /// The record with `type` and `ts` first, as a JSON value.
    public func jsonValue(at ts: Timestamp) throws -> JSONValue {
        try ValueEncoder.encode(RecordEnvelope(ts: ts, record: self), absentAsNull: Self.writesAbsentAsNull)
    }
}

/// Puts `type` and `ts` ahead of a record's own fields.
public struct RecordEnvelope<R: Record>: Encodable {
    public var ts: Timestamp
    public var record: R

    public init(ts: Timestamp, record: R) {
        self.ts = ts
        self.record = record
    }

    enum Keys: String, CodingKey { case type, ts }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(R.type, forKey: .type)
        try c.encode(ts.rfc3339, forKey: .ts)
        try record.encode(to: encoder)
    }
}

extension Record {
    /// The record as one JSON line, without the newline.
    public func jsonLine(at ts: Timestamp) throws -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(try jsonValue(at: ts), into: &out)
        return out
    }
}
