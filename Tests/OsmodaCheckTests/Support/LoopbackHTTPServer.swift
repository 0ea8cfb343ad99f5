#if canImport(Glibc)
import Glibc
#endif
import OsmodaSystem

/// A real HTTP server on 127.0.0.1 for the probe tests: it accepts connections one
/// at a time on a thread of its own, records each request head, and answers with
/// whatever bytes `reply` returns, or holds the connection silently.
final class LoopbackHTTPServer: @unchecked Sendable {
    enum Reply: Sendable {
        /// Write these bytes, then close.
        case bytes([UInt8])
        /// Read the request and never answer (the connection stays open until `stop()`).
        case silence
    }

    let port: Int
    private let listener: Int32
    private let reply: @Sendable (String) -> Reply
    private let readsRequest: Bool
    // Guarded by `monitor`.
    private let monitor = ConditionMonitor()
    private var stopping = false
    private var finished = false
    private var heads: [String] = []
    private var held: [Int32] = []

    /// - Parameter readsRequest: when false, answer at once without reading anything.
    init(readsRequest: Bool = true, reply: @escaping @Sendable (String) -> Reply) throws {
        self.reply = reply
        self.readsRequest = readsRequest
        let (fd, port) = try TestSockets.listen(backlog: 16)
        listener = fd
        self.port = port
        guard WorkerThreads.detach({ self.serve() }) else { throw TestFailure("cannot start the server thread") }
    }

    /// Answers every request with `response`.
    convenience init(always response: [UInt8]) throws {
        try self.init { _ in .bytes(response) }
    }

    /// The request heads received so far.
    var requests: [String] { monitor.withLock { heads } }

    func stop() {
        monitor.withLock {
            stopping = true
            while !finished { monitor.wait(untilNanos: nil) }
        }
    }

    deinit { stop() }

    private func serve() {
        while !monitor.withLock({ stopping }) {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let head = readsRequest ? Self.readHead(client) : ""
            monitor.withLock { heads.append(head) }
            switch reply(head) {
            case .bytes(let bytes):
                TestSockets.writeAll(client, bytes)
                close(client)
            case .silence:
                monitor.withLock { held.append(client) }
            }
        }
        monitor.withLock {
            for fd in held { close(fd) }
            held = []
            close(listener)
            finished = true
            monitor.broadcast()
        }
    }

    /// Reads until the blank line that ends a request head.
    private static func readHead(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while data.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
            if data.count >= 4, Array(data.suffix(4)) == Array("\r\n\r\n".utf8) { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - Canned responses

    /// A response with `Content-Length`.
    static func response(_ status: Int, _ reason: String, body: String, headers: [String] = []) -> [UInt8] {
        let head = (["HTTP/1.1 \(status) \(reason)", "Content-Length: \(body.utf8.count)", "Content-Type: text/plain"] + headers)
            .joined(separator: "\r\n")
        return Array((head + "\r\n\r\n" + body).utf8)
    }

    /// A chunked response made of `chunks`, with a chunk extension and a trailer.
    static func chunked(_ chunks: [String]) -> [UInt8] {
        var text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
        for c in chunks { text += String(c.utf8.count, radix: 16) + ";ext=1\r\n" + c + "\r\n" }
        text += "0\r\nX-Trailer: yes\r\n\r\n"
        return Array(text.utf8)
    }
}

/// Socket helpers for tests.
enum TestSockets {
    /// A listening TCP socket on 127.0.0.1 with a port the kernel chose.
    static func listen(backlog: Int32) throws -> (fd: Int32, port: Int) {
        let (fd, port) = try bound()
        guard Glibc.listen(fd, backlog) == 0 else {
            close(fd)
            throw TestFailure("listen failed: errno \(errno)")
        }
        return (fd, port)
    }

    /// A TCP socket bound to 127.0.0.1 on a free port, not listening.
    static func bound() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TestFailure("bind failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// A port on 127.0.0.1 that nothing listens on (bound for a moment, then released).
    static func closedPort() throws -> Int {
        let (fd, port) = try bound()
        close(fd)
        return port
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
