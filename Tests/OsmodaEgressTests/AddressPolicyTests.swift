import OsmodaEgress
import OsmodaTestSupport
import Testing

@Suite struct AddressPolicyTests {
    let policy = AddressPolicy()

    func ip(_ s: String) -> IPAddress {
        guard let a = IPAddress(s) else { fatalError("bad test address \(s)") }
        return a
    }

    /// Every refused range and the rule it is refused under, written out here rather than
    /// read from the implementation's table.
    static let refused: [(String, String)] = [
        ("0.0.0.0/8", "address:this_network(0.0.0.0/8)"),
        ("10.0.0.0/8", "address:private(10.0.0.0/8)"),
        ("100.64.0.0/10", "address:cgnat(100.64.0.0/10)"),
        ("127.0.0.0/8", "address:loopback(127.0.0.0/8)"),
        ("169.254.0.0/16", "address:link_local(169.254.0.0/16)"),
        ("172.16.0.0/12", "address:private(172.16.0.0/12)"),
        ("192.0.0.0/24", "address:ietf_protocol(192.0.0.0/24)"),
        ("192.0.2.0/24", "address:documentation(192.0.2.0/24)"),
        ("192.88.99.0/24", "address:6to4_relay(192.88.99.0/24)"),
        ("192.168.0.0/16", "address:private(192.168.0.0/16)"),
        ("198.18.0.0/15", "address:benchmarking(198.18.0.0/15)"),
        ("198.51.100.0/24", "address:documentation(198.51.100.0/24)"),
        ("203.0.113.0/24", "address:documentation(203.0.113.0/24)"),
        ("224.0.0.0/4", "address:multicast(224.0.0.0/4)"),
        ("255.255.255.255/32", "address:broadcast(255.255.255.255/32)"),
        ("::/128", "address:unspecified(::/128)"),
        ("::1/128", "address:loopback(::1/128)"),
        ("::ffff:0:0/96", "address:ipv4_mapped(::ffff:0:0/96)"),
        ("::ffff:0:0:0/96", "address:ipv4_translated(::ffff:0:0:0/96)"),
        ("64:ff9b::/96", "address:nat64(64:ff9b::/96)"),
        ("64:ff9b:1::/48", "address:nat64(64:ff9b:1::/48)"),
        ("100::/64", "address:discard(100::/64)"),
        ("100:0:0:1::/64", "address:dummy(100:0:0:1::/64)"),
        ("2001::/32", "address:teredo(2001::/32)"),
        ("2001:2::/48", "address:benchmarking(2001:2::/48)"),
        ("2001:10::/28", "address:orchid(2001:10::/28)"),
        ("2001:20::/28", "address:orchid(2001:20::/28)"),
        ("2001:db8::/32", "address:documentation(2001:db8::/32)"),
        ("2002::/16", "address:6to4(2002::/16)"),
        ("3fff::/20", "address:documentation(3fff::/20)"),
        ("5f00::/16", "address:srv6_sid(5f00::/16)"),
        ("fc00::/7", "address:unique_local(fc00::/7)"),
        ("fe80::/10", "address:link_local(fe80::/10)"),
        ("fec0::/10", "address:site_local(fec0::/10)"),
        ("ff00::/8", "address:multicast(ff00::/8)"),
    ]

    @Test func everyRangeIsRefusedFromFirstToLastAddress() throws {
        for (text, rule) in Self.refused {
            let cidr = try #require(CIDR(text), "\(text)")
            // 0.0.0.0 itself is refused as the unspecified address, tested below.
            let first = text == "0.0.0.0/8" ? IPAddress.v4(1) : cidr.address
            for a in [first, Self.last(of: cidr), Self.middle(of: cidr)] {
                #expect(policy.refusal(of: a, port: 443)?.rule == rule, "\(a) in \(text)")
                #expect(policy.refusal(of: a, port: 443)?.verdict == .deny)
            }
            // Just outside: never refused under this range's rule (a neighbouring range may
            // refuse it under its own).
            if let before = Self.step(cidr.address, by: -1) {
                #expect(policy.refusal(of: before, port: 443)?.rule != rule, "\(before) before \(text)")
            }
            if let after = Self.step(Self.last(of: cidr), by: 1) {
                #expect(policy.refusal(of: after, port: 443)?.rule != rule, "\(after) after \(text)")
            }
        }
    }

