import OsmodaCore
import OsmodaSystem

/// The kinds of probe `osmoda-check` runs.
public enum ProbeKind: String, Sendable, CaseIterable, Equatable {
    case systemd, tcp, http, command, process, file, disk, cert

    /// The fields a probe of this kind may carry besides `name`, `kind` and `timeout_ms`.
    public var fields: [String] { fieldKeys.map(\.rawValue) }

    var fieldKeys: [ProbeSpec.Field] {
        switch self {
        case .systemd: return [.unit]
        case .tcp: return [.host, .port]
        case .http: return [.url, .expectStatus, .bodyContains, .insecure]
        case .command: return [.argv, .expectExit]
        case .process: return [.processName, .pidfile]
        case .file: return [.path, .maxAgeS, .sha256]
        case .disk: return [.path, .maxUsedPct]
        case .cert: return [.host, .port, .minDays, .serverName]
        }
    }
}

/// What a probe looks at, by kind.
public enum Probe: Sendable, Equatable {
    case systemd(Systemd)
    case tcp(TCP)
    case http(HTTP)
    case command(Command)
    case process(Process)
    case file(File)
    case disk(Disk)
    case cert(Cert)

    public var kind: ProbeKind {
        switch self {
        case .systemd: return .systemd
        case .tcp: return .tcp
        case .http: return .http
        case .command: return .command
        case .process: return .process
        case .file: return .file
        case .disk: return .disk
        case .cert: return .cert
        }
    }

    /// Whether `systemctl is-active UNIT` says the unit is active.
    public struct Systemd: Sendable, Equatable {
        public var unit: String
        public init(unit: String) { self.unit = unit }
    }

    /// Whether a TCP connection to `host:port` can be made.
    public struct TCP: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Whether `GET url` answers `expectStatus` (and, if given, a body containing `bodyContains`).
    public struct HTTP: Sendable, Equatable {
        public var url: HTTPURL
        public var expectStatus: Int
        public var bodyContains: String?
        /// Skip TLS verification (chain and host name).
        public var insecure: Bool
        public init(url: HTTPURL, expectStatus: Int = 200, bodyContains: String? = nil, insecure: Bool = false) {
            self.url = url
            self.expectStatus = expectStatus
            self.bodyContains = bodyContains
            self.insecure = insecure
        }
    }

    /// Whether a command exits with `expectExit` within the timeout.
    public struct Command: Sendable, Equatable {
        public var argv: [String]
        public var expectExit: Int
        public init(argv: [String], expectExit: Int = 0) {
            self.argv = argv
            self.expectExit = expectExit
        }
    }

    /// Whether a process runs, found by name or through a pid file.
    public struct Process: Sendable, Equatable {
        public enum Match: Sendable, Equatable {
            /// Matches `/proc/PID/comm` or the base name of `argv[0]`.
            case name(String)
            /// A file holding a process id.
            case pidfile(String)
        }
        public var match: Match
        public init(match: Match) { self.match = match }
    }

    /// Whether a file exists, and optionally is recent enough and has a given SHA-256.
    public struct File: Sendable, Equatable {
        public var path: String
        public var maxAgeS: Double?
        /// Lowercase hexadecimal.
        public var sha256: String?
        public init(path: String, maxAgeS: Double? = nil, sha256: String? = nil) {
            self.path = path
            self.maxAgeS = maxAgeS
            self.sha256 = sha256?.lowercased()
        }
    }

    /// Whether the file system holding `path` is less than `maxUsedPct` full.
    public struct Disk: Sendable, Equatable {
        public var path: String
        public var maxUsedPct: Double
        public init(path: String, maxUsedPct: Double) {
            self.path = path
            self.maxUsedPct = maxUsedPct
        }
    }

    /// Whether the TLS certificate served at `host:port` has at least `minDays` left.
    public struct Cert: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var minDays: Int
        /// The name sent as SNI and checked against the certificate; `host` when `nil`.
        public var serverName: String?
        public init(host: String, port: Int = 443, minDays: Int = 14, serverName: String? = nil) {
            self.host = host
            self.port = port
            self.minDays = minDays
            self.serverName = serverName
        }
    }
}

/// One probe definition, as a probe file or a command-line flag gives it.
///
/// Decoding (through `ValueDecoder`, which also refuses unknown fields) validates
/// every field: a field of another kind, a missing one, a value of the wrong type or
/// out of range is an error naming the field. `ProbeSpec.decode(_:)` adds the probe's
/// name to the message.
public struct ProbeSpec: Decodable, Sendable, Equatable {
    public static let defaultTimeoutMs = 5000
    public static let timeoutRange = 1...3_600_000

    public var name: String
    public var timeoutMs: Int
    public var probe: Probe

    public var kind: ProbeKind { probe.kind }

    public init(name: String, timeoutMs: Int = ProbeSpec.defaultTimeoutMs, probe: Probe) {
        self.name = name
        self.timeoutMs = timeoutMs
        self.probe = probe
    }

