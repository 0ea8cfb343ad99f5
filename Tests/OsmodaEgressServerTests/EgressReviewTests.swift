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

    /// Connections still sending their head (or waiting for their decision) are capped
    /// too, per listener and peer and in total: without that, silent or slowloris clients
    /// hold a descriptor and up to max_header_bytes each, as many as they care to open.
    /// Every way out of that phase gives the slot back.
    @Test func connectionsWaitingForTheirHeadAreCapped() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-pending")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let echo = try LoopbackServer(["echo"])
        let a = try freePort(), b = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "a", "tcp": "127.0.0.1:\#(a)", "policy": "t"}, {"name": "b", "tcp": "127.0.0.1:\#(b)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(echo.port)]}]}}"#,
            limits: #"{"max_tunnels": 3, "max_tunnels_per_client": 2, "header_timeout": "5m"}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let target = "127.0.0.1:\(echo.port)"
        // Two event loops accept in parallel: which of the three is refused is not fixed.
        var aWaiting = [try RawClient(port: a), try RawClient(port: a), try RawClient(port: a)]
        let a3 = try Self.refusedOne(of: &aWaiting)
        #expect(statusCode(a3.text) == 429 && headerValue(a3.text, "X-Osmoda-Egress-Rule") == "limit:max_tunnels_per_client", "\(a3)")
        var bWaiting = [try RawClient(port: b), try RawClient(port: b)]
        let b2 = try Self.refusedOne(of: &bWaiting)
        #expect(statusCode(b2.text) == 503 && headerValue(b2.text, "X-Osmoda-Egress-Rule") == "limit:max_tunnels", "\(b2)")
        // A client that goes away gives its slot back; so does every refusal and tunnel.
        var a1: RawClient? = aWaiting.removeFirst()
        let a2 = aWaiting[0], b1 = bWaiting[0]
        a1 = nil
        try waitFor("a slot to be given back") {
            (try? RawClient(port: b)).map { statusCode($0.connectRequest(target)) == 200 } ?? false
        }
        #expect(a1 == nil)
        for i in 0..<60 {
            let c = try RawClient(port: a)
            switch i % 3 {
            case 0: break  // connects and leaves
            case 1: c.send("GARBAGE\r\n\r\n"); _ = c.read(timeout: 5)
            default: _ = c.connectRequest(target)
            }
        }
        // Nothing leaked: with b1 and a2 still waiting, one more on a is admitted (and then its
        // tunnel is refused by the tunnel caps or not; it must not be refused before its head).
        try waitFor("the slots of the churn to be given back") {
            guard let c = try? RawClient(port: a) else { return false }
            let r = c.read(timeout: 0.3)
            return r.text.isEmpty && !r.closed
        }
        withExtendedLifetime((a2, b1)) {}
    }

    /// Waits until one of `clients` is answered and closed; it is taken out of the list and
    /// the others must stay unanswered.
    static func refusedOne(of clients: inout [RawClient]) throws -> (text: String, closed: Bool) {
        var answered: (Int, (text: String, closed: Bool))?
        try waitFor("one connection to be refused") {
            for (i, c) in clients.enumerated() {
                let r = c.read(timeout: 0.05)
                if !r.text.isEmpty || r.closed { answered = (i, r); return true }
            }
            return false
        }
        guard let (i, r) = answered else { throw RunnerError("none refused") }
        let answer = r.closed ? r : (text: r.text + clients[i].read(timeout: 5).text, closed: true)
        clients.remove(at: i)
        for c in clients {
            let other = c.read(timeout: 0.3)
            #expect(other.text.isEmpty && !other.closed, "a second connection was answered: \(other)")
        }
        return answer
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

    /// A name that resolves to an internal address is refused without telling the client
    /// the address (the record has it): the proxy is no oracle for the internal DNS.
    @Test func refusalsDoNotTellTheClientWhatANameResolvedTo() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-oracle")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let hosts = dir.appendingPathComponent("hosts").path
        try "10.1.2.3 intranet.test\n203.0.113.9 intranet.test\n".write(toFile: hosts, atomically: true, encoding: .utf8)
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "trial"}]"#,
            policies: #"{"trial": {"mode": "report"}}"#),
            args: ["--hosts-file", hosts], directory: dir)
        defer { proxy.stop() }
        let c = try RawClient(port: port)
        c.send("CONNECT intranet.test:443 HTTP/1.1\r\n\r\n")
        let answer = c.read(timeout: 5).text
        #expect(statusCode(answer) == 403, "\(answer)")
        #expect(!answer.contains("10.1.2.3") && !answer.contains("203.0.113.9"), "\(answer)")
        let rec = try proxy.records(host: "intranet.test").first
        #expect(rec?["address"] as? String == "10.1.2.3" && (rec?["reason"] as? String ?? "").contains("10.1.2.3"), "\(String(describing: rec))")
    }

    /// With --ledger on, records that miss the ledger while the daemon is retried (no
    /// sooner than 30 s after a failure) are errors on stderr, not skipped in silence.
    @Test func recordsThatMissTheLedgerAreNeverSkippedSilently() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-ledger")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let env = ["OSMODA_SOCKET": dir.appendingPathComponent("run/osmodad.sock").path,
                   "OSMODA_STATE_DIR": dir.appendingPathComponent("state").path,
                   "OSMODA_CONFIG_DIR": dir.appendingPathComponent("config").path,
                   "OSMODA_NO_AUTOSTART": "1"]
        let daemon = Process()
        daemon.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmodad")
        daemon.arguments = ["--checkpoint-every", "5m", "--user"]
        daemon.environment = ToolRunner.cleanEnvironment(env)
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }; daemon.waitUntilExit() }
        try waitFor("osmodad's socket") { FileManager.default.fileExists(atPath: env["OSMODA_SOCKET"]!) }
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#, policies: #"{"t": {}}"#),
            directory: dir, ledger: ["--ledger", "on", "--user"], environment: env)
        defer { proxy.stop() }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        #expect(statusCode(try RawClient(port: port).connectRequest("first.example:443")) == 403)
        try waitFor("the ledger failure") { proxy.stderr.contains("not recorded in the ledger") }
        #expect(statusCode(try RawClient(port: port).connectRequest("second.example:443")) == 403)
        _ = try proxy.records(host: "second.example")
        try waitFor("the second record's miss to be told", timeout: 5) { proxy.stderr.contains("retrying the daemon") }
    }

    /// An origin that never reads, and a client that fills the tunnel and leaves: the
    /// origin's side used to wait for its flush forever, holding the tunnel's slot (the
    /// client's cap) and its record. It is closed within the idle timeout.
    @Test func aTunnelToAnOriginThatNeverReadsEndsAfterTheClientLeaves() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-stuck")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let stuck = try LoopbackServer(["stuck"])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(
            listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#,
            policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(stuck.port)]}]}}"#,
            limits: #"{"max_tunnels_per_client": 1, "idle_timeout": "1s"}"#),
            args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        let target = "127.0.0.1:\(stuck.port)"
        var c: RawClient? = try RawClient(port: port)
        #expect(statusCode(c!.connectRequest(target)) == 200)
        // Send until every buffer on the way is full.
        let fd = c!.fd
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let chunk = [UInt8](repeating: 120, count: 65536)
        var full = 0
        let started = Date()
        while full < 20, Date().timeIntervalSince(started) < 20 {
            if Glibc.send(fd, chunk, chunk.count, Int32(MSG_NOSIGNAL)) < 0 { full += 1; usleep(50_000) } else { full = 0 }
        }
        c = nil
        // Within the idle timeout (1 s) and a margin, the slot is back and the record written.
        try waitFor("the slot to be given back", timeout: 15) {
            (try? RawClient(port: port)).map { statusCode($0.connectRequest(target)) == 200 } ?? false
        }
        // The record is written by the record writer's thread, after the slot is given
        // back: wait for it, not for just any record of the host (the polling above made
        // 429 refusals of its own).
        try waitFor("the tunnel's record", timeout: 10) {
            proxy.records.contains { $0["host"] as? String == "127.0.0.1" && $0["status"] as? Int == 200 && ($0["bytes_up"] as? Int ?? 0) > 0 }
        }
    }

    /// A reader of stdout that stops reading must not make the stop lose records silently:
    /// what is still queued at the exit is counted on stderr and the exit status is 74.
    @Test func recordsLostAtTheStopAreCountedAndFailTheExit() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-review-lost")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let config = dir.appendingPathComponent("egress.json").path
        try Self.config(listeners: #"[{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}]"#, policies: #"{"t": {}}"#)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = ToolRunner.productsDirectory.appendingPathComponent("osmoda-egress")
        p.arguments = ["--config", config, "--ledger", "off"]
        p.environment = ToolRunner.cleanEnvironment([:])
        let out = Pipe(), err = Pipe()  // stdout is never read
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let errText = TextBox()
        err.fileHandleForReading.readabilityHandler = { h in errText.append(h.availableData) }
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) }; p.waitUntilExit() }
        try waitFor("the proxy to listen") { errText.text.contains("listening") }
        // Refusals, each recorded at once: far more than a pipe holds (64 KiB).
        let label = String(repeating: "a", count: 60)
        for i in 0..<200 {
            let c = try RawClient(port: port)
            let head = c.connectRequest("\(label).\(label).\(label).n\(i).example:443")
            #expect(statusCode(head) == 403, "\(head)")
        }
        kill(p.processIdentifier, SIGTERM)
        try waitFor("the proxy to exit", timeout: 20) { !p.isRunning }
        try waitFor("the count on stderr", timeout: 5) { errText.text.contains("records were not written") }
        #expect(p.terminationStatus == 74, "\(errText.text)")
        withExtendedLifetime(out) {}
    }
}

/// Text appended from a reading thread.
final class TextBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.withLock { data.append(d) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