    @Test func rangesThatHoldAMoreSpecificOne() {
        #expect(policy.refusal(of: ip("0.0.0.0"), port: 443)?.rule == "address:unspecified(0.0.0.0/32)")
        #expect(policy.refusal(of: ip("0.0.0.1"), port: 443)?.rule == "address:this_network(0.0.0.0/8)")
        #expect(policy.refusal(of: ip("239.255.255.255"), port: 443)?.rule == "address:multicast(224.0.0.0/4)")
        #expect(policy.refusal(of: ip("240.0.0.0"), port: 443)?.rule == "address:reserved(240.0.0.0/4)")
        #expect(policy.refusal(of: ip("255.255.255.254"), port: 443)?.rule == "address:reserved(240.0.0.0/4)")
        #expect(policy.refusal(of: ip("255.255.255.255"), port: 443)?.rule == "address:broadcast(255.255.255.255/32)")
    }

    @Test func ipv4CompatibleRangeBetweenTheSpecialAddresses() {
        #expect(policy.refusal(of: ip("::2"), port: 443)?.rule == "address:ipv4_compatible(::/96)")
        #expect(policy.refusal(of: ip("::127.0.0.1"), port: 443)?.rule == "address:ipv4_compatible(::/96)")
        #expect(policy.refusal(of: ip("::255.255.255.255"), port: 443)?.rule == "address:ipv4_compatible(::/96)")
        #expect(policy.refusal(of: ip("::1:0:0"), port: 443)?.rule == "address:not_global_unicast(outside 2000::/3)")
    }

    @Test func theIETFProtocolBlockAroundItsSubranges() {
        #expect(policy.refusal(of: ip("2001:1::1"), port: 443)?.rule == "address:ietf_protocol(2001::/23)")
        #expect(policy.refusal(of: ip("2001:3::1"), port: 443)?.rule == "address:ietf_protocol(2001::/23)")
        #expect(policy.refusal(of: ip("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"), port: 443)?.rule == "address:ietf_protocol(2001::/23)")
        #expect(policy.refusal(of: ip("2001:200::"), port: 443) == nil)
    }

