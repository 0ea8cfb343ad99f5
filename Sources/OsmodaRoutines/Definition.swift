import OsmodaCore
import OsmodaCron
import OsmodaSystem

/// What to do when a routine comes due while a run of it is still going.
public enum OverlapPolicy: String, Sendable, Codable, CaseIterable {
    /// Do not start another run; record a skipped run.
    case skip
    /// Start another run when the current one ends (at most `RoutineDefinition.queueLimit` waiting).
    case queue
    /// Start another run beside it.
    case parallel
}

/// When a routine runs.
public enum Trigger: Sendable {
    /// A cron expression in a zone.
    case cron(CronExpression, ZoneInfo)
    /// Once per boot (`cron: "@reboot"`).
    case reboot
    /// Every `intervalMs`, plus up to `jitterMs` chosen at random for each run.
    case interval(intervalMs: Int64, jitterMs: Int64)
    /// Whenever a record read by `serve --events` matches.
    case event(Expression)

    public var kind: String {
        switch self {
        case .cron: "cron"
        case .reboot: "reboot"
        case .interval: "interval"
        case .event: "event"
        }
    }
}

/// The file form of a routine (JSON, or the TOML subset of `TOMLSubset`).
public struct RoutineFile: Codable, Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var enabled: Bool?
    public var cron: String?
    public var tz: String?
    public var every: String?
    public var jitter: String?
    public var event: String?
    public var command: [String]?
    public var env: [String: String]?
    public var cwd: String?
    public var timeout: String?
    public var outputLimitBytes: Int?
    public var overlap: String?
    public var catchUp: Bool?

    enum CodingKeys: String, CodingKey {
        case name, description, enabled, cron, tz, every, jitter, event, command, env, cwd, timeout
        case outputLimitBytes = "output_limit_bytes", overlap, catchUp = "catch_up"
    }

    public init() {}
}

/// Why a definition was refused: the file, the field, the reason.
public struct DefinitionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var field: String
    public var message: String
    public init(path: String, field: String = "", message: String) {
        self.path = path
        self.field = field
        self.message = message
    }
    public var description: String {
        field.isEmpty ? "\(path): \(message)" : "\(path): '\(field)': \(message)"
    }
}

/// A validated routine.
public struct RoutineDefinition: Sendable {
    public static let queueLimit = 10
    public static let defaultTimeoutMs: Int64 = 3_600_000

    public var name: String
    public var description: String?
    public var enabled: Bool
    public var trigger: Trigger
    public var command: [String]
    public var env: [String: String]?
    public var cwd: String?
    public var timeoutMs: Int64
    public var outputLimit: Int
    public var overlap: OverlapPolicy
    public var catchUp: Bool
    /// The file it came from (empty when built in memory).
    public var path: String
    /// The validated file form, as written back by `add`, `enable` and `disable`.
    public var file: RoutineFile

