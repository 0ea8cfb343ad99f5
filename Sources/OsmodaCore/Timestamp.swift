/// A point in time with millisecond precision, written as RFC 3339 UTC
/// (`2026-11-24T20:27:03.123Z`), the form every record's `ts` takes.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    /// Non-finite or out-of-range seconds clamp to the representable range.
    public init(secondsSinceEpoch: Double) {
        let ms = (secondsSinceEpoch * 1000).rounded(.down)
        if ms.isNaN { self.millisecondsSinceEpoch = 0; return }
        self.millisecondsSinceEpoch = ms >= 9.2e18 ? Int64.max : ms <= -9.2e18 ? Int64.min : Int64(ms)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSinceEpoch < b.millisecondsSinceEpoch }

    public var description: String { rfc3339 }

    /// The civil UTC date and time.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        let ms = millisecondsSinceEpoch
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - secs * 1000)
        let days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        let rem = Int(secs - days * 86400)
        let (y, m, d) = Civil.date(fromDays: days)
        return (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60, milli)
    }

    public var rfc3339: String {
        let c = components
        // Fixed-width digits into a stack buffer: this is on every record's hot path.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buf -> String in
            var i = 0
            func put(_ v: Int, _ width: Int) {
                var v = v
                if width == 4 && (v < 0 || v > 9999) {
                    // Outside four digits: sign and as many digits as it takes.
                    for b in String(v).utf8 { buf[i] = b; i += 1 }
                    return
                }
                var k = width
                while k > 0 {
                    k -= 1
                    buf[i + k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                    v /= 10
                }
                i += width
            }
            func put(_ b: Unicode.Scalar) { buf[i] = UInt8(ascii: b); i += 1 }
            put(c.year, 4); put("-"); put(c.month, 2); put("-"); put(c.day, 2); put("T")
            put(c.hour, 2); put(":"); put(c.minute, 2); put(":"); put(c.second, 2); put("."); put(c.millisecond, 3); put("Z")
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<i]), as: UTF8.self)
        }
    }

    /// Parses RFC 3339 (`2026-11-24T20:27:03Z`, fractional seconds and offsets allowed).
    public init?(rfc3339 s: String) {
        let b = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == UInt8(ascii: "-"), let mo = num(5, 2), b[7] == UInt8(ascii: "-"),
              let d = num(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let h = num(11, 2), b[13] == UInt8(ascii: ":"), let mi = num(14, 2), b[16] == UInt8(ascii: ":"), let sec = num(17, 2),
              (1...12).contains(mo), d >= 1, d <= Civil.daysIn(month: mo, year: y), h < 24, mi < 60, sec < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2),
                  oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = Civil.days(year: y, month: mo, day: d)
        let secs = days * 86400 + Int64(h * 3600 + mi * 60 + sec) - Int64(offset)
        self.millisecondsSinceEpoch = secs * 1000 + Int64(millis)
    }
}
