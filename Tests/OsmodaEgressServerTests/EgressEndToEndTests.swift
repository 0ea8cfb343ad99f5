import Foundation
import OsmodaTestSupport
import Testing

/// The built osmoda-egress against real clients (curl, raw sockets) and real servers
/// (python3 on loopback), under the test-only `--allow-internal-for-testing 127.0.0.0/8`.
@Suite(.serialized)
struct EgressEndToEndTests {
    static func sha256Text(_ s: String) throws -> String {
        let r = try ToolRunner.run("/usr/bin/sha256sum", [], stdin: Data(s.utf8))
        return String(r.stdoutText.prefix(64))
    }

    static func config(listeners: String, policies: String, tokens: String = "[]", limits: String = "{}") -> String {
        #"{"listeners": \#(listeners), "tokens": \#(tokens), "policies": \#(policies), "limits": \#(limits)}"#
    }

    /// The `.It Va` fields of a type's section in osmoda-records(5).
    static func documentedFields(_ type: String) throws -> Set<String> {
        let page = try String(contentsOf: ToolRunner.packageRoot.appendingPathComponent("man/man5/osmoda-records.5"), encoding: .utf8)
        var inSection = false
        var fields: Set<String> = []
        for line in page.split(separator: "\n") {
            if line.hasPrefix(".Ss ") { inSection = line == ".Ss \(type)" }
            if inSection, line.hasPrefix(".It Va ") { fields.insert(String(line.dropFirst(7).split(separator: " ")[0])) }
        }
        return fields
    }

    static var unshareWorks: Bool {
        (try? ToolRunner.run("/usr/bin/unshare", ["-n", "true"]).status) == 0
    }

    @Test func curlThroughTunnelsAndForwardingKeepsDataIntactBothWays() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-e2e")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let big = dir.appendingPathComponent("big.bin").path
        _ = try ToolRunner.run("/usr/bin/dd", ["if=/dev/urandom", "of=\(big)", "bs=1000000", "count=50", "status=none"])
        let want = try sha256Hex(big)
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let made = try ToolRunner.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                           "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        #expect(made.status == 0, "\(made.stderrText)")
        let http = try LoopbackServer(["http", dir.path])
        let https = try LoopbackServer(["https", dir.path, cert, key])
        let hosts = dir.appendingPathComponent("hosts").path
        try "127.0.0.1 localhost\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        let port = try freePort()
        let token = "s3cret-token"
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(http.port), \#(port)]}, {"host": "localhost", "ports": [\#(https.port)]}]}}"#,
            tokens: #"[{"name": "ci", "sha256": "\#(try Self.sha256Text(token))", "policy": "t"}]"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8", "--hosts-file", hosts], directory: dir)
        defer { proxy.stop() }
        #expect(proxy.stderr.contains("DANGEROUS"))
        let p = "http://127.0.0.1:\(port)"

        // Plain HTTP, forwarded (absolute form), 50 MB down.
        let out1 = dir.appendingPathComponent("out1").path
        var r = try runProgram(["curl", "-sS", "-x", p, "http://127.0.0.1:\(http.port)/big.bin", "-o", out1])
        #expect(r.status == 0, "\(r.err)")
        #expect(try sha256Hex(out1) == want)
        // TLS through a CONNECT tunnel, 50 MB down, then 50 MB up.
        let out2 = dir.appendingPathComponent("out2").path
        r = try runProgram(["curl", "-sS", "--cacert", cert, "-x", p, "https://localhost:\(https.port)/big.bin", "-o", out2])
        #expect(r.status == 0, "\(r.err)")
        #expect(try sha256Hex(out2) == want)
        r = try runProgram(["curl", "-sS", "--cacert", cert, "-x", p, "--data-binary", "@" + big, "https://localhost:\(https.port)/"])
        #expect(r.out == want, "\(r.err)")
        // A forwarded request body goes up intact too (Content-Length framed).
        r = try runProgram(["curl", "-sS", "-x", p, "--data-binary", "@" + big, "http://127.0.0.1:\(http.port)/"])
        #expect(r.out == want, "\(r.err)")
        // A token (Basic, the token as the password) names the client; a wrong one is 407.
        r = try runProgram(["curl", "-sS", "--cacert", cert, "-x", p, "--proxy-user", "any:" + token, "https://localhost:\(https.port)/cert.pem"])
        #expect(r.status == 0 && r.out.contains("BEGIN CERTIFICATE"), "\(r.err)")
        r = try runProgram(["curl", "-sS", "--cacert", cert, "-x", p, "--proxy-user", "any:wrong", "https://localhost:\(https.port)/cert.pem"])
        #expect(r.status != 0 && r.err.contains("407"), "\(r.err)")
        // The proxy's own address is refused, although 127.0.0.0/8 is admitted.
        let own = try RawClient(port: port).connectRequest("127.0.0.1:\(port)")
        #expect(statusCode(own) == 403)
        #expect(headerValue(own, "X-Osmoda-Egress-Rule") == "address:self")

