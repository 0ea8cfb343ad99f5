/// Classifies the addresses a request would connect to: only global unicast passes.
///
/// The order of the checks, and why:
/// 1. The proxy's own listening addresses (`address:self`), first, so that not even the
///    test-only `extraAllowed` ranges let a client loop the proxy into itself.
/// 2. `extraAllowed` (the dangerous `--allow-internal-for-testing` CIDRs) admit what they
///    name, nothing else.
/// 3. Every special-purpose range in the IANA IPv4 and IPv6 special-purpose registries
///    that is not globally reachable, plus the ones that embed an IPv4 address (mapped,
///    compatible, NAT64, 6to4, Teredo) — the longest matching prefix names the rule.
/// 4. IPv6 outside 2000::/3, the only range IANA allocates as global unicast.
public struct AddressPolicy: Sendable {
    public let extraAllowed: [CIDR]
    public let selfAddresses: [(IPAddress, Int)]

    /// `extraAllowed`: the test-only CIDRs admitted although internal. `selfAddresses`:
    /// the proxy's own listening addresses and ports; an unspecified address (a
    /// `0.0.0.0` or `::` bind) stands for every address of its family on that port.
    public init(extraAllowed: [CIDR] = [], selfAddresses: [(IPAddress, Int)] = []) {
        self.extraAllowed = extraAllowed
        self.selfAddresses = selfAddresses
    }

    /// nil if `a` may be connected to on `port`; otherwise the refusal (verdict `deny`,
    /// rule `address:self` or `address:<category>(<range>)`).
    public func refusal(of a: IPAddress, port: Int) -> EgressDecision? {
        if isSelf(a, port: port) {
            return EgressDecision(verdict: .deny, rule: "address:self",
                                  reason: "\(a) port \(port) is the proxy's own listening address")
        }
        if extraAllowed.contains(where: { $0.contains(a) }) { return nil }
        guard let range = AddressPolicy.specialRange(containing: a) else { return nil }
        var reason = range.category == "not_global_unicast"
            ? "\(a) is \(range.title) (\(range.source))"
            : "\(a) is in \(range.ruleRange) (\(range.title), \(range.source))"
        if let v4 = AddressPolicy.embeddedIPv4(a, range: range) { reason += ", which embeds \(IPText.dottedQuad(v4))" }
        return EgressDecision(verdict: .deny, rule: "address:\(range.category)(\(range.ruleRange))", reason: reason)
    }

    /// The check for every address a name resolved to: nil only if each one passes.
    /// One refused address refuses them all (a mixed answer is how DNS rebinding and
    /// split-horizon tricks look); no address at all is refused too.
    public func refusal(of addresses: [IPAddress], port: Int) -> EgressDecision? {
        guard !addresses.isEmpty else {
            return EgressDecision(verdict: .deny, rule: "address:none", reason: "the name resolved to no address")
        }
        for a in addresses {
            if var d = refusal(of: a, port: port) {
                if addresses.count > 1 { d.reason += " (one of \(addresses.count) addresses; all refused)" }
                return d
            }
        }
        return nil
    }

    func isSelf(_ raw: IPAddress, port: Int) -> Bool {
        let a = AddressPolicy.unmapped(raw)
        for (rawSelf, selfPort) in selfAddresses where selfPort == port {
            let s = AddressPolicy.unmapped(rawSelf)
            if s == a { return true }
            // Connecting to 0.0.0.0 or :: reaches the local host.
            if a.isUnspecified { return true }
            if s.isUnspecified {
                if s.isIPv4 == a.isIPv4 { return true }
                if !s.isIPv4 { return true }  // a dual-stack '::' bind takes IPv4 too
            }
        }
        return false
    }

