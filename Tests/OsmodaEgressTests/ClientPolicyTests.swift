import OsmodaEgress
import Testing

@Suite struct ClientPolicyTests {
    func rule(_ text: String, _ ports: [Int]? = nil) -> HostRule {
        do { return try HostRule(text, ports: ports) } catch { fatalError("bad test rule \(text): \(error)") }
    }

    func host(_ text: String) -> RequestHost {
        do { return try HostParser.parse(text) } catch { fatalError("bad test host \(text): \(error)") }
    }

    func decide(_ p: ClientPolicy, _ h: String, _ port: Int = 443) -> EgressDecision {
        p.decide(host: host(h), port: port)
    }

    // MARK: - Precedence

    @Test func denyBeatsAllowWhateverTheOrder() {
        let p = ClientPolicy(name: "ring1", allow: [rule("*.github.com")], deny: [rule("gist.github.com")])
        let gist = decide(p, "gist.github.com")
        #expect(gist.verdict == .deny && gist.rule == "deny:gist.github.com")
        #expect(gist.reason == "gist.github.com port 443 matches deny rule 'gist.github.com' of policy 'ring1'")
        let api = decide(p, "api.github.com")
        #expect(api.verdict == .allow && api.rule == "allow:*.github.com")
        #expect(api.reason == "api.github.com port 443 matches allow rule '*.github.com' of policy 'ring1'")
    }

    @Test func aWildcardDenyBeatsAnExactAllow() {
        let p = ClientPolicy(name: "p", allow: [rule("api.internal.example.com")], deny: [rule("*.internal.example.com")])
        #expect(decide(p, "api.internal.example.com").rule == "deny:*.internal.example.com")
        #expect(decide(p, "api.internal.example.com").verdict == .deny)
    }

    @Test func theSameHostInBothListsIsDenied() {
        let p = ClientPolicy(name: "p", allow: [rule("example.com")], deny: [rule("example.com")])
        #expect(decide(p, "example.com").rule == "deny:example.com")
    }

    @Test func nothingMatchesMeansDefaultDeny() {
        let p = ClientPolicy(name: "empty")
        let d = decide(p, "example.com")
        #expect(d.verdict == .deny && d.rule == "default_deny")
        #expect(d.reason == "example.com matches no allow rule of policy 'empty'")
    }

    @Test func theMostSpecificMatchingRuleNamesTheDecision() {
        let p = ClientPolicy(name: "p", allow: [rule("*.github.com"), rule("*.api.github.com"), rule("x.api.github.com")])
        #expect(decide(p, "x.api.github.com").rule == "allow:x.api.github.com")
        #expect(decide(p, "y.api.github.com").rule == "allow:*.api.github.com")
        #expect(decide(p, "api.github.com").rule == "allow:*.github.com")
    }

    // MARK: - Ports

    @Test func allowRulesCoverPort443UnlessTheyListPorts() {
        let p = ClientPolicy(name: "p", allow: [rule("api.github.com"), rule("*.pythonhosted.org", [443, 80])])
        #expect(decide(p, "api.github.com", 443).verdict == .allow)
        let http = decide(p, "api.github.com", 80)
        #expect(http.verdict == .deny && http.rule == "default_deny")
        #expect(http.reason == "port 80 is not allowed for api.github.com: allow rule 'api.github.com' of policy 'p' allows port 443")
        #expect(decide(p, "files.pythonhosted.org", 80).verdict == .allow)
        #expect(decide(p, "files.pythonhosted.org", 443).verdict == .allow)
        #expect(decide(p, "files.pythonhosted.org", 8080).verdict == .deny)
    }

    @Test func denyRulesCoverEveryPortUnlessTheyListPorts() {
        let p = ClientPolicy(name: "p", allow: [rule("example.com", [80, 443]), rule("other.example", [80, 443])],
                             deny: [rule("example.com"), rule("other.example", [80])])
        #expect(decide(p, "example.com", 443).rule == "deny:example.com")
        #expect(decide(p, "example.com", 80).rule == "deny:example.com")
        #expect(decide(p, "other.example", 80).rule == "deny:other.example")
        #expect(decide(p, "other.example", 443).rule == "allow:other.example")
    }

    @Test func anotherRuleForTheSameHostCanAddPorts() {
        let p = ClientPolicy(name: "p", allow: [rule("*.example.com"), rule("cdn.example.com", [80])])
        #expect(decide(p, "cdn.example.com", 80).rule == "allow:cdn.example.com")
        #expect(decide(p, "cdn.example.com", 443).rule == "allow:*.example.com")
    }

    // MARK: - Wildcards and names

    @Test(arguments: [
        ("a.example.com", true), ("a.b.example.com", true), ("A.Example.COM.", true), ("x-y.example.com", true),
        ("example.com", false), ("badexample.com", false), ("example.com.evil.net", false), ("xexample.com", false),
        ("a.example.co", false), ("a.example.com.au", false), ("a-example.com", false), ("example.org", false),
    ])
    func wildcardMatchesSubdomainsOnly(_ h: String, _ allowed: Bool) {
        let p = ClientPolicy(name: "p", allow: [rule("*.example.com")])
        #expect((decide(p, h).verdict == .allow) == allowed, "\(h)")
    }

