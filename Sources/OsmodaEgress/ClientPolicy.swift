/// One allow or deny entry: a host pattern and the ports it covers.
public struct HostRule: Sendable, Equatable, CustomStringConvertible {
    public enum Pattern: Sendable, Equatable {
        /// Exactly this name.
        case exact(String)
        /// `*.suffix`: any name with at least one more label in front of `suffix`, never
        /// `suffix` itself (as smokescreen's globs).
        case subdomains(of: String)
        /// This IP literal, in whatever notation the request wrote it.
        case address(IPAddress)
    }

    public var pattern: Pattern
    /// nil: every port.
    public var ports: [Int]?

    /// Parses a pattern: `api.github.com`, `*.pythonhosted.org`, `203.0.113.7`, `[2001:db8::1]`.
    /// Names are normalised as request hosts are (case, one trailing dot). A wildcard is
    /// `*.` followed by a name of at least two labels; `*`, `*.com`, `a*.b`, `*.*.b` are refused.
    public init(_ text: String, ports: [Int]?) throws(EgressInputError) {
        self.ports = ports
        if let p = ports {
            guard !p.isEmpty else { throw EgressInputError("'ports' is empty: leave it out for the default") }
            for port in p where !(1...65535).contains(port) {
                throw EgressInputError("port \(port) is out of range 1-65535")
            }
        }
        let b = Array(text.utf8)
        if b.starts(with: Array("*.".utf8)) {
            let rest = String(decoding: b.dropFirst(2), as: UTF8.self)
            guard !rest.utf8.contains(UInt8(ascii: "*")) else {
                throw EgressInputError("pattern \(HostParser.quoted(b)): '*' is allowed only once, as the whole first label")
            }
            let host: RequestHost
            do { host = try HostParser.parse(rest) } catch {
                throw EgressInputError("pattern \(HostParser.quoted(b)): \(error.message)")
            }
            guard case .name(let suffix) = host else {
                throw EgressInputError("pattern \(HostParser.quoted(b)): a wildcard cannot stand in front of an IP address")
            }
            guard suffix.utf8.contains(UInt8(ascii: ".")) else {
                throw EgressInputError("pattern \(HostParser.quoted(b)) would match a whole top-level domain: name at least two labels after '*.'")
            }
            pattern = .subdomains(of: suffix)
            return
        }
        guard !b.contains(UInt8(ascii: "*")) else {
            throw EgressInputError("pattern \(HostParser.quoted(b)): '*' is allowed only as '*.' at the start")
        }
        let host: RequestHost
        do { host = try HostParser.parse(text) } catch {
            throw EgressInputError("pattern \(HostParser.quoted(b)): \(error.message)")
        }
        switch host {
        case .name(let n): pattern = .exact(n)
        case .address(let a): pattern = .address(a)
        }
    }

    /// The pattern as the rule name shows it: `api.github.com`, `*.github.com`, `203.0.113.7`.
    public var description: String {
        switch pattern {
        case .exact(let n): return n
        case .subdomains(let s): return "*." + s
        case .address(let a): return a.description
        }
    }

    /// Whether the rule covers `host`, ports aside. Names never match addresses.
    public func matches(_ host: RequestHost) -> Bool {
        switch (pattern, host) {
        case (.exact(let n), .name(let h)): return n == h
        case (.subdomains(let s), .name(let h)):
            // "." + suffix must end the name, with at least one byte before the dot.
            let hu = h.utf8, su = s.utf8
            guard hu.count > su.count + 1 else { return false }
            let dot = hu.index(hu.endIndex, offsetBy: -(su.count + 1))
            return hu[dot] == UInt8(ascii: ".") && hu[hu.index(after: dot)...].elementsEqual(su)
        case (.address(let a), .address(let h)): return a == h
        default: return false
        }
    }

    /// Whether the rule covers `port`; `defaultPorts` apply when the rule names none.
    public func covers(port: Int, defaultPorts: [Int]?) -> Bool {
        guard let p = ports ?? defaultPorts else { return true }
        return p.contains(port)
    }

    /// Exact names and addresses outrank wildcards; a longer suffix outranks a shorter one.
    var specificity: Int {
        switch pattern {
        case .exact, .address: return Int.max
        case .subdomains(let s): return s.utf8.count
        }
    }
}

/// What one client may reach: allow and deny lists and a mode.
///
/// Precedence, in order: a matching deny rule refuses (deny beats allow, whatever the
/// order in the file); then a matching allow rule whose ports include the request's
/// allows; anything else is refused (`default_deny`). Allow rules cover port 443 unless
/// they list ports; deny rules cover every port unless they list ports — an allow should
/// be as narrow as possible, a deny as wide.
public struct ClientPolicy: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Refusals refuse.
        case enforce
        /// Refusals are let through and recorded with verdict `report`.
        case report
    }

    public static let defaultAllowPorts = [443]

    public var name: String
    public var mode: Mode
    public var allow: [HostRule]
    public var deny: [HostRule]

    public init(name: String, mode: Mode = .enforce, allow: [HostRule] = [], deny: [HostRule] = []) {
        self.name = name
        self.mode = mode
        self.allow = allow
        self.deny = deny
    }

    /// The host/port rule decision. In report mode a deny becomes verdict `report`.
    /// Address checks (`AddressPolicy`) come after this and are not affected by the mode.
    public func decide(host: RequestHost, port: Int) -> EgressDecision {
        let d = enforcedDecision(host: host, port: port)
        guard d.verdict == .deny, mode == .report else { return d }
        return EgressDecision(verdict: .report, rule: d.rule, reason: "report mode, would deny: " + d.reason)
    }

    func enforcedDecision(host: RequestHost, port: Int) -> EgressDecision {
        if let r = mostSpecific(deny, where: { $0.matches(host) && $0.covers(port: port, defaultPorts: nil) }) {
            return EgressDecision(verdict: .deny, rule: "deny:\(r)",
                                  reason: "\(host) port \(port) matches deny rule '\(r)' of policy '\(name)'")
        }
        if let r = mostSpecific(allow, where: { $0.matches(host) && $0.covers(port: port, defaultPorts: Self.defaultAllowPorts) }) {
            return EgressDecision(verdict: .allow, rule: "allow:\(r)",
                                  reason: "\(host) port \(port) matches allow rule '\(r)' of policy '\(name)'")
        }
        if let r = mostSpecific(allow, where: { $0.matches(host) }) {
            let ports = (r.ports ?? Self.defaultAllowPorts).map(String.init).joined(separator: ", ")
            return EgressDecision(verdict: .deny, rule: "default_deny",
                                  reason: "port \(port) is not allowed for \(host): allow rule '\(r)' of policy '\(name)' allows port \(ports)")
        }
        return EgressDecision(verdict: .deny, rule: "default_deny",
                              reason: "\(host) matches no allow rule of policy '\(name)'")
    }

    /// The most specific rule satisfying `test`; the first one on a tie.
    private func mostSpecific(_ rules: [HostRule], where test: (HostRule) -> Bool) -> HostRule? {
        var best: HostRule? = nil
        for r in rules where test(r) {
            if let b = best, b.specificity >= r.specificity { continue }
            best = r
        }
        return best
    }
}