    /// Every field a probe may have.
    enum Field: String, CodingKey, CaseIterable {
        case name, kind
        case timeoutMs = "timeout_ms"
        case unit, host, port, url
        case expectStatus = "expect_status"
        case bodyContains = "body_contains"
        case insecure, argv
        case expectExit = "expect_exit"
        case processName = "process_name"
        case pidfile, path
        case maxAgeS = "max_age_s"
        case sha256
        case maxUsedPct = "max_used_pct"
        case minDays = "min_days"
        case serverName = "server_name"
    }

    public init(from decoder: any Decoder) throws {
        let f = try FieldReader(decoder)
        let name = try f.text(.name)
        guard let kindText = try f.string(.kind) else { throw f.error(.kind, "missing required field") }
        guard let kind = ProbeKind(rawValue: kindText) else {
            throw f.error(.kind, "expected one of \(ProbeKind.allCases.map(\.rawValue).joined(separator: ", ")), found '\(kindText)'")
        }
        let allowed = Set([Field.name, .kind, .timeoutMs] + kind.fieldKeys)
        for key in Field.allCases where !allowed.contains(key) && f.has(key) {
            throw f.error(key, "does not apply to kind '\(kind.rawValue)'")
        }
        let timeout = try f.int(.timeoutMs, in: Self.timeoutRange) ?? Self.defaultTimeoutMs

        let probe: Probe
        switch kind {
        case .systemd:
            let unit = try f.text(.unit)
            if unit.hasPrefix("-") || unit.contains("/") { throw f.error(.unit, "expected a unit name such as 'nginx.service'") }
            probe = .systemd(.init(unit: unit))
        case .tcp:
            probe = .tcp(.init(host: try f.host(.host), port: try f.port(.port, default: nil)))
        case .http:
            let text = try f.text(.url)
            let url: HTTPURL
            do { url = try HTTPURL(parsing: text) } catch { throw f.error(.url, error.message) }
            probe = .http(.init(url: url, expectStatus: try f.int(.expectStatus, in: 100...599) ?? 200,
                                bodyContains: try f.string(.bodyContains), insecure: try f.bool(.insecure) ?? false))
        case .command:
            guard let argv = try f.stringArray(.argv) else { throw f.error(.argv, "missing required field") }
            guard let first = argv.first else { throw f.error(.argv, "expected a non-empty array of strings") }
            if first.isEmpty { throw f.error(.argv, "the program name (argv[0]) is empty") }
            probe = .command(.init(argv: argv, expectExit: try f.int(.expectExit, in: 0...255) ?? 0))
        case .process:
            let byName = try f.string(.processName)
            let byFile = try f.string(.pidfile)
            switch (byName, byFile) {
            case (let n?, nil):
                if n.isEmpty || n.contains("/") { throw f.error(.processName, "expected a process name without '/'") }
                probe = .process(.init(match: .name(n)))
            case (nil, let p?):
                if p.isEmpty { throw f.error(.pidfile, "expected a non-empty path") }
                probe = .process(.init(match: .pidfile(p)))
            case (nil, nil):
                throw f.error(.processName, "missing required field (or give 'pidfile')")
            case (_?, _?):
                throw f.error(.pidfile, "give either 'process_name' or 'pidfile', not both")
            }
        case .file:
            let path = try f.text(.path)
            let age = try f.number(.maxAgeS, in: nil, expected: "a positive number of seconds")
            if let age, !(age > 0) { throw f.error(.maxAgeS, "expected a positive number of seconds") }
            let digest = try f.string(.sha256)
            if let digest, digest.utf8.count != 64 || !digest.utf8.allSatisfy(Self.isHexDigit) {
                throw f.error(.sha256, "expected 64 hexadecimal digits")
            }
            probe = .file(.init(path: path, maxAgeS: age, sha256: digest))
        case .disk:
            let path = try f.text(.path)
            guard let pct = try f.number(.maxUsedPct, in: 0...100, expected: "a number in 0...100") else {
                throw f.error(.maxUsedPct, "missing required field")
            }
            probe = .disk(.init(path: path, maxUsedPct: pct))
        case .cert:
            let serverName = try f.string(.serverName)
            if let serverName, serverName.isEmpty { throw f.error(.serverName, "expected a non-empty host name") }
            probe = .cert(.init(host: try f.host(.host), port: try f.port(.port, default: 443),
                                minDays: try f.int(.minDays, in: 0...36500) ?? 14, serverName: serverName))
        }
        self.init(name: name, timeoutMs: timeout, probe: probe)
    }

