import Foundation
import OsmodaTestSupport
import Testing

/// The built osmoda-egress, started with a config, its records and notes collected.
final class EgressProxy: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let configPath: String
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private var outEnded = false

    /// `prefix`: a command to run the proxy under (e.g. `unshare -n`).
    init(config: String, args: [String] = [], directory: URL, prefix: [String] = [],
         ledger: [String] = ["--ledger", "off"], environment: [String: String] = [:]) throws {
        self.directory = directory
        configPath = directory.appendingPathComponent("egress.json").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let binary = ToolRunner.productsDirectory.appendingPathComponent("osmoda-egress").path
        let argv = prefix + [binary, "--config", configPath] + ledger + args
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = ToolRunner.cleanEnvironment(environment)
        let o = Pipe(), e = Pipe()
        process.standardOutput = o
        process.standardError = e
        process.standardInput = FileHandle.nullDevice
        o.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            if d.isEmpty { h.readabilityHandler = nil }
            self?.lock.withLock { if d.isEmpty { self?.outEnded = true } else { self?.out.append(d) } }
        }
        e.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.err.append(d) }
        }
        try process.run()
        try waitFor("the proxy to listen") { self.stderr.contains("note: listening") || !self.process.isRunning }
        guard process.isRunning else { throw RunnerError("osmoda-egress exited: \(stderr)") }
    }

    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    var records: [[String: Any]] {
        let text = lock.withLock { String(decoding: out, as: UTF8.self) }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
    var stdoutLines: [String] { lock.withLock { String(decoding: out, as: UTF8.self) }.split(separator: "\n").map(String.init) }

    /// The records for `host`, polled until `count` are there.
    func records(host: String, count: Int = 1, timeout: Double = 10) throws -> [[String: Any]] {
        var found: [[String: Any]] = []
        try waitFor("\(count) records for \(host)", timeout: timeout) {
            found = self.records.filter { $0["host"] as? String == host }
            return found.count >= count
        }
        return found
    }

    var rssKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }
        return 0
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Stops the proxy and returns every record it wrote, read to the end of its stdout
    /// (the stop drains the record queue): for counting records exactly.
    func stopAndCollectRecords() throws -> [[String: Any]] {
        stop()
        try waitFor("the end of the proxy's standard output") { lock.withLock { outEnded } }
        return records
    }

    func stop() {
        if process.isRunning {
            signal(SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Polls `condition` until it holds or `timeout` seconds pass.
func waitFor(_ what: String, timeout: Double = 10, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > deadline { throw RunnerError("timed out waiting for \(what)") }
        usleep(10_000)
    }
}

/// A free loopback TCP port (bound, read, closed).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    a.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &a) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw RunnerError("no free port") }
    return Int(UInt16(bigEndian: a.sin_port))
}

/// A raw client socket, for what curl will not send.
final class RawClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw RunnerError("connect to port \(port): errno \(errno)") }
    }

    init(unixPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &a.sun_path) { b in
            for (i, c) in unixPath.utf8.enumerated() { b[i] = c }
        }
        let rc = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw RunnerError("connect to \(unixPath): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Makes the close a reset (SO_LINGER 0): the client is gone at once, not half-closed.
    func resetOnClose() {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    /// false when the peer has closed (EPIPE).
    @discardableResult
    func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = Glibc.send(fd, b.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                off += n
            }
            return true
        }
    }

    /// Reads until `marker` is seen, the peer closes, or `timeout` passes.
    func read(until marker: String? = nil, timeout: Double = 10) -> (text: String, closed: Bool) {
        var data = Data()
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            if poll(&p, 1, left) <= 0 { break }
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return (String(decoding: data, as: UTF8.self), true) }
            data.append(contentsOf: buf[0..<n])
            if let marker, String(decoding: data, as: UTF8.self).contains(marker) { break }
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    /// Sends a CONNECT and returns the answer's head.
    func connectRequest(_ authority: String, headers: String = "") -> String {
        send("CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\n\(headers)\r\n")
        return read(until: "\r\n\r\n").text
    }
}

func statusCode(_ head: String) -> Int? {
    let parts = head.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return nil }
    return Int(parts[1])
}

func headerValue(_ head: String, _ name: String) -> String? {
    for line in head.components(separatedBy: "\r\n") {
        let p = line.split(separator: ":", maxSplits: 1)
        if p.count == 2, p[0].lowercased() == name.lowercased() { return p[1].trimmingCharacters(in: .whitespaces) }
    }
    return nil
}

/// A python3 server on loopback: `http DIR`, `https DIR CERT KEY` (GET a file, POST →
/// the SHA-256 of the body), `echo` (every byte back; thousands of connections) or `stuck`
/// (accepts and never reads).
final class LoopbackServer: @unchecked Sendable {
    static let script = #"""
        import sys, hashlib, http.server, ssl, functools, asyncio
        mode = sys.argv[1]
        if mode == "stuck":
            import socket
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print(s.getsockname()[1], flush=True)
            held = []
            while True:
                c, _ = s.accept(); held.append(c)  # never read
        if mode == "full":
            # Listens with a full accept queue and never accepts: later SYNs are dropped,
            # so a connect to it hangs until its own timeout.
            import socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
            port = s.getsockname()[1]
            fillers = []
            for _ in range(4):
                f = socket.socket(); f.setblocking(False); f.connect_ex(("127.0.0.1", port)); fillers.append(f)
            time.sleep(0.5)
            print(port, flush=True)
            while True: time.sleep(3600)
        if mode == "mute-dns":
            # A name server on sys.argv[2]:53 that reads every query and never answers.
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[2], 53))
            print(53, flush=True)
            while True: s.recv(4096)
        if mode == "echo":
            async def handle(r, w):
                try:
                    while True:
                        d = await r.read(65536)
                        if not d: break
                        w.write(d); await w.drain()
                except Exception: pass
                w.close()
            async def main():
                s = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
                print(s.sockets[0].getsockname()[1], flush=True)
                await s.serve_forever()
            asyncio.run(main())
        else:
            class H(http.server.SimpleHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_POST(self):
                    n = int(self.headers.get("Content-Length", "0")); h = hashlib.sha256()
                    while n > 0:
                        d = self.rfile.read(min(n, 1 << 20))
                        if not d: break
                        h.update(d); n -= len(d)
                    body = h.hexdigest().encode()
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=sys.argv[2]))
            if mode == "https":
                c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[3], sys.argv[4])
                s.socket = c.wrap_socket(s.socket, server_side=True)
            print(s.server_address[1], flush=True)
            s.serve_forever()
        """#

    let port: Int
    private let process = Process()

    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script] + args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let p = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw RunnerError("the loopback server \(args) did not start")
        }
        port = p
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Runs a program to its end; returns its status and output.
@discardableResult
func runProgram(_ argv: [String], timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
    let r = try ToolRunner.run(argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/" + argv[0], Array(argv.dropFirst()), timeout: timeout)
    return (r.status, r.stdoutText, r.stderrText)
}

func sha256Hex(_ path: String) throws -> String {
    let r = try runProgram(["sha256sum", path])
    return String(r.out.prefix(64))
}
