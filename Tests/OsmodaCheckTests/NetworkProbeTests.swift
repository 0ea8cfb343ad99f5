#if canImport(Glibc)
import Glibc
#endif
import OsmodaCheck
import OsmodaCore
import OsmodaSystem
import Testing

private func http(_ url: String, timeoutMs: Int = 5000, expect: Int = 200, bodyContains: String? = nil, insecure: Bool = false) throws -> ProbeSpec {
    ProbeSpec(name: "web", timeoutMs: timeoutMs,
              probe: .http(.init(url: try HTTPURL(parsing: url), expectStatus: expect, bodyContains: bodyContains, insecure: insecure)))
}

@Suite struct TCPProbes {
    @Test func openPortConnects() throws {
        let (fd, port) = try TestSockets.listen(backlog: 4)
        defer { close(fd) }
        let r = run(ProbeSpec(name: "db", probe: .tcp(.init(host: "127.0.0.1", port: port))))
        #expect(r.ok)
        #expect(r.detail == "connected to 127.0.0.1:\(port)")
        #expect(r.target == "127.0.0.1:\(port)" && r.kind == "tcp" && r.name == "db")
        #expect(r.latencyMs >= 0 && r.latencyMs < 1000)
    }

    @Test func closedPortIsRefused() throws {
        let port = try TestSockets.closedPort()
        let r = run(ProbeSpec(name: "db", probe: .tcp(.init(host: "127.0.0.1", port: port))))
        #expect(!r.ok)
        #expect(r.detail == "connect: Connection refused")
        #expect(r.timedOut == nil)
    }

    @Test func fullAcceptQueueTimesOut() throws {
        // A listener that never accepts, with its queue filled, drops further SYNs.
        let (fd, port) = try TestSockets.listen(backlog: 0)
        defer { close(fd) }
        var fillers: [TCPConnection] = []
        for _ in 0..<4 {
            if let c = try? TCPConnection.connect(host: "127.0.0.1", port: port, deadline: MonotonicDeadline(milliseconds: 100)) {
                fillers.append(c)
            }
        }
        let r = run(ProbeSpec(name: "db", timeoutMs: 300, probe: .tcp(.init(host: "127.0.0.1", port: port))))
        #expect(!r.ok)
        #expect(r.detail == "connect: timed out after 300 ms")
        #expect(r.timedOut == true)
        #expect(r.latencyMs >= 290 && r.latencyMs < 1500)
        withExtendedLifetime(fillers) {}
    }
}

@Suite struct HTTPProbes {
    @Test func okWithBodyAndTheRequestWeSent() throws {
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.response(200, "OK", body: "all systems go"))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/health?full=1#x", bodyContains: "systems"))
        #expect(r.ok)
        #expect(r.status == 200)
        #expect(r.detail == "HTTP 200, body contains 'systems'")
        #expect(r.verified == nil)
        let head = server.requests.first ?? ""
        #expect(head.hasPrefix("GET /health?full=1 HTTP/1.1\r\n"))
        #expect(head.contains("\r\nHost: 127.0.0.1:\(server.port)\r\n"))
        #expect(head.contains("\r\nUser-Agent: osmoda-check\r\n"))
        #expect(head.contains("\r\nConnection: close\r\n"))
    }

    @Test func unexpectedStatusFails() throws {
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.response(503, "Service Unavailable", body: "down"))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/"))
        #expect(!r.ok)
        #expect(r.status == 503)
        #expect(r.detail == "HTTP 503, expected 200")
        let expected = run(try http("http://127.0.0.1:\(server.port)/", expect: 503))
        #expect(expected.ok && expected.detail == "HTTP 503")
    }

    @Test func redirectsAreNotFollowed() throws {
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.response(301, "Moved", body: "", headers: ["Location: http://127.0.0.1:1/"]))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/"))
        #expect(!r.ok && r.detail == "HTTP 301, expected 200")
        #expect(server.requests.count == 1)
    }

    @Test func bodyWithoutTheTextFails() throws {
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.response(200, "OK", body: "degraded"))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/", bodyContains: "healthy"))
        #expect(!r.ok && r.status == 200)
        #expect(r.detail == "HTTP 200, body does not contain 'healthy'")
    }

    @Test func chunkedBody() throws {
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.chunked(["hel", "lo wo", "rld"]))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/", bodyContains: "lo world"))
        #expect(r.ok)
        #expect(r.detail == "HTTP 200, body contains 'lo world'")
    }

    @Test func bodyUntilCloseAndInterimResponses() throws {
        let raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, read to the end"
        let server = try LoopbackHTTPServer(always: Array(raw.utf8))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/", bodyContains: "to the end"))
        #expect(r.ok && r.status == 200)
    }

    @Test func bodyIsCappedAtOneMebibyte() throws {
        let big = String(repeating: "a", count: (1 << 20) + 100) + "needle"
        let server = try LoopbackHTTPServer(always: LoopbackHTTPServer.response(200, "OK", body: big))
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/", bodyContains: "needle"))
        #expect(!r.ok)
        #expect(r.detail == "HTTP 200, body does not contain 'needle' in the first 1048576 bytes")
    }

    @Test func shortBodyAndGarbageAreErrors() throws {
        let short = try LoopbackHTTPServer(always: Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8))
        defer { short.stop() }
        let r = run(try http("http://127.0.0.1:\(short.port)/"))
        #expect(!r.ok && r.detail == "read response: connection closed with 7 of 10 body bytes unread")

        let garbage = try LoopbackHTTPServer(always: Array("SSH-2.0-OpenSSH_9.2\r\n".utf8))
        defer { garbage.stop() }
        let g = run(try http("http://127.0.0.1:\(garbage.port)/"))
        #expect(!g.ok && g.detail == "read response: malformed status line 'SSH-2.0-OpenSSH_9.2'")
    }

    @Test func silentServerTimesOut() throws {
        let server = try LoopbackHTTPServer { _ in .silence }
        defer { server.stop() }
        let r = run(try http("http://127.0.0.1:\(server.port)/", timeoutMs: 300))
        #expect(!r.ok)
        #expect(r.detail == "read response: timed out after 300 ms")
        #expect(r.timedOut == true)
        #expect(r.latencyMs >= 290 && r.latencyMs < 1500)
    }

    @Test func refusedConnection() throws {
        let port = try TestSockets.closedPort()
        let r = run(try http("http://127.0.0.1:\(port)/"))
        #expect(!r.ok && r.detail == "connect: Connection refused")
    }
}

