import COpenSSL
import OsmodaCore

/// The `osmoda-egress` configuration file (JSON), parsed strictly: unknown and duplicate
/// fields are refused, and every error names the file and the field path.
public struct EgressConfig: Sendable {
    public struct Listener: Sendable {
        public var name: String
        /// A Unix socket path, or nil for a TCP listener.
        public var unixPath: String?
        /// A loopback address and port, or nil for a Unix listener.
        public var tcp: (host: IPAddress, port: Int)?
        /// The policy for clients on this listener that present no token.
        public var policy: String
        /// The Unix socket's permission bits (`socket_mode`), if set.
        public var socketMode: UInt32?

        public init(name: String, unixPath: String? = nil, tcp: (host: IPAddress, port: Int)? = nil, policy: String, socketMode: UInt32? = nil) {
            self.name = name
            self.unixPath = unixPath
            self.tcp = tcp
            self.policy = policy
            self.socketMode = socketMode
        }
    }

    /// A proxy-authorization token, known only by its SHA-256.
    public struct Token: Sendable {
        /// How records name the client: the `name` field, else `token:` and the first
        /// eight hex digits of the digest.
        public var name: String
        public var sha256: [UInt8]
        public var policy: String

        public init(name: String, sha256: [UInt8], policy: String) {
            self.name = name
            self.sha256 = sha256
            self.policy = policy
        }
    }

    public struct Limits: Sendable, Equatable {
        public var maxHeaderBytes: Int
        public var headerTimeoutMs: Int64
        public var connectTimeoutMs: Int64
        public var idleTimeoutMs: Int64
        public var maxTunnels: Int
        public var maxTunnelsPerClient: Int

        public static let defaults = Limits(maxHeaderBytes: 16_384, headerTimeoutMs: 10_000, connectTimeoutMs: 10_000,
                                            idleTimeoutMs: 300_000, maxTunnels: 2048, maxTunnelsPerClient: 256)

        public init(maxHeaderBytes: Int, headerTimeoutMs: Int64, connectTimeoutMs: Int64, idleTimeoutMs: Int64, maxTunnels: Int, maxTunnelsPerClient: Int) {
            self.maxHeaderBytes = maxHeaderBytes
            self.headerTimeoutMs = headerTimeoutMs
            self.connectTimeoutMs = connectTimeoutMs
            self.idleTimeoutMs = idleTimeoutMs
            self.maxTunnels = maxTunnels
            self.maxTunnelsPerClient = maxTunnelsPerClient
        }

        /// The accepted range of each limit.
        public static let maxHeaderBytesRange = 1024...1_048_576
        public static let headerTimeoutRange: ClosedRange<Int64> = 100...300_000
        public static let connectTimeoutRange: ClosedRange<Int64> = 100...300_000
        public static let idleTimeoutRange: ClosedRange<Int64> = 1000...604_800_000
        public static let maxTunnelsRange = 1...1_000_000
    }

    public var listeners: [Listener]
    public var tokens: [Token]
    public var policies: [String: ClientPolicy]
    public var limits: Limits

    public init(listeners: [Listener], tokens: [Token] = [], policies: [String: ClientPolicy], limits: Limits = .defaults) {
        self.listeners = listeners
        self.tokens = tokens
        self.policies = policies
        self.limits = limits
    }

    /// The TCP listeners' addresses and ports, for `AddressPolicy(selfAddresses:)`.
    public var selfAddresses: [(IPAddress, Int)] {
        listeners.compactMap { l in l.tcp.map { ($0.host, $0.port) } }
    }

    /// The policy called `named`, or nil.
    public func policy(named: String) -> ClientPolicy? { policies[named] }

    /// The policy for a Proxy-Authorization token (the secret itself, e.g. what follows
    /// `Bearer `), or nil for an unknown token. The token is hashed and compared with every
    /// stored digest in constant time.
    public func policy(forToken token: [UInt8]) -> ClientPolicy? {
        client(forToken: token).flatMap { policies[$0.policy] }
    }

