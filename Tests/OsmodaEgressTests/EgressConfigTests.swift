import Foundation
import OsmodaEgress
import OsmodaTestSupport
import Testing

@Suite struct EgressConfigTests {
    /// SHA-256("abc"), the FIPS 180-2 example.
    static let abcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    static let example = """
    {
      "listeners": [
        {"name": "ring1", "unix": "/run/osmoda/egress-ring1.sock", "policy": "ring1", "socket_mode": "0660"},
        {"name": "local", "tcp": "127.0.0.1:3128", "policy": "default"},
        {"name": "local6", "tcp": "[::1]:3128", "policy": "default"}
      ],
      "tokens": [{"sha256": "\(abcDigest)", "policy": "ci", "name": "ci-runner"},
                 {"sha256": "\(String(repeating: "0", count: 64))", "policy": "ring1"}],
      "policies": {
        "ring1": {"mode": "enforce",
                  "allow": [{"host": "api.github.com"}, {"host": "*.pythonhosted.org", "ports": [443, 80]}],
                  "deny":  [{"host": "gist.github.com"}]},
        "default": {},
        "ci": {"mode": "report", "allow": [{"host": "*.npmjs.org"}]}
      },
      "limits": {"max_header_bytes": 16384, "header_timeout": "10s", "connect_timeout": "2s",
                 "idle_timeout": "5m", "max_tunnels": 2048, "max_tunnels_per_client": 64}
    }
    """

    func parse(_ text: String) throws(EgressInputError) -> EgressConfig {
        try EgressConfig.parse(Array(text.utf8), path: "egress.json")
    }

