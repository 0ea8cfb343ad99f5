import NIOCore
import NIOPosix
import OsmodaCore
import OsmodaEgress
import struct OsmodaSystem.MonotonicDeadline

/// What every connection shares: the state in force, the resolver, the thread pool it
/// resolves on, and the record writer.
struct EgressShared: Sendable {
    var state: EgressState
    var resolver: EgressResolver
    var pool: NIOThreadPool
    var writer: RecordWriter
    var clock: @Sendable () -> Timestamp
}

/// A listener as connections see it.
struct ListenerInfo: Sendable {
    var name: String
    /// The policy named in the config at start (a reload may change it).
    var policy: String
    var isUnix: Bool
}

/// Reads one request head (bounded in size and time), decides, resolves once, checks
/// every address, connects to a checked address, and then hands the connection to a
/// pair of `RelayHandler`s. Any refusal is a short HTTP answer and a close.
final class ProxyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// `draining`: an answer was sent and the output shut; what the client still sends
    /// is read and dropped for a moment, so that closing does not reset the connection
    /// (a reset can discard the answer before the client reads it).
    private enum Phase { case head, deciding, done, draining }

    let shared: EgressShared
    let listener: ListenerInfo
    private var phase = Phase.head
    private var head: [UInt8] = []
    private var timer: Scheduled<Void>?
    private var drainTimer: Scheduled<Void>?
    private var drained = 0
    private var limits: EgressConfig.Limits?
    /// Bytes read after the head while deciding, relayed after `rest`.
    private var early: [UInt8] = []

    init(shared: EgressShared, listener: ListenerInfo) {
        self.shared = shared
        self.listener = listener
    }

    func channelActive(context: ChannelHandlerContext) {
        let limits = shared.state.snapshot.config.limits
        self.limits = limits
        accepted = .now()
        if !listener.isUnix { peer = context.channel.remoteAddress?.ipAddress }
        let key = earlyClient
        switch shared.state.admitPending(key, limits: limits) {
        case .admitted:
            pendingKey = key
        case .totalFull(let n):
            refuseEarly(context, 503, "the proxy has \(n) connections waiting for their request head or decision, its limit",
                        rule: "limit:max_tunnels")
            context.fireChannelActive()
            return
        case .clientFull(let n):
            refuseEarly(context, 429, "\(key) has \(n) connections waiting for their request head or decision, its limit",
                        rule: "limit:max_tunnels_per_client")
            context.fireChannelActive()
            return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(limits.headerTimeoutMs)) { [self] in
            if phase == .head {
                refuseEarly(context, 408, "the request head was not complete within \(limits.headerTimeoutMs) ms",
                            rule: "request.header_timeout")
            }
        }
        context.read()
        context.fireChannelActive()
    }

    /// The pending slot taken at the accept, given back when the connection leaves the
    /// head and decision phase, whichever way.
    private var pendingKey: String?
    private func releasePending() {
        if let k = pendingKey {
            pendingKey = nil
            shared.state.releasePending(k)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        leftDuringHead()
        releasePending()
        timer?.cancel()
        drainTimer?.cancel()
        phase = .done
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase == .head, let limits else {
            // Past the head the relay owns the bytes; should any reach this handler before
            // it leaves the pipeline, pass them on rather than lose them.
            if phase == .done { context.fireChannelRead(data) }
            // One read() may deliver several buffers: those after the head's arrive while
            // deciding and belong to the request (its body, or the tunnel's first bytes).
            // Only the reads already under way can bring them (no more are asked for until
            // the decision), so what is kept here is bounded by one read's worth.
            if phase == .deciding {
                var buffer = unwrapInboundIn(data)
                early += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
            if phase == .draining {
                drained += unwrapInboundIn(data).readableBytes
                if drained > 1 << 20 { context.close(promise: nil) }
            }
            return
        }
        var buffer = unwrapInboundIn(data)
        let before = head.count
        head += buffer.readBytes(length: buffer.readableBytes) ?? []
        // A bare LF would leave the head unterminated until the timeout: refuse it at once.
        // Only in the head: the bytes after it (a body, a tunnel's data) are not HTTP lines.
        let end = RequestHeadParser.endOfHead(head, searchFrom: before)
        for i in max(before, 0)..<(end ?? head.count) where head[i] == 10 && (i == 0 || head[i - 1] != 13) {
            refuseEarly(context, 400, "a bare LF in the request head (lines end with CRLF)", rule: "request.malformed")
            return
        }
        if let end, end <= limits.maxHeaderBytes {
            timer?.cancel()
            phase = .deciding
            let rest = Array(head[end...])
            let bytes = Array(head[..<end])
            head = []
            handle(context, bytes, rest: rest)
        } else if head.count > limits.maxHeaderBytes {
            refuseEarly(context, 431, "the request head is larger than \(limits.maxHeaderBytes) bytes", rule: "request.header_too_large")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if phase == .head || phase == .draining { context.read() }
    }

    /// Half-closure is allowed on both channels (a client may send its request and its
    /// FIN before the answer): before the head is complete that ends the request; after,
    /// the FIN is passed on once the tunnel is up.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            switch phase {
            case .head:
                // A connection that closes without a byte asked for nothing: no record.
                if head.isEmpty {
                    answer(context, 400, "the client closed before the end of the request head")
                } else {
                    refuseEarly(context, 400, "the client closed before the end of the request head", rule: "request.incomplete")
                }
            case .deciding: clientInputClosed = true
            case .done: context.fireUserInboundEventTriggered(event)
            case .draining: context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
    private var clientInputClosed = false

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        leftDuringHead()
        releasePending()
        phase = .done
        context.close(promise: nil)
    }

    // MARK: - Deciding

    private func handle(_ context: ChannelHandlerContext, _ bytes: [UInt8], rest: [UInt8]) {
        let request: RequestHead
        do { request = try RequestHeadParser.parse(bytes) } catch {
            refuseEarly(context, error.status, error.reason, rule: "request.malformed", head: bytes)
            return
        }
        let snapshot = shared.state.snapshot
        // Who is asking: a token's policy, or the listener's.
        let policy: ClientPolicy
        var who = listener.name
        let auth = request.values("Proxy-Authorization")
        if auth.count > 1 {
            refuseEarly(context, 400, "more than one Proxy-Authorization header", rule: "request.malformed", head: bytes)
            return
        } else if let value = auth.first {
            guard let token = RequestHeadParser.proxyToken(value), let entry = snapshot.config.client(forToken: token),
                  let p = snapshot.config.policy(named: entry.policy) else {
                // Recorded: someone holding a wrong token is worth knowing about.
                let rc = RequestContext(client: "unknown_token" + (peer.map { "@" + $0 } ?? ""), listener: listener.name,
                                        host: request.hostText, port: request.port, started: .now(), ts: shared.clock())
                refuse(context, rc, nil, EgressDecision(verdict: .deny, rule: "auth:unknown_token",
                                                        reason: "unknown or malformed token in Proxy-Authorization"), 407)
                return
            }
            policy = p
            who = entry.name
        } else {
            let name = snapshot.config.listeners.first(where: { $0.name == listener.name })?.policy ?? listener.policy
            guard let p = snapshot.config.policy(named: name) else {
                refuseEarly(context, 403, "listener \(listener.name) has no policy '\(name)'", rule: "config:missing_policy", head: bytes)
                return
            }
            policy = p
        }
        // The client, for the records and the per-client cap: the token's name or the
        // listener's, and on TCP the peer's address (its port changes with every connection).
        let client = who + (peer.map { "@" + $0 } ?? "")
        let rc = RequestContext(client: client, listener: listener.name, host: request.hostText, port: request.port,
                                started: .now(), ts: shared.clock())
        let decision = policy.decide(host: request.host, port: request.port)
        if decision.verdict == .deny {
            refuse(context, rc, nil, decision, 403)
            return
        }
        let limits = snapshot.config.limits
        switch request.host {
        case .address(let a):
            checked(context, rc, request, rest, [a], decision, policy, snapshot, limits)
        case .name(let name):
            let resolver = shared.resolver
            let port = request.port
            let deadline = MonotonicDeadline(milliseconds: limits.connectTimeoutMs)
            shared.pool.runIfActive(eventLoop: context.eventLoop) { resolver.resolve(name, port: port, deadline: deadline) }
                .assumeIsolated().whenComplete { [self] result in
                    guard phase == .deciding else {
                        // The client left while its name was being resolved.
                        if phase == .done { clientGone(rc, nil, decision, "the client left while \(name) was being resolved") }
                        return
                    }
                    switch result {
                    case .success(.success(let addresses)):
                        checked(context, rc, request, rest, addresses, decision, policy, snapshot, limits)
                    case .success(.failure(.timeout(let why))):
                        refuse(context, rc, nil, EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: why), 504)
                    case .success(.failure(.notFound(let why))):
                        refuse(context, rc, nil, EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: why), 502)
                    case .failure(let e):
                        refuse(context, rc, nil, EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: "cannot resolve: \(e)"), 502)
                    }
                }
        }
    }

    /// Every address checked; any refused address refuses the request (enforce mode).
    private func checked(_ context: ChannelHandlerContext, _ rc: RequestContext, _ request: RequestHead, _ rest: [UInt8],
                         _ addresses: [IPAddress], _ hostDecision: EgressDecision, _ policy: ClientPolicy,
                         _ snapshot: EgressState.Snapshot, _ limits: EgressConfig.Limits) {
        let decision = hostDecision
        let refusals = addresses.compactMap { a in snapshot.addressPolicy.refusal(of: a, port: rc.port).map { (a, $0) } }
        if let (address, refusal) = refusals.first {
            let why = addresses.count > 1
                ? "\(refusal.reason) (\(refusals.count) of the \(addresses.count) addresses of \(rc.host) refused: \(refusals.map { $0.0.description }.joined(separator: ", ")))"
                : refusal.reason
            // Refused in report mode too (docs/egress.md): report relaxes the host rules
            // only, so that a policy on trial never becomes a way to the metadata service.
            // The record names the addresses; the client is not told what a name resolved
            // to: an untrusted tool must not map internal names to addresses through the proxy
            // (in report mode it may ask for any name). An IP literal it wrote itself.
            var told: String?
            if case .name = request.host {
                told = "\(rc.host) resolves to an address the proxy does not connect to (see the rule)"
            }
            refuse(context, rc, address, EgressDecision(verdict: .deny, rule: refusal.rule, reason: why), 403, told: told)
            return
        }
        switch shared.state.admit(client: rc.client, limits: limits) {
        case .admitted: break
        case .totalFull(let n):
            refuse(context, rc, nil, EgressDecision(verdict: .deny, rule: "limit:max_tunnels", reason: "the proxy has \(n) tunnels open, its limit"), 503)
            return
        case .clientFull(let n):
            refuse(context, rc, nil, EgressDecision(verdict: .deny, rule: "limit:max_tunnels_per_client", reason: "\(rc.client) has \(n) tunnels open, its limit"), 429)
            return
        }
        connect(context, rc, request, rest, addresses, 0, decision, limits,
                deadline: .now() + .milliseconds(limits.connectTimeoutMs))
    }

    /// Connects to the checked addresses in order until one answers, within one deadline.
    private func connect(_ context: ChannelHandlerContext, _ rc: RequestContext, _ request: RequestHead, _ rest: [UInt8],
                         _ addresses: [IPAddress], _ index: Int, _ decision: EgressDecision, _ limits: EgressConfig.Limits,
                         deadline: NIODeadline) {
        let address = addresses[index]
        let target: NIOCore.SocketAddress
        do { target = try NIOCore.SocketAddress(ipAddress: address.description, port: rc.port) } catch {
            shared.state.release(client: rc.client)
            refuse(context, rc, address, EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: "bad address \(address)"), 502)
            return
        }
        let remaining = max(deadline - .now(), .milliseconds(1))
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(remaining)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connect(to: target)
            .assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let upstream):
                    guard phase == .deciding, context.channel.isActive else {
                        upstream.close(promise: nil)
                        shared.state.release(client: rc.client)
                        clientGone(rc, address, decision, "the client left before the connection to \(address) port \(rc.port) was made")
                        return
                    }
                    established(context, rc, request, rest, address, decision, limits, upstream)
                case .failure(let error):
                    guard phase == .deciding, context.channel.isActive else {
                        // The client left while the connect was failing: no more addresses are tried.
                        shared.state.release(client: rc.client)
                        clientGone(rc, address, decision, "the client left before the connection to \(address) port \(rc.port) was made (it failed: \(error))")
                        return
                    }
                    if index + 1 < addresses.count, deadline > .now() {
                        connect(context, rc, request, rest, addresses, index + 1, decision, limits, deadline: deadline)
                        return
                    }
                    shared.state.release(client: rc.client)
                    let timedOut = (error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false
                    let why = timedOut ? "connecting to \(address) port \(rc.port) timed out after \(limits.connectTimeoutMs) ms"
                                       : "cannot connect to \(address) port \(rc.port): \(error)"
                    refuse(context, rc, address, EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: why), timedOut ? 504 : 502)
                }
            }
    }

    /// The origin answered: wire the relays, send the 200 (CONNECT) or the rewritten head.
    private func established(_ context: ChannelHandlerContext, _ rc: RequestContext, _ request: RequestHead, _ rest: [UInt8],
                             _ address: IPAddress, _ decision: EgressDecision, _ limits: EgressConfig.Limits, _ upstream: Channel) {
        phase = .done
        releasePending()
        let tunnel = Tunnel(request: rc, address: address, decision: decision, shared: shared,
                            idleTimeout: .milliseconds(limits.idleTimeoutMs))
        let down = RelayHandler(tunnel: tunnel, isClient: true)
        let up = RelayHandler(tunnel: tunnel, isClient: false)
        down.partner = up
        up.partner = down
        do {
            try upstream.pipeline.syncOperations.addHandler(up)
            try context.pipeline.syncOperations.addHandlers(
                [IdleStateHandler(allTimeout: .milliseconds(limits.idleTimeoutMs)), down], position: .after(self))
        } catch {
            upstream.close(promise: nil)
            tunnel.finish()
            context.close(promise: nil)
            return
        }
        var first = rest + early
        early = []
        switch request.target {
        case .connect:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 200 Connection Established\r\n\r\n")), promise: nil)
        case .forward:
            let length = Int(request.values("Content-Length").first ?? "0") ?? 0
            if first.count > length { first.removeLast(first.count - length) }
            down.upLimit = length - first.count
            up.send(ByteBuffer(bytes: RequestHeadParser.forwardedHead(request)))
        }
        if !first.isEmpty {
            tunnel.bytesUp += first.count
            up.send(ByteBuffer(bytes: first))
        }
        up.flush()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        if clientInputClosed { down.inputClosed() }
        if down.upLimit != 0 { down.requestRead() }
        up.requestRead()
    }

    // MARK: - Answers

    /// When the connection was accepted, and the peer's address on TCP.
    private var accepted = NIODeadline.now()
    private var peer: String?

    /// The client as known before the head is parsed: the listener's name, and on TCP
    /// `@` and the peer's address (a token is not read yet).
    private var earlyClient: String { listener.name + (peer.map { "@" + $0 } ?? "") }

    /// Records a refusal made before the request was decided (a head that cannot be read
    /// or parsed, a cap at the accept) and answers it: one record per connection, with the
    /// host and port as far as the request line was read. `head`: the head's bytes, when
    /// they are no longer in `self.head`.
    private func refuseEarly(_ context: ChannelHandlerContext, _ status: Int, _ reason: String, rule: String, head: [UInt8]? = nil) {
        if phase == .draining || phase == .done { return }
        let hint = RequestHeadParser.targetHint(head ?? self.head)
        shared.writer.emit(DecisionRecord.make(client: earlyClient, listener: listener.name, host: hint?.host, port: hint?.port,
                                               started: accepted, ts: shared.clock(), address: nil,
                                               decision: EgressDecision(verdict: .deny, rule: rule, reason: reason), status: status))
        answer(context, status, reason, rule: rule)
    }

    /// A client that goes away (closes or resets) in the middle of its head leaves a
    /// record; one that goes away without sending a byte asked for nothing. A connection
    /// closed by the proxy's stop is recorded as such.
    private func leftDuringHead() {
        guard phase == .head, !head.isEmpty else { return }
        let hint = RequestHeadParser.targetHint(head)
        let decision = shared.state.isStopping
            ? EgressDecision(verdict: .deny, rule: "proxy.stopped", reason: "the proxy stopped before the end of the request head")
            : EgressDecision(verdict: .deny, rule: "client.gone", reason: "the client left before the end of the request head")
        shared.writer.emit(DecisionRecord.make(client: earlyClient, listener: listener.name, host: hint?.host, port: hint?.port,
                                               started: accepted, ts: shared.clock(), address: nil, decision: decision, status: 499))
        head = []
    }

    /// A client that left while its request was being decided (resolving, connecting):
    /// recorded as `client.gone`, 499, naming the rule that had let it through.
    private func clientGone(_ rc: RequestContext, _ address: IPAddress?, _ decision: EgressDecision, _ why: String) {
        shared.writer.emit(DecisionRecord.make(rc, address: address?.description,
                                               decision: EgressDecision(verdict: .deny, rule: "client.gone",
                                                                        reason: "\(why) (\(decision.rule) had let it through)"),
                                               status: 499))
    }

    /// Records a refusal and answers it.
    /// `told`: the reason the client gets, when it must not see the recorded one.
    private func refuse(_ context: ChannelHandlerContext, _ rc: RequestContext, _ address: IPAddress?, _ decision: EgressDecision, _ status: Int,
                        told: String? = nil) {
        shared.writer.emit(DecisionRecord.make(rc, address: address?.description, decision: decision, status: status))
        answer(context, status, told ?? decision.reason, rule: decision.rule)
    }

    /// A short HTTP answer, then close: the output first, the rest when the client
    /// closes, sends more than 1 MiB, or after 2 s.
    private func answer(_ context: ChannelHandlerContext, _ status: Int, _ reason: String, rule: String? = nil) {
        if phase == .draining { return }
        phase = .draining
        releasePending()
        timer?.cancel()
        let body = HTTPAnswer.printable(reason) + "\n"
        var text = "HTTP/1.1 \(status) \(HTTPAnswer.phrase(status))\r\nContent-Type: text/plain; charset=utf-8\r\n"
        text += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        if status == 407 { text += "Proxy-Authenticate: Basic realm=\"osmoda-egress\"\r\n" }
        if let rule { text += "X-Osmoda-Egress-Rule: \(HTTPAnswer.printable(rule))\r\n" }
        text += "\r\n" + body
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { [self] result in
            guard case .success = result, context.channel.isActive else {
                context.close(promise: nil)
                return
            }
            context.close(mode: .output, promise: nil)
            drainTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
            context.read()
        }
    }
}

enum HTTPAnswer {
    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }

    /// Printable ASCII only, so nothing a client sent can break the answer's framing.
    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }))
    }
}