    /// The token entry a secret belongs to, or nil.
    public func client(forToken token: [UInt8]) -> Token? {
        let digest = EgressConfig.sha256(token)
        var found: Token? = nil
        for t in tokens {
            // No early exit and no data-dependent branch inside the comparison.
            var diff: UInt8 = 0
            for i in 0..<32 { diff |= t.sha256[i] ^ digest[i] }
            if diff == 0 { found = t }
        }
        return found
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(b.baseAddress, b.count, o.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        // Only allocation failure makes a one-shot digest fail.
        guard ok == 1, length == 32 else { fatalError("OpenSSL: SHA-256 failed") }
        return out
    }

    // MARK: - Parsing

    /// Parses the file's bytes; `path` only names the file in error messages.
    public static func parse(_ bytes: [UInt8], path: String) throws(EgressInputError) -> EgressConfig {
        func fail(_ field: String, _ message: String) -> EgressInputError {
            EgressInputError(field.isEmpty ? "\(path): \(message)" : "\(path): '\(field)': \(message)")
        }
        let value: JSONValue
        do { value = try JSONReader.parse(bytes) } catch {
            let (line, column) = error.lineAndColumn(in: bytes)
            throw EgressInputError("\(path): invalid JSON: line \(line), column \(column): \(error.message)")
        }
        if let dup = duplicateField(value, path: "") { throw fail(dup, "duplicate field") }
        let file: FileShape
        do { file = try ValueDecoder.decode(FileShape.self, from: value) } catch {
            throw fail(error.path, error.message)
        }

        var policies: [String: ClientPolicy] = [:]
        // In file order, so the first bad policy is the one reported.
        let order: [String] = if case .object(let o)? = value["policies"] { o.keys } else { [] }
        for name in order {
            guard let p = file.policies[name] else { continue }
            let field = "policies.\(name)"
            guard isValidName(name) else { throw fail(field, "policy name must be 1-64 letters, digits, '.', '_' or '-'") }
            let mode: ClientPolicy.Mode
            switch p.mode ?? "enforce" {
            case "enforce": mode = .enforce
            case "report": mode = .report
            case let other: throw fail(field + ".mode", "unknown mode '\(other)': expected enforce or report")
            }
            func rules(_ list: [RuleShape]?, _ kind: String) throws(EgressInputError) -> [HostRule] {
                var out: [HostRule] = []
                for (i, r) in (list ?? []).enumerated() {
                    do { out.append(try HostRule(r.host, ports: r.ports)) } catch {
                        throw fail("\(field).\(kind)[\(i)]", error.message)
                    }
                }
                return out
            }
            policies[name] = ClientPolicy(name: name, mode: mode, allow: try rules(p.allow, "allow"), deny: try rules(p.deny, "deny"))
        }

        guard !file.listeners.isEmpty else { throw fail("listeners", "at least one listener is required") }
        var listeners: [Listener] = []
        var names: Set<String> = []
        for (i, l) in file.listeners.enumerated() {
            let field = "listeners[\(i)]"
            guard isValidName(l.name) else { throw fail(field + ".name", "listener name must be 1-64 letters, digits, '.', '_' or '-'") }
            guard names.insert(l.name).inserted else { throw fail(field + ".name", "listener '\(l.name)' is defined twice") }
            guard policies[l.policy] != nil else { throw fail(field + ".policy", "no policy named '\(l.policy)' in 'policies'") }
            var listener = Listener(name: l.name, policy: l.policy)
            switch (l.unix, l.tcp) {
            case (let u?, nil):
                let ub = Array(u.utf8)
                guard ub.first == UInt8(ascii: "/") else { throw fail(field + ".unix", "socket path must be absolute") }
                guard ub.count <= 107 else { throw fail(field + ".unix", "socket path is \(ub.count) bytes; a Unix socket path holds at most 107") }
                guard !ub.contains(0) else { throw fail(field + ".unix", "socket path contains a NUL byte") }
                listener.unixPath = u
                if let m = l.socketMode {
                    guard let mode = parseMode(m) else { throw fail(field + ".socket_mode", "expected octal permission bits such as \"0660\", got '\(m)'") }
                    listener.socketMode = mode
                }
            case (nil, let t?):
                guard l.socketMode == nil else { throw fail(field + ".socket_mode", "only a Unix listener has a socket mode") }
                listener.tcp = try parseLoopback(t, fail: { fail(field + ".tcp", $0) })
            case (nil, nil):
                throw fail(field, "a listener needs 'unix' (a socket path) or 'tcp' (a loopback host:port)")
            case (_?, _?):
                throw fail(field, "a listener has either 'unix' or 'tcp', not both")
            }
            listeners.append(listener)
        }
        for (i, a) in listeners.enumerated() {
            for b in listeners[..<i] where a.unixPath != nil && a.unixPath == b.unixPath {
                throw fail("listeners[\(i)].unix", "listeners '\(b.name)' and '\(a.name)' use the same socket path")
            }
            for b in listeners[..<i] {
                if let x = a.tcp, let y = b.tcp, x.host == y.host, x.port == y.port {
                    throw fail("listeners[\(i)].tcp", "listeners '\(b.name)' and '\(a.name)' use the same address")
                }
            }
        }

        var tokens: [Token] = []
        for (i, t) in (file.tokens ?? []).enumerated() {
            let field = "tokens[\(i)]"
            guard let digest = parseHex32(t.sha256) else {
                throw fail(field + ".sha256", "expected the 64 hex digits of the token's SHA-256 (e.g. from 'printf %s TOKEN | sha256sum')")
            }
            guard !tokens.contains(where: { $0.sha256 == digest }) else { throw fail(field + ".sha256", "the same token is listed twice") }
            guard policies[t.policy] != nil else { throw fail(field + ".policy", "no policy named '\(t.policy)' in 'policies'") }
            if let n = t.name, !isValidName(n) { throw fail(field + ".name", "token name must be 1-64 letters, digits, '.', '_' or '-'") }
            let hex = digest.prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            tokens.append(Token(name: t.name ?? "token:" + hex, sha256: digest, policy: t.policy))
        }

        var limits = Limits.defaults
        if let l = file.limits {
            func int(_ v: Int?, _ key: String, _ range: ClosedRange<Int>, _ dflt: Int) throws(EgressInputError) -> Int {
                guard let v else { return dflt }
                guard range.contains(v) else { throw fail("limits.\(key)", "\(v) is out of range \(range.lowerBound)-\(range.upperBound)") }
                return v
            }
            func duration(_ v: String?, _ key: String, _ range: ClosedRange<Int64>, _ dflt: Int64) throws(EgressInputError) -> Int64 {
                guard let v else { return dflt }
                let ms: Int64
                do { ms = try DurationParser.milliseconds(v) } catch { throw fail("limits.\(key)", error.description) }
                guard range.contains(ms) else {
                    throw fail("limits.\(key)", "'\(v)' is out of range \(formatMs(range.lowerBound))-\(formatMs(range.upperBound))")
                }
                return ms
            }
            limits.maxHeaderBytes = try int(l.maxHeaderBytes, "max_header_bytes", Limits.maxHeaderBytesRange, limits.maxHeaderBytes)
            limits.headerTimeoutMs = try duration(l.headerTimeout, "header_timeout", Limits.headerTimeoutRange, limits.headerTimeoutMs)
            limits.connectTimeoutMs = try duration(l.connectTimeout, "connect_timeout", Limits.connectTimeoutRange, limits.connectTimeoutMs)
            limits.idleTimeoutMs = try duration(l.idleTimeout, "idle_timeout", Limits.idleTimeoutRange, limits.idleTimeoutMs)
            limits.maxTunnels = try int(l.maxTunnels, "max_tunnels", Limits.maxTunnelsRange, limits.maxTunnels)
            limits.maxTunnelsPerClient = try int(l.maxTunnelsPerClient, "max_tunnels_per_client", 1...limits.maxTunnels,
                                                 min(limits.maxTunnelsPerClient, limits.maxTunnels))
        }
        return EgressConfig(listeners: listeners, tokens: tokens, policies: policies, limits: limits)
    }

    /// `127.0.0.1:3128` or `[::1]:3128`; only loopback addresses.
    static func parseLoopback(_ text: String, fail: (String) -> EgressInputError) throws(EgressInputError) -> (host: IPAddress, port: Int) {
        let b = Array(text.utf8)
        let hostText: String, portText: String
        if b.first == UInt8(ascii: "["), let close = b.firstIndex(of: UInt8(ascii: "]")), close + 1 < b.count, b[close + 1] == UInt8(ascii: ":") {
            hostText = String(decoding: b[1..<close], as: UTF8.self)
            portText = String(decoding: b[(close + 2)...], as: UTF8.self)
        } else if let colon = b.lastIndex(of: UInt8(ascii: ":")), !b[..<colon].contains(UInt8(ascii: ":")) {
            hostText = String(decoding: b[..<colon], as: UTF8.self)
            portText = String(decoding: b[(colon + 1)...], as: UTF8.self)
        } else {
            throw fail("expected a loopback address and port such as \"127.0.0.1:3128\" or \"[::1]:3128\", got '\(text)'")
        }
        guard let host = IPAddress(hostText) else {
            throw fail("'\(hostText)' is not an IP address: a TCP listener takes a loopback address such as 127.0.0.1 or [::1]")
        }
        let loopback = CIDR(address: .v4(0x7f00_0000), prefixLength: 8).contains(host) || host == IPAddress("::1")
        guard loopback else {
            throw fail("\(host) is not a loopback address: osmoda-egress listens only on 127.0.0.0/8, ::1 or a Unix socket, so that nothing off this host can use it")
        }
        let port: Int
        do { port = try HostParser.parsePort(portText) } catch {
            throw fail("port must be a decimal number 1-65535, got '\(portText)'")
        }
        return (host, port)
    }

    static func isValidName(_ s: String) -> Bool {
        let b = s.utf8
        return !b.isEmpty && b.count <= 64 && b.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }

    static func parseMode(_ s: String) -> UInt32? {
        let b = Array(s.utf8)
        guard (3...4).contains(b.count), b.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) else { return nil }
        let v = b.reduce(UInt32(0)) { $0 * 8 + UInt32($1 - 0x30) }
        return v <= 0o777 ? v : nil
    }

