import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// Parses each stdout line as a record object.
func records(_ r: ToolRunner.Result) throws -> [JSONObject] {
    try r.stdoutLines.map { line in
        guard case .object(let o) = try JSONReader.parse(line) else { throw RunnerError("not an object: \(line)") }
        return o
    }
}

func string(_ o: JSONObject, _ k: String) -> String? {
    if case .string(let s)? = o[k] { return s }
    return nil
}

/// A free loopback TCP port (bound, then released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { throw RunnerError("bind failed") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A real HTTP server on loopback: Python's http.server serving a temp directory.
final class LoopbackHTTPServer {
    let process = Process()
    let port: Int
    let root: URL

    init() throws {
        root = try ToolRunner.temporaryDirectory("osmoda-http")
        try Data("ok\n".utf8).write(to: root.appendingPathComponent("health"))
        port = try freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "\(port)"]
        process.currentDirectoryURL = root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts connections.
        for _ in 0..<100 {
            if (try? ToolRunner.run("osmoda-check", ["--tcp", "127.0.0.1:\(port)", "--format", "json"]))?.status == 0 { return }
            usleep(50_000)
        }
        throw RunnerError("http.server did not start on port \(port)")
    }

    func stop() {
        // SIGKILL: a child started from a Dispatch worker thread inherits its blocked
        // signal mask, so SIGTERM may never be delivered.
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        ToolRunner.removeTemporaryDirectory(root)
    }
}

struct HealthToolTests {
    @Test func oneShotSampleHasTheDocumentedShape() throws {
        let r = try ToolRunner.run("osmoda-health", ["--format", "json"])
        #expect(r.status == 0, "\(r.stderrText)")
        let recs = try records(r)
        #expect(recs.count == 1)
        let s = try #require(recs.first)
        #expect(s.keys.prefix(2) == ["type", "ts"])
        #expect(string(s, "type") == "health.sample")
        #expect(Timestamp(rfc3339: string(s, "ts") ?? "") != nil)
        for key in ["host", "uptime_s", "load_1", "cpu_user_pct", "cpu_idle_pct", "mem_total_bytes", "mem_used_pct", "cpus", "filesystems", "interfaces", "procs"] {
            #expect(s[key] != nil, "missing \(key)")
        }
        if case .array(let cpus)? = s["cpus"] { #expect(cpus.count == ProcessInfo.processInfo.processorCount) }
    }

    @Test func everyAndCountStream() throws {
        let r = try ToolRunner.run("osmoda-health", ["--every", "100ms", "--count", "3", "--format", "json"])
        #expect(r.status == 0)
        let stamps = try records(r).compactMap { string($0, "ts").flatMap { Timestamp(rfc3339: $0) } }
        #expect(stamps.count == 3)
        #expect(stamps == stamps.sorted())
    }

    @Test(arguments: [
        (["--count", "2"], "--count needs --every"),
        (["--every", "soon"], "invalid duration 'soon'"),
        (["--every", "1s", "--count", "0"], "--count must be at least 1"),
    ])
    func usageErrors(_ args: [String], _ message: String) throws {
        let r = try ToolRunner.run("osmoda-health", args)
        #expect(r.status == 64)
        #expect(r.stderrText.hasPrefix("osmoda-health: error: "))
        #expect(r.stderrText.contains(message))
        #expect(r.stdout.isEmpty)
    }

    @Test func missingProcIsAnIOError() throws {
        let r = try ToolRunner.run("osmoda-health", ["--proc-root", "/nonexistent-proc"])
        #expect(r.status == 74)
        #expect(r.stderrText.contains("osmoda-health: error: cannot sample the host"))
    }

    @Test func headEndsAStreamQuietly() throws {
        let r = try ToolRunner.run("/bin/sh", ["-c", "\"$0\" --every 10ms --format json | head -n 2", ToolRunner.productsDirectory.appendingPathComponent("osmoda-health").path], timeout: 30)
        #expect(r.status == 0)
        #expect(r.stdoutLines.count == 2)
        #expect(r.stderrText.isEmpty, "stderr: \(r.stderrText)")
    }
}

struct QueryToolTests {
    @Test func kernelMatchesTheBootID() throws {
        let r = try ToolRunner.run("osmoda-query", ["kernel", "--format", "json"])
        #expect(r.status == 0, "\(r.stderrText)")
        let k = try #require(try records(r).first)
        #expect(string(k, "type") == "kernel.info")
        let bootID = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(string(k, "boot_id") == bootID)
    }