    static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }

    /// Decodes one probe from a JSON object, with errors that name the probe.
    ///
    /// - Parameter location: where the object sits (`probes[2]`), put ahead of messages.
    public static func decode(_ value: JSONValue, location: String = "") throws(ProbeSpecError) -> ProbeSpec {
        do {
            return try ValueDecoder.decode(ProbeSpec.self, from: value)
        } catch {
            var probe: String?
            if case .string(let n)? = value["name"], !n.isEmpty { probe = n }
            throw ProbeSpecError(location: location, probe: probe, field: error.path, message: error.message)
        }
    }

    /// What the probe looks at, as results show it: `host:port`, the URL, the unit,
    /// the path, or the command line.
    public var target: String {
        switch probe {
        case .systemd(let p): return p.unit
        case .tcp(let p): return NetAddressText.hostPort(p.host, p.port)
        case .http(let p): return p.url.description
        case .command(let p): return p.argv.joined(separator: " ")
        case .process(let p):
            switch p.match {
            case .name(let n): return n
            case .pidfile(let f): return f
            }
        case .file(let p): return p.path
        case .disk(let p): return p.path
        case .cert(let p): return NetAddressText.hostPort(p.host, p.port)
        }
    }
}

/// A raw JSON value read through any `Decoder`, so that fields can be checked with
/// messages of our own (`expected an integer in 1...65535`).
struct RawJSON: Decodable {
    let value: JSONValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            value = .int(i)
        } else if let d = try? c.decode(Double.self) {
            value = .double(d)
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let a = try? c.decode([RawJSON].self) {
            value = .array(a.map(\.value))
        } else if let o = try? c.decode([String: RawJSON].self) {
            value = .object(JSONObject(o.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: $0.value.value) }))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unreadable value"))
        }
    }
}

/// Reads and checks the fields of one probe object.
struct FieldReader {
    typealias Field = ProbeSpec.Field
    let container: KeyedDecodingContainer<Field>
    let base: [any CodingKey]

    init(_ decoder: any Decoder) throws {
        container = try decoder.container(keyedBy: Field.self)
        base = decoder.codingPath
    }

    func has(_ key: Field) -> Bool { container.contains(key) }

    func error(_ key: Field, _ message: String) -> ValueDecodingError {
        var path = ""
        for k in base + [key] {
            if let i = k.intValue { path += "[\(i)]" } else { path += path.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return ValueDecodingError(path: path, message: message)
    }

    func raw(_ key: Field) throws -> JSONValue? {
        try container.decodeIfPresent(RawJSON.self, forKey: key)?.value
    }

    func typeMismatch(_ key: Field, _ expected: String, _ v: JSONValue) -> ValueDecodingError {
        error(key, "expected \(expected), found \(v.typeName)")
    }

    /// An optional string; NUL is refused, since the value reaches C functions.
    func string(_ key: Field) throws -> String? {
        guard let v = try raw(key) else { return nil }
        guard case .string(let s) = v else { throw typeMismatch(key, "a string", v) }
        if s.utf8.contains(0) { throw error(key, "must not contain NUL") }
        return s
    }

    /// A required, non-empty string.
    func text(_ key: Field) throws -> String {
        guard let s = try string(key) else { throw error(key, "missing required field") }
        if s.isEmpty { throw error(key, "must not be empty") }
        return s
    }

    func bool(_ key: Field) throws -> Bool? {
        guard let v = try raw(key) else { return nil }
        guard case .bool(let b) = v else { throw typeMismatch(key, "a boolean", v) }
        return b
    }

    func int(_ key: Field, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = try raw(key) else { return nil }
        let expected = "an integer in \(range.lowerBound)...\(range.upperBound)"
        let i: Int?
        switch v {
        case .int(let x): i = Int(exactly: x)
        case .double(let d): i = Int(exactly: d)
        default: throw typeMismatch(key, expected, v)
        }
        guard let i, range.contains(i) else { throw error(key, "expected \(expected)") }
        return i
    }

    func number(_ key: Field, in range: ClosedRange<Double>?, expected: String) throws -> Double? {
        guard let v = try raw(key) else { return nil }
        guard let d = v.number else { throw typeMismatch(key, expected, v) }
        if let range, !range.contains(d) { throw error(key, "expected \(expected)") }
        return d
    }

    func stringArray(_ key: Field) throws -> [String]? {
        guard let v = try raw(key) else { return nil }
        guard case .array(let items) = v else { throw typeMismatch(key, "a non-empty array of strings", v) }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                throw error(key, "expected a non-empty array of strings, found \(item.typeName) at [\(i)]")
            }
            if s.utf8.contains(0) { throw error(key, "must not contain NUL (at [\(i)])") }
            out.append(s)
        }
        return out
    }

    /// A host name or address; brackets around an IPv6 address are dropped.
    func host(_ key: Field) throws -> String {
        var h = try text(key)
        if h.hasPrefix("["), h.hasSuffix("]"), h.count > 2 { h = String(h.dropFirst().dropLast()) }
        if h.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") }) {
            throw error(key, "expected a host name or IP address")
        }
        return h
    }

    func port(_ key: Field, default value: Int?) throws -> Int {
        guard let p = try int(key, in: 1...65535) ?? value else { throw error(key, "missing required field") }
        return p
    }
}
