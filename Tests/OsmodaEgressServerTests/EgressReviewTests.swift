import Foundation
import OsmodaTestSupport
import Testing

/// Defects found in review, each pinned by a test against the built proxy.
@Suite(.serialized)
struct EgressReviewTests {
    static func config(listeners: String, policies: String, limits: String = "{}") -> String {
        #"{"listeners": \#(listeners), "tokens": [], "policies": \#(policies), "limits": \#(limits)}"#
    }

    /// A client that sends its head and its first bytes in one write (a POST with its body,
    /// or a CONNECT followed at once by its TLS hello) must have every byte relayed: the
    /// reads past the first one that arrive while the proxy decides used to be dropped.
    @Test func bytesSentWithTheHeadAreRelayedWhole() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-pipelined")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let http = try LoopbackServer(["http", dir.path])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port), \#(http.port)]}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }

        // POST: head and a 200 kB body in one send.
        let body = String((0..<200_000).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
        let want = try EgressEndToEndTests.sha256Text(body)
        let post = try RawClient(port: port)
        #expect(post.send("POST http://127.0.0.1:\(http.port)/ HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body))
        let answer = post.read(until: want, timeout: 10)
        #expect(answer.text.contains(want), "the origin got another body: \(answer.text.suffix(200))")

        // A small body with line feeds, in the same read as the head: not a "bare LF in the head".
        let json = "{\n  \"a\": 1\n}\n"
        let small = try RawClient(port: port)
        #expect(small.send("POST http://127.0.0.1:\(http.port)/ HTTP/1.1\r\nContent-Length: \(json.utf8.count)\r\n\r\n" + json))
        let wantSmall = try EgressEndToEndTests.sha256Text(json)
        let smallAnswer = small.read(until: wantSmall, timeout: 10).text
        #expect(statusCode(smallAnswer) == 200 && smallAnswer.contains(wantSmall), "\(smallAnswer)")

        // CONNECT: the tunnel's first 100 kB sent with the head.
        let payload = String(repeating: "0123456789", count: 10_000) + "end"
        let tunnel = try RawClient(port: port)
        #expect(tunnel.send("CONNECT 127.0.0.1:\(echo.port) HTTP/1.1\r\nHost: 127.0.0.1:\(echo.port)\r\n\r\n" + payload))
        let echoed = tunnel.read(until: "end", timeout: 10).text
        let relayed = echoed.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(relayed.utf8.count == payload.utf8.count && relayed.hasSuffix("end"),
                "\(relayed.utf8.count) of \(payload.utf8.count) bytes came back")
    }

    /// `Connection` may name hop-by-hop headers to remove, but not the body's framing: a
    /// forwarded request stripped of its Content-Length while its body is still sent has
    /// the origin read that body as a second request, one the proxy never looked at.
    @Test func connectionCannotStripTheContentLength() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-framing")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let smuggled = "GET /admin HTTP/1.1\r\nHost: internal.example\r\n\r\n"
        let c = try RawClient(port: port)
        #expect(c.send("POST http://127.0.0.1:\(echo.port)/ HTTP/1.1\r\nConnection: keep-alive, Content-Length\r\n"
                       + "Content-Length: \(smuggled.utf8.count)\r\n\r\n" + smuggled))
        // The echo origin answers with what it was sent.
        let sent = c.read(until: "internal.example\r\n\r\n", timeout: 10).text
        let head = sent.components(separatedBy: "\r\n\r\n").first ?? ""
        #expect(headerValue(head, "Content-Length") == "\(smuggled.utf8.count)", "the origin was sent: \(sent.debugDescription)")
    }

    /// SIGTERM with tunnels open: each tunnel's record (written at its close) must still be
    /// written before the proxy exits, or an allowed connection leaves no trace at all.
    @Test func stoppingWritesTheRecordsOfOpenTunnels() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-stop")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let c = try RawClient(port: port)
        #expect(statusCode(c.connectRequest("127.0.0.1:\(echo.port)")) == 200)
        #expect(c.send("hello"))
        #expect(c.read(until: "hello", timeout: 5).text.contains("hello"))
        proxy.signal(SIGTERM)
        try waitFor("the proxy to exit") { !proxy.process.isRunning }
        #expect(proxy.process.terminationStatus == 0)
        // The pipe may still be read after the exit: wait for the record, not for the exit.
        let recs = (try? proxy.records(host: "127.0.0.1", timeout: 5)) ?? []
        #expect(recs.count == 1, "\(proxy.stdoutLines) \(proxy.stderr)")
        #expect(recs.first?["status"] as? Int == 200 && recs.first?["bytes_up"] as? Int == 5, "\(recs)")
        #expect(c.read(timeout: 5).closed)
    }
}