    /// Whether a name can be a routine's (and a file's) name: 1-64 of `a-z A-Z 0-9 . _ -`, not starting with `.`.
    public static func isValidName(_ n: String) -> Bool {
        guard !n.isEmpty, n.utf8.count <= 64, !n.hasPrefix(".") else { return false }
        return n.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    /// Validates a file form; `defaultName` is the file name without its extension.
    public init(_ f: RoutineFile, path: String, defaultName: String, zoneDirectory: String? = nil) throws(DefinitionError) {
        func fail(_ field: String, _ message: String) -> DefinitionError { DefinitionError(path: path, field: field, message: message) }
        let name = f.name ?? defaultName
        guard Self.isValidName(name) else {
            throw fail("name", "'\(name)' is not a valid routine name (1-64 of letters, digits, '.', '_', '-')")
        }
        let triggers = [f.cron != nil ? "cron" : nil, f.every != nil ? "every" : nil, f.event != nil ? "event" : nil].compactMap { $0 }
        guard triggers.count == 1 else {
            throw fail("", triggers.isEmpty ? "no trigger: give one of 'cron', 'every' or 'event'"
                                            : "more than one trigger (\(triggers.joined(separator: ", "))): give exactly one")
        }
        if f.tz != nil && f.cron == nil { throw fail("tz", "only applies to a 'cron' trigger") }
        if f.jitter != nil && f.every == nil { throw fail("jitter", "only applies to an 'every' trigger") }
        func duration(_ field: String, _ text: String) throws(DefinitionError) -> Int64 {
            do { return try DurationParser.milliseconds(text) } catch { throw fail(field, error.description) }
        }
        let trigger: Trigger
        if let c = f.cron {
            let expr: CronExpression
            do { expr = try CronExpression(c) } catch {
                throw fail("cron", "invalid cron expression: \(error.description)\n\(error.caret(in: c))")
            }
            if expr.isReboot {
                trigger = .reboot
            } else {
                let zone: ZoneInfo
                do throws(ZoneError) {
                    if let tz = f.tz { zone = try ZoneInfo.load(tz, directory: zoneDirectory) } else { zone = try ZoneInfo.local(directory: zoneDirectory) }
                } catch {
                    throw fail("tz", error.message)
                }
                trigger = .cron(expr, zone)
            }
        } else if let e = f.every {
            let ms = try duration("every", e)
            guard ms >= 1000 else { throw fail("every", "must be at least 1s") }
            let j = try f.jitter.map { (t: String) throws(DefinitionError) in try duration("jitter", t) } ?? 0
            guard j >= 0 else { throw fail("jitter", "must not be negative") }
            trigger = .interval(intervalMs: ms, jitterMs: j)
        } else {
            let src = f.event ?? ""
            do { trigger = .event(try Expression(src)) } catch {
                throw fail("event", "invalid expression: \(error.description)\n\(error.caret(in: src))")
            }
        }
        guard let command = f.command, let first = command.first, !first.isEmpty else {
            throw fail("command", "must be a non-empty array: the program and its arguments (no shell)")
        }
        let timeout = try f.timeout.map { (t: String) throws(DefinitionError) in try duration("timeout", t) } ?? Self.defaultTimeoutMs
        guard timeout >= 1 else { throw fail("timeout", "must be at least 1ms") }
        let limit = f.outputLimitBytes ?? 4096
        guard limit >= 0 && limit <= 1 << 20 else { throw fail("output_limit_bytes", "must be between 0 and 1048576") }
        var overlap = OverlapPolicy.skip
        if let o = f.overlap {
            guard let p = OverlapPolicy(rawValue: o) else { throw fail("overlap", "'\(o)' is not one of skip, queue, parallel") }
            overlap = p
        }
        if let env = f.env {
            for k in env.keys where k.isEmpty || k.contains("=") { throw fail("env", "'\(k)' is not a variable name") }
        }
        self.name = name
        self.description = f.description
        self.enabled = f.enabled ?? true
        self.trigger = trigger
        self.command = command
        self.env = f.env
        self.cwd = f.cwd
        self.timeoutMs = timeout
        self.outputLimit = limit
        self.overlap = overlap
        self.catchUp = f.catchUp ?? true
        self.path = path
        var normalized = f
        normalized.name = name
        self.file = normalized
    }

    /// Reads one definition file: `.json`, or `.toml` (the subset of `TOMLSubset`).
    public static func load(path: String, zoneDirectory: String? = nil) throws(DefinitionError) -> RoutineDefinition {
        let base = String(path.split(separator: "/").last ?? "")
        let isTOML = base.hasSuffix(".toml")
        let stem = String(base.dropLast(isTOML ? 5 : (base.hasSuffix(".json") ? 5 : 0)))
        // A definition runs commands as the scheduler's user: like cron, refuse one that
        // another user could have written.
        if let info = try? FileStatus.stat(path) {
            if info.mode & 0o022 != 0 {
                throw DefinitionError(path: path, message: "refused: writable by group or others (mode \(String(info.mode, radix: 8))); chmod go-w it")
            }
            let me = Sys.effectiveUID
            if info.ownerUID != me && info.ownerUID != 0 {
                throw DefinitionError(path: path, message: "refused: owned by uid \(info.ownerUID), not by this user (\(me)) or root")
            }
        }
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 1 << 20) } catch {
            throw DefinitionError(path: path, message: "cannot read: \(error.description)")
        }
        let value: JSONValue
        if isTOML {
            do { value = try TOMLSubset.parse(String(decoding: bytes, as: UTF8.self)) } catch {
                throw DefinitionError(path: path, message: error.description)
            }
        } else {
            do { value = try JSONReader.parse(bytes) } catch {
                throw DefinitionError(path: path, message: "invalid JSON: \(Self.location(of: error.offset, in: bytes)): \(error.message)")
            }
        }
        let file: RoutineFile
        do { file = try ValueDecoder.decode(RoutineFile.self, from: value) } catch {
            throw DefinitionError(path: path, field: error.path, message: error.message)
        }
        return try RoutineDefinition(file, path: path, defaultName: stem, zoneDirectory: zoneDirectory)
    }

    /// `line L, column C` for a byte offset.
    static func location(of offset: Int, in bytes: [UInt8]) -> String {
        var line = 1, col = 1
        for b in bytes.prefix(offset) {
            if b == 0x0A { line += 1; col = 1 } else { col += 1 }
        }
        return "line \(line), column \(col)"
    }
}

/// The definitions directory: one file per routine, `NAME.json` or `NAME.toml`.
public struct DefinitionDirectory: Sendable {
    public var path: String
    public var zoneDirectory: String?

    public init(path: String, zoneDirectory: String? = nil) {
        self.path = path
        self.zoneDirectory = zoneDirectory
    }

    /// Every valid definition, and an error for each file that is not (reported and skipped
    /// by the callers; the others keep running). Files not ending in .json or .toml are ignored;
    /// a name defined twice keeps the first file (in name order) and reports the second.
    public func loadAll() throws(SystemError) -> (routines: [RoutineDefinition], errors: [DefinitionError]) {
        let names: [String]
        do { names = try Sys.listDirectory(path) } catch {
            if error.code == 2 { return ([], []) }
            throw error
        }
        var out: [RoutineDefinition] = []
        var errors: [DefinitionError] = []
        for n in names where (n.hasSuffix(".json") || n.hasSuffix(".toml")) && !n.hasPrefix(".") {
            let p = path + "/" + n
            do {
                let d = try RoutineDefinition.load(path: p, zoneDirectory: zoneDirectory)
                if let other = out.first(where: { $0.name == d.name }) {
                    errors.append(DefinitionError(path: p, field: "name", message: "'\(d.name)' is already defined by \(other.path)"))
                    continue
                }
                out.append(d)
            } catch {
                errors.append(error)
            }
        }
        return (out, errors)
    }

    public func file(for name: String) -> String? {
        for ext in [".json", ".toml"] where FileStatus.exists(path + "/" + name + ext) { return path + "/" + name + ext }
        return nil
    }
}
