import Foundation
import OsmodaTestSupport
import Testing

/// Every connection that asks for something leaves exactly one `egress.decision` record,
/// however early it is refused: a head that cannot be parsed, is too large or too slow, a
/// refusal at the accept, a client that leaves while its request is being decided. An
/// audit trail a client can stay out of by sending garbage is no audit trail.
///
/// Each test counts the records after the proxy has stopped and its output has ended (the
/// stop drains the record queue), so "exactly one" is not a matter of waiting long enough.
@Suite(.serialized)
struct EgressRefusalRecordTests {
    static func config(port: Int, policies: String = #"{"t": {}}"#, limits: String = "{}") -> String {
        #"{"listeners": [{"name": "local", "tcp": "127.0.0.1:\#(port)", "policy": "t"}], "tokens": [], "policies": \#(policies), "limits": \#(limits)}"#
    }

    static func withRule(_ records: [[String: Any]], _ rule: String) -> [[String: Any]] {
        records.filter { $0["rule"] as? String == rule }
    }

    /// Sends `text`, reads the answer to its close, and returns its status and rule header.
    static func ask(_ port: Int, _ text: String) throws -> (status: Int?, rule: String?) {
        let c = try RawClient(port: port)
        c.send(text)
        let answer = c.read(timeout: 10).text
        return (statusCode(answer), headerValue(answer, "X-Osmoda-Egress-Rule"))
    }

    /// 400 (garbage, a bare LF, a malformed header, a head cut short by the client's FIN),
    /// 505 and 501: one record each, `host` and `port` filled when the request line was read.
    @Test func headsThatCannotBeParsedAreRecordedOnceEach() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-malformed")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port), directory: dir)
        defer { proxy.stop() }

        let cases: [(send: String, status: Int, rule: String, host: String?, port: Int?)] = [
            ("GARBAGE\r\n\r\n", 400, "request.malformed", nil, nil),
            ("CONNECT bare-lf.example:443 HTTP/1.1\nHost: x\n\n", 400, "request.malformed", "bare-lf.example", 443),
            ("CONNECT bad-header.example:443 HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, "request.malformed", "bad-header.example", 443),
            ("CONNECT version.example:8443 HTTP/2.0\r\n\r\n", 505, "request.malformed", "version.example", 8443),
            ("POST http://chunked.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "request.malformed", "chunked.example", 80),
            ("CONNECT twice.example:443 HTTP/1.1\r\nProxy-Authorization: Bearer a\r\nProxy-Authorization: Bearer b\r\n\r\n",
             400, "request.malformed", "twice.example", 443),
        ]
        for c in cases {
            let got = try Self.ask(port, c.send)
            #expect(got.status == c.status && got.rule == c.rule, "\(c.send.debugDescription): \(got)")
        }
        // A head cut short by the client's FIN.
        let cut = try RawClient(port: port)
        cut.send("CONNECT cut.example:443 HTTP/1.1\r\nHost: cut")
        shutdown(cut.fd, Int32(SHUT_WR))
        let cutAnswer = cut.read(timeout: 10).text
        #expect(statusCode(cutAnswer) == 400 && headerValue(cutAnswer, "X-Osmoda-Egress-Rule") == "request.incomplete", "\(cutAnswer)")
        // A connection that closes without sending a byte asked for nothing: no record.
        let silent = try RawClient(port: port)
        shutdown(silent.fd, Int32(SHUT_WR))
        _ = silent.read(timeout: 10)

        let records = try proxy.stopAndCollectRecords()
        #expect(Self.withRule(records, "request.malformed").count == cases.count, "\(records)")
        for c in cases {
            let mine = records.filter { r in
                r["status"] as? Int == c.status && (r["host"] as? String) == c.host && (r["port"] as? Int) == c.port
                    && r["rule"] as? String == c.rule
            }
            #expect(mine.count == 1, "\(c.send.debugDescription): \(mine)")
        }
        for r in Self.withRule(records, "request.malformed") where r["host"] as? String == nil {
            #expect(r["host"] is NSNull && r["port"] is NSNull && r["address"] is NSNull, "\(r)")
        }
        let cutRecords = Self.withRule(records, "request.incomplete")
        #expect(cutRecords.count == 1 && cutRecords.first?["host"] as? String == "cut.example" && cutRecords.first?["status"] as? Int == 400,
                "\(cutRecords)")
        #expect(records.count == cases.count + 1, "one record per request, none for the silent connection: \(records)")
        for r in records {
            #expect(r["decision"] as? String == "deny" && r["client"] as? String == "local@127.0.0.1" && r["listener"] as? String == "local", "\(r)")
        }
    }

