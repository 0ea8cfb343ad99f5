import OsmodaCore
import OsmodaSystem

/// Why a time zone could not be loaded.
public struct ZoneError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A span of time during which one UTC offset is in force.
public struct ZonePeriod: Sendable, Equatable {
    /// Seconds east of UTC.
    public var offset: Int
    /// The first instant (seconds since the epoch) of the period; `Int64.min` for the earliest.
    public var start: Int64
    /// The first instant after the period; `Int64.max` for the last.
    public var end: Int64
    public var isDST: Bool
}

/// How a local wall-clock time maps to instants.
public enum LocalResolution: Sendable, Equatable {
    /// The time occurs once.
    case unique(Int64)
    /// The time occurs twice (a fall-back overlap): the earlier and the later instant.
    case repeated(Int64, Int64)
    /// The time never occurs (a spring-forward gap); the instant at which the clock jumped over it.
    case skipped(transition: Int64)
}

/// A time zone from the tz database: the transitions of a TZif file (RFC 8536,
/// versions 1 to 4, the 64-bit data when present), extended past the file's table by
/// the POSIX TZ string in its footer.
///
/// Leap-second records (the `right/` zones) are read but not applied: instants here
/// are POSIX seconds, as the system clock counts them.
public final class ZoneInfo: Sendable {
    /// The name it was loaded by (`Europe/London`, `UTC`, or a POSIX TZ string).
    public let name: String
    /// starts[i] is the first instant of period i; starts[0] is `Int64.min`.
    let starts: [Int64]
    let offsets: [Int32]
    let dst: [Bool]
    let abbreviations: [String]
    /// The rule for instants at and after `ruleFrom`, if the table is not the whole story.
    let rule: PosixTZ?
    let ruleFrom: Int64

    /// The table is extended by the footer rule up to this year; later instants use the rule directly.
    static let tableUntilYear = 2200

    init(name: String, starts: [Int64], offsets: [Int32], dst: [Bool], abbreviations: [String], rule: PosixTZ?) {
        var s = starts, o = offsets, d = dst, a = abbreviations
        var from = Int64.max
        if let rule {
            if let r = rule.dst {
                // Extend the table with the rule's transitions up to tableUntilYear.
                let last = s.count > 1 ? s[s.count - 1] : Int64.min
                // Rules only matter after the table's last transition, and never before 1800.
                let lastYear = last == Int64.min ? 1800 : Civil.date(fromDays: Civil.floorDiv(last, 86400)).year
                let firstYear = min(max(lastYear, 1800), Self.tableUntilYear + 1)
                for y in firstYear..<(Self.tableUntilYear + 1) {
                    for t in rule.transitions(year: y, dst: r) where t.at > (s.count > 1 ? s[s.count - 1] : Int64.min) {
                        s.append(t.at); o.append(Int32(t.offset)); d.append(t.isDST); a.append(t.isDST ? r.name : rule.stdName)
                    }
                }
                from = Civil.days(year: Self.tableUntilYear + 1, month: 1, day: 1) * 86400 - 86400
            }
        }
        self.name = name
        self.starts = s
        self.offsets = o
        self.dst = d
        self.abbreviations = a
        self.rule = rule
        self.ruleFrom = rule?.dst == nil ? Int64.max : from
    }

    /// Coordinated Universal Time, built in (used when the database has no `UTC` file).
    public static let utc = ZoneInfo(name: "UTC", starts: [Int64.min], offsets: [0], dst: [false], abbreviations: ["UTC"], rule: nil)

    /// The directory zones are read from: `$TZDIR`, else `/usr/share/zoneinfo`.
    public static var defaultDirectory: String {
        if let d = Sys.env("TZDIR"), !d.isEmpty { return d }
        return "/usr/share/zoneinfo"
    }

    /// Loads a zone by its IANA name (`America/New_York`) from `directory`.
    ///
    /// A name that is no file there but reads as a POSIX TZ string (`EST5EDT,M3.2.0,M11.1.0`)
    /// is taken as one. Names with `..` components are refused, and so are absolute paths
    /// unless `allowPath` (for `$TZ=/path/to/file`).
    public static func load(_ name: String, directory: String? = nil, allowPath: Bool = false) throws(ZoneError) -> ZoneInfo {
        let dir = directory ?? defaultDirectory
        guard !name.isEmpty else { throw ZoneError("empty time zone name") }
        if name.split(separator: "/").contains("..") { throw ZoneError("time zone name '\(name)' has a '..' component") }
        if name.hasPrefix("/") && !allowPath { throw ZoneError("time zone name '\(name)' is a path; give an IANA name such as Europe/London") }
        let path = name.hasPrefix("/") ? name : dir + "/" + name
        if let bytes = try? Sys.readFile(path, limit: 1 << 20) {
            return try parse(bytes, name: name)
        }
        if name == "UTC" || name == "Etc/UTC" { return utc }
        if let rule = PosixTZ(name), rule.stdName.count >= 3 {
            return ZoneInfo(name: name, starts: [Int64.min], offsets: [Int32(rule.stdOffset)], dst: [false],
                            abbreviations: [rule.stdName], rule: rule)
        }
        throw ZoneError("unknown time zone '\(name)' (no file \(path))")
    }