@Suite(.serialized) struct TLSProbes {
    @Test func httpsVerificationAgainstASelfSignedServer() throws {
        let server = try OpenSSLServer()
        defer { server.stop() }
        let url = "https://localhost:\(server.port)/"

        let strict = run(try http(url))
        #expect(!strict.ok)
        #expect(strict.verified == false)
        #expect(strict.status == nil)
        #expect(strict.detail.hasPrefix("tls: certificate verify failed: "))
        #expect(strict.detail.contains("self-signed") || strict.detail.contains("self signed"))

        let insecure = run(try http(url, insecure: true))
        #expect(insecure.ok)
        #expect(insecure.status == 200)
        #expect(insecure.verified == false)
        #expect(insecure.detail.hasPrefix("HTTP 200, certificate not verified: "))

        // s_server -www answers with a page about the session.
        let body = run(try http(url, bodyContains: "s_server", insecure: true))
        #expect(body.ok)
    }

    @Test func certificateDaysLeft() throws {
        let server = try OpenSSLServer()
        defer { server.stop() }
        let ok = run(ProbeSpec(name: "tls", probe: .cert(.init(host: "127.0.0.1", port: server.port, minDays: 14, serverName: "localhost"))))
        #expect(ok.ok)
        #expect(ok.daysLeft == 29 || ok.daysLeft == 30)
        #expect(ok.verified == false)
        #expect(ok.detail.hasPrefix("\(ok.daysLeft ?? -1) days left (untrusted: "))
        #expect(ok.notAfter?.hasSuffix("Z") == true)

        let tooSoon = run(ProbeSpec(name: "tls", probe: .cert(.init(host: "127.0.0.1", port: server.port, minDays: 60))))
        #expect(!tooSoon.ok)
        #expect(tooSoon.detail.hasPrefix("\(tooSoon.daysLeft ?? -1) days left, need 60 (untrusted: "))
    }

    @Test func daysLeftRoundsDown() {
        let at = Timestamp(millisecondsSinceEpoch: 0)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: 86400 * 3 - 1).daysLeft == 2)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: 86400).daysLeft == 1)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: 0).daysLeft == 0)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: -5).daysLeft == -1)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: -86400).daysLeft == -1)
        #expect(TLSCertificateInfo(notAfter: at, secondsLeft: -86401).daysLeft == -2)
    }

    @Test func certProbeOnAPlainServerFails() throws {
        let reply = LoopbackHTTPServer.response(400, "Bad Request", body: "not tls")
        let server = try LoopbackHTTPServer(readsRequest: false) { _ in .bytes(reply) }
        defer { server.stop() }
        let r = run(ProbeSpec(name: "tls", timeoutMs: 2000, probe: .cert(.init(host: "127.0.0.1", port: server.port))))
        #expect(!r.ok)
        #expect(r.detail.hasPrefix("tls handshake: "))
        #expect(r.daysLeft == nil)
    }
}
