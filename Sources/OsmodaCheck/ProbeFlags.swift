import OsmodaCore

/// One command-line flag that defines a probe (`--tcp 127.0.0.1:8080`), with what the
/// CLI needs to declare and document it. The probe is named after the flag's value.
public struct ProbeFlag: Sendable {
    /// The flag without dashes: `tcp` for `--tcp`.
    public let name: String
    public let kind: ProbeKind
    /// The value name in help text: `HOST:PORT`.
    public let valueName: String
    /// One line of help.
    public let help: String
    /// A value that parses.
    public let example: String
    /// The kind-specific fields the value stands for.
    let fields: @Sendable (String) throws(FlagSyntaxError) -> JSONObject

    /// Builds the probe the flag's value describes, validated like a probe file entry.
    /// Errors are located at the flag: `--tcp 'db:99999': field 'port': expected an
    /// integer in 1...65535`.
    public func parse(_ value: String, timeoutMs: Int? = nil) throws(ProbeSpecError) -> ProbeSpec {
        let location = "--\(name) '\(value)'"
        var object: JSONObject
        do {
            object = try fields(value)
        } catch {
            throw ProbeSpecError(location: location, message: error.message)
        }
        object["name"] = .string(value)
        object["kind"] = .string(kind.rawValue)
        if let timeoutMs { object["timeout_ms"] = .int(Int64(timeoutMs)) }
        do {
            return try ProbeSpec.decode(.object(object), location: location)
        } catch {
            var e = error
            e.probe = nil
            throw e
        }
    }
}

/// A flag value that does not have the flag's shape.
struct FlagSyntaxError: Error {
    var message: String
}

extension ProbeSpec {
    /// The probe flags, in the order help lists them.
    public static let flags: [ProbeFlag] = [
        ProbeFlag(name: "unit", kind: .systemd, valueName: "UNIT",
                  help: "a systemd unit that must be active", example: "nginx.service") { v throws(FlagSyntaxError) in
            JSONObject(["unit": .string(v)])
        },
        ProbeFlag(name: "tcp", kind: .tcp, valueName: "HOST:PORT",
                  help: "a TCP port that must accept connections", example: "127.0.0.1:5432") { v throws(FlagSyntaxError) in
            let (host, rest) = try splitHost(v, shape: "HOST:PORT")
            guard rest.count == 1 else { throw FlagSyntaxError(message: "expected HOST:PORT (an IPv6 address in brackets: [::1]:80)") }
            return JSONObject(["host": .string(host), "port": try integer(rest[0], shape: "HOST:PORT")])
        },
        ProbeFlag(name: "http", kind: .http, valueName: "URL",
                  help: "an http:// or https:// URL that must answer 200", example: "https://example.org/health") { v throws(FlagSyntaxError) in
            JSONObject(["url": .string(v)])
        },
        ProbeFlag(name: "command", kind: .command, valueName: "ARGV-JSON",
                  help: "a command, as a JSON array of strings, that must exit 0", example: #"["/usr/bin/pg_isready","-q"]"#) { v throws(FlagSyntaxError) in
            let parsed: JSONValue
            do { parsed = try JSONReader.parse(v) } catch {
                throw FlagSyntaxError(message: "expected a JSON array of strings: \(error)")
            }
            return JSONObject(["argv": parsed])
        },
        ProbeFlag(name: "process", kind: .process, valueName: "NAME",
                  help: "a process that must be running, by name", example: "sshd") { v throws(FlagSyntaxError) in
            JSONObject(["process_name": .string(v)])
        },
        ProbeFlag(name: "pidfile", kind: .process, valueName: "PATH",
                  help: "a pid file whose process must be running", example: "/run/sshd.pid") { v throws(FlagSyntaxError) in
            JSONObject(["pidfile": .string(v)])
        },
        ProbeFlag(name: "file", kind: .file, valueName: "PATH",
                  help: "a file that must exist", example: "/etc/passwd") { v throws(FlagSyntaxError) in
            JSONObject(["path": .string(v)])
        },
        ProbeFlag(name: "disk", kind: .disk, valueName: "PATH:MAX_USED_PCT",
                  help: "a file system that must be less full than the percentage", example: "/:90") { v throws(FlagSyntaxError) in
            guard let colon = v.lastIndex(of: ":") else { throw FlagSyntaxError(message: "expected PATH:MAX_USED_PCT") }
            var pct = String(v[v.index(after: colon)...])
            if pct.hasSuffix("%") { pct.removeLast() }
            guard let number = Double(pct), number.isFinite else { throw FlagSyntaxError(message: "expected PATH:MAX_USED_PCT") }
            return JSONObject(["path": .string(String(v[..<colon])), "max_used_pct": .double(number)])
        },
        ProbeFlag(name: "cert", kind: .cert, valueName: "HOST[:PORT[:MIN_DAYS]]",
                  help: "a TLS certificate that must have days left (default port 443, 14 days)", example: "example.org:443:14") { v throws(FlagSyntaxError) in
            let shape = "HOST[:PORT[:MIN_DAYS]]"
            let (host, rest) = try splitHost(v, shape: shape)
            guard rest.count <= 2 else { throw FlagSyntaxError(message: "expected \(shape) (an IPv6 address in brackets)") }
            var o = JSONObject(["host": .string(host)])
            if rest.count >= 1 { o["port"] = try integer(rest[0], shape: shape) }
            if rest.count == 2 { o["min_days"] = try integer(rest[1], shape: shape) }
            return o
        },
    ]

    /// The flag named `name` (without dashes).
    public static func flag(named name: String) -> ProbeFlag? {
        flags.first { $0.name == name }
    }

    /// Builds a probe from a flag and its value: `parseFlag("tcp", value: "127.0.0.1:80")`.
    public static func parseFlag(_ name: String, value: String, timeoutMs: Int? = nil) throws(ProbeSpecError) -> ProbeSpec {
        guard let flag = flag(named: name) else { throw ProbeSpecError(location: "--\(name)", message: "not a probe flag") }
        return try flag.parse(value, timeoutMs: timeoutMs)
    }
}

/// Splits `host:a:b` or `[v6]:a:b` into the host and the parts after it.
private func splitHost(_ v: String, shape: String) throws(FlagSyntaxError) -> (String, [String]) {
    if v.hasPrefix("[") {
        guard let close = v.firstIndex(of: "]") else { throw FlagSyntaxError(message: "expected \(shape): unclosed '['") }
        let host = String(v[v.index(after: v.startIndex)..<close])
        let after = v[v.index(after: close)...]
        if after.isEmpty { return (host, []) }
        guard after.hasPrefix(":") else { throw FlagSyntaxError(message: "expected \(shape)") }
        return (host, after.dropFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init))
    }
    let parts = v.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    return (parts[0], Array(parts.dropFirst()))
}

private func integer(_ text: String, shape: String) throws(FlagSyntaxError) -> JSONValue {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(text) else {
        throw FlagSyntaxError(message: "expected \(shape)")
    }
    return .int(n)
}