    @Test func processesIncludeTheToolItself() throws {
        let r = try ToolRunner.run("osmoda-query", ["processes", "--format", "json"])
        #expect(r.status == 0)
        let procs = try records(r)
        #expect(procs.count > 3)
        #expect(procs.contains { p in
            if case .int(let ppid)? = p["ppid"], ppid == Int64(getpid()) { return true }
            return false
        }, "the query process (a child of this test) is listed with its ppid")
    }

    @Test func portsSeeAListener() throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let r = try ToolRunner.run("osmoda-query", ["ports", "--format", "json"])
        #expect(r.status == 0)
        let listening = try records(r).filter { string($0, "state") == "LISTEN" }
        #expect(listening.contains { $0["local_port"] == .int(Int64(server.port)) })
    }

    @Test func unknownTableIsAUsageError() throws {
        let r = try ToolRunner.run("osmoda-query", ["nosuchtable"])
        #expect(r.status == 64)
        #expect(r.stderrText.contains("osmoda-query: error: unknown table 'nosuchtable'"))
        #expect(r.stderrText.contains("processes"))
    }

    @Test func listNamesEveryTable() throws {
        let r = try ToolRunner.run("osmoda-query", ["--list"])
        #expect(r.status == 0)
        for t in ["processes", "ports", "mounts", "disks", "users", "interfaces", "sysctl", "kernel", "services"] {
            #expect(r.stdoutText.contains("\n\(t) ") || r.stdoutText.hasPrefix("\(t) "), "missing \(t)")
        }
    }

    @Test func servicesWithoutSystemdIsUnavailable() throws {
        let r = try ToolRunner.run("osmoda-query", ["services", "--format", "json"])
        if FileManager.default.fileExists(atPath: "/run/systemd/system") {
            #expect(r.status == 0)
        } else {
            #expect(r.status == 69)
            #expect(r.stderrText.contains("systemd is not running"))
            #expect(r.stdout.isEmpty)
        }
    }

    @Test func sysctlPrefix() throws {
        let r = try ToolRunner.run("osmoda-query", ["sysctl", "--prefix", "kernel.ostype", "--format", "json"])
        #expect(r.status == 0)
        let rows = try records(r)
        #expect(rows.count == 1)
        #expect(rows.first.flatMap { string($0, "value") } == "Linux")
    }
}

struct CheckToolTests {
    @Test func httpProbeFollowsARealServer() throws {
        let server = try LoopbackHTTPServer()
        let up = try ToolRunner.run("osmoda-check", ["--http", "http://127.0.0.1:\(server.port)/health", "--tcp", "127.0.0.1:\(server.port)", "--format", "json"])
        #expect(up.status == 0, "\(up.stdoutText)\(up.stderrText)")
        let ok = try records(up)
        #expect(ok.count == 2)
        #expect(ok.allSatisfy { $0["ok"] == .bool(true) && string($0, "type") == "check.result" })
        #expect(ok.map { string($0, "kind") } == ["tcp", "http"] || ok.map { string($0, "kind") } == ["http", "tcp"])

        let missing = try ToolRunner.run("osmoda-check", ["--http", "http://127.0.0.1:\(server.port)/nope", "--format", "json"])
        #expect(missing.status == 1)
        #expect(try records(missing).first.flatMap { string($0, "detail") }?.contains("404") == true)

        server.stop()
        let down = try ToolRunner.run("osmoda-check", ["--http", "http://127.0.0.1:\(server.port)/health", "--format", "json"])
        #expect(down.status == 1)
        let failed = try #require(try records(down).first)
        #expect(failed["ok"] == .bool(false))
        #expect(string(failed, "detail")?.lowercased().contains("refused") == true, "\(down.stdoutText)")
    }