    /// `::ffff:a.b.c.d` as the IPv4 address it is; anything else unchanged.
    static func unmapped(_ a: IPAddress) -> IPAddress {
        guard case .v6(let b) = a, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff else { return a }
        return .v4(UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15]))
    }

    /// The IPv4 address an IPv6 transition address carries, for the reason text.
    static func embeddedIPv4(_ a: IPAddress, range: SpecialRange) -> UInt32? {
        guard case .v6(let b) = a else { return nil }
        func word(_ i: Int) -> UInt32 { UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3]) }
        switch range.category {
        case "ipv4_mapped", "ipv4_compatible", "ipv4_translated", "nat64": return word(12)
        case "6to4": return word(2)
        case "teredo": return ~word(12)  // the client address, stored inverted (RFC 4380)
        default: return nil
        }
    }

    /// A special-purpose range: where it comes from and what it is called in rules.
    struct SpecialRange: Sendable {
        var cidr: CIDR
        var category: String
        var title: String
        var source: String
        /// The text in the rule name: the range as the registries write it (`::ffff:0:0/96`),
        /// or for the catch-all what it is outside of.
        var ruleRange: String
    }

    static func range(_ text: String, _ category: String, _ title: String, _ source: String) -> SpecialRange {
        // The table is written here and tested; a typo is a programming error.
        guard let cidr = CIDR(text) else { fatalError("bad special-purpose range \(text)") }
        return SpecialRange(cidr: cidr, category: category, title: title, source: source, ruleRange: text)
    }

    /// The refused ranges, from the IANA IPv4 and IPv6 special-purpose address registries
    /// (entries whose "globally reachable" is false or N/A) and RFC 6890, plus multicast,
    /// the reserved 240/4 and the IPv4-embedding IPv6 prefixes. Sorted longest prefix
    /// first so the first match is the most specific.
    static let specialRanges: [SpecialRange] = {
        let table: [SpecialRange] = [
            // IPv4
            range("0.0.0.0/32", "unspecified", "the unspecified address", "RFC 1122"),
            range("0.0.0.0/8", "this_network", "\"this network\"", "RFC 791"),
            range("10.0.0.0/8", "private", "private use", "RFC 1918"),
            range("100.64.0.0/10", "cgnat", "shared address space, carrier-grade NAT", "RFC 6598"),
            range("127.0.0.0/8", "loopback", "loopback", "RFC 1122"),
            range("169.254.0.0/16", "link_local", "link local, where cloud metadata services live", "RFC 3927"),
            range("172.16.0.0/12", "private", "private use", "RFC 1918"),
            range("192.0.0.0/24", "ietf_protocol", "IETF protocol assignments", "RFC 6890"),
            range("192.0.2.0/24", "documentation", "documentation, TEST-NET-1", "RFC 5737"),
            range("192.88.99.0/24", "6to4_relay", "deprecated 6to4 relay anycast", "RFC 7526"),
            range("192.168.0.0/16", "private", "private use", "RFC 1918"),
            range("198.18.0.0/15", "benchmarking", "benchmarking", "RFC 2544"),
            range("198.51.100.0/24", "documentation", "documentation, TEST-NET-2", "RFC 5737"),
            range("203.0.113.0/24", "documentation", "documentation, TEST-NET-3", "RFC 5737"),
            range("224.0.0.0/4", "multicast", "multicast", "RFC 5771"),
            range("240.0.0.0/4", "reserved", "reserved for future use", "RFC 1112"),
            range("255.255.255.255/32", "broadcast", "limited broadcast", "RFC 919"),
            // IPv6
            range("::/128", "unspecified", "the unspecified address", "RFC 4291"),
            range("::1/128", "loopback", "loopback", "RFC 4291"),
            range("::ffff:0:0/96", "ipv4_mapped", "IPv4-mapped", "RFC 4291"),
            range("::/96", "ipv4_compatible", "deprecated IPv4-compatible", "RFC 4291"),
            range("::ffff:0:0:0/96", "ipv4_translated", "IPv4-translated", "RFC 2765"),
            range("64:ff9b::/96", "nat64", "NAT64 well-known prefix", "RFC 6052"),
            range("64:ff9b:1::/48", "nat64", "NAT64 local-use prefix", "RFC 8215"),
            range("100::/64", "discard", "discard-only", "RFC 6666"),
            range("100:0:0:1::/64", "dummy", "dummy IPv6 prefix", "RFC 9780"),
            range("2001::/23", "ietf_protocol", "IETF protocol assignments", "RFC 2928"),
            range("2001::/32", "teredo", "Teredo", "RFC 4380"),
            range("2001:2::/48", "benchmarking", "benchmarking", "RFC 5180"),
            range("2001:10::/28", "orchid", "deprecated ORCHID", "RFC 4843"),
            range("2001:20::/28", "orchid", "ORCHIDv2", "RFC 7343"),
            range("2001:db8::/32", "documentation", "documentation", "RFC 3849"),
            range("2002::/16", "6to4", "6to4", "RFC 3056"),
            range("3fff::/20", "documentation", "documentation", "RFC 9637"),
            range("5f00::/16", "srv6_sid", "segment routing (SRv6) SIDs", "RFC 9602"),
            range("fc00::/7", "unique_local", "unique local", "RFC 4193"),
            range("fe80::/10", "link_local", "link-local unicast", "RFC 4291"),
            range("fec0::/10", "site_local", "deprecated site-local", "RFC 3879"),
            range("ff00::/8", "multicast", "multicast", "RFC 4291"),
        ]
        return table.sorted { $0.cidr.prefixLength > $1.cidr.prefixLength }
    }()

    static let globalUnicastV6 = range("2000::/3", "global_unicast", "", "")

    /// The most specific refused range holding `a`, or nil for a global unicast address.
    static func specialRange(containing a: IPAddress) -> SpecialRange? {
        if let r = specialRanges.first(where: { $0.cidr.contains(a) }) { return r }
        if case .v6 = a, !globalUnicastV6.cidr.contains(a) {
            return SpecialRange(cidr: globalUnicastV6.cidr, category: "not_global_unicast",
                                title: "outside 2000::/3, the IPv6 global unicast space", source: "RFC 4291",
                                ruleRange: "outside 2000::/3")
        }
        return nil
    }
}
