import Foundation

/// A NixOS system profile in a temporary directory, for tests of generation switching.
///
/// The layout is the real one: `profiles/system` → `system-N-link` → `store/genN`, each
/// generation folder holding `nixos-version`, `kernel` and an executable
/// `bin/switch-to-configuration` (a /bin/sh script) that appends every call to a log
/// (`action epoch-seconds generation`) and obeys a control file: it can be told to
/// exit with a code or to hang, for every action or one.
public final class GenerationFixture: @unchecked Sendable {
    /// How a generation's `switch-to-configuration` behaves.
    public enum Behaviour: Sendable, Equatable {
        case succeed
        /// Exit with this status.
        case fail(Int32)
        /// Sleep for a long time (until killed).
        case hang
    }

    /// One call of a `switch-to-configuration`.
    public struct Call: Sendable, Equatable {
        public var action: String
        /// Seconds since the epoch, with nanoseconds.
        public var time: Double
        public var generation: Int
    }

    public let root: URL
    /// The profile link: pass it as `--profile`.
    public var profile: String { root.appendingPathComponent("profiles/system").path }
    public var logPath: String { root.appendingPathComponent("switch-to-configuration.log").path }

    /// Makes generations 1…`generations` and points the profile at `current`.
    public init(generations: Int = 2, current: Int = 1) throws {
        root = try ToolRunner.temporaryDirectory("osmoda-gen")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("profiles"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("store"), withIntermediateDirectories: true)
        for _ in 0..<generations { _ = try addGeneration() }
        try setCurrent(current)
    }

    /// The store path of generation `n`.
    public func storePath(_ n: Int) -> String { root.appendingPathComponent("store/gen\(n)").path }

    /// The generation numbers present.
    public func numbers() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("profiles").path)) ?? []
        return names.compactMap { n -> Int? in
            guard n.hasPrefix("system-"), n.hasSuffix("-link") else { return nil }
            return Int(n.dropFirst(7).dropLast(5))
        }.sorted()
    }

    /// Adds the next generation (with its link, without making it current); its number.
    @discardableResult
    public func addGeneration(version: String? = nil, kernel: String? = nil) throws -> Int {
        let n = (numbers().last ?? 0) + 1
        let dir = URL(fileURLWithPath: storePath(n))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try Data("\(version ?? "24.05.\(n)")\n".utf8).write(to: dir.appendingPathComponent("nixos-version"))
        try Data("\(kernel ?? "6.6.\(n)")\n".utf8).write(to: dir.appendingPathComponent("kernel"))
        let script = """
            #!/bin/sh
            printf '%s %s %s\\n' "$1" "$(date +%s.%N)" \(n) >> '\(logPath)'
            ctl='\(root.path)/control-\(n)'
            if [ -f "$ctl" ]; then
              read what code only < "$ctl"
              if [ -z "$only" ] || [ "$only" = "$1" ]; then
                case "$what" in
                  fail) exit "$code" ;;
                  hang) sleep 1000; exit 0 ;;
                esac
              fi
            fi
            exit 0

            """
        let program = dir.appendingPathComponent("bin/switch-to-configuration")
        try Data(script.utf8).write(to: program)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("profiles/system-\(n)-link").path,
                                                   withDestinationPath: dir.path)
        return n
    }

    /// Points the profile link at generation `n`, as `nix-env --switch-generation` would.
    public func setCurrent(_ n: Int) throws {
        let link = profile
        let temp = link + ".fixture-tmp"
        try? FileManager.default.removeItem(atPath: temp)
        try FileManager.default.createSymbolicLink(atPath: temp, withDestinationPath: "system-\(n)-link")
        guard rename(temp, link) == 0 else { throw RunnerError("rename \(temp) failed") }
    }

    /// The generation the profile link points to now.
    public func current() -> Int? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: profile),
              target.hasPrefix("system-"), target.hasSuffix("-link") else { return nil }
        return Int(target.dropFirst(7).dropLast(5))
    }

    /// Tells generation `n`'s `switch-to-configuration` how to behave, for every action
    /// or only for `action` (`test`, `switch`, `boot`).
    public func control(_ n: Int, _ behaviour: Behaviour, action: String? = nil) throws {
        let path = root.appendingPathComponent("control-\(n)")
        switch behaviour {
        case .succeed: try? FileManager.default.removeItem(at: path)
        case .fail(let code): try Data("fail \(code) \(action ?? "")\n".utf8).write(to: path)
        case .hang: try Data("hang 0 \(action ?? "")\n".utf8).write(to: path)
        }
    }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 3, let t = Double(f[1]), let g = Int(f[2]) else { return nil }
            return Call(action: String(f[0]), time: t, generation: g)
        }
    }

    public func remove() { ToolRunner.removeTemporaryDirectory(root) }
}

/// A real HTTP server on loopback (python3's http.server in a child process) that
/// answers 200 to every GET; stop it to make an HTTP check fail.
public final class HealthHTTPService: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public var url: String { "http://127.0.0.1:\(port)/" }

    public init() throws {
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
                def log_message(self, *a): pass
            s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            p.terminate()
            throw RunnerError("the loopback HTTP server did not start")
        }
        self.port = port
        self.process = p
    }

    /// Stops the server (SIGKILL: a test process may hand its children SIGTERM
    /// ignored) and waits for it, so the port refuses connections.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
