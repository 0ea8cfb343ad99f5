import OsmodaCore

/// Why a rules file was refused: `watcher "nginx": ladder[1].cap: expected an object`.
///
/// The message names the watcher (by name, or by its position when it has no usable
/// name) and the path of the field from the watcher down.
public struct RulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `watcher "nginx"` or `watchers[2]`; empty for a problem with the whole file.
    public var watcher: String
    /// The field path inside the watcher (`ladder[1].cap`); empty for the whole watcher.
    public var field: String
    public var message: String

    public init(watcher: String = "", field: String = "", message: String) {
        self.watcher = watcher
        self.field = field
        self.message = message
    }

    public var description: String {
        [watcher, field, message].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}

/// How many failures trip a watcher: `failures` within the last `withinRecords`
/// matched records, or within the last `withinMs` of time (either one trips it).
public struct TripWindow: Sendable, Equatable {
    public var failures: Int
    public var withinRecords: Int?
    public var withinMs: Int64?
}

/// State changes (trips and recoveries) that, this many within `withinMs`, make a
/// watcher `flapping`. `changes == 0` turns the detection off.
public struct FlapWindow: Sendable, Equatable {
    public var changes: Int
    public var withinMs: Int64
}

/// "At most `max` attempts in `perMs`" for a ladder step; without `perMs`, at most
/// `max` per incident.
public struct StepCap: Sendable, Equatable {
    public var max: Int
    public var perMs: Int64?
}

/// What a ladder step does.
public enum StepAction: Sendable, Equatable {
    /// `systemctl restart UNIT`.
    case restartUnit(String)
    /// A command instead of systemd (hosts without it, services that are not units).
    case restartCommand([String])
    /// `osmoda-gen rollback --to N --profile DIR`, with an optional program to use
    /// instead of `osmoda-gen` (argv prefix).
    case rollback(profile: String, command: [String]?)
    /// Runs a command; the alert is in its environment.
    case notifyCommand([String])
    /// POSTs the alert as JSON to an http URL.
    case notifyHTTP(url: String)
    /// Runs any command.
    case run([String])

    public var kind: String {
        switch self {
        case .restartUnit, .restartCommand: return "restart"
        case .rollback: return "rollback"
        case .notifyCommand, .notifyHTTP: return "notify"
        case .run: return "run"
        }
    }

    /// Notify steps change nothing on the host; every other kind may.
    public var isDestructive: Bool { kind != "notify" }
}

/// One rung of an escalation ladder.
public struct LadderStep: Sendable, Equatable {
    public var action: StepAction
    public var cap: StepCap
    public var backoffMs: Int64
    public var settleMs: Int64
    public var timeoutMs: Int64
    /// Extra attempts for a notify whose command or POST failed.
    public var retries: Int
}

/// One watcher of a rules file.
public struct WatcherSpec: Sendable {
    public var name: String
    public var match: Expression
    public var failWhen: Expression
    public var trip: TripWindow
    public var recoverPasses: Int
    public var flapping: FlapWindow
    public var ladder: [LadderStep]

    /// The profile of the first rollback step, whose generation the watcher learns while healthy.
    public var rollbackStep: (profile: String, command: [String]?)? {
        for s in ladder { if case .rollback(let p, let c) = s.action { return (p, c) } }
        return nil
    }
}

/// A parsed rules file: `{"watchers": [ … ]}`.
public struct Rules: Sendable {
    public var watchers: [WatcherSpec]

    public init(watchers: [WatcherSpec]) { self.watchers = watchers }

    /// Limits that keep a rules file (and the state it makes) bounded.
    public static let maxWatchers = 10_000
    public static let maxSteps = 64
    public static let maxWindow = 10_000

    /// Parses a rules file; every expression is compiled here, once.
    public static func parse(_ bytes: [UInt8]) throws(RulesError) -> Rules {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            let (line, column) = error.lineAndColumn(in: bytes)
            throw RulesError(message: "line \(line), column \(column): \(error.message)")
        }
        return try Rules(value)
    }

    public init(_ value: JSONValue) throws(RulesError) {
        guard case .object(let top) = value else {
            throw RulesError(message: "expected an object with 'watchers', found \(value.typeName)")
        }
        for key in top.keys where key != "watchers" {
            throw RulesError(field: key, message: "unknown field (a rules file has only 'watchers')")
        }
        guard let list = top["watchers"] else { throw RulesError(field: "watchers", message: "missing required field") }
        guard case .array(let items) = list else {
            throw RulesError(field: "watchers", message: "expected an array, found \(list.typeName)")
        }
        guard items.count <= Rules.maxWatchers else {
            throw RulesError(field: "watchers", message: "\(items.count) watchers; at most \(Rules.maxWatchers)")
        }
        var out: [WatcherSpec] = []
        var seen: Set<String> = []
        for (i, item) in items.enumerated() {
            let spec = try WatcherSpec.decode(item, index: i)
            if !seen.insert(spec.name).inserted {
                throw RulesError(watcher: "watcher \"\(spec.name)\"", field: "name", message: "duplicate name")
            }
            out.append(spec)
        }
        self.watchers = out
    }
}

