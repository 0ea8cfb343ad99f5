import Foundation
import OsmodaTestSupport
import Testing

/// Golden cases: `Tests/golden/<case>/` holds `args` (a JSON array: the tool, then its
/// arguments), optional `stdin`, and the expected `stdout`, `stderr` and `status`.
/// Each case runs the built binary in its own temporary directory.
///
/// Re-recording is explicit: `OSMODA_RECORD_GOLDENS=1 swift test --filter GoldenTests`
/// rewrites the expected files, and the diff is then reviewed like any change.
struct GoldenTests {
    static let root = ToolRunner.packageRoot.appendingPathComponent("Tests/golden")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }()

    @Test func thereAreGoldenCases() {
        #expect(Self.cases.count >= 20, "golden cases missing under \(Self.root.path)")
    }

    @Test(arguments: cases)
    func golden(_ name: String) throws {
        let dir = Self.root.appendingPathComponent(name)
        let argsData = try Data(contentsOf: dir.appendingPathComponent("args"))
        let argv = try #require(try JSONSerialization.jsonObject(with: argsData) as? [String])
        let stdin = (try? Data(contentsOf: dir.appendingPathComponent("stdin"))) ?? Data()
        let tmp = try ToolRunner.temporaryDirectory()
        defer { ToolRunner.removeTemporaryDirectory(tmp) }
        // Fixture files a case needs are copied in; paths in args are relative to it.
        if let extra = try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("files").path) {
            for f in extra {
                try FileManager.default.copyItem(at: dir.appendingPathComponent("files/\(f)"), to: tmp.appendingPathComponent(f))
            }
        }
        let result = try ToolRunner.run(argv[0], Array(argv.dropFirst()), stdin: stdin, cwd: tmp)
        let record = ProcessInfo.processInfo.environment["OSMODA_RECORD_GOLDENS"] == "1"
        if record {
            try result.stdout.write(to: dir.appendingPathComponent("stdout"))
            try result.stderr.write(to: dir.appendingPathComponent("stderr"))
            try Data("\(result.status)\n".utf8).write(to: dir.appendingPathComponent("status"))
            return
        }
        let expectedOut = try String(contentsOf: dir.appendingPathComponent("stdout"), encoding: .utf8)
        let expectedErr = try String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)
        let expectedStatus = try String(contentsOf: dir.appendingPathComponent("status"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stdoutText == expectedOut, "stdout of \(name)")
        #expect(result.stderrText == expectedErr, "stderr of \(name)")
        #expect("\(result.status)" == expectedStatus, "status of \(name)")
    }
}
