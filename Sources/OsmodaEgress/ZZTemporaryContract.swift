// TEMPORARY stand-in for egress-policy's API (contract-egress.md), removed when the
// branch egress-policy is merged. Minimal, not the policy.
import OsmodaCore

public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])
    public init?(_ text: String) {
        if text.contains(":") {
            guard let b = IPAddress.parse6(text) else { return nil }
            self = .v6(b)
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var v: UInt32 = 0
            for p in parts { guard let n = UInt32(p), n < 256, String(n) == p else { return nil }; v = v << 8 | n }
            self = .v4(v)
        }
    }
    static func parse6(_ t: String) -> [UInt8]? {
        let halves = t.components2("::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard let n = UInt16(g, radix: 16), g.count <= 4 else { return nil }
                out.append(n)
            }
            return out
        }
        guard let a = groups(halves[0]) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let b = groups(halves[1]), a.count + b.count < 8 else { return nil }
            all = a + Array(repeating: 0, count: 8 - a.count - b.count) + b
        } else { all = a; guard all.count == 8 else { return nil } }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
    public var description: String {
        switch self {
        case .v4(let v): return "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
        case .v6(let b): return stride(from: 0, to: 16, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }.joined(separator: ":")
        }
    }
}

extension String {
    func components2(_ sep: String) -> [Substring] {
        var out: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: sep) { out.append(rest[..<r.lowerBound]); rest = rest[r.upperBound...] }
        out.append(rest)
        return out
    }
}

public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    let base: IPAddress
    let bits: Int
    public init?(_ text: String) {
        let p = text.split(separator: "/")
        guard p.count == 2, let a = IPAddress(String(p[0])), let n = Int(p[1]) else { return nil }
        base = a; bits = n
    }
    public func contains(_ a: IPAddress) -> Bool {
        switch (base, a) {
        case (.v4(let b), .v4(let x)): return bits == 0 || (b >> (32 - UInt32(bits))) == (x >> (32 - UInt32(bits)))
        case (.v6(let b), .v6(let x)):
            for i in 0..<bits where (b[i / 8] >> (7 - UInt8(i % 8))) & 1 != (x[i / 8] >> (7 - UInt8(i % 8))) & 1 { return false }
            return true
        default: return false
        }
    }
    public var description: String { "\(base)/\(bits)" }
}

public enum RequestHost: Hashable, Sendable {
    case name(String)
    case address(IPAddress)
}

public struct EgressInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

public enum HostParser {
    public static func parse(_ host: String) throws(EgressInputError) -> RequestHost {
        if host.hasPrefix("[") && host.hasSuffix("]") {
            guard let a = IPAddress(String(host.dropFirst().dropLast())) else { throw EgressInputError("bad IPv6 literal") }
            return .address(a)
        }
        if let a = IPAddress(host) { return .address(a) }
        if let n = UInt32(host) { return .address(.v4(n)) }
        let lower = host.lowercased()
        let name = lower.hasSuffix(".") ? String(lower.dropLast()) : lower
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }) else {
            throw EgressInputError("'\(host)' is not a host name")
        }
        return .name(name)
    }
    public static func parseAuthority(_ authority: String) throws(EgressInputError) -> (host: RequestHost, port: Int) {
        guard let colon = authority.lastIndex(of: ":") else { throw EgressInputError("no port") }
        guard let port = Int(authority[authority.index(after: colon)...]), port >= 1, port <= 65535 else { throw EgressInputError("bad port") }
        return (try parse(String(authority[..<colon])), port)
    }
}

public struct AddressPolicy: Sendable {
    let extra: [CIDR]
    let selfs: [(IPAddress, Int)]
    public init(extraAllowed: [CIDR] = [], selfAddresses: [(IPAddress, Int)] = []) { extra = extraAllowed; selfs = selfAddresses }
    public func refusal(of a: IPAddress, port: Int) -> EgressDecision? {
        if selfs.contains(where: { $0.0 == a && $0.1 == port }) { return EgressDecision(verdict: .deny, rule: "address:self", reason: "the proxy itself") }
        if extra.contains(where: { $0.contains(a) }) { return nil }
        for c in ["0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fe80::/10"] {
            if CIDR(c)!.contains(a) { return EgressDecision(verdict: .deny, rule: "address:private(\(c))", reason: "\(a) is internal") }
        }
        return nil
    }
}

