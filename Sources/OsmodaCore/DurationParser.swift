/// Parses the durations that flags such as `--every 10s` take.
///
/// The grammar is one or more `<number><unit>` terms, units `ms`, `s`, `m`, `h`, `d`
/// (`1h30m`, `250ms`, `1.5s`). A bare number is seconds. Zero and negative values are
/// refused; callers decide whether zero makes sense.
public enum DurationParser {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var text: String
        public var description: String { "invalid duration '\(text)': expected e.g. 500ms, 10s, 5m, 1h30m" }
    }

    /// The duration in milliseconds.
    public static func milliseconds(_ text: String) throws(Failure) -> Int64 {
        let b = Array(text.utf8)
        guard !b.isEmpty else { throw Failure(text: text) }
        var i = 0
        var total = 0.0
        while i < b.count {
            let start = i
            while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: ".") { i += 1 }
            guard i > start, let v = Double(String(decoding: b[start..<i], as: UTF8.self)) else { throw Failure(text: text) }
            let us = i
            while i < b.count, b[i] >= UInt8(ascii: "a"), b[i] <= UInt8(ascii: "z") { i += 1 }
            let unit = String(decoding: b[us..<i], as: UTF8.self)
            let scale: Double
            switch unit {
            case "ms": scale = 1
            case "s", "": scale = 1000
            case "m": scale = 60_000
            case "h": scale = 3_600_000
            case "d": scale = 86_400_000
            default: throw Failure(text: text)
            }
            if unit.isEmpty && i < b.count { throw Failure(text: text) }
            total += v * scale
        }
        guard total >= 1, total < 1e15 else { throw Failure(text: text) }
        return Int64(total.rounded())
    }
}
