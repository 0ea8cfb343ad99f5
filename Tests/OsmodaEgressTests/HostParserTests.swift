import Glibc
import OsmodaEgress
import OsmodaTestSupport
import Testing

/// glibc's own readings, the reference the parser must agree with.
enum LibC {
    /// `inet_aton`; nil when it refuses. Callers pass strings without white space, where
    /// glibc's `inet_aton` (which stops at the first space) and the resolver's exact
    /// variant agree.
    static func inetAton(_ s: String) -> UInt32? {
        var a = in_addr()
        guard inet_aton(s, &a) != 0 else { return nil }
        return UInt32(bigEndian: a.s_addr)
    }

    /// What `getaddrinfo(AI_NUMERICHOST)` makes of an IPv4 literal: what the resolver, and
    /// so a proxy that handed the name on, would connect to.
    static func numericHostV4(_ s: String) -> UInt32? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(s, nil, &hints, &res) == 0, let r = res else { return nil }
        defer { freeaddrinfo(res) }
        return r.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
    }

    static func ptonV6(_ s: String) -> [UInt8]? {
        var a = in6_addr()
        guard inet_pton(AF_INET6, s, &a) == 1 else { return nil }
        return withUnsafeBytes(of: &a) { Array($0) }
    }

    static func ntopV6(_ b: [UInt8]) -> String {
        var a = in6_addr()
        withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: b) }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@Suite struct HostParserTests {
    static let loopback = IPAddress.v4(0x7f00_0001)

    @Test(arguments: [
        "127.0.0.1", "2130706433", "017700000001", "0x7f000001", "0X7F000001", "0x7F.0.0.1", "0177.0.0.1",
        "0x7f.1", "127.1", "127.0.1", "0177.1", "0x7f.0.1", "127.0.0.01", "127.0x0.0.1", "00000177.0.0.1",
        "0x0000007f.1", "127.0.0.1.", "0x7f.1.", "127.000.000.001",
    ])
    func everyIPv4NotationOfLoopbackIsAnAddress(_ text: String) throws {
        #expect(try HostParser.parse(text) == .address(Self.loopback))
    }

    @Test func theNotationsAgreeWithGlibc() {
        for text in ["127.0.0.1", "2130706433", "017700000001", "0x7f000001", "0177.0.0.1", "0x7f.1", "127.1", "127.0.1"] {
            #expect(LibC.inetAton(text) == 0x7f00_0001, "\(text)")
            #expect(LibC.numericHostV4(text) == 0x7f00_0001, "\(text)")
        }
    }

    @Test(arguments: [
        ("169.254.169.254", UInt32(0xa9fe_a9fe)), ("2852039166", 0xa9fe_a9fe), ("0xa9fea9fe", 0xa9fe_a9fe),
        ("0251.0376.0251.0376", 0xa9fe_a9fe), ("169.254.43518", 0xa9fe_a9fe), ("169.16689662", 0xa9fe_a9fe),
        ("10.1", 0x0a00_0001), ("012.1", 0x0a00_0001), ("0", 0), ("0x0", 0), ("00", 0), ("0.0.0.0", 0),
        ("4294967295", 0xffff_ffff), ("0xffffffff", 0xffff_ffff), ("037777777777", 0xffff_ffff),
        ("255.255.255.255", 0xffff_ffff), ("1.16777215", 0x01ff_ffff), ("1.2.65535", 0x0102_ffff),
        ("8.8.8.8", 0x0808_0808), ("134744072", 0x0808_0808),
    ])
    func inetAtonValues(_ text: String, _ value: UInt32) throws {
        #expect(try HostParser.parse(text) == .address(.v4(value)))
        #expect(HostParser.inetAton(text) == value)
        #expect(LibC.inetAton(text) == value)
    }

    /// Numeric-looking hosts that are not addresses: refused, never passed on as names.
    @Test(arguments: [
        "4294967296", "0x100000000", "040000000000", "256.0.0.1", "1.256.0.1", "1.2.256.1", "1.2.3.256",
        "1.16777216", "1.2.65536", "08", "09.1", "0x", "0x.1", "1.2.3.4.5", "1..2", 
        "example.123", "example.0x1f", "a.b.0x", "1.2.3.4..", "0xfffffffff",
    ])
    func numericButNotAnAddressIsRefused(_ text: String) {
        #expect(throws: EgressInputError.self) { try HostParser.parse(text) }
    }

    @Test func aNumericLastLabelThatIsNoAddressSaysSo() {
        #expect(throws: EgressInputError("host '1.2.3.4.5' ends in a number but is not a valid IPv4 address")) {
            try HostParser.parse("1.2.3.4.5")
        }
    }

    @Test(arguments: [
        ("[::1]", "::1"), ("::1", "::1"), ("[0:0:0:0:0:0:0:1]", "::1"), ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("[::FFFF:7F00:1]", "::ffff:127.0.0.1"), ("[::127.0.0.1]", "::127.0.0.1"), ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe"),
        ("[2001:DB8::1]", "2001:db8::1"), ("[fe80::1]", "fe80::1"), ("[::]", "::"), ("[1::]", "1::"),
        ("[2606:4700:4700::1111]", "2606:4700:4700::1111"), ("[1:2:3:4:5:6:7::]", "1:2:3:4:5:6:7:0"),
        ("[::2:3:4:5:6:7:8]", "0:2:3:4:5:6:7:8"),
    ])
    func ipv6Literals(_ text: String, _ canonical: String) throws {
        let host = try HostParser.parse(text)
        guard case .address(let a) = host, case .v6 = a else { Issue.record("\(text) gave \(host)"); return }
        #expect(a.description == canonical)
        #expect(IPAddress(canonical) == a)
    }

    @Test func zoneIdentifiersAreRefused() {
        #expect(throws: EgressInputError("host '[fe80::1%25eth0]': IPv6 zone identifiers are not allowed")) {
            try HostParser.parse("[fe80::1%25eth0]")
        }
        #expect(throws: EgressInputError.self) { try HostParser.parse("[fe80::1%eth0]") }
        #expect(throws: EgressInputError.self) { try HostParser.parse("fe80::1%eth0") }
    }

    @Test(arguments: ["[]", "[::1", "::1]", "[:::1]", "[1:2:3:4:5:6:7:8:9]", "[1::2::3]", "[::ffff:127.1]",
                      "[::ffff:0177.0.0.1]", "[12345::]", "[::g]", "[127.0.0.1]", "[1:2:3:4:5:6:7]", "[:1]", "[1:]"])
    func badIPv6LiteralsAreRefused(_ text: String) {
        #expect(throws: EgressInputError.self) { try HostParser.parse(text) }
    }

    @Test(arguments: [
        ("example.com", "example.com"), ("EXAMPLE.com.", "example.com"), ("Api.GitHub.COM", "api.github.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"), ("XN--BCHER-KVA.Example.", "xn--bcher-kva.example"),
        ("localhost", "localhost"), ("a-b.c0", "a-b.c0"), ("0x7f.example.com", "0x7f.example.com"),
        ("1.2.3.example", "1.2.3.example"), ("deadbeef", "deadbeef"), ("1e3", "1e3"), ("0xg", "0xg"),
        // The last label is no number (WHATWG's "ends in a number" test), so this is a name.
        ("1.2.3.0xg", "1.2.3.0xg"),
    ])
    func namesAreNormalised(_ text: String, _ name: String) throws {
        #expect(try HostParser.parse(text) == .name(name))
    }

    @Test func theLongestNameAndLabelPass() throws {
        let label = String(repeating: "a", count: 63)
        #expect(try HostParser.parse(label + ".com") == .name(label + ".com"))
        // 3 × 63 + 61 + 3 dots = 253 bytes.
        let name = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name.utf8.count == 253)
        #expect(try HostParser.parse(name) == .name(name))
        #expect(try HostParser.parse(name + ".") == .name(name))
        #expect(throws: EgressInputError.self) { try HostParser.parse(name + "b") }
        #expect(throws: EgressInputError.self) { try HostParser.parse(String(repeating: "a", count: 64) + ".com") }
    }

    @Test(arguments: [
        ("", "empty host"),
        ("bücher.example", "host 'b\\xc3\\xbccher.example' is not ASCII: send its IDNA form (xn--…), as curl and browsers do"),
        ("exa mple.com", "host 'exa mple.com' contains a space"),
        ("example.com\u{0}", "host 'example.com\\x00' contains a control character"),
        ("example.com\r\nX: y", "host 'example.com\\x0d\\x0aX: y' contains a control character"),
        ("[::1\n]", "host '[::1\\x0a]' contains a control character"),
        ("[::1] ", "host '[::1] ' contains a space"),
        ("exa%6dple.com", "host 'exa%6dple.com' contains '%': percent-encoding is not allowed in a host"),
        ("user@example.com", "host 'user@example.com' contains '@': user information is not allowed in a host"),
        ("a..b", "host name 'a..b' has an empty label"),
        (".example.com", "host name '.example.com' has an empty label"),
        ("example.com..", "host name 'example.com..' has an empty label"),
        (".", "host name '.' has an empty label"),
        ("-a.com", "host name '-a.com' has a label that starts or ends with '-'"),
        ("a-.com", "host name 'a-.com' has a label that starts or ends with '-'"),
        ("a_b.com", "host name 'a_b.com' contains '_': only letters, digits, '-' and '.' are allowed"),
        ("a/b", "host name 'a/b' contains '/': only letters, digits, '-' and '.' are allowed"),
        ("*.example.com", "host name '*.example.com' contains '*': only letters, digits, '-' and '.' are allowed"),
    ])
    func badNamesAreRefusedWithAReason(_ text: String, _ message: String) {
        #expect(throws: EgressInputError(message)) { try HostParser.parse(text) }
    }

    @Test func authorities() throws {
        let name = try HostParser.parseAuthority("example.com:443")
        #expect(name.host == .name("example.com") && name.port == 443)
        let v6 = try HostParser.parseAuthority("[::1]:8443")
        #expect(v6.host == .address(IPAddress("::1")!) && v6.port == 8443)
        let v4 = try HostParser.parseAuthority("0x7f.1:80")
        #expect(v4.host == .address(Self.loopback) && v4.port == 80)
        #expect(try HostParser.parseAuthority("EXAMPLE.COM.:65535").host == .name("example.com"))
    }

    @Test(arguments: [
        ("example.com", "authority 'example.com' has no port (expected host:port)"),
        ("[::1]", "authority '[::1]' has no port (expected host:port)"),
        ("example.com:", "'example.com:': empty port"),
        ("example.com:0", "'example.com:0': port 0 is out of range 1-65535"),
        ("example.com:65536", "'example.com:65536': port 65536 is out of range 1-65535"),
        ("example.com:+443", "'example.com:+443': port must be a decimal number 1-65535"),
        ("example.com:443 ", "'example.com:443 ': port must be a decimal number 1-65535"),
        ("example.com:0x1bb", "'example.com:0x1bb': port must be a decimal number 1-65535"),
        ("::1:443", "authority '::1:443': an IPv6 address must be in brackets, e.g. [::1]:443"),
        (":443", "empty host"),
        ("", "empty authority"),
    ])
    func badAuthorities(_ text: String, _ message: String) {
        #expect(throws: EgressInputError(message)) { try HostParser.parseAuthority(text) }
    }

    // MARK: - Property tests

    /// Random strings over an alphabet that makes numbers, dots, brackets and junk:
    /// the parser never crashes, and it agrees with glibc on every one of them.
    @Test func randomStringsAgreeWithGlibc() {
        var g = SplitMix64(seed: 0xE6E5)
        let alphabet = Array("0123456789xXabcdefgABF.....:[]%@-_ \u{7f}\u{0}é")
        for _ in 0..<50_000 {
            let s = String((0..<g.int(in: 0...18)).map { _ in g.pick(alphabet) })
            let parsed = try? HostParser.parse(s)
            guard !s.contains(where: { $0.isWhitespace || $0 == "\u{0}" }) else { continue }
            let glibc = LibC.inetAton(s)
            if let v = glibc {
                #expect(parsed == .address(.v4(v)), "\(s.debugDescription): glibc reads \(v)")
            }
            switch parsed {
            case .address(.v4(let v))?:
                // Only difference allowed: the one trailing dot the parser strips.
                let bare = s.hasSuffix(".") ? String(s.dropLast()) : s
                #expect(LibC.inetAton(bare) == v, "\(s.debugDescription)")
            case .name(let n)?:
                #expect(glibc == nil && LibC.inetAton(n) == nil && LibC.numericHostV4(n) == nil, "\(s.debugDescription) taken for a name")
            case .address(.v6(let b))?:
                let inner = s.hasPrefix("[") ? String(s.dropFirst().dropLast()) : s
                #expect(LibC.ptonV6(inner) == b, "\(s.debugDescription)")
            case nil:
                break
            }
        }
    }

    /// Every inet_aton notation of random addresses, built by a generator written apart
    /// from the parser: the parser, glibc's inet_aton and getaddrinfo all read the address.
    @Test func everyNotationOfRandomAddressesRoundTrips() {
        var g = SplitMix64(seed: 0xA70)
        for _ in 0..<20_000 {
            let value = UInt32(truncatingIfNeeded: g.next())
            let text = Self.randomNotation(of: value, &g)
            #expect(HostParser.inetAton(text) == value, "\(text)")
            #expect((try? HostParser.parse(text)) == .address(.v4(value)), "\(text)")
            #expect(LibC.inetAton(text) == value, "\(text)")
            #expect(LibC.numericHostV4(text) == value, "\(text)")
        }
    }

    /// `value` written as 1–4 parts, each in decimal, octal or hex (random case, random
    /// leading zeros).
    static func randomNotation(of value: UInt32, _ g: inout SplitMix64) -> String {
        let parts = g.int(in: 1...4)
        var numbers: [UInt64] = []
        for k in 0..<(parts - 1) { numbers.append(UInt64(value >> UInt32(24 - 8 * k)) & 0xff) }
        let lastBits = 32 - 8 * (parts - 1)
        numbers.append(UInt64(value) & (lastBits == 32 ? 0xffff_ffff : (1 << UInt64(lastBits)) - 1))
        return numbers.map { n -> String in
            switch g.below(3) {
            case 0:
                return String(n)
            case 1:
                return String(repeating: "0", count: g.int(in: 1...3)) + String(n, radix: 8)
            default:
                let digits = String(n, radix: 16, uppercase: g.bool())
                return (g.bool() ? "0x" : "0X") + String(repeating: "0", count: g.below(3)) + digits
            }
        }.joined(separator: ".")
    }

    @Test func randomIPv6AddressesRoundTripThroughGlibc() {
        var g = SplitMix64(seed: 0x6)
        for i in 0..<20_000 {
            var b = (0..<16).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            // Plenty of zero runs and the special prefixes, where the formatting rules bite.
            for k in 0..<16 where g.chance(1, in: 2 + i % 3) { b[k] = 0 }
            if g.chance(1, in: 8) { b.replaceSubrange(0..<12, with: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) }
            let a = IPAddress.v6(b)
            let text = LibC.ntopV6(b)
            #expect(a.description == text)
            #expect(IPAddress(text) == a)
            #expect(IPAddress(text.uppercased()) == a)
            let full = stride(from: 0, to: 16, by: 2).map { k in
                let w = String(Int(b[k]) << 8 | Int(b[k + 1]), radix: 16)
                return String(repeating: "0", count: 4 - w.count) + w
            }.joined(separator: ":")
            #expect(IPAddress(full) == a)
            #expect((try? HostParser.parse("[\(full)]")) == .address(a))
        }
    }

    @Test func randomIPv6TextAgreesWithInetPton() {
        var g = SplitMix64(seed: 0x66)
        let alphabet = Array("0123456789abcdefABF::::....g")
        for _ in 0..<50_000 {
            let s = String((0..<g.int(in: 0...20)).map { _ in g.pick(alphabet) })
            let mine = IPAddress(s)
            if let b = LibC.ptonV6(s) {
                #expect(mine == .v6(b), "\(s)")
            } else if case .v6? = mine {
                Issue.record("\(s) is IPv6 here but not for inet_pton")
            }
        }
    }

    @Test func standardIPv4TextIsStrict() {
        #expect(IPAddress("1.2.3.4") == .v4(0x0102_0304))
        for bad in ["01.2.3.4", "1.2.3", "1.2.3.4.", "256.1.1.1", "0x1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "", "1.2.3.-4"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct RequestTargetTests {
    @Test func authoritiesWithADefaultPort() throws {
        let plain = try HostParser.parseAuthority("Example.COM", defaultPort: 80)
        #expect(plain.host == .name("example.com") && plain.port == 80)
        let withPort = try HostParser.parseAuthority("example.com:8080", defaultPort: 80)
        #expect(withPort.port == 8080)
        let v6 = try HostParser.parseAuthority("[::1]", defaultPort: 80)
        #expect(v6.host == .address(IPAddress("::1")!) && v6.port == 80)
        #expect(try HostParser.parseAuthority("[::1]:81", defaultPort: 80).port == 81)
        #expect(try HostParser.parseAuthority("0x7f.1", defaultPort: 80).host == .address(.v4(0x7f00_0001)))
        #expect(throws: EgressInputError("authority '::1': an IPv6 address must be in brackets, e.g. [::1]:443")) {
            try HostParser.parseAuthority("::1", defaultPort: 80)
        }
        #expect(throws: EgressInputError("'example.com:': empty port")) { try HostParser.parseAuthority("example.com:", defaultPort: 80) }
    }

    @Test(arguments: [
        ("http://example.com/a/b?c=d", "example.com", 80, "/a/b?c=d"),
        ("HTTP://Example.com:8080", "example.com", 8080, "/"),
        ("http://example.com?x", "example.com", 80, "/?x"),
        ("http://[::1]:8080/", "::1", 8080, "/"),
        ("http://2130706433/latest/meta-data", "127.0.0.1", 80, "/latest/meta-data"),
        ("http://169.254.169.254./", "169.254.169.254", 80, "/"),
    ])
    func absoluteTargets(_ target: String, _ host: String, _ port: Int, _ path: String) throws {
        let t = try HostParser.parseAbsoluteHTTP(target)
        #expect(t.host.description == host && t.port == port && t.path == path)
    }

    @Test(arguments: [
        ("https://example.com/", "request target 'https://example.com/' is not an absolute http:// URL"),
        ("/index.html", "request target '/index.html' is not an absolute http:// URL"),
        ("http://", "request target 'http://' is not an absolute http:// URL"),
        ("http:///x", "request target 'http:///x' has no host"),
        ("http://user:pw@example.com/", "request target 'http://user:pw@example.com/': user information is not allowed in a proxied URL"),
        ("http://example.com@127.0.0.1/", "request target 'http://example.com@127.0.0.1/': user information is not allowed in a proxied URL"),
        ("http://example.com/#top", "request target 'http://example.com/#top': a fragment is not allowed in a request target"),
        ("http://example.com/a b", "request target 'http://example.com/a b' contains a space, a control character or a non-ASCII byte"),
        ("http://example.com:0/", "'example.com:0': port 0 is out of range 1-65535"),
        ("http://exa_mple.com/", "host name 'exa_mple.com' contains '_': only letters, digits, '-' and '.' are allowed"),
    ])
    func badTargets(_ target: String, _ message: String) {
        #expect(throws: EgressInputError(message)) { try HostParser.parseAbsoluteHTTP(target) }
    }
}

@Suite struct HostParserMessageTests {
    @Test func untrustedTextIsEscapedAndCut() {
        let long = String(repeating: "a", count: 300)
        #expect(throws: EgressInputError("host '\(String(repeating: "a", count: 100))…' is too long (300 bytes, at most 253 for a name)")) {
            try HostParser.parse(long)
        }
        #expect(throws: EgressInputError("host 'a\\x1b[31mb' contains a control character")) { try HostParser.parse("a\u{1b}[31mb") }
        #expect(throws: EgressInputError("host name 'it\\x27s.example' contains '\\x27': only letters, digits, '-' and '.' are allowed")) {
            try HostParser.parse("it's.example")
        }
    }
}