    /// 431: one record, with the host of the request line that was read.
    @Test func aHeadOverTheCapIsRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-431")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port, limits: #"{"max_header_bytes": 4096}"#), directory: dir)
        defer { proxy.stop() }
        let c = try RawClient(port: port)
        c.send("CONNECT big.example:443 HTTP/1.1\r\n")
        for i in 0..<100 { if !c.send("X-Filler-\(i): \(String(repeating: "a", count: 200))\r\n") { break } }
        let answer = c.read(timeout: 10).text
        #expect(statusCode(answer) == 431 && headerValue(answer, "X-Osmoda-Egress-Rule") == "request.header_too_large", "\(answer)")
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 1, "\(records)")
        let r = records.first
        #expect(r?["rule"] as? String == "request.header_too_large" && r?["status"] as? Int == 431 && r?["decision"] as? String == "deny", "\(records)")
        #expect(r?["host"] as? String == "big.example" && r?["port"] as? Int == 443, "\(records)")
    }

    /// 408 (slowloris): one record; a request line not yet complete gives no host.
    @Test func aHeadNotCompleteInTimeIsRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-408")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port, limits: #"{"header_timeout": "1s"}"#), directory: dir)
        defer { proxy.stop() }
        let slow = try RawClient(port: port)
        slow.send("CONNECT slow.example:443 HTTP/1.1\r\nX-A: b")
        let partial = try RawClient(port: port)
        partial.send("CONNECT partial.exa")
        for c in [slow, partial] {
            let answer = c.read(timeout: 10).text
            #expect(statusCode(answer) == 408 && headerValue(answer, "X-Osmoda-Egress-Rule") == "request.header_timeout", "\(answer)")
        }
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 2 && Self.withRule(records, "request.header_timeout").count == 2, "\(records)")
        #expect(records.filter { $0["host"] as? String == "slow.example" && $0["port"] as? Int == 443 && $0["status"] as? Int == 408 }.count == 1,
                "\(records)")
        #expect(records.filter { $0["host"] is NSNull && $0["port"] is NSNull && $0["status"] as? Int == 408 }.count == 1, "\(records)")
    }

    /// 429 and 503 at the accept (the caps on connections waiting for their head): one
    /// record each, host and port null (nothing was read).
    @Test func refusalsAtTheAcceptAreRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-accept")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let a = try freePort(), b = try freePort()
        let config = #"{"listeners": [{"name": "a", "tcp": "127.0.0.1:\#(a)", "policy": "t"}, {"name": "b", "tcp": "127.0.0.1:\#(b)", "policy": "t"}], "#
            + #""tokens": [], "policies": {"t": {}}, "limits": {"max_tunnels": 3, "max_tunnels_per_client": 2, "header_timeout": "5m"}}"#
        let proxy = try EgressProxy(config: config, directory: dir)
        defer { proxy.stop() }
        var aWaiting = [try RawClient(port: a), try RawClient(port: a), try RawClient(port: a)]
        let a3 = try EgressReviewTests.refusedOne(of: &aWaiting)
        #expect(statusCode(a3.text) == 429, "\(a3)")
        var bWaiting = [try RawClient(port: b), try RawClient(port: b)]
        let b2 = try EgressReviewTests.refusedOne(of: &bWaiting)
        #expect(statusCode(b2.text) == 503, "\(b2)")
        // The waiting ones leave without a byte: no records of their own.
        aWaiting.removeAll()
        bWaiting.removeAll()
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 2, "\(records)")
        let perClient = Self.withRule(records, "limit:max_tunnels_per_client")
        let total = Self.withRule(records, "limit:max_tunnels")
        #expect(perClient.count == 1 && perClient.first?["status"] as? Int == 429 && perClient.first?["client"] as? String == "a@127.0.0.1",
                "\(records)")
        #expect(total.count == 1 && total.first?["status"] as? Int == 503 && total.first?["listener"] as? String == "b", "\(records)")
        for r in records { #expect(r["host"] is NSNull && r["port"] is NSNull && r["decision"] as? String == "deny", "\(r)") }
    }

    /// A client that leaves while its name is being resolved (a name server that never
    /// answers, in a mount namespace of the proxy's own): one `client.gone` record, 499,
    /// written when the lookup ends.
    @Test(.enabled(if: EgressRefusalRecordTests.mountNamespacesWork)) func aClientThatLeavesWhileResolvingIsRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-resolve")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let nameserver = "127.83.41.\(Int.random(in: 2...250))"
        let dns = try LoopbackServer(["mute-dns", nameserver])
        defer { dns.stop() }
        let resolv = dir.appendingPathComponent("resolv.conf").path
        try "nameserver \(nameserver)\noptions timeout:2 attempts:1\n".write(toFile: resolv, atomically: true, encoding: .utf8)
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port, policies: #"{"t": {"allow": [{"host": "*.slow.test"}]}}"#,
                                                        limits: #"{"connect_timeout": "2s"}"#),
                                    directory: dir, prefix: ["/usr/bin/env", "python3", "-c", Self.resolvWrapper, resolv])
        defer { proxy.stop() }
        var c: RawClient? = try RawClient(port: port)
        c!.send("CONNECT name.slow.test:443 HTTP/1.1\r\n\r\n")
        let early = c!.read(timeout: 0.3)
        #expect(early.text.isEmpty && !early.closed, "the lookup was not still running: \(early)")
        // Gone, not half-closed: a FIN alone is a client that still waits for its answer.
        c!.resetOnClose()
        c = nil
        try waitFor("the client.gone record", timeout: 15) { !Self.withRule(proxy.records, "client.gone").isEmpty }
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 1, "\(records)")
        let r = records.first
        #expect(r?["rule"] as? String == "client.gone" && r?["status"] as? Int == 499 && r?["decision"] as? String == "deny", "\(records)")
        #expect(r?["host"] as? String == "name.slow.test" && r?["port"] as? Int == 443 && r?["address"] is NSNull, "\(records)")
        let reason: String = (r?["reason"] as? String) ?? ""
        #expect(reason.contains("resolved"), "\(records)")
    }

    /// A client that leaves while the connect is under way and then fails (an origin whose
    /// accept queue is full drops the SYN): one `client.gone` record, 499, with the address.
    @Test func aClientThatLeavesBeforeAFailedConnectIsRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-connect")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let full = try LoopbackServer(["full"])
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port, policies: #"{"t": {"allow": [{"host": "127.0.0.1", "ports": [\#(full.port)]}]}}"#,
                                                        limits: #"{"connect_timeout": "3s"}"#),
                                    args: ["--allow-internal-for-testing", "127.0.0.0/8"], directory: dir)
        defer { proxy.stop() }
        var c: RawClient? = try RawClient(port: port)
        c!.send("CONNECT 127.0.0.1:\(full.port) HTTP/1.1\r\n\r\n")
        let early = c!.read(timeout: 0.3)
        #expect(early.text.isEmpty && !early.closed, "the connect was not still under way: \(early)")
        // Gone, not half-closed: a FIN alone is a client that still waits for its answer.
        c!.resetOnClose()
        c = nil
        try waitFor("the client.gone record", timeout: 15) { !Self.withRule(proxy.records, "client.gone").isEmpty }
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 1, "\(records)")
        let r = records.first
        #expect(r?["rule"] as? String == "client.gone" && r?["status"] as? Int == 499 && r?["decision"] as? String == "deny", "\(records)")
        #expect(r?["address"] as? String == "127.0.0.1" && r?["port"] as? Int == full.port, "\(records)")
    }

    /// A client that resets its connection in the middle of its head: one `client.gone`
    /// record. One still sending its head when the proxy stops: one `proxy.stopped`.
    @Test func aHeadCutShortByTheClientOrTheStopIsRecordedOnce() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-midhead")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let proxy = try EgressProxy(config: Self.config(port: port, limits: #"{"header_timeout": "5m"}"#), directory: dir)
        defer { proxy.stop() }
        var gone: RawClient? = try RawClient(port: port)
        gone!.send("CONNECT gone.example:443 HTTP/1.1\r\nHost: gone")
        let stays = try RawClient(port: port)
        stays.send("CONNECT stays.example:443 HTTP/1.1\r\nHost: st")
        #expect(gone!.read(timeout: 0.3).text.isEmpty)
        gone!.resetOnClose()
        gone = nil
        try waitFor("the client.gone record") { !Self.withRule(proxy.records, "client.gone").isEmpty }
        let records = try proxy.stopAndCollectRecords()
        #expect(records.count == 2, "\(records)")
        let g = Self.withRule(records, "client.gone"), s = Self.withRule(records, "proxy.stopped")
        #expect(g.count == 1 && g.first?["host"] as? String == "gone.example" && g.first?["status"] as? Int == 499, "\(records)")
        #expect(s.count == 1 && s.first?["host"] as? String == "stays.example" && s.first?["status"] as? Int == 499, "\(records)")
        withExtendedLifetime(stays) {}
    }

    /// A flood of garbage with a reader of stdout that never reads: each connection is
    /// answered at once (the records queue, never block), and what is lost at the stop is
    /// counted on stderr.
    @Test func aFloodOfGarbageWithAStuckReaderDoesNotBlockTheProxy() throws {
        let dir = try ToolRunner.temporaryDirectory("egress-rec-flood")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let port = try freePort()
        let config = dir.appendingPathComponent("egress.json").path
        try Self.config(port: port).write(toFile: config, atomically: true, encoding: .utf8)
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
        // Each record carries ~300 bytes of garbage-derived text at most; 400 of them are
        // more than a pipe holds.
        let junk = String(repeating: "x", count: 200)
        for i in 0..<400 {
            let c = try RawClient(port: port)
            c.send("CONNECT \(junk)\(i).example:443 HTTP/9.9\r\n\r\n")
            let answer = c.read(timeout: 10).text
            #expect(statusCode(answer) == 505, "connection \(i): \(answer)")
            if statusCode(answer) != 505 { break }
        }
        kill(p.processIdentifier, SIGTERM)
        try waitFor("the proxy to exit", timeout: 20) { !p.isRunning }
        try waitFor("the count on stderr", timeout: 5) { errText.text.contains("records were not written") }
        #expect(p.terminationStatus == 74, "\(errText.text)")
        withExtendedLifetime(out) {}
    }

    /// Runs a command in a mount namespace of its own with `argv[1]` bound over
    /// /etc/resolv.conf (argv only, no shell).
    static let resolvWrapper = #"""
        import ctypes, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x20000) != 0: sys.exit("unshare: errno %d" % ctypes.get_errno())
        if libc.mount(b"none", b"/", None, 16384 | (1 << 18), None) != 0: sys.exit("mount private: errno %d" % ctypes.get_errno())
        if libc.mount(sys.argv[1].encode(), b"/etc/resolv.conf", None, 4096, None) != 0: sys.exit("bind: errno %d" % ctypes.get_errno())
        os.execv(sys.argv[2], sys.argv[2:])
        """#

    static var mountNamespacesWork: Bool {
        (try? ToolRunner.run("/usr/bin/unshare", ["-m", "true"]).status) == 0
    }
}