    /// The host's zone: `$TZ` (a name, `:name`, a path or a POSIX TZ string), else
    /// `/etc/localtime` (named after `/etc/timezone` when that file exists), else UTC.
    public static func local(directory: String? = nil) throws(ZoneError) -> ZoneInfo {
        if let tz = Sys.env("TZ"), !tz.isEmpty {
            return try load(tz.hasPrefix(":") ? String(tz.dropFirst()) : tz, directory: directory, allowPath: true)
        }
        guard let bytes = try? Sys.readFile("/etc/localtime", limit: 1 << 20) else { return utc }
        var name = "localtime"
        if let t = Sys.readText("/etc/timezone") {
            let n = t.split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? ""
            if !n.isEmpty { name = n }
        }
        return try parse(bytes, name: name)
    }

    // MARK: Queries

    /// The index of the period containing `instant`.
    @inline(__always)
    func index(at instant: Int64) -> Int {
        starts.withUnsafeBufferPointer { s in
            var lo = 0, hi = s.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) >> 1
                if s[mid] <= instant { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }

    /// The period containing `instant`.
    public func period(at instant: Int64) -> ZonePeriod {
        if instant >= ruleFrom, let rule, let r = rule.dst { return rule.period(at: instant, dst: r) }
        let i = index(at: instant)
        let end = i + 1 < starts.count ? starts[i + 1] : (ruleFrom == Int64.max ? Int64.max : ruleFrom)
        return ZonePeriod(offset: Int(offsets[i]), start: starts[i], end: end, isDST: dst[i])
    }

    /// Seconds east of UTC at `instant`.
    public func offset(at instant: Int64) -> Int { period(at: instant).offset }

    /// The abbreviation in force at `instant` (`BST`, `+1030`).
    public func abbreviation(at instant: Int64) -> String {
        if instant >= ruleFrom, let rule, let r = rule.dst {
            return rule.period(at: instant, dst: r).isDST ? r.name : rule.stdName
        }
        return abbreviations[index(at: instant)]
    }

    /// The wall-clock time at `instant`, in seconds since the local epoch.
    public func local(_ instant: Int64) -> Int64 { instant + Int64(offset(at: instant)) }

    /// Where a wall-clock time falls: once, twice, or in a gap.
    public func resolve(_ local: Int64) -> LocalResolution {
        var p = period(at: local - 86400)
        var first: Int64?
        var gap: Int64?
        while true {
            let i = local - Int64(p.offset)
            if i >= p.start && i < p.end {
                if let f = first { return .repeated(f, i) }
                first = i
            } else if first == nil, gap == nil, i < p.start {
                gap = p.start
            }
            if p.end == Int64.max || p.end > local + 86400 { break }
            p = period(at: p.end)
        }
        if let first { return .unique(first) }
        return .skipped(transition: gap ?? (local - Int64(p.offset)))
    }

    // MARK: TZif

    /// Parses a TZif file (RFC 8536).
    public static func parse(_ b: [UInt8], name: String) throws(ZoneError) -> ZoneInfo {
        var r = TZifReader(bytes: b)
        let v1 = try r.header()
        var h = v1
        if v1.version >= 2 {
            try r.skip(v1.timecnt * 5 + v1.typecnt * 6 + v1.charcnt + v1.leapcnt * 8 + v1.isstdcnt + v1.isutcnt)
            h = try r.header()
            guard h.version >= 2 else { throw ZoneError("\(name): second TZif header has version \(h.version)") }
        }
        let wide = h.version >= 2
        var times: [Int64] = []
        times.reserveCapacity(h.timecnt)
        for _ in 0..<h.timecnt { times.append(wide ? try r.int64() : Int64(try r.int32())) }
        var idx: [Int] = []
        for _ in 0..<h.timecnt { idx.append(Int(try r.byte())) }
        var types: [(off: Int32, dst: Bool, abbr: Int)] = []
        for _ in 0..<h.typecnt {
            let off = try r.int32()
            let isdst = try r.byte()
            let ai = Int(try r.byte())
            guard isdst <= 1 else { throw ZoneError("\(name): bad isdst \(isdst)") }
            guard off > -89400 && off < 93600 else { throw ZoneError("\(name): UTC offset \(off) out of range") }
            types.append((off, isdst == 1, ai))
        }
        let chars = try r.bytes(h.charcnt)
        try r.skip(h.leapcnt * (wide ? 12 : 8) + h.isstdcnt + h.isutcnt)
        for (k, t) in times.enumerated() where k > 0 && t <= times[k - 1] {
            throw ZoneError("\(name): transition times are not ascending")
        }
        for i in idx where i >= types.count { throw ZoneError("\(name): transition type \(i) out of range") }
        func abbr(_ at: Int) throws(ZoneError) -> String {
            guard at < chars.count else { throw ZoneError("\(name): abbreviation index out of range") }
            var end = at
            while end < chars.count && chars[end] != 0 { end += 1 }
            return String(decoding: chars[at..<end], as: UTF8.self)
        }
        var rule: PosixTZ?
        if wide {
            guard try r.byte() == 0x0A else { throw ZoneError("\(name): missing TZif footer") }
            var footer: [UInt8] = []
            while true {
                let c = try r.byte()
                if c == 0x0A { break }
                footer.append(c)
            }
            if !footer.isEmpty {
                let text = String(decoding: footer, as: UTF8.self)
                guard let p = PosixTZ(text) else { throw ZoneError("\(name): bad TZ string '\(text)' in the footer") }
                rule = p
            }
        }
        // Period 0 is the time before the first transition: type 0 (RFC 8536 §3.2).
        var starts: [Int64] = [Int64.min]
        var offs: [Int32] = [types[0].off]
        var dsts: [Bool] = [types[0].dst]
        var abbrs: [String] = [try abbr(types[0].abbr)]
        for (k, t) in times.enumerated() {
            let ty = types[idx[k]]
            starts.append(t); offs.append(ty.off); dsts.append(ty.dst); abbrs.append(try abbr(ty.abbr))
        }
        if times.isEmpty, let rule, rule.dst == nil {
            offs[0] = Int32(rule.stdOffset); abbrs[0] = rule.stdName
        }
        return ZoneInfo(name: name, starts: starts, offsets: offs, dst: dsts, abbreviations: abbrs, rule: rule)
    }
}

struct TZifReader {
    let bytes: [UInt8]
    var at = 0

