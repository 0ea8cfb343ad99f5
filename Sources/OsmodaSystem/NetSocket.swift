#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A connected, non-blocking TCP socket; every wait is a `poll(2)` bounded by a deadline.
///
/// Writes use `send(2)` with `MSG_NOSIGNAL`, so a peer that resets the connection gives
/// an error instead of a `SIGPIPE` that would end a tool whose `SIGPIPE` is default.
public final class TCPConnection: ByteStream {
    /// The socket descriptor (close-on-exec, non-blocking), closed on `deinit`.
    public let fd: Int32
    /// The address the connection reached.
    public let peer: SocketAddress

    init(fd: Int32, peer: SocketAddress) {
        self.fd = fd
        self.peer = peer
    }

    deinit { Sys.close(fd) }

    /// Resolves `host` and connects to its addresses in turn until one answers.
    ///
    /// When every address fails the error lists each (`connect: Connection refused`
    /// when they all failed the same way). Running out of time is a `.timeout` error.
    public static func connect(host: String, port: Int, deadline: MonotonicDeadline) throws(NetError) -> TCPConnection {
        let addresses = try NetResolver.resolve(host: host, port: port, deadline: deadline)
        var failures: [(SocketAddress, String)] = []
        for address in addresses {
            do {
                return try connect(to: address, deadline: deadline)
            } catch {
                if error.code == .timeout { throw error }
                failures.append((address, error.message))
            }
        }
        let messages = Set(failures.map(\.1))
        if messages.count == 1, let only = messages.first { throw NetError(.connect, "connect", only) }
        throw NetError(.connect, "connect", failures.map { "\($0.0): \($0.1)" }.joined(separator: "; "))
    }

    /// Connects to one address: `socket(2)`, a non-blocking `connect(2)`, `poll(2)` for
    /// writability until the deadline, then `SO_ERROR`.
    public static func connect(to address: SocketAddress, deadline: MonotonicDeadline) throws(NetError) -> TCPConnection {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw NetError(.connect, "socket", String(cString: strerror(errno))) }
        let connection = TCPConnection(fd: fd, peer: address)
        let rc = address.storage.withUnsafeBytes { raw -> Int32 in
            guard let sa = raw.bindMemory(to: sockaddr.self).baseAddress else { return -1 }
            return Glibc.connect(fd, sa, socklen_t(raw.count))
        }
        if rc == 0 { return connection }
        let e = errno
        guard e == EINPROGRESS || e == EINTR else { throw NetError(.connect, "connect", String(cString: strerror(e))) }
        try connection.waitFor(Int16(POLLOUT), deadline: deadline, stage: "connect")
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0 { soError = errno }
        if soError != 0 { throw NetError(.connect, "connect", String(cString: strerror(soError))) }
        return connection
    }

    /// Waits with `poll(2)` until `events` are ready, retrying `EINTR`.
    func waitFor(_ events: Int16, deadline: MonotonicDeadline, stage: String) throws(NetError) {
        while true {
            let remaining = deadline.remainingMs
            if remaining == 0 { throw deadline.timeout(stage) }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, remaining)
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw NetError(.io, stage, String(cString: strerror(errno))) }
        }
    }

    public func send(_ bytes: [UInt8], deadline: MonotonicDeadline) throws(NetError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                try waitFor(Int16(POLLOUT), deadline: deadline, stage: "send")
                continue
            }
            throw NetError(.io, "send", String(cString: strerror(e)))
        }
    }

    public func receive(upTo maxBytes: Int, deadline: MonotonicDeadline) throws(NetError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, maxBytes))
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 {
                buffer.removeLast(buffer.count - n)
                return buffer
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                try waitFor(Int16(POLLIN), deadline: deadline, stage: "receive")
                continue
            }
            throw NetError(.io, "receive", String(cString: strerror(e)))
        }
    }
}