    @Test func probeFileErrorsNameTheField() throws {
        let tmp = try ToolRunner.temporaryDirectory()
        defer { ToolRunner.removeTemporaryDirectory(tmp) }
        let file = tmp.appendingPathComponent("probes.json")
        try Data(#"[{"name":"db","kind":"tcp","host":"127.0.0.1","port":5432,"timout_ms":100}]"#.utf8).write(to: file)
        let r = try ToolRunner.run("osmoda-check", ["--probes", file.path])
        #expect(r.status == 65)
        #expect(r.stderrText.contains("timout_ms"), "\(r.stderrText)")
        #expect(r.stderrText.hasPrefix("osmoda-check: error: "))

        try Data("{not json".utf8).write(to: file)
        let bad = try ToolRunner.run("osmoda-check", ["--probes", file.path])
        #expect(bad.status == 65)

        let gone = try ToolRunner.run("osmoda-check", ["--probes", tmp.appendingPathComponent("nope.json").path])
        #expect(gone.status == 66)
    }

    @Test func noProbesIsAUsageError() throws {
        let r = try ToolRunner.run("osmoda-check", [])
        #expect(r.status == 64)
        #expect(r.stderrText.contains("no probes"))
    }

    @Test func commandProbeAndBadFlag() throws {
        let r = try ToolRunner.run("osmoda-check", ["--command", #"["/bin/sh","-c","exit 3"]"#, "--format", "json"])
        #expect(r.status == 1)
        #expect(try records(r).first.flatMap { string($0, "detail") }?.contains("exit status 3") == true)
        let bad = try ToolRunner.run("osmoda-check", ["--tcp", "127.0.0.1:99999"])
        #expect(bad.status == 64)
        #expect(bad.stderrText.contains("port"))
    }
}

struct PipelineTests {
    /// A filter must not sit on a record while its input is quiet: a live pipeline
    /// sees each record as soon as it is written.
    @Test(arguments: [["osmoda-where", ".x > 1"], ["osmoda-fmt"]])
    func filtersFlushWhileInputIsOpen(_ argv: [String]) throws {
        let p = Process()
        p.executableURL = ToolRunner.productsDirectory.appendingPathComponent(argv[0])
        p.arguments = Array(argv.dropFirst())
        p.environment = ToolRunner.cleanEnvironment()
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        try input.fileHandleForWriting.write(contentsOf: Data(#"{"type":"t","x":5}"#.utf8 + [0x0A]))
        // Read with a deadline; the input stays open.
        let fd = output.fileHandleForReading.fileDescriptor
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 5000)
        #expect(ready == 1, "no output within 5 s while input stayed open")
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buf, buf.count)
        #expect(n > 0)
        #expect(String(decoding: buf.prefix(max(n, 0)), as: UTF8.self).contains("5"))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func multiCallLinksBehaveLikeTheTools() throws {
        let tmp = try ToolRunner.temporaryDirectory()
        defer { ToolRunner.removeTemporaryDirectory(tmp) }
        let link = tmp.appendingPathComponent("osmoda-where")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: ToolRunner.productsDirectory.appendingPathComponent("osmoda-tools"))
        let input = Data("{\"x\":1}\n{\"x\":9}\n".utf8)
        let viaLink = try ToolRunner.run(link.path, [".x > 5"], stdin: input)
        let direct = try ToolRunner.run("osmoda-where", [".x > 5"], stdin: input)
        let viaArg = try ToolRunner.run("osmoda-tools", ["where", ".x > 5"], stdin: input)
        #expect(viaLink.stdoutText == "{\"x\":9}\n")
        #expect(viaLink.stdoutText == direct.stdoutText)
        #expect(viaArg.stdoutText == direct.stdoutText)
        let unknown = try ToolRunner.run("osmoda-tools", ["frob"])
        #expect(unknown.status == 64)
        #expect(unknown.stderrText.contains("unknown tool 'osmoda-frob'"))
    }

    @Test func aMillionLinesFilterCorrectly() throws {
        var data = Data()
        var expected = 0
        for i in 0..<200_000 {
            let x = i % 11
            if x > 5 { expected += 1 }
            data.append(contentsOf: Array("{\"type\":\"s\",\"seq\":\(i),\"x\":\(x),\"msg\":\"m\\u00e9\"}\n".utf8))
        }
        let r = try ToolRunner.run("osmoda-where", [".x > 5"], stdin: data, timeout: 120)
        #expect(r.status == 0)
        #expect(r.stdoutLines.count == expected)
        #expect(r.stdoutLines.allSatisfy { $0.hasPrefix("{\"type\":\"s\"") })
    }
}
