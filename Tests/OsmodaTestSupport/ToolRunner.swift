import Foundation

/// Runs the built `osmoda-*` binaries the way a shell would, for end-to-end tests.
public enum ToolRunner {
    /// The directory holding the built products (next to the test bundle).
    public static let productsDirectory: URL = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent()
    }()

    /// The package root, found from this file's path.
    public static let packageRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// `../shared/conformance`, beside the package as CI lays it out.
    public static let conformanceDirectory: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
        public var stdoutLines: [String] { stdoutText.split(separator: "\n").map(String.init) }
    }

    /// The environment tools see in tests: `OSMODA_*` scrubbed, a fixed locale.
    public static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OSMODA_") }
        env["LC_ALL"] = "C"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs `tool` (a product name or an absolute path) with `args`, feeding `stdin`.
    /// A child that exits before reading its stdin must not kill the test process.
    static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

    public static func run(_ tool: String, _ args: [String] = [], stdin: Data = Data(), cwd: URL? = nil,
                           environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> Result {
        _ = ignoreSIGPIPE
        let p = Process()
        p.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : productsDirectory.appendingPathComponent(tool)
        p.arguments = args
        p.environment = cleanEnvironment(environment)
        if let cwd { p.currentDirectoryURL = cwd }
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        group.enter()
        DispatchQueue.global().async { out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        DispatchQueue.global().async {
            try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw RunnerError("\(tool) \(args) did not finish within \(timeout) s")
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: out, stderr: err)
    }

    /// A fresh temporary directory, removed by the caller with `removeTemporaryDirectory`.
    public static func temporaryDirectory(_ label: String = "osmoda-test") throws -> URL {
        var template = Array((NSTemporaryDirectory() + "/\(label).XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw RunnerError("mkdtemp failed") }
        return URL(fileURLWithPath: String(cString: made))
    }

    public static func removeTemporaryDirectory(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }
}

public struct RunnerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