    struct Header { var version: Int; var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int }

    mutating func header() throws(ZoneError) -> Header {
        let magic = try self.bytes(4)
        guard magic == [0x54, 0x5A, 0x69, 0x66] else { throw ZoneError("not a TZif file (bad magic)") }
        let v = try byte()
        let version: Int
        switch v {
        case 0: version = 1
        case 0x32, 0x33, 0x34: version = Int(v - 0x30)
        default: throw ZoneError("unsupported TZif version byte \(v)")
        }
        try skip(15)
        var c: [Int] = []
        for _ in 0..<6 {
            let n = try int32()
            guard n >= 0 && n < 1_000_000 else { throw ZoneError("TZif count \(n) out of range") }
            c.append(Int(n))
        }
        guard c[4] >= 1 && c[4] <= 256 else { throw ZoneError("TZif has \(c[4]) local time types") }
        guard c[0] == 0 || c[0] == c[4], c[1] == 0 || c[1] == c[4] else { throw ZoneError("TZif indicator counts disagree with the type count") }
        return Header(version: version, isutcnt: c[0], isstdcnt: c[1], leapcnt: c[2], timecnt: c[3], typecnt: c[4], charcnt: c[5])
    }

    mutating func byte() throws(ZoneError) -> UInt8 {
        guard at < bytes.count else { throw ZoneError("truncated TZif file") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func bytes(_ n: Int) throws(ZoneError) -> [UInt8] {
        guard n >= 0, at + n <= bytes.count else { throw ZoneError("truncated TZif file") }
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }

    mutating func skip(_ n: Int) throws(ZoneError) {
        guard n >= 0, at + n <= bytes.count else { throw ZoneError("truncated TZif file") }
        at += n
    }

    mutating func int32() throws(ZoneError) -> Int32 {
        var v: UInt32 = 0
        for _ in 0..<4 { v = v << 8 | UInt32(try byte()) }
        return Int32(bitPattern: v)
    }

    mutating func int64() throws(ZoneError) -> Int64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(try byte()) }
        return Int64(bitPattern: v)
    }
}
