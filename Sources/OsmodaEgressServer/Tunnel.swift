import NIOCore
import OsmodaCore
import OsmodaEgress

/// Who asked, through which listener: the fields every record of a connection shares.
struct RequestContext {
    var client: String
    var listener: String
    var host: String
    var port: Int
    var started: NIODeadline
    var ts: Timestamp
}

/// One allowed connection (a CONNECT tunnel or a forwarded request) from the connect to
/// the close of both sides. Confined to its event loop (both channels are on it).
final class Tunnel {
    let request: RequestContext
    let address: IPAddress
    let decision: EgressDecision
    let shared: EgressShared
    var bytesUp = 0
    var bytesDown = 0
    var idleClosed = false
    private var openSides = 2
    private var finished = false

    /// Also how long a side whose partner closed may take to flush what is queued for it.
    let idleTimeout: TimeAmount

    init(request: RequestContext, address: IPAddress, decision: EgressDecision, shared: EgressShared, idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.request = request
        self.address = address
        self.decision = decision
        self.shared = shared
    }

    /// One side closed; the record is written and the slot given back when both have.
    func sideClosed() {
        openSides -= 1
        if openSides <= 0 { finish() }
    }

    func finish() {
        if finished { return }
        finished = true
        shared.state.release(client: request.client)
        var reason = decision.reason
        if idleClosed { reason += "; closed after no bytes either way for the idle timeout" }
        shared.writer.emit(DecisionRecord.make(request, address: address.description,
                                               decision: EgressDecision(verdict: decision.verdict, rule: decision.rule, reason: reason),
                                               status: 200, bytesUp: bytesUp, bytesDown: bytesDown))
    }
}

enum DecisionRecord {
    /// An `egress.decision` record (osmoda-records(5)).
    static func make(_ r: RequestContext, address: String?, decision: EgressDecision, status: Int,
                     bytesUp: Int = 0, bytesDown: Int = 0) -> JSONObject {
        make(client: r.client, listener: r.listener, host: r.host, port: r.port, started: r.started, ts: r.ts,
             address: address, decision: decision, status: status, bytesUp: bytesUp, bytesDown: bytesDown)
    }

    /// The same, for a connection refused before its head was read whole: `host` and
    /// `port` as far as the request line was read, else null.
    static func make(client: String, listener: String, host: String?, port: Int?, started: NIODeadline, ts: Timestamp,
                     address: String?, decision: EgressDecision, status: Int,
                     bytesUp: Int = 0, bytesDown: Int = 0) -> JSONObject {
        let elapsed = (NIODeadline.now() - started).nanoseconds / 1_000_000
        return JSONObject([
            "type": .string("egress.decision"),
            "ts": .string(ts.rfc3339),
            "client": .string(client),
            "listener": .string(listener),
            "host": host.map { .string($0) } ?? .null,
            "port": port.map { .int(Int64($0)) } ?? .null,
            "address": address.map { .string($0) } ?? .null,
            "decision": .string(decision.verdict.rawValue),
            "rule": .string(decision.rule),
            "reason": .string(decision.reason),
            "status": .int(Int64(status)),
            "bytes_up": .int(Int64(bytesUp)),
            "bytes_down": .int(Int64(bytesDown)),
            "duration_ms": .int(elapsed),
        ])
    }
}

/// Relays bytes from its channel to its partner's, with backpressure: it reads from its
/// channel only while the partner's channel is writable, so at most one `read()`'s worth
/// (NIO's `maxMessagesPerRead` buffers) plus the partner's write high-water mark is held
/// per direction, however fast one side is.
/// Reads are driven by hand (autoRead is off on both channels).
final class RelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let tunnel: Tunnel
    /// The client's side (bytes read here go up), or the origin's.
    let isClient: Bool
    var partner: RelayHandler?
    /// Client side of a forwarded request: the request body bytes still to send up; later
    /// bytes (a pipelined request) are dropped: one request per connection.
    var upLimit: Int?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(tunnel: Tunnel, isClient: Bool) {
        self.tunnel = tunnel
        self.isClient = isClient
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let limit = upLimit {
            if buffer.readableBytes > limit { buffer.moveWriterIndex(to: buffer.readerIndex + limit) }
            upLimit = limit - buffer.readableBytes
        }
        if buffer.readableBytes == 0 { return }
        if isClient { tunnel.bytesUp += buffer.readableBytes } else { tunnel.bytesDown += buffer.readableBytes }
        partner?.send(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
        if upLimit == 0 { return }
        requestRead()
    }

    /// Reads once more, now or when the partner can take it.
    func requestRead() {
        guard let context, context.channel.isActive, !inputDone else { return }
        if partner?.isWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resume() }
        context.fireChannelWritabilityChanged()
    }

    private func resume() {
        if pendingRead && !inputDone {
            pendingRead = false
            context?.read()
        }
    }

    func send(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() { context?.flush() }

    /// The partner closed: write what is queued, then close; within the idle timeout. A
    /// peer that never reads would hold the flush, and with it the channel, the tunnel's
    /// slot and its record, forever (only the client's side has an idle handler, and the
    /// partner is gone).
    func closeAfterFlush() {
        guard let context else { return }
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: tunnel.idleTimeout) { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { _ in deadline.cancel() }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let p = partner
        partner = nil
        p?.partner = nil
        p?.closeAfterFlush()
        tunnel.sideClosed()
        context.fireChannelInactive()
    }

    /// This side sent its FIN: pass it on (after what is queued) and read no more. When
    /// both sides have, the tunnel is done.
    func inputClosed() {
        if inputDone { return }
        inputDone = true
        pendingRead = false
        guard let partner else { context?.close(promise: nil); return }
        if partner.inputDone {
            closeAfterFlush()
            partner.closeAfterFlush()
        } else {
            partner.shutdownOutputAfterFlush()
        }
    }
    private(set) var inputDone = false

    /// Writes what is queued, then half-closes the channel's output (a FIN to its peer).
    func shutdownOutputAfterFlush() {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed()
            return
        }
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .all {
            tunnel.idleClosed = true
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