    /// Addresses right next to refused ranges, and well-known public ones: allowed.
    @Test(arguments: [
        "1.0.0.0", "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
        "191.255.255.255", "192.0.1.0", "192.0.3.0", "192.88.98.255", "192.88.100.0", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0", "203.0.112.255",
        "203.0.114.0", "223.255.255.255",
        "2000::", "2001:200::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "2001:4860:4860::8888",
        "2003::", "2606:4700:4700::1111", "2a00:1450:4001::1", "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::",
        "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ])
    func globalUnicastPasses(_ text: String) {
        #expect(policy.refusal(of: ip(text), port: 443) == nil)
    }

    /// IPv6 outside 2000::/3 and not in a named range: refused by the catch-all.
    @Test(arguments: ["::1:0:0", "1::", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "5eff::1", "8000::", "e000::", "fbff::1"])
    func ipv6OutsideGlobalUnicastIsRefused(_ text: String) {
        let d = policy.refusal(of: ip(text), port: 443)
        #expect(d?.rule == "address:not_global_unicast(outside 2000::/3)")
        #expect(d?.reason == "\(ip(text)) is outside 2000::/3, the IPv6 global unicast space (RFC 4291)")
    }

    @Test func reasonsNameTheRangeAndTheEmbeddedAddress() {
        #expect(policy.refusal(of: ip("169.254.169.254"), port: 80)?.reason
            == "169.254.169.254 is in 169.254.0.0/16 (link local, where cloud metadata services live, RFC 3927)")
        #expect(policy.refusal(of: ip("::ffff:169.254.169.254"), port: 80)?.reason
            == "::ffff:169.254.169.254 is in ::ffff:0:0/96 (IPv4-mapped, RFC 4291), which embeds 169.254.169.254")
        #expect(policy.refusal(of: ip("64:ff9b::a9fe:a9fe"), port: 80)?.reason
            == "64:ff9b::a9fe:a9fe is in 64:ff9b::/96 (NAT64 well-known prefix, RFC 6052), which embeds 169.254.169.254")
        #expect(policy.refusal(of: ip("2002:a9fe:a9fe::1"), port: 80)?.reason
            == "2002:a9fe:a9fe::1 is in 2002::/16 (6to4, RFC 3056), which embeds 169.254.169.254")
        // Teredo stores the client's address inverted.
        #expect(policy.refusal(of: ip("2001:0:4136:e378:8000:63bf:3fff:fdd2"), port: 80)?.reason
            == "2001:0:4136:e378:8000:63bf:3fff:fdd2 is in 2001::/32 (Teredo, RFC 4380), which embeds 192.0.2.45")
    }

    /// The cloud metadata endpoints of the big providers, as their addresses.
    @Test(arguments: [
        ("169.254.169.254", "address:link_local(169.254.0.0/16)"),     // AWS, GCP, Azure, DigitalOcean
        ("fd00:ec2::254", "address:unique_local(fc00::/7)"),           // AWS over IPv6
        ("100.100.100.200", "address:cgnat(100.64.0.0/10)"),           // Alibaba Cloud
        ("192.0.0.192", "address:ietf_protocol(192.0.0.0/24)"),        // Oracle Cloud
        ("169.254.170.2", "address:link_local(169.254.0.0/16)"),       // ECS task credentials
    ])
    func metadataEndpointsAreRefused(_ text: String, _ rule: String) {
        #expect(policy.refusal(of: ip(text), port: 80)?.rule == rule)
    }

    // MARK: - The proxy's own addresses

    @Test func theProxysOwnAddressIsRefusedEvenWhenInternalRangesAreAdmitted() {
        let p = AddressPolicy(extraAllowed: [CIDR("127.0.0.0/8")!, CIDR("::1/128")!],
                              selfAddresses: [(ip("127.0.0.1"), 3128), (ip("::1"), 3129)])
        #expect(p.refusal(of: ip("127.0.0.1"), port: 3128)?.rule == "address:self")
        #expect(p.refusal(of: ip("127.0.0.1"), port: 3128)?.reason == "127.0.0.1 port 3128 is the proxy's own listening address")
        #expect(p.refusal(of: ip("::1"), port: 3129)?.rule == "address:self")
        #expect(p.refusal(of: ip("::ffff:127.0.0.1"), port: 3128)?.rule == "address:self")
        // Connecting to the unspecified address reaches the local host.
        #expect(p.refusal(of: ip("0.0.0.0"), port: 3128)?.rule == "address:self")
        #expect(p.refusal(of: ip("::"), port: 3128)?.rule == "address:self")
        // Other ports of the same address, and other loopback addresses: admitted for tests.
        #expect(p.refusal(of: ip("127.0.0.1"), port: 8080) == nil)
        #expect(p.refusal(of: ip("127.0.0.2"), port: 3128) == nil)
        #expect(p.refusal(of: ip("::1"), port: 3128) == nil)
    }

    @Test func wildcardBindsStandForEveryAddressOfTheirFamily() {
        let v4 = AddressPolicy(selfAddresses: [(ip("0.0.0.0"), 3128)])
        #expect(v4.refusal(of: ip("8.8.8.8"), port: 3128)?.rule == "address:self")
        #expect(v4.refusal(of: ip("8.8.8.8"), port: 443) == nil)
        #expect(v4.refusal(of: ip("2606:4700::1"), port: 3128) == nil)
        let dual = AddressPolicy(selfAddresses: [(ip("::"), 3128)])
        #expect(dual.refusal(of: ip("2606:4700::1"), port: 3128)?.rule == "address:self")
        #expect(dual.refusal(of: ip("8.8.8.8"), port: 3128)?.rule == "address:self")
    }

    @Test func extraAllowedAdmitsOnlyWhatItNames() {
        let p = AddressPolicy(extraAllowed: [CIDR("127.0.0.0/8")!])
        #expect(p.refusal(of: ip("127.0.0.1"), port: 8080) == nil)
        #expect(p.refusal(of: ip("127.255.255.255"), port: 8080) == nil)
        #expect(p.refusal(of: ip("10.0.0.1"), port: 8080)?.rule == "address:private(10.0.0.0/8)")
        #expect(p.refusal(of: ip("::1"), port: 8080)?.rule == "address:loopback(::1/128)")
        // The mapped form of an admitted address is not admitted: families never mix.
        #expect(p.refusal(of: ip("::ffff:127.0.0.1"), port: 8080)?.rule == "address:ipv4_mapped(::ffff:0:0/96)")
    }

    // MARK: - Every address a name resolved to

    @Test func oneRefusedAddressRefusesAMixedAnswer() {
        let mixed = [ip("93.184.215.14"), ip("10.0.0.5")]
        let d = policy.refusal(of: mixed, port: 443)
        #expect(d?.rule == "address:private(10.0.0.0/8)")
        #expect(d?.reason == "10.0.0.5 is in 10.0.0.0/8 (private use, RFC 1918) (one of 2 addresses; all refused)")
        #expect(policy.refusal(of: [ip("2606:4700::1"), ip("::1")], port: 443)?.rule == "address:loopback(::1/128)")
        #expect(policy.refusal(of: [ip("93.184.215.14"), ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c")], port: 443) == nil)
        #expect(policy.refusal(of: [], port: 443)?.rule == "address:none")
    }

    // MARK: - The SSRF matrix: literals in every notation, through the host parser

    @Test(arguments: [
        ("127.0.0.1", "address:loopback(127.0.0.0/8)"), ("2130706433", "address:loopback(127.0.0.0/8)"),
        ("017700000001", "address:loopback(127.0.0.0/8)"), ("0x7f000001", "address:loopback(127.0.0.0/8)"),
        ("0177.0.0.1", "address:loopback(127.0.0.0/8)"), ("0x7f.0.0.1", "address:loopback(127.0.0.0/8)"),
        ("127.1", "address:loopback(127.0.0.0/8)"), ("127.0.1", "address:loopback(127.0.0.0/8)"),
        ("0x7f.1", "address:loopback(127.0.0.0/8)"), ("127.0.0.1.", "address:loopback(127.0.0.0/8)"),
        ("[::1]", "address:loopback(::1/128)"), ("[0:0:0:0:0:0:0:1]", "address:loopback(::1/128)"),
        ("[::ffff:127.0.0.1]", "address:ipv4_mapped(::ffff:0:0/96)"),
        ("[::ffff:7f00:1]", "address:ipv4_mapped(::ffff:0:0/96)"),
        ("[0:0:0:0:0:ffff:127.0.0.1]", "address:ipv4_mapped(::ffff:0:0/96)"),
        ("[::127.0.0.1]", "address:ipv4_compatible(::/96)"),
        ("[64:ff9b::127.0.0.1]", "address:nat64(64:ff9b::/96)"),
        ("[64:ff9b:1::a9fe:a9fe]", "address:nat64(64:ff9b:1::/48)"),
        ("[2002:7f00:1::]", "address:6to4(2002::/16)"),
        ("[2001::1]", "address:teredo(2001::/32)"),
        ("169.254.169.254", "address:link_local(169.254.0.0/16)"), ("2852039166", "address:link_local(169.254.0.0/16)"),
        ("0xa9fea9fe", "address:link_local(169.254.0.0/16)"), ("0251.0376.0251.0376", "address:link_local(169.254.0.0/16)"),
        ("169.254.43518", "address:link_local(169.254.0.0/16)"), ("0xA9.0xFE.0xA9.0xFE", "address:link_local(169.254.0.0/16)"),
        ("[::ffff:169.254.169.254]", "address:ipv4_mapped(::ffff:0:0/96)"), ("[fe80::1]", "address:link_local(fe80::/10)"),
        ("0", "address:unspecified(0.0.0.0/32)"), ("0x0", "address:unspecified(0.0.0.0/32)"),
        ("0.0.0.0", "address:unspecified(0.0.0.0/32)"), ("[::]", "address:unspecified(::/128)"),
        ("0.1.2.3", "address:this_network(0.0.0.0/8)"),
        ("10.1", "address:private(10.0.0.0/8)"), ("012.1", "address:private(10.0.0.0/8)"), ("167772161", "address:private(10.0.0.0/8)"),
        ("172.16.1", "address:private(172.16.0.0/12)"), ("0xac100001", "address:private(172.16.0.0/12)"),
        ("192.168.1", "address:private(192.168.0.0/16)"), ("0xc0a80001", "address:private(192.168.0.0/16)"),
        ("0300.0250.0.1", "address:private(192.168.0.0/16)"),
        ("100.64.1", "address:cgnat(100.64.0.0/10)"), ("100.127.255.255", "address:cgnat(100.64.0.0/10)"),
        ("192.0.0.8", "address:ietf_protocol(192.0.0.0/24)"), ("192.0.2.1", "address:documentation(192.0.2.0/24)"),
        ("198.18.0.1", "address:benchmarking(198.18.0.0/15)"), ("198.51.100.1", "address:documentation(198.51.100.0/24)"),
        ("203.0.113.1", "address:documentation(203.0.113.0/24)"), ("224.0.0.1", "address:multicast(224.0.0.0/4)"),
        ("0xe0000001", "address:multicast(224.0.0.0/4)"), ("240.0.0.1", "address:reserved(240.0.0.0/4)"),
        ("255.255.255.255", "address:broadcast(255.255.255.255/32)"), ("4294967295", "address:broadcast(255.255.255.255/32)"),
        ("0xffffffff", "address:broadcast(255.255.255.255/32)"), ("[fc00::1]", "address:unique_local(fc00::/7)"),
        ("[fd12:3456::1]", "address:unique_local(fc00::/7)"), ("[ff02::1]", "address:multicast(ff00::/8)"),
        ("[2001:db8::1]", "address:documentation(2001:db8::/32)"), ("[3fff::1]", "address:documentation(3fff::/20)"),
        ("[100::1]", "address:discard(100::/64)"), ("[2001:10::1]", "address:orchid(2001:10::/28)"),
    ])
    func ssrfLiteral(_ literal: String, _ rule: String) throws {
        guard case .address(let a) = try HostParser.parse(literal) else {
            Issue.record("\(literal) was taken for a name")
            return
        }
        #expect(policy.refusal(of: a, port: 443)?.rule == rule, "\(literal) = \(a)")
    }

    // MARK: - CIDR

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(CIDR("fe80::/10")?.description == "fe80::/10")
        #expect(CIDR("1.2.3.4")?.description == "1.2.3.4/32")
        #expect(CIDR("0.0.0.0/0")?.contains(ip("255.1.2.3")) == true)
        #expect(CIDR("::/0")?.contains(ip("2001:db8::1")) == true)
        #expect(CIDR("::/0")?.contains(ip("1.2.3.4")) == false)
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "fe80::/129", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "/8", "10/8", "fe80::1/10", ""] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
    }

    @Test func cidrEdgesAtEveryPrefixLength() {
        var g = SplitMix64(seed: 0xC1D)
        for length in 0...128 {
            let b = (0..<16).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let cidr = CIDR(address: .v6(b), prefixLength: length)
            #expect(cidr.contains(.v6(b)))
            #expect(cidr.contains(cidr.address) && cidr.contains(Self.last(of: cidr)))
            if let before = Self.step(cidr.address, by: -1) { #expect(!cidr.contains(before), "/\(length)") }
            if let after = Self.step(Self.last(of: cidr), by: 1) { #expect(!cidr.contains(after), "/\(length)") }
        }
        for length in 0...32 {
            let a = IPAddress.v4(UInt32(truncatingIfNeeded: g.next()))
            let cidr = CIDR(address: a, prefixLength: length)
            #expect(cidr.contains(a))
            if let before = Self.step(cidr.address, by: -1) { #expect(!cidr.contains(before), "/\(length)") }
            if let after = Self.step(Self.last(of: cidr), by: 1) { #expect(!cidr.contains(after), "/\(length)") }
        }
    }

    // MARK: - Address arithmetic, written for the tests

    static func last(of cidr: CIDR) -> IPAddress {
        var b = cidr.address.bytes
        for bit in cidr.prefixLength..<(b.count * 8) { b[bit / 8] |= 0x80 >> UInt8(bit % 8) }
        return make(b)
    }

    static func middle(of cidr: CIDR) -> IPAddress {
        var b = cidr.address.bytes
        if cidr.prefixLength < b.count * 8 { b[cidr.prefixLength / 8] |= 0x80 >> UInt8(cidr.prefixLength % 8) }
        b[b.count - 1] |= 0x01
        return cidr.contains(make(b)) ? make(b) : cidr.address
    }

    /// `a` ± 1, or nil past either end of the family's space.
    static func step(_ a: IPAddress, by delta: Int) -> IPAddress? {
        var b = a.bytes
        var i = b.count - 1
        while i >= 0 {
            if delta > 0 {
                if b[i] == 0xff { b[i] = 0; i -= 1 } else { b[i] += 1; return make(b) }
            } else {
                if b[i] == 0 { b[i] = 0xff; i -= 1 } else { b[i] -= 1; return make(b) }
            }
        }
        return nil
    }

    static func make(_ b: [UInt8]) -> IPAddress {
        if b.count == 4 { return .v4(b.reduce(0) { $0 << 8 | UInt32($1) }) }
        return .v6(b)
    }
}