// MARK: - Decoding

/// Reads the fields of one JSON object, remembering which were read so that the rest
/// can be refused as unknown.
struct Fields {
    let obj: JSONObject
    let path: String
    let fail: (String, String) -> RulesError
    var used: Set<String> = []

    init(_ value: JSONValue, path: String, fail: @escaping (String, String) -> RulesError) throws(RulesError) {
        guard case .object(let o) = value else { throw fail(path, "expected an object, found \(value.typeName)") }
        self.obj = o
        self.path = path
        self.fail = fail
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func raw(_ key: String) -> JSONValue? {
        used.insert(key)
        return obj[key]
    }

    mutating func string(_ key: String) throws(RulesError) -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw fail(sub(key), "expected a string, found \(v.typeName)") }
        return s
    }

    mutating func requiredString(_ key: String) throws(RulesError) -> String {
        guard let s = try string(key) else { throw fail(sub(key), "missing required field") }
        return s
    }

    mutating func int(_ key: String, min: Int, max: Int = 1_000_000) throws(RulesError) -> Int? {
        guard let v = raw(key) else { return nil }
        guard case .int(let i) = v else { throw fail(sub(key), "expected an integer, found \(v.typeName)") }
        guard i >= Int64(min) && i <= Int64(max) else { throw fail(sub(key), "expected an integer from \(min) to \(max), found \(i)") }
        return Int(i)
    }

    mutating func duration(_ key: String) throws(RulesError) -> Int64? {
        guard let s = try string(key) else { return nil }
        if s == "0" || s == "0s" || s == "0ms" { return 0 }
        do { return try DurationParser.milliseconds(s) } catch { throw fail(sub(key), error.description) }
    }

    mutating func argv(_ key: String) throws(RulesError) -> [String]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let items) = v, !items.isEmpty else {
            throw fail(sub(key), "expected a non-empty array of strings (argv, run without a shell)")
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw fail("\(sub(key))[\(i)]", "expected a string, found \(item.typeName)") }
            out.append(s)
        }
        if out[0].isEmpty { throw fail("\(sub(key))[0]", "the program must not be empty") }
        return out
    }

    mutating func object(_ key: String) throws(RulesError) -> Fields? {
        guard let v = raw(key) else { return nil }
        return try Fields(v, path: sub(key), fail: fail)
    }

    func checkUnknown() throws(RulesError) {
        for key in obj.keys where !used.contains(key) { throw fail(sub(key), "unknown field") }
    }
}

extension WatcherSpec {
    static let defaultFlapping = FlapWindow(changes: 6, withinMs: 600_000)

    static func decode(_ value: JSONValue, index: Int) throws(RulesError) -> WatcherSpec {
        var label = "watchers[\(index)]"
        if case .object(let o) = value, case .string(let n)? = o["name"], validName(n) { label = "watcher \"\(n)\"" }
        let who = label
        let fail: (String, String) -> RulesError = { RulesError(watcher: who, field: $0, message: $1) }
        var f = try Fields(value, path: "", fail: fail)
        let name = try f.requiredString("name")
        guard validName(name) else { throw fail("name", "expected 1 to 64 letters, digits, '.', '_' or '-'") }
        let match = try compile(f.requiredString("match"), field: "match", fail: fail)
        let failWhen = try compile(f.requiredString("fail_when"), field: "fail_when", fail: fail)

        var trip = TripWindow(failures: 1, withinRecords: nil, withinMs: nil)
        if var t = try f.object("trip") {
            // The window is kept in the state file: it stays small.
            trip.failures = try t.int("failures", min: 1, max: Rules.maxWindow) ?? 1
            trip.withinRecords = try t.int("within_records", min: 1, max: Rules.maxWindow)
            trip.withinMs = try t.duration("within")
            try t.checkUnknown()
            if let r = trip.withinRecords, r < trip.failures {
                throw fail("trip.within_records", "must be at least trip.failures (\(trip.failures)), found \(r)")
            }
            if let ms = trip.withinMs, ms <= 0 { throw fail("trip.within", "must be longer than zero") }
        }
        // Neither window given: the last `failures` records, i.e. that many in a row.
        if trip.withinRecords == nil && trip.withinMs == nil { trip.withinRecords = trip.failures }

        var passes = 1
        if var r = try f.object("recover") {
            passes = try r.int("passes", min: 1) ?? 1
            try r.checkUnknown()
        }

        var flapping = defaultFlapping
        if var fl = try f.object("flapping") {
            flapping.changes = try fl.int("changes", min: 0) ?? defaultFlapping.changes
            flapping.withinMs = try fl.duration("within") ?? defaultFlapping.withinMs
            try fl.checkUnknown()
            if flapping.changes == 1 { throw fail("flapping.changes", "must be 0 (off) or at least 2") }
        }

        var ladder: [LadderStep] = []
        if let v = f.raw("ladder") {
            guard case .array(let steps) = v else { throw fail("ladder", "expected an array of steps, found \(v.typeName)") }
            guard steps.count <= Rules.maxSteps else { throw fail("ladder", "\(steps.count) steps; at most \(Rules.maxSteps)") }
            for (i, s) in steps.enumerated() {
                ladder.append(try LadderStep.decode(s, path: "ladder[\(i)]", fail: fail))
            }
        }
        try f.checkUnknown()
        return WatcherSpec(name: name, match: match, failWhen: failWhen, trip: trip, recoverPasses: passes,
                           flapping: flapping, ladder: ladder)
    }