    @Test func theDocumentedExampleParses() throws {
        let c = try parse(Self.example)
        #expect(c.listeners.map(\.name) == ["ring1", "local", "local6"])
        #expect(c.listeners[0].unixPath == "/run/osmoda/egress-ring1.sock" && c.listeners[0].socketMode == 0o660)
        #expect(c.listeners[0].tcp == nil)
        #expect(c.listeners[1].tcp?.host == .v4(0x7f00_0001) && c.listeners[1].tcp?.port == 3128)
        #expect(c.listeners[2].tcp?.host == IPAddress("::1"))
        #expect(c.listeners[1].unixPath == nil && c.listeners[1].policy == "default")
        #expect(c.limits == EgressConfig.Limits(maxHeaderBytes: 16384, headerTimeoutMs: 10_000, connectTimeoutMs: 2000,
                                                idleTimeoutMs: 300_000, maxTunnels: 2048, maxTunnelsPerClient: 64))
        let ring1 = try #require(c.policy(named: "ring1"))
        #expect(ring1.mode == .enforce && ring1.allow.map(\.description) == ["api.github.com", "*.pythonhosted.org"])
        #expect(ring1.allow[1].ports == [443, 80] && ring1.allow[0].ports == nil)
        #expect(ring1.decide(host: .name("gist.github.com"), port: 443).rule == "deny:gist.github.com")
        #expect(c.policy(named: "default")?.decide(host: .name("example.com"), port: 443).rule == "default_deny")
        #expect(c.policy(named: "ci")?.mode == .report)
        #expect(c.policy(named: "nope") == nil)
        let own = c.selfAddresses
        #expect(own.count == 2 && own[0].0 == .v4(0x7f00_0001) && own[0].1 == 3128 && own[1].0 == IPAddress("::1"))
        #expect(AddressPolicy(extraAllowed: [CIDR("127.0.0.0/8")!], selfAddresses: own).refusal(of: .v4(0x7f00_0001), port: 3128)?.rule == "address:self")
    }

    @Test func tokensAreFoundByTheirSHA256() throws {
        let c = try parse(Self.example)
        let digest: [UInt8] = EgressConfig.sha256(Array("abc".utf8))
        let hex: String = digest.map { (b: UInt8) -> String in b < 16 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
        #expect(hex == Self.abcDigest)
        #expect(c.policy(forToken: Array("abc".utf8))?.name == "ci")
        #expect(c.client(forToken: Array("abc".utf8))?.name == "ci-runner")
        #expect(c.tokens[1].name == "token:00000000")
        #expect(c.policy(forToken: Array("abd".utf8)) == nil)
        #expect(c.policy(forToken: []) == nil)
        #expect(c.policy(forToken: Array("abc ".utf8)) == nil)
    }

    @Test func limitsHaveDefaults() throws {
        let c = try parse(#"{"listeners": [{"name": "a", "unix": "/tmp/a.sock", "policy": "p"}], "policies": {"p": {}}}"#)
        #expect(c.limits == .defaults)
        #expect(c.limits == EgressConfig.Limits(maxHeaderBytes: 16384, headerTimeoutMs: 10_000, connectTimeoutMs: 10_000,
                                                idleTimeoutMs: 300_000, maxTunnels: 2048, maxTunnelsPerClient: 256))
        #expect(c.tokens.isEmpty && c.listeners[0].socketMode == nil)
        let small = try parse(#"{"listeners": [{"name": "a", "unix": "/tmp/a.sock", "policy": "p"}], "policies": {"p": {}}, "limits": {"max_tunnels": 10}}"#)
        #expect(small.limits.maxTunnels == 10 && small.limits.maxTunnelsPerClient == 10)
    }

    /// One listener and one policy around the fragment under test.
    static func config(listener: String = #"{"name": "a", "unix": "/tmp/a.sock", "policy": "p"}"#,
                       policies: String = #"{"p": {}}"#, extra: String = "") -> String {
        #"{"listeners": [\#(listener)], "policies": \#(policies)\#(extra)}"#
    }

    @Test(arguments: [
        ("{", "egress.json: invalid JSON: line 1, column 2: unexpected end of input in object"),
        ("[]", "egress.json: expected an object, found array"),
        (#"{"policies": {}}"#, "egress.json: 'listeners': missing required field"),
        (#"{"listeners": [], "policies": {}}"#, "egress.json: 'listeners': at least one listener is required"),
        (config(extra: #", "listener": []"#), "egress.json: 'listener': unknown field"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "policy": "p", "mode": "0660"}"#),
         "egress.json: 'listeners[0].mode': unknown field"),
        (config(policies: #"{"p": {"allow": [{"host": "a.com", "port": 80}]}}"#), "egress.json: 'policies.p.allow[0].port': unknown field"),
        (config(policies: #"{"p": {"allow": [{"host": "a.com"}], "allow": []}}"#), "egress.json: 'policies.p.allow': duplicate field"),
        (config(listener: #"{"name": "a", "unix": 7, "policy": "p"}"#), "egress.json: 'listeners[0].unix': expected a string, found number"),
        (config(listener: #"{"name": "a", "tcp": "0.0.0.0:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': 0.0.0.0 is not a loopback address: osmoda-egress listens only on 127.0.0.0/8, ::1 or a Unix socket, so that nothing off this host can use it"),
        (config(listener: #"{"name": "a", "tcp": "[::]:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': :: is not a loopback address: osmoda-egress listens only on 127.0.0.0/8, ::1 or a Unix socket, so that nothing off this host can use it"),
        (config(listener: #"{"name": "a", "tcp": "192.168.1.5:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': 192.168.1.5 is not a loopback address: osmoda-egress listens only on 127.0.0.0/8, ::1 or a Unix socket, so that nothing off this host can use it"),
        (config(listener: #"{"name": "a", "tcp": "localhost:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': 'localhost' is not an IP address: a TCP listener takes a loopback address such as 127.0.0.1 or [::1]"),
        (config(listener: #"{"name": "a", "tcp": "127.0.0.1", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': expected a loopback address and port such as \"127.0.0.1:3128\" or \"[::1]:3128\", got '127.0.0.1'"),
        (config(listener: #"{"name": "a", "tcp": "::1:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': expected a loopback address and port such as \"127.0.0.1:3128\" or \"[::1]:3128\", got '::1:3128'"),
        (config(listener: #"{"name": "a", "tcp": "127.0.0.1:0", "policy": "p"}"#),
         "egress.json: 'listeners[0].tcp': port must be a decimal number 1-65535, got '0'"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "tcp": "127.0.0.1:3128", "policy": "p"}"#),
         "egress.json: 'listeners[0]': a listener has either 'unix' or 'tcp', not both"),
        (config(listener: #"{"name": "a", "policy": "p"}"#),
         "egress.json: 'listeners[0]': a listener needs 'unix' (a socket path) or 'tcp' (a loopback host:port)"),
        (config(listener: #"{"name": "a", "unix": "run/a.sock", "policy": "p"}"#), "egress.json: 'listeners[0].unix': socket path must be absolute"),
        (config(listener: #"{"name": "a", "unix": "/\#(String(repeating: "x", count: 107))", "policy": "p"}"#),
         "egress.json: 'listeners[0].unix': socket path is 108 bytes; a Unix socket path holds at most 107"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "policy": "p", "socket_mode": "0669"}"#),
         "egress.json: 'listeners[0].socket_mode': expected octal permission bits such as \"0660\", got '0669'"),
        (config(listener: #"{"name": "a", "tcp": "127.0.0.1:3128", "policy": "p", "socket_mode": "0660"}"#),
         "egress.json: 'listeners[0].socket_mode': only a Unix listener has a socket mode"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "policy": "q"}"#), "egress.json: 'listeners[0].policy': no policy named 'q' in 'policies'"),
        (config(listener: #"{"name": "a b", "unix": "/tmp/a.sock", "policy": "p"}"#),
         "egress.json: 'listeners[0].name': listener name must be 1-64 letters, digits, '.', '_' or '-'"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "policy": "p"}, {"name": "a", "unix": "/tmp/b.sock", "policy": "p"}"#),
         "egress.json: 'listeners[1].name': listener 'a' is defined twice"),
        (config(listener: #"{"name": "a", "unix": "/tmp/a.sock", "policy": "p"}, {"name": "b", "unix": "/tmp/a.sock", "policy": "p"}"#),
         "egress.json: 'listeners[1].unix': listeners 'a' and 'b' use the same socket path"),
        (config(listener: #"{"name": "a", "tcp": "127.0.0.1:1", "policy": "p"}, {"name": "b", "tcp": "127.0.0.1:1", "policy": "p"}"#),
         "egress.json: 'listeners[1].tcp': listeners 'a' and 'b' use the same address"),
        (config(policies: #"{"p": {"mode": "open"}}"#), "egress.json: 'policies.p.mode': unknown mode 'open': expected enforce or report"),
        (config(policies: #"{"p": {}, "bad name": {}}"#), "egress.json: 'policies.bad name': policy name must be 1-64 letters, digits, '.', '_' or '-'"),
        (config(policies: #"{"p": {"allow": [{"host": "a.com"}, {"host": "*.com"}]}}"#),
         "egress.json: 'policies.p.allow[1]': pattern '*.com' would match a whole top-level domain: name at least two labels after '*.'"),
        (config(policies: #"{"p": {"deny": [{"host": "a.com", "ports": [70000]}]}}"#), "egress.json: 'policies.p.deny[0]': port 70000 is out of range 1-65535"),
        (config(policies: #"{"p": {"allow": [{"host": "a.com", "ports": [443.5]}]}}"#),
         "egress.json: 'policies.p.allow[0].ports[0]': expected an integer, found 443.5"),
        (config(extra: #", "tokens": [{"sha256": "abc", "policy": "p"}]"#),
         "egress.json: 'tokens[0].sha256': expected the 64 hex digits of the token's SHA-256 (e.g. from 'printf %s TOKEN | sha256sum')"),
        (config(extra: #", "tokens": [{"sha256": "\#(abcDigest)", "policy": "p"}, {"sha256": "\#(abcDigest.uppercased())", "policy": "p"}]"#),
         "egress.json: 'tokens[1].sha256': the same token is listed twice"),
        (config(extra: #", "tokens": [{"sha256": "\#(abcDigest)", "policy": "q"}]"#), "egress.json: 'tokens[0].policy': no policy named 'q' in 'policies'"),
        (config(extra: #", "tokens": [{"sha256": "\#(abcDigest)", "policy": "p", "name": ""}]"#),
         "egress.json: 'tokens[0].name': token name must be 1-64 letters, digits, '.', '_' or '-'"),
        (config(extra: #", "limits": {"max_header_bytes": 100}"#), "egress.json: 'limits.max_header_bytes': 100 is out of range 1024-1048576"),
        (config(extra: #", "limits": {"header_timeout": "10m"}"#), "egress.json: 'limits.header_timeout': '10m' is out of range 100ms-5m"),
        (config(extra: #", "limits": {"connect_timeout": "fast"}"#),
         "egress.json: 'limits.connect_timeout': invalid duration 'fast': expected e.g. 500ms, 10s, 5m, 1h30m"),
        (config(extra: #", "limits": {"connect_timeout": "50ms"}"#), "egress.json: 'limits.connect_timeout': '50ms' is out of range 100ms-5m"),
        (config(extra: #", "limits": {"idle_timeout": "8d"}"#), "egress.json: 'limits.idle_timeout': '8d' is out of range 1s-7d"),
        (config(extra: #", "limits": {"max_tunnels": 0}"#), "egress.json: 'limits.max_tunnels': 0 is out of range 1-1000000"),
        (config(extra: #", "limits": {"max_tunnels": 10, "max_tunnels_per_client": 11}"#),
         "egress.json: 'limits.max_tunnels_per_client': 11 is out of range 1-10"),
        (config(extra: #", "limits": {"idle_timeout": 300}"#), "egress.json: 'limits.idle_timeout': expected a string, found number"),
    ])
    func errorsNameTheFileAndTheField(_ text: String, _ message: String) {
        #expect(throws: EgressInputError(message)) { try parse(text) }
    }
}

@Suite struct EgressConfigFuzzTests {
    /// The documented example with random bytes changed, dropped or repeated: the parser
    /// returns a config or an error naming the file, and never crashes.
    @Test func mutatedConfigsNeverCrash() {
        var g = SplitMix64(seed: 0xC0F)
        let base = Array(EgressConfigTests.example.utf8)
        let alphabet = Array("{}[]\":,0123456789.-/*abcdefxz \\\n\u{0}".utf8)
        var parsed = 0
        for _ in 0..<3000 {
            var b = base
            for _ in 0..<g.int(in: 1...4) {
                let at = g.below(b.count)
                switch g.below(3) {
                case 0: b[at] = g.pick(alphabet)
                case 1: b.remove(at: at)
                default: b.insert(b[at], at: at)
                }
            }
            do {
                _ = try EgressConfig.parse(b, path: "fuzz.json")
                parsed += 1
            } catch {
                #expect(error.message.hasPrefix("fuzz.json: "))
            }
        }
        // Some mutations land in strings and still parse; most do not.
        #expect(parsed > 0 && parsed < 3000)
    }
}

@Suite struct EgressDocsExampleTests {
    /// The example in docs/egress.md parses once its placeholder digest is filled in, so
    /// the documentation cannot drift from the parser.
    @Test func theExampleInTheDocsParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/egress.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```json\n"))
        let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex))
        let json = String(doc[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "<64 hex digits: SHA-256 of the token>", with: EgressConfigTests.abcDigest)
        let c = try EgressConfig.parse(Array(json.utf8), path: "docs/egress.md")
        #expect(c.listeners.map(\.name) == ["ring1", "local"])
        #expect(c.client(forToken: Array("abc".utf8))?.name == "ci-runner")
        #expect(c.policy(named: "ring1")?.decide(host: .name("files.pythonhosted.org"), port: 80).verdict == .allow)
        #expect(c.limits == .defaults)
    }
}
