import OsmodaEgress
@testable import OsmodaEgressServer
import OsmodaSystem
import Testing

struct RequestHeadTests {
    func parse(_ s: String) throws(HeadError) -> RequestHead { try RequestHeadParser.parse(Array(s.utf8)) }

    func status(_ s: String) -> Int? {
        do { _ = try parse(s); return nil } catch { return error.status }
    }

    @Test func connectAndAbsoluteFormAreParsed() throws {
        let c = try parse("CONNECT Example.COM.:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        #expect(c.host == .name("example.com"))
        #expect(c.port == 443)
        #expect(c.hostText == "Example.COM.")
        let v6 = try parse("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n")
        #expect(v6.hostText == "::1")
        #expect(v6.port == 8443)
        let f = try parse("GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\nAccept: */*\r\n\r\n")
        guard case .forward(let host, let port, let authority, let path) = f.target else { Issue.record("not forward"); return }
        #expect(host == .name("example.com") && port == 8080 && authority == "example.com:8080" && path == "/a/b?q=1")
        let q = try parse("GET http://example.com?x HTTP/1.0\r\n\r\n")
        guard case .forward(_, 80, _, "/?x") = q.target else { Issue.record("\(q.target)"); return }
        let lit = try parse("CONNECT 0x7f.1:443 HTTP/1.1\r\n\r\n")
        #expect(lit.host == .address(IPAddress("127.0.0.1")!))
    }

    /// The host and port a refused head's record gets: only from a whole request line
    /// whose target parses.
    @Test func targetHintReadsOnlyAWholeRequestLine() {
        func hint(_ s: String) -> String? {
            RequestHeadParser.targetHint(Array(s.utf8)).map { "\($0.host) \($0.port)" }
        }
        #expect(hint("CONNECT a.example:443 HTTP/2.0\r\nBad Header: x\r\n") == "a.example 443")
        #expect(hint("GET http://[::1]:8080/x HTTP/1.1\n") == "::1 8080")
        #expect(hint("POST http://b.example/ HTTP/1.1\r\n") == "b.example 80")
        #expect(hint("CONNECT a.example:443 HTTP/1.1") == nil)  // the line is not complete
        #expect(hint("CONNECT a.example HTTP/1.1\r\n") == nil)  // no port
        #expect(hint("GET /relative HTTP/1.1\r\n") == nil)
        #expect(hint("GARBAGE\r\n\r\n") == nil)
        #expect(hint("CONNECT  a.example:443 HTTP/1.1\r\n") == nil)
        #expect(hint("") == nil)
    }

    @Test func malformedHeadsAreRefusedWithTheRightStatus() {
        #expect(status("GET  http://a/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://a/ HTTP/1.1 x\r\n\r\n") == 400)
        #expect(status("GET http://a/ HTTP/2\r\n\r\n") == 505)
        #expect(status("G(T http://a/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("CONNECT a HTTP/1.1\r\n\r\n") == 400)
        #expect(status("CONNECT a:0 HTTP/1.1\r\n\r\n") == 400)
        #expect(status("CONNECT a:443 HTTP/1.1\n\r\n") == 400)
        #expect(status("CONNECT a:443 HTTP/1.1\r\nX: 1\rY: 2\r\n\r\n") == 400)
        #expect(status("CONNECT a:443 HTTP/1.1\r\nX: \u{1}\r\n\r\n") == 400)
        #expect(status("CONNECT a:443 HTTP/1.1\r\nX : 1\r\n\r\n") == 400)
        #expect(status("CONNECT a:443 HTTP/1.1\r\nX: 1\r\n continued\r\n\r\n") == 400)
        #expect(status("GET /path HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET https://a/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://u:p@a/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://a:99999/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http:/// HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://a/#frag HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://[::1/ HTTP/1.1\r\n\r\n") == 400)
        #expect(status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 501)
        #expect(status("POST http://a/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n") == 400)
        #expect(status("POST http://a/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400)
        #expect(status("POST http://a/ HTTP/1.1\r\nContent-Length: 1\r\n\r\n") == nil)
    }

    @Test func endOfHeadIsFoundAcrossReads() {
        let a = Array("CONNECT a:443 HTTP/1.1\r\n\r".utf8)
        #expect(RequestHeadParser.endOfHead(a) == nil)
        let b = a + [10, 65]
        #expect(RequestHeadParser.endOfHead(b, searchFrom: a.count) == a.count + 1)
    }

    @Test func forwardedHeadIsOriginFormWithoutProxyOrHopByHopHeaders() throws {
        let h = try parse("""
            POST http://example.com:8080/x?y HTTP/1.1\r
            Host: evil.example\r
            Proxy-Authorization: Bearer t\r
            Proxy-Connection: keep-alive\r
            Connection: keep-alive, X-Secret\r
            X-Secret: 1\r
            Keep-Alive: 5\r
            Upgrade: websocket\r
            Content-Length: 3\r
            Accept: */*\r
            \r

            """)
        let out = String(decoding: RequestHeadParser.forwardedHead(h), as: UTF8.self)
        #expect(out == "POST /x?y HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 3\r\nAccept: */*\r\nConnection: close\r\n\r\n")
    }

    /// `Connection` cannot make the body's framing hop-by-hop: the body is still sent.
    @Test func connectionCannotNameTheContentLength() throws {
        let h = try parse("POST http://example.com/ HTTP/1.1\r\nConnection: Content-Length\r\nContent-Length: 3\r\n\r\n")
        let out = String(decoding: RequestHeadParser.forwardedHead(h), as: UTF8.self)
        #expect(out == "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
    }

    @Test func proxyTokensFromBearerAndBasic() {
        #expect(RequestHeadParser.proxyToken("Bearer abc") == Array("abc".utf8))
        // "user:pa:ss" — the password may hold colons.
        #expect(RequestHeadParser.proxyToken("Basic dXNlcjpwYTpzcw==") == Array("pa:ss".utf8))
        #expect(RequestHeadParser.proxyToken("basic OnRva2Vu") == Array("token".utf8))
        #expect(RequestHeadParser.proxyToken("Basic dXNlcjo=") == nil)
        #expect(RequestHeadParser.proxyToken("Basic !!!!") == nil)
        #expect(RequestHeadParser.proxyToken("Digest x") == nil)
        #expect(RequestHeadParser.proxyToken("Bearer") == nil)
        #expect(Base64.decode("YQ==") == [97])
        #expect(Base64.decode("YWI=") == [97, 98])
        #expect(Base64.decode("YWJj") == [97, 98, 99])
        #expect(Base64.decode("YQ=a") == nil)
        #expect(Base64.decode("YQ") == nil)
    }

    @Test func hostsFileAnswersEveryListedAddress() throws {
        let r = try EgressResolver.hostsFile(Array("""
            # comment
            10.0.0.1 mixed.example Alias.Example.
            93.184.216.34\tmixed.example
            ::1 six.example # trailing comment

            """.utf8), path: "hosts")
        guard case .success(let mixed) = r.resolve("mixed.example", port: 443, deadline: MonotonicDeadline(milliseconds: 100)) else { Issue.record("no answer"); return }
        #expect(mixed == [IPAddress("10.0.0.1")!, IPAddress("93.184.216.34")!])
        guard case .success(let alias) = r.resolve("alias.example", port: 443, deadline: MonotonicDeadline(milliseconds: 100)) else { Issue.record("no alias"); return }
        #expect(alias == [IPAddress("10.0.0.1")!])
        guard case .failure(.notFound) = r.resolve("other.example", port: 443, deadline: MonotonicDeadline(milliseconds: 100)) else { Issue.record("resolved"); return }
        #expect(throws: EgressSetupError.self) { try EgressResolver.hostsFile(Array("notanaddress name\n".utf8), path: "h") }
        #expect(throws: EgressSetupError.self) { try EgressResolver.hostsFile(Array("10.0.0.1\n".utf8), path: "h") }
    }

    @Test func tunnelCapsCountPerClientAndInTotal() throws {
        let config = try EgressConfig.parse(Array(#"{"listeners": [{"name": "l", "tcp": "127.0.0.1:3128", "policy": "p"}], "policies": {"p": {}}}"#.utf8), path: "c")
        let state = EgressState(config: config, extraAllowed: [], selfAddresses: [])
        var limits = config.limits
        limits.maxTunnels = 3
        limits.maxTunnelsPerClient = 2
        #expect(state.admit(client: "a", limits: limits) == .admitted)
        #expect(state.admit(client: "a", limits: limits) == .admitted)
        #expect(state.admit(client: "a", limits: limits) == .clientFull(2))
        #expect(state.admit(client: "b", limits: limits) == .admitted)
        #expect(state.admit(client: "c", limits: limits) == .totalFull(3))
        state.release(client: "a")
        #expect(state.admit(client: "c", limits: limits) == .admitted)
        #expect(state.openTunnels == 3)
    }
}
