#if canImport(Glibc)
import Glibc
#endif
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaSystem
import Testing

/// Requests and bad clients against a real daemon on a real socket.
@Suite struct Serving {
    @Test func pingStatusWhoami() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let client = try d.client()
        #expect(try client.call(DaemonMethod.ping) == .object(JSONObject(["pong": .bool(true)])))
        let status = try client.call(DaemonMethod.status, params: NoParams(), as: DaemonStatus.self)
        #expect(status.version == "test" && status.pid == getpid() && status.mode == "user" && status.socket == d.paths.socket)
        #expect(!status.socketActivated)
        #expect(status.connections.active == 1 && status.connections.accepted == 1 && status.connections.perUidLimit == 64)
        let me = try client.call(DaemonMethod.whoami, params: NoParams(), as: CallerIdentity.self)
        #expect(me.pid == getpid() && me.uid == getuid() && me.gid == getgid() && me.role == .admin)
        #expect(me.exe == PathCalls.readLink("/proc/self/exe"))
    }

    @Test func socketFileIsPrivateInUserMode() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let st = try #require(try PathCalls.status(d.paths.socket))
        #expect(st.kind == .socket && st.mode == 0o600)
        #expect(try PathCalls.status(d.dir.file("run"))?.mode == 0o700)
    }

    @Test func handlersGetTheRealPeer() throws {
        final class Seen: @unchecked Sendable {
            let monitor = ConditionMonitor()
            var peers: [Peer] = []
        }
        let seen = Seen()
        var router = Router()
        router.register("test.record", role: .reader) { (peer, _) throws(RPCError) in
            seen.monitor.withLock { seen.peers.append(peer) }
            return .null
        }
        let d = try TestDaemon(router: router).start()
        defer { d.close() }
        let raw = try d.raw()
        // A request that claims to be someone else changes nothing.
        try raw.send(#"{"jsonrpc":"2.0","id":1,"method":"test.record","params":{"uid":0,"pid":1,"actor":"root"}}"# + "\n")
        #expect(try raw.response().resultValue == .null)
        let peer = try #require(seen.monitor.withLock { seen.peers.first })
        #expect(peer.pid == getpid() && peer.uid == getuid() && peer.gid == getgid() && peer.role == .admin)
        #expect(peer.exe == PathCalls.readLink("/proc/self/exe"))
    }

    @Test func malformedJSONThenServesTheNextRequest() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send("{not json\n" + requestLine(DaemonMethod.ping, id: 2))
        let bad = try raw.response()
        #expect(bad.id == .null)
        #expect(bad.rpcError?.number == -32700)
        #expect(bad.errorCode == .parseError)
        let good = try raw.response()
        #expect(good.id == .number(2) && good.resultValue == .object(JSONObject(["pong": .bool(true)])))
    }

    @Test func invalidRequestsAreAnsweredWithTheirID() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(#"{"jsonrpc":"2.0","id":5,"method":7}"# + "\n" + #"[1,2]"# + "\n" + #"{"jsonrpc":"2.0","id":"s","method":"daemon.ping","params":1}"# + "\n")
        let first = try raw.response()
        #expect(first.id == .number(5) && first.errorCode == .invalidRequest && first.rpcError?.number == -32600)
        let batch = try raw.response()
        #expect(batch.id == .null && batch.errorCode == .invalidRequest)
        let third = try raw.response()
        #expect(third.id == .string("s") && third.errorCode == .invalidRequest)
        try raw.send(requestLine(DaemonMethod.ping, id: 6))
        #expect(try raw.response().id == .number(6))
    }

    @Test func unknownMethod() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(requestLine("no.such", id: 9))
        let r = try raw.response()
        #expect(r.id == .number(9) && r.errorCode == .methodNotFound && r.rpcError?.number == -32601)
        #expect(r.rpcError?.message == "method not found: 'no.such'")
    }

    @Test func notificationsAreRunButNotAnswered() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(#"{"jsonrpc":"2.0","method":"daemon.ping"}"# + "\n" + #"{"jsonrpc":"2.0","method":"no.such"}"# + "\n" + requestLine(DaemonMethod.ping, id: 3))
        #expect(try raw.response().id == .number(3))
    }

    @Test func blankLinesAreSkipped() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send("\n  \r\n" + requestLine(DaemonMethod.ping, id: 4))
        #expect(try raw.response().id == .number(4))
    }

    @Test func oversizedFrameIsRefusedAndTheStreamGoesOn() throws {
        let d = try TestDaemon(limits: testLimits { $0.maxFrameBytes = 1024 }).start()
        defer { d.close() }
        let raw = try d.raw()
        let big = #"{"jsonrpc":"2.0","id":1,"method":"daemon.ping","params":{"pad":""# + String(repeating: "x", count: 300_000) + "\"}}\n"
        // Sent from another thread: the daemon answers before the whole frame is in.
        let fd = raw.fd
        let sender = BackgroundJob {
            try? UnixSocket.sendAll(fd, Array(big.utf8) + Array(requestLine(DaemonMethod.ping, id: 2).utf8), timeoutMs: 10_000)
        }
        defer {
            sender.wait()
            withExtendedLifetime(raw) {}
        }
        let tooLarge = try raw.response()
        #expect(tooLarge.id == .null && tooLarge.errorCode == .tooLarge)
        #expect(tooLarge.rpcError?.details["limit"] == .int(1024))
        let next = try raw.response()
        #expect(next.id == .number(2) && next.resultValue != nil)
        // Other clients never noticed.
        #expect(try d.client().call(DaemonMethod.ping) != .null)
    }

    @Test func idleClientIsClosedWhileOthersAreServed() throws {
        let d = try TestDaemon(limits: testLimits { $0.idleTimeoutMs = 300 }).start()
        defer { d.close() }
        let silent = try d.raw()
        let started = Sys.monotonicNanos()
        // Another client keeps being served, each request well inside the idle limit.
        let busy = try d.raw()
        for i in 0..<8 {
            try busy.send(requestLine(DaemonMethod.ping, id: Int64(i)))
            #expect(try busy.response().id == .number(Int64(i)))
            Sys.sleep(milliseconds: 60)
        }
        #expect(silent.closesWithin(3000))
        let waited = (Sys.monotonicNanos() - started) / 1_000_000
        #expect(waited >= 250, "closed after \(waited) ms")
        #expect(d.server.connectionCounts.timedOut >= 1)
        try busy.send(requestLine(DaemonMethod.ping, id: 99))
        #expect(try busy.response(timeoutMs: 2000).id == .number(99))
    }

    @Test func halfFrameIsCutOffAtTheFrameDeadline() throws {
        let d = try TestDaemon(limits: testLimits { $0.frameTimeoutMs = 300 }).start()
        defer { d.close() }
        let slow = try d.raw()
        try slow.send(#"{"jsonrpc":"2.0","#)
        // Dribbling a byte at a time does not extend the deadline.
        let fd = slow.fd
        let dribbler = BackgroundJob {
            for _ in 0..<40 {
                if (try? UnixSocket.sendAll(fd, [0x20], timeoutMs: 100)) == nil { return }
                Sys.sleep(milliseconds: 50)
            }
        }
        defer {
            dribbler.wait()
            withExtendedLifetime(slow) {}
        }
        let other = try d.client()
        #expect(try other.call(DaemonMethod.ping) != .null)
        var lines: [String] = []
        #expect(slow.closesWithin(3000, skipped: &lines))
        let timeout = try #require(lines.first.map { try RPCResponse.decode(Array($0.utf8)) })
        #expect(timeout.errorCode == .timeout && timeout.id == .null)
        #expect(try other.call(DaemonMethod.ping) != .null)
    }

    @Test func halfClosedSocketStillGetsItsAnswers() throws {
        let d = try TestDaemon().start()
        defer { d.close() }
        let raw = try d.raw()
        try raw.send(requestLine(DaemonMethod.ping, id: 1) + requestLine(DaemonMethod.ping, id: 2).dropLast())
        raw.shutdownWrite()
        #expect(try raw.response().id == .number(1))
        // The last line had no newline: the end of the stream ends it.
        #expect(try raw.response().id == .number(2))
        #expect(raw.closesWithin(2000))
    }

    @Test func fiveHundredConnectionsAllAnswered() throws {
        raiseDescriptorLimit()
        let d = try TestDaemon(limits: testLimits { $0.maxConnectionsPerUID = 1024 }).start()
        defer { d.close() }
        let connections = try (0..<500).map { _ in try d.raw() }
        for (i, c) in connections.enumerated() { try c.send(requestLine(DaemonMethod.ping, id: Int64(i))) }
        var answered = 0
        for (i, c) in connections.enumerated() {
            if let r = try? c.response(timeoutMs: 10_000), r.id == .number(Int64(i)), r.resultValue != nil { answered += 1 }
        }
        #expect(answered == 500)
        #expect(d.server.connectionCounts.active == 500)
        #expect(try d.client().call(DaemonMethod.ping) != .null)
    }

    @Test func connectionsPastTheCapGetBusy() throws {
        raiseDescriptorLimit()
        let d = try TestDaemon().start()  // 64 per uid
        defer { d.close() }
        let connections = try (0..<500).map { _ in try d.raw() }
        for (i, c) in connections.enumerated() { try? c.send(requestLine(DaemonMethod.ping, id: Int64(i))) }
        var answered = 0
        var busy = 0
        for c in connections {
            guard let r = try? c.response(timeoutMs: 10_000) else { continue }
            if r.resultValue != nil { answered += 1 }
            if r.errorCode == .busy && r.id == .null { busy += 1 }
        }
        #expect(answered == 64)
        #expect(busy == 436)
        #expect(d.server.connectionCounts.refusedBusy == 436)
        // The refused ones were closed; the daemon still serves once there is room.
        let extra = try d.raw()
        #expect(try extra.response().errorCode == .busy)
        #expect(extra.closesWithin(2000))
        for c in connections.prefix(64) { c.shutdownWrite() }
        let deadline = MonotonicDeadline(milliseconds: 5000)
        while d.server.connectionCounts.active > 0 && !deadline.hasPassed { Sys.sleep(milliseconds: 10) }
        #expect(try d.client().call(DaemonMethod.ping) != .null)
    }

    @Test func globalCap() throws {
        let d = try TestDaemon(limits: testLimits { $0.maxConnections = 3 }).start()
        defer { d.close() }
        let held = try (0..<3).map { _ in try d.raw() }
        for c in held { try c.send(requestLine(DaemonMethod.ping)) }
        for c in held { #expect(try c.response().resultValue != nil) }
        let refused = try d.raw()
        let r = try refused.response()
        #expect(r.errorCode == .busy)
        #expect(r.rpcError?.message == "the daemon has 3 connections open, its limit")
    }

    @Test func concurrentClientsWithASlowHandler() throws {
        let gate = Gate()
        var router = Router()
        router.register("test.wait", role: .reader) { (_, _) throws(RPCError) in .bool(gate.enterAndWait(timeoutMs: 10_000)) }
        let d = try TestDaemon(router: router).start()
        defer { d.close() }
        // A request held in its handler does not hold the other connections up.
        let slow = try d.raw()
        try slow.send(requestLine("test.wait"))
        #expect(gate.waitForEntry(timeoutMs: 5000))
        let results = concurrently(16) { _ in
            (try? DaemonClient.connect(paths: d.paths, options: ClientOptions(autostart: .disabled)).call(DaemonMethod.ping)) != nil
        }
        #expect(results.allSatisfy { $0 })
        gate.open()
        #expect(try slow.response().resultValue == .bool(true))
    }
}