    static func validName(_ s: String) -> Bool {
        guard !s.isEmpty && s.utf8.count <= 64 else { return false }
        return s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    static func compile(_ source: String, field: String, fail: (String, String) -> RulesError) throws(RulesError) -> Expression {
        do { return try Expression(source) } catch {
            throw fail(field, "invalid expression: \(error.description)\n\(error.caret(in: source))")
        }
    }
}

extension LadderStep {
    static func decode(_ value: JSONValue, path: String, fail: @escaping (String, String) -> RulesError) throws(RulesError) -> LadderStep {
        var f = try Fields(value, path: path, fail: fail)
        let kind = try f.requiredString("kind")
        let action: StepAction
        var defaultSettle: Int64 = 10_000
        switch kind {
        case "restart":
            let unit = try f.string("unit")
            let command = try f.argv("command")
            switch (unit, command) {
            case (let u?, nil):
                guard !u.isEmpty && !u.hasPrefix("-") else { throw fail(f.sub("unit"), "expected a systemd unit name") }
                action = .restartUnit(u)
            case (nil, let c?): action = .restartCommand(c)
            case (.some, .some): throw fail(path, "give either 'unit' or 'command', not both")
            case (nil, nil): throw fail(path, "a restart step needs 'unit' (systemd) or 'command' (argv)")
            }
        case "rollback":
            let profile = try f.requiredString("profile")
            guard profile.hasPrefix("/") else { throw fail(f.sub("profile"), "expected an absolute path") }
            action = .rollback(profile: profile, command: try f.argv("command"))
            defaultSettle = 30_000
        case "notify":
            let url = try f.string("url")
            let command = try f.argv("command")
            switch (url, command) {
            case (let u?, nil):
                guard u.hasPrefix("http://") || u.hasPrefix("https://") else {
                    throw fail(f.sub("url"), "expected an http:// or https:// URL")
                }
                action = .notifyHTTP(url: u)
            case (nil, let c?): action = .notifyCommand(c)
            case (.some, .some): throw fail(path, "give either 'url' or 'command', not both")
            case (nil, nil): throw fail(path, "a notify step needs 'url' (HTTP POST) or 'command' (argv)")
            }
            defaultSettle = 0
        case "run":
            guard let c = try f.argv("command") else { throw fail(f.sub("command"), "missing required field") }
            action = .run(c)
        default:
            throw fail(f.sub("kind"), "expected restart, rollback, notify or run, found \"\(kind)\"")
        }
        var cap = StepCap(max: 1, perMs: nil)
        if let v = f.object(peek: "cap") {
            guard case .object = v else { throw fail(f.sub("cap"), "expected an object such as {\"max\": 3, \"per\": \"10m\"}, found \(v.typeName)") }
            guard var c = try f.object("cap") else { throw fail(f.sub("cap"), "missing") }
            guard let max = try c.int("max", min: 1) else { throw fail(c.sub("max"), "missing required field") }
            cap = StepCap(max: max, perMs: try c.duration("per"))
            try c.checkUnknown()
        }
        if case .rollback = action, cap.max > 1 {
            throw fail(f.sub("cap.max"), "a rollback runs at most once per incident; cap.max must be 1")
        }
        let backoff = try f.duration("backoff") ?? 0
        let settle = try f.duration("settle") ?? defaultSettle
        let timeout = try f.duration("timeout") ?? 30_000
        guard timeout > 0 else { throw fail(f.sub("timeout"), "must be longer than zero") }
        // Steps run in the reading thread: a step may hold up the watchers only so long.
        guard timeout <= 3_600_000 else { throw fail(f.sub("timeout"), "must be at most 1h (steps run one at a time)") }
        var retries = 0
        if case .notifyHTTP = action { retries = 2 }
        if case .notifyCommand = action { retries = 2 }
        if let r = try f.int("retries", min: 0, max: 10) {
            guard action.kind == "notify" else { throw fail(f.sub("retries"), "only notify steps are retried; use cap for the others") }
            retries = r
        }
        try f.checkUnknown()
        return LadderStep(action: action, cap: cap, backoffMs: backoff, settleMs: settle, timeoutMs: timeout, retries: retries)
    }
}

extension Fields {
    /// The raw value of a field without marking it read.
    func object(peek key: String) -> JSONValue? { obj[key] }
}