    static func parseHex32(_ s: String) -> [UInt8]? {
        let b = Array(s.utf8)
        guard b.count == 64 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = IPText.hexValue(b[i]), let lo = IPText.hexValue(b[i + 1]) else { return nil }
            out.append(UInt8(hi << 4 | lo))
        }
        return out
    }

    static func formatMs(_ ms: Int64) -> String {
        if ms % 86_400_000 == 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }

    /// The path of the first object member whose key appeared earlier in the same object.
    static func duplicateField(_ v: JSONValue, path: String) -> String? {
        switch v {
        case .object(let o):
            var seen: Set<String> = []
            for m in o.members {
                let p = path.isEmpty ? m.key : path + "." + m.key
                if !seen.insert(m.key).inserted { return p }
                if let d = duplicateField(m.value, path: p) { return d }
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let d = duplicateField(item, path: "\(path)[\(i)]") { return d }
            }
        default: break
        }
        return nil
    }

    // The file's shape, as the decoder sees it (snake_case keys as in the file).
    struct FileShape: Decodable {
        var listeners: [ListenerShape]
        var tokens: [TokenShape]?
        var policies: [String: PolicyShape]
        var limits: LimitsShape?
    }
    struct ListenerShape: Decodable {
        var name: String
        var unix: String?
        var tcp: String?
        var policy: String
        var socketMode: String?
        enum CodingKeys: String, CodingKey { case name, unix, tcp, policy, socketMode = "socket_mode" }
    }
    struct TokenShape: Decodable {
        var name: String?
        var sha256: String
        var policy: String
    }
    struct PolicyShape: Decodable {
        var mode: String?
        var allow: [RuleShape]?
        var deny: [RuleShape]?
    }
    struct RuleShape: Decodable {
        var host: String
        var ports: [Int]?
    }
    struct LimitsShape: Decodable {
        var maxHeaderBytes: Int?
        var headerTimeout: String?
        var connectTimeout: String?
        var idleTimeout: String?
        var maxTunnels: Int?
        var maxTunnelsPerClient: Int?
        enum CodingKeys: String, CodingKey {
            case maxHeaderBytes = "max_header_bytes", headerTimeout = "header_timeout", connectTimeout = "connect_timeout"
            case idleTimeout = "idle_timeout", maxTunnels = "max_tunnels", maxTunnelsPerClient = "max_tunnels_per_client"
        }
    }
}