        let tls = try proxy.records(host: "localhost", count: 4)
        let down = tls.first { ($0["bytes_down"] as? Int ?? 0) >= 50_000_000 }
        #expect(down?["decision"] as? String == "allow")
        #expect(down?["address"] as? String == "127.0.0.1")
        #expect(down?["client"] as? String == "local@127.0.0.1")
        #expect(tls.contains { ($0["bytes_up"] as? Int ?? 0) >= 50_000_000 })
        #expect(tls.contains { $0["client"] as? String == "ci@127.0.0.1" })
        // Every field is documented in osmoda-records(5), in the order type, ts first.
        let documented = try Self.documentedFields("egress.decision")
        for line in proxy.stdoutLines {
            let keys = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).keys
            #expect(Set(keys).subtracting(["type", "ts"]).isSubset(of: documented), "\(line)")
            #expect(line.hasPrefix(#"{"type":"egress.decision","ts":""#))
        }
        let plain = try proxy.records(host: "127.0.0.1", count: 3)
        #expect(plain.contains { ($0["bytes_down"] as? Int ?? 0) >= 50_000_000 && $0["status"] as? Int == 200 })
        #expect(plain.contains { $0["rule"] as? String == "address:self" && $0["decision"] as? String == "deny" })
        #expect(tls.contains { $0["rule"] as? String == "auth:unknown_token" && $0["status"] as? Int == 407 && $0["client"] as? String == "unknown_token@127.0.0.1" })
    }

    /// Every refused range as a literal and as a name, run in an empty network namespace
    /// with only a Unix listener: were a check to fail, the connect could not leave the
    /// host (it would fail with 502, and the test with it).
    @Test(.enabled(if: EgressEndToEndTests.unshareWorks)) func ssrfMatrixIsRefusedBeforeAnyConnect() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-ssrf")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let literals: [(request: String, rule: String)] = [
            ("0.0.0.1", "0.0.0.0"), ("10.1.2.3", "10.0.0.0"), ("100.64.0.1", "100.64.0.0"), ("127.0.0.1", "127.0.0.0"),
            ("169.254.169.254", "169.254.0.0"), ("172.16.0.1", "172.16.0.0"), ("192.0.0.8", "192.0.0.0"), ("192.0.2.1", "192.0.2.0"),
            ("192.168.1.1", "192.168.0.0"), ("198.18.0.1", "198.18.0.0"), ("198.51.100.7", "198.51.100.0"), ("203.0.113.9", "203.0.113.0"),
            ("224.0.0.1", "224.0.0.0"), ("240.0.0.1", "240.0.0.0"), ("255.255.255.255", "255.255.255.255"),
            ("[::]", "::"), ("[::1]", "::1"), ("[fc00::1]", "fc00::"), ("[fd12::1]", "fc00::"), ("[fe80::1]", "fe80::"), ("[ff02::1]", "ff00::"),
            ("[::ffff:169.254.169.254]", "::ffff:"), ("[::ffff:a9fe:a9fe]", "::ffff:"), ("[64:ff9b::a9fe:a9fe]", "64:ff9b::"),
            ("[2002:a9fe:a9fe::1]", "2002::"), ("[2001::1]", "2001::"), ("[2001:db8::1]", "2001:db8::"),
            // Other notations of 127.0.0.1 and 169.254.169.254.
            ("0x7f.1", "127.0.0.0"), ("2130706433", "127.0.0.0"), ("017700000001", "127.0.0.0"), ("127.1", "127.0.0.0"),
            ("0177.0.0.1", "127.0.0.0"), ("0xa9fea9fe", "169.254.0.0"), ("0251.0376.0251.0376", "169.254.0.0"), ("169.16689662", "169.254.0.0"),
        ]
        let names: [(request: String, rule: String)] = [
            ("metadata.example.com", "169.254.0.0"), ("Metadata.EXAMPLE.com.", "169.254.0.0"), ("ula.example.com", "fc00::"),
            ("mixed.example.com", "10.0.0.0"), ("xn--bcher-kva.example.com", "192.168.0.0"), ("mapped.example.com", "::ffff:"),
        ]
        try """
            169.254.169.254 metadata.example.com
            fd00::1 ula.example.com
            8.8.8.8 mixed.example.com
            10.0.0.1 mixed.example.com
            192.168.7.7 xn--bcher-kva.example.com
            ::ffff:10.0.0.1 mapped.example.com
            8.8.4.4 public.example.com

            """.write(toFile: dir.appendingPathComponent("hosts").path, atomically: true, encoding: .utf8)
        let socketPath = dir.appendingPathComponent("egress.sock").path
        let allow = (literals.map { $0.request.hasPrefix("[") ? String($0.request.dropFirst().dropLast()) : $0.request }
            + ["*.example.com"]).map { #"{"host": "\#($0)"}"# }.joined(separator: ", ")
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "ring1", "unix": "\#(socketPath)", "policy": "ring1", "socket_mode": "0600"}]"#,
            policies: #"{"ring1": {"allow": [\#(allow)], "deny": [{"host": "blocked.example.com"}]}}"#, limits: #"{"connect_timeout": "2s"}"#),
            args: ["--hosts-file", dir.appendingPathComponent("hosts").path], directory: dir, prefix: ["/usr/bin/unshare", "-n"])
        defer { proxy.stop() }
        var st = stat()
        #expect(stat(socketPath, &st) == 0 && st.st_mode & 0o777 == 0o600)
        for (request, range) in literals + names {
            let head = try RawClient(unixPath: socketPath).connectRequest("\(request):443")
            #expect(statusCode(head) == 403, "\(request): \(head)")
            let rule = headerValue(head, "X-Osmoda-Egress-Rule") ?? ""
            #expect(rule.hasPrefix("address:") && rule.contains(range), "\(request): \(rule)")
        }
        // Controls: a name the policy denies, one it does not list, one that does not
        // resolve, and a public one (allowed; the connect fails in the empty namespace).
        var head = try RawClient(unixPath: socketPath).connectRequest("blocked.example.com:443")
        let denyRule = headerValue(head, "X-Osmoda-Egress-Rule") ?? ""
        #expect(statusCode(head) == 403 && denyRule.hasPrefix("deny:"), "\(head)")
        head = try RawClient(unixPath: socketPath).connectRequest("example.org:443")
        #expect(statusCode(head) == 403 && headerValue(head, "X-Osmoda-Egress-Rule") == "default_deny", "\(head)")
        head = try RawClient(unixPath: socketPath).connectRequest("nowhere.example.com:443")
        #expect(statusCode(head) == 502, "\(head)")
        head = try RawClient(unixPath: socketPath).connectRequest("public.example.com:443")
        #expect(statusCode(head) == 502 || statusCode(head) == 504, "\(head)")
        // Every refusal is recorded, with the client named by its listener.
        let records = try proxy.records(host: "mixed.example.com")
        #expect(records.first?["decision"] as? String == "deny")
        #expect(records.first?["client"] as? String == "ring1")
        #expect(records.first?["listener"] as? String == "ring1")
        let all = proxy.records.filter { ($0["rule"] as? String ?? "").hasPrefix("address:") }
        #expect(all.count == literals.count + names.count)
    }

    @Test func badClientsAreAnsweredAndClosedWhileOthersAreServed() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-bad")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let http = try LoopbackServer(["http", dir.path])
        try "hello\n".write(toFile: dir.appendingPathComponent("hello.txt").path, atomically: true, encoding: .utf8)
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port), \#(http.port)]}]}}"#,
            limits: #"{"max_header_bytes": 1024, "header_timeout": "1s", "idle_timeout": "2s"}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }

        let malformed: [(String, Int)] = [
            ("GET  http://127.0.0.1/ HTTP/1.1\r\n\r\n", 400), ("CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", 400),
            ("GARBAGE\r\n\r\n", 400), ("GET http://127.0.0.1/ HTTP/2.0\r\n\r\n", 505), ("CONNECT 127.0.0.1:1 HTTP/1.1\n\n", 400),
            ("GET /relative HTTP/1.1\r\nHost: x\r\n\r\n", 400), ("GET http://user@127.0.0.1/ HTTP/1.1\r\n\r\n", 400),
            ("POST http://127.0.0.1/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("GET http://127.0.0.1/ HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400), ("GET http://127.0.0.1/ HTTP/1.1\r\nBad Name: a\r\n\r\n", 400),
            ("CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\nX: \(String(repeating: "a", count: 2000))\r\n\r\n", 431),
            // Far over the cap, still arriving when the answer goes: the answer must not be lost to a reset.
            ("CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\nX: \(String(repeating: "a", count: 400_000))\r\n\r\n", 431),
        ]
        for (request, status) in malformed {
            let c = try RawClient(port: port)
            c.send(request)
            let (text, closed) = c.read(timeout: 5)
            #expect(statusCode(text) == status, "\(request.debugDescription): \(text)")
            #expect(closed, "\(request.debugDescription) left open")
        }
        // Slowloris: header lines dribbled in, never the blank line: 408 at the header timeout.
        let slow = try RawClient(port: port)
        let start = Date()
        slow.send("CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\n")
        var sent = 0
        while sent < 40, slow.send("X-Slow-\(sent): 1\r\n") {
            if slow.read(timeout: 0.2).closed { break }
            sent += 1
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")

        // A silent tunnel is closed at the idle timeout; an active one outlives it.
        let silent = try RawClient(port: port)
        #expect(statusCode(silent.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        let active = try RawClient(port: port)
        #expect(statusCode(active.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        let opened = Date()
        var silentClosedAt: Date?
        for i in 0..<20 {  // 6 s: three idle timeouts
            #expect(active.send("ping\(i)"))
            #expect(active.read(until: "ping\(i)", timeout: 2).text.contains("ping\(i)"))
            if silentClosedAt == nil, silent.read(timeout: 0.3).closed { silentClosedAt = Date() }
        }
        let idle = silentClosedAt.map { $0.timeIntervalSince(opened) } ?? 99
        #expect(idle >= 1.9 && idle < 4, "the silent tunnel closed after \(idle) s")
        let recs = try proxy.records(host: "127.0.0.1")
        #expect(recs.contains { ($0["reason"] as? String ?? "").contains("idle timeout") })

        // A client that sends and then half-closes still gets the whole answer, then the close.
        let half = try RawClient(port: port)
        #expect(statusCode(half.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        half.send(String(repeating: "x", count: 300_000) + "end")
        shutdown(half.fd, Int32(SHUT_WR))
        let echoed = half.read(timeout: 5)
        #expect(echoed.closed && echoed.text.count == 300_003 && echoed.text.hasSuffix("end"), "\(echoed.text.count) bytes, closed \(echoed.closed)")

        // The proxy still serves others.
        let r = try runProgram(["curl", "-sS", "-x", "http://127.0.0.1:\(port)", "http://127.0.0.1:\(http.port)/hello.txt"])
        #expect(r.out == "hello\n", "\(r.err)")
    }

    @Test func aThousandConcurrentTunnelsStayBoundedInMemory() throws {
        var lim = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        if lim.rlim_cur < 4096 { lim.rlim_cur = min(lim.rlim_max, 8192); setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) }
        let dir = try ToolRunner.temporaryDirectory("egress-1000")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let http = try LoopbackServer(["http", dir.path])
        try "hello\n".write(toFile: dir.appendingPathComponent("hello.txt").path, atomically: true, encoding: .utf8)
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port), \#(http.port)]}]}}"#,
            limits: #"{"max_tunnels": 2048, "max_tunnels_per_client": 1500}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        // Warm up, then measure.
        _ = try RawClient(port: port).connectRequest("127.0.0.1:\(echo.port)")
        usleep(200_000)
        let before = proxy.rssKiB
        var clients: [RawClient] = []
        for _ in 0..<1000 {
            let c = try RawClient(port: port)
            c.send("CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\n\r\n")
            clients.append(c)
        }
        var ok = 0
        for c in clients where statusCode(c.read(until: "\r\n\r\n").text) == 200 { ok += 1 }
        #expect(ok == 1000)
        for (i, c) in clients.enumerated() where i % 50 == 0 {
            c.send("ping-\(i)")
            #expect(c.read(until: "ping-\(i)", timeout: 5).text == "ping-\(i)")
        }
        let during = proxy.rssKiB
        let perTunnel = (during - before) * 1024 / 1000
        print("egress: RSS \(before) KiB idle, \(during) KiB with 1000 tunnels: \(perTunnel) bytes per tunnel")
        #expect(perTunnel < 64 * 1024, "\(perTunnel) bytes per tunnel")
        // Others are still served while the thousand are open.
        let r = try runProgram(["curl", "-sS", "-x", "http://127.0.0.1:\(port)", "http://127.0.0.1:\(http.port)/hello.txt"])
        #expect(r.out == "hello\n", "\(r.err)")
        clients.removeAll()
        _ = try proxy.records(host: "127.0.0.1", count: 1001, timeout: 30)
    }

    @Test func tunnelCapsAnswer429PerClientAnd503InTotal() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-caps")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let a = try freePort(), b = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "a", "tcp": "127.0.0.1:\#(a)", "policy": "t"}, {"name": "b", "tcp": "127.0.0.1:\#(b)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#,
            limits: #"{"max_tunnels": 3, "max_tunnels_per_client": 2}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let target = "127.0.0.1:\(echo.port)"
        let a1 = try RawClient(port: a), a2 = try RawClient(port: a)
        #expect(statusCode(a1.connectRequest(target)) == 200)
        #expect(statusCode(a2.connectRequest(target)) == 200)
        let a3 = try RawClient(port: a).connectRequest(target)
        #expect(statusCode(a3) == 429 && headerValue(a3, "X-Osmoda-Egress-Rule") == "limit:max_tunnels_per_client", "\(a3)")
        let b1 = try RawClient(port: b)
        #expect(statusCode(b1.connectRequest(target)) == 200)
        let b2 = try RawClient(port: b).connectRequest(target)
        #expect(statusCode(b2) == 503 && headerValue(b2, "X-Osmoda-Egress-Rule") == "limit:max_tunnels", "\(b2)")
        // A closed tunnel gives its slot back.
        close(a1.fd)
        try waitFor("a slot to be given back") {
            (try? RawClient(port: b)).map { statusCode($0.connectRequest(target)) == 200 } ?? false
        }
    }

    @Test func sighupReloadsForNewRequestsAndKeepsLiveTunnels() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-hup")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let port = try freePort()
        let listeners = #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#
        let proxy = try EgressProxy(config: Self.config(listeners: listeners,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let live = try RawClient(port: port)
        #expect(statusCode(live.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        try Self.config(listeners: listeners, policies: #"{"t": {"allow": [{"host": "example.com"}]}}"#)
            .write(toFile: proxy.configPath, atomically: true, encoding: .utf8)
        proxy.signal(SIGHUP)
        try waitFor("the reload") { proxy.stderr.contains("reloaded") }
        let refused = try RawClient(port: port).connectRequest("127.0.0.1:\(echo.port)")
        #expect(statusCode(refused) == 403 && headerValue(refused, "X-Osmoda-Egress-Rule") == "default_deny", "\(refused)")
        #expect(live.send("still here"))
        #expect(live.read(until: "still here").text == "still here")
        // A broken config is refused and the one in force kept.
        try "{ not json".write(toFile: proxy.configPath, atomically: true, encoding: .utf8)
        proxy.signal(SIGHUP)
        try waitFor("the refused reload") { proxy.stderr.contains("the config in force is kept") }
        #expect(statusCode(try RawClient(port: port).connectRequest("127.0.0.1:\(echo.port)")) == 403)
        #expect(live.send("and here"))
        #expect(live.read(until: "and here").text == "and here")
    }

    @Test func reportModeAllowsWhatTheHostRulesWouldRefuseButNeverAnInternalAddress() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-report")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let port = try freePort()
        let hosts = dir.appendingPathComponent("hosts").path
        try "127.0.0.1 unlisted.example.com\n169.254.169.254 metadata.example.com\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "audit"}]"#,
            policies: #"{"audit": {"mode": "report", "allow": [{"host": "allowed.example.com"}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8", "--hosts-file", hosts], directory: dir)
        defer { proxy.stop() }
        // Not on the allow list: report mode lets it through, and says so.
        let c = try RawClient(port: port)
        #expect(statusCode(c.connectRequest("unlisted.example.com:\(echo.port)")) == 200)
        c.send("reported")
        #expect(c.read(until: "reported").text == "reported")
        close(c.fd)
        let rec = try proxy.records(host: "unlisted.example.com").first
        #expect(rec?["decision"] as? String == "report")
        #expect(rec?["rule"] as? String == "default_deny")
        #expect(rec?["bytes_up"] as? Int == 8)
        // The address checks hold in report mode: the metadata address is refused.
        let head = try RawClient(port: port).connectRequest("metadata.example.com:443")
        #expect(statusCode(head) == 403, "\(head)")
        let rule = headerValue(head, "X-Osmoda-Egress-Rule") ?? ""
        #expect(rule.hasPrefix("address:link_local"), "\(head)")
        let meta = try proxy.records(host: "metadata.example.com").first
        #expect(meta?["decision"] as? String == "deny")
    }

    /// With osmodad reachable, every record is appended to the ledger too.
    @Test func decisionsAreRecordedInTheLedger() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-ledger")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let env = ["OSMODA_SOCKET": dir.appendingPathComponent("run/osmodad.sock").path,
                   "OSMODA_STATE_DIR": dir.appendingPathComponent("state").path,
                   "OSMODA_CONFIG_DIR": dir.appendingPathComponent("config").path,
                   "OSMODA_NO_AUTOSTART": "1"]
        let daemon = Process()
        daemon.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmodad")
        // Not "osmodad --user": other suites' clean-up kills by that command line.
        daemon.arguments = ["--checkpoint-every", "5m", "--user"]
        daemon.environment = ToolRunner.cleanEnvironment(env)
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
        try waitFor("osmodad's socket") { FileManager.default.fileExists(atPath: env["OSMODA_SOCKET"]!) }
        let echo = try LoopbackServer(["echo"])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir, ledger: ["--ledger", "on", "--user"], environment: env)
        defer { proxy.stop() }
        let c = try RawClient(port: port)
        #expect(statusCode(c.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        c.send("abc")
        #expect(c.read(until: "abc").text == "abc")
        close(c.fd)
        #expect(statusCode(try RawClient(port: port).connectRequest("10.9.9.9:443")) == 403)
        _ = try proxy.records(host: "127.0.0.1")
        var lines: [String] = []
        try waitFor("two ledger entries") {
            let r = try? ToolRunner.run("osmoda-ledger", ["tail", "-n", "10", "--user", "--format", "json"], environment: env)
            lines = (r?.stdoutLines ?? []).filter { $0.contains("egress.decision") }
            return lines.count >= 2
        }
        #expect(lines.contains { $0.contains(#""host":"10.9.9.9""#) && $0.contains(#""decision":"deny""#) })
        #expect(lines.contains { $0.contains(#""bytes_up":3"#) && $0.contains(#""decision":"allow""#) })
    }

    /// Start-up errors get their documented statuses; SIGTERM stops with 0.
    @Test func startUpErrorsAndStopHaveTheDocumentedStatuses() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-cli")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let good = dir.appendingPathComponent("good.json").path
        let port = try freePort()
        try Self.config(listeners: #"[{"name": "l", "tcp": "127.0.0.1:\#(port)", "policy": "p"}]"#, policies: #"{"p": {}}"#)
            .write(toFile: good, atomically: true, encoding: .utf8)
        let bad = dir.appendingPathComponent("bad.json").path
        try #"{"listeners": [], "policies": {}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        var r = try ToolRunner.run("osmoda-egress", ["--config", good, "--check"])
        #expect(r.status == 0, "\(r.stderrText)")
        // Its own binary, the same version as the others.
        r = try ToolRunner.run("osmoda-egress", ["--version"])
        let health = try ToolRunner.run("osmoda-health", ["--version"])
        #expect(r.stdoutText.replacingOccurrences(of: "osmoda-egress", with: "osmoda-health") == health.stdoutText)
        r = try ToolRunner.run("osmoda-egress", ["--config", dir.appendingPathComponent("missing.json").path])
        #expect(r.status == 66 && r.stderrText.hasPrefix("osmoda-egress: error: cannot read the config"), "\(r.stderrText)")
        r = try ToolRunner.run("osmoda-egress", ["--config", bad])
        #expect(r.status == 78 && r.stderrText.contains("bad.json: 'listeners'"), "\(r.stderrText)")
        r = try ToolRunner.run("osmoda-egress", ["--config", good, "--allow-internal-for-testing", "10.0.0.0/33"])
        #expect(r.status == 64, "\(r.stderrText)")
        let hosts = dir.appendingPathComponent("hosts").path
        try "not-an-address name\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        r = try ToolRunner.run("osmoda-egress", ["--config", good, "--hosts-file", hosts, "--ledger", "off"])
        #expect(r.status == 78 && r.stderrText.contains("hosts:1:"), "\(r.stderrText)")
        // The port taken: 74.
        let running = try EgressProxy(config: try String(contentsOfFile: good, encoding: .utf8), directory: dir)
        r = try ToolRunner.run("osmoda-egress", ["--config", good, "--ledger", "off"])
        #expect(r.status == 74 && r.stderrText.contains("cannot listen for l"), "\(r.stderrText)")
        running.stop()
        #expect(running.process.terminationStatus == 0)
    }
}