public struct ClientPolicy: Sendable {
    public enum Mode: String, Sendable { case enforce, report }
    public var name: String
    public var mode: Mode
    var allow: [String]
    public func decide(host: RequestHost, port: Int) -> EgressDecision {
        let h: String
        switch host { case .name(let n): h = n; case .address(let a): h = a.description }
        if allow.contains(h) || allow.contains("*") { return EgressDecision(verdict: .allow, rule: "allow:\(h)", reason: "allowed") }
        return EgressDecision(verdict: mode == .report ? .report : .deny, rule: "default_deny", reason: "\(h) is not allowed")
    }
}

public struct EgressConfig: Sendable {
    public struct Listener: Sendable { public var name: String; public var unixPath: String?; public var tcp: (host: IPAddress, port: Int)?; public var policy: String; public var socketMode: UInt32? }
    public struct Limits: Sendable { public var maxHeaderBytes: Int; public var headerTimeoutMs: Int64; public var connectTimeoutMs: Int64; public var idleTimeoutMs: Int64; public var maxTunnels: Int; public var maxTunnelsPerClient: Int }
    public var listeners: [Listener]
    public var limits: Limits
    var policies: [String: ClientPolicy]
    var tokens: [String: String]
    public static func parse(_ bytes: [UInt8], path: String) throws(EgressInputError) -> EgressConfig {
        guard case .object(let o)? = try? JSONReader.parse(bytes) else { throw EgressInputError("\(path): not a JSON object") }
        var ls: [Listener] = []
        if case .array(let a)? = o["listeners"] {
            for case .object(let l) in a {
                guard case .string(let n)? = l["name"], case .string(let p)? = l["policy"] else { throw EgressInputError("\(path): listener") }
                var tcp: (IPAddress, Int)?
                if case .string(let t)? = l["tcp"], let c = t.lastIndex(of: ":"), let a = IPAddress(String(t[..<c])), let port = Int(t[t.index(after: c)...]) { tcp = (a, port) }
                var unix: String?
                if case .string(let u)? = l["unix"] { unix = u }
                ls.append(Listener(name: n, unixPath: unix, tcp: tcp, policy: p, socketMode: nil))
            }
        }
        var ps: [String: ClientPolicy] = [:]
        if case .object(let po)? = o["policies"] {
            for m in po.members { let k = m.key; let v = m.value
                guard case .object(let p) = v else { continue }
                var allow: [String] = []
                if case .array(let a)? = p["allow"] { for case .object(let r) in a { if case .string(let h)? = r["host"] { allow.append(h) } } }
                var mode = ClientPolicy.Mode.enforce
                if case .string("report")? = p["mode"] { mode = .report }
                ps[k] = ClientPolicy(name: k, mode: mode, allow: allow)
            }
        }
        var ts: [String: String] = [:]
        if case .array(let a)? = o["tokens"] { for case .object(let t) in a { if case .string(let h)? = t["token_plain"], case .string(let p)? = t["policy"] { ts[h] = p } } }
        var limits = Limits(maxHeaderBytes: 16384, headerTimeoutMs: 10_000, connectTimeoutMs: 10_000, idleTimeoutMs: 300_000, maxTunnels: 2048, maxTunnelsPerClient: 256)
        if case .object(let l)? = o["limits"] {
            if case .int(let v)? = l["max_header_bytes"] { limits.maxHeaderBytes = Int(v) }
            if case .int(let v)? = l["max_tunnels"] { limits.maxTunnels = Int(v) }
            if case .int(let v)? = l["max_tunnels_per_client"] { limits.maxTunnelsPerClient = Int(v) }
            if case .string(let v)? = l["header_timeout"], let ms = try? DurationParser.milliseconds(v) { limits.headerTimeoutMs = ms }
            if case .string(let v)? = l["idle_timeout"], let ms = try? DurationParser.milliseconds(v) { limits.idleTimeoutMs = ms }
            if case .string(let v)? = l["connect_timeout"], let ms = try? DurationParser.milliseconds(v) { limits.connectTimeoutMs = ms }
        }
        return EgressConfig(listeners: ls, limits: limits, policies: ps, tokens: ts)
    }
    public func policy(named: String) -> ClientPolicy? { policies[named] }
    public func policy(forToken token: [UInt8]) -> ClientPolicy? { tokens[String(decoding: token, as: UTF8.self)].flatMap { policies[$0] } }
}