    @Test func exactNamesIgnoreCaseAndTheTrailingDot() {
        let p = ClientPolicy(name: "p", allow: [rule("API.GitHub.com.")])
        #expect(decide(p, "api.github.com").rule == "allow:api.github.com")
        #expect(decide(p, "API.GITHUB.COM.").verdict == .allow)
        #expect(decide(p, "api.github.com.evil.net").verdict == .deny)
        #expect(decide(p, "xapi.github.com").verdict == .deny)
    }

    @Test func punycodeNamesMatchAsWritten() {
        let p = ClientPolicy(name: "p", allow: [rule("xn--bcher-kva.example")])
        #expect(decide(p, "XN--BCHER-KVA.example.").verdict == .allow)
        #expect(throws: EgressInputError.self) { try HostParser.parse("bücher.example") }
        #expect(throws: EgressInputError.self) { try HostRule("bücher.example", ports: nil) }
    }

    @Test func addressRulesMatchTheAddressInAnyNotation() {
        let p = ClientPolicy(name: "p", allow: [rule("93.184.215.14"), rule("[2606:2800:21f:cb07:6820:80da:af6b:8b2c]")])
        #expect(decide(p, "93.184.215.14").rule == "allow:93.184.215.14")
        #expect(decide(p, "0x5db8d70e").rule == "allow:93.184.215.14")
        #expect(decide(p, "1572394766").rule == "allow:93.184.215.14")
        #expect(decide(p, "[2606:2800:21F:CB07:6820:80DA:AF6B:8B2C]").rule == "allow:2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    }

    @Test func namesNeverMatchAddressesNorTheOtherWay() {
        let p = ClientPolicy(name: "p", allow: [rule("*.in-addr.arpa"), rule("localhost")])
        #expect(decide(p, "127.0.0.1").verdict == .deny)
        #expect(decide(p, "[::1]").verdict == .deny)
        let q = ClientPolicy(name: "q", allow: [rule("127.0.0.1")])
        #expect(decide(q, "localhost").verdict == .deny)
    }

    // MARK: - Report mode

    @Test func reportModeTurnsDenyIntoReport() {
        let p = ClientPolicy(name: "audit", mode: .report, allow: [rule("api.github.com")], deny: [rule("gist.github.com")])
        let denied = decide(p, "gist.github.com")
        #expect(denied.verdict == .report && denied.rule == "deny:gist.github.com")
        #expect(denied.reason == "report mode, would deny: gist.github.com port 443 matches deny rule 'gist.github.com' of policy 'audit'")
        let unknown = decide(p, "example.com")
        #expect(unknown.verdict == .report && unknown.rule == "default_deny")
        #expect(decide(p, "api.github.com").verdict == .allow)
    }

    // MARK: - Rule syntax

    @Test(arguments: [
        ("*", nil as [Int]?, "pattern '*': '*' is allowed only as '*.' at the start"),
        ("*.", nil, "pattern '*.': empty host"),
        ("*.com", nil, "pattern '*.com' would match a whole top-level domain: name at least two labels after '*.'"),
        ("*.com.", nil, "pattern '*.com.' would match a whole top-level domain: name at least two labels after '*.'"),
        ("a*.example.com", nil, "pattern 'a*.example.com': '*' is allowed only as '*.' at the start"),
        ("*example.com", nil, "pattern '*example.com': '*' is allowed only as '*.' at the start"),
        ("*.*.example.com", nil, "pattern '*.*.example.com': '*' is allowed only once, as the whole first label"),
        ("a.*.example.com", nil, "pattern 'a.*.example.com': '*' is allowed only as '*.' at the start"),
        ("*.10.0.0.1", nil, "pattern '*.10.0.0.1': a wildcard cannot stand in front of an IP address"),
        ("*.0x7f.1", nil, "pattern '*.0x7f.1': a wildcard cannot stand in front of an IP address"),
        ("exa mple.com", nil, "pattern 'exa mple.com': host 'exa mple.com' contains a space"),
        ("", nil, "pattern '': empty host"),
        ("example.com", [], "'ports' is empty: leave it out for the default"),
        ("example.com", [0], "port 0 is out of range 1-65535"),
        ("example.com", [443, 65536], "port 65536 is out of range 1-65535"),
    ])
    func badRules(_ text: String, _ ports: [Int]?, _ message: String) {
        #expect(throws: EgressInputError(message)) { try HostRule(text, ports: ports) }
    }

    @Test func ruleDescriptions() {
        #expect(rule("*.Example.COM.").description == "*.example.com")
        #expect(rule("0x7f.1").description == "127.0.0.1")
        #expect(rule("[::1]").description == "::1")
    }
}
