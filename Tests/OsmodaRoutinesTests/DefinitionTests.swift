import Foundation
import OsmodaCore
import OsmodaRoutines
import OsmodaTestSupport
import Testing

struct DefinitionTests {
    func load(_ name: String, _ text: String) throws -> (RoutineDefinition?, DefinitionError?) {
        let dir = try ToolRunner.temporaryDirectory("osmoda-defs")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        let path = dir.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)  // whatever the umask: group- or world-writable files are refused
        do { return (try RoutineDefinition.load(path: path), nil) } catch {
            return (nil, DefinitionError(path: String(error.path.split(separator: "/").last ?? ""), field: error.field, message: error.message))
        }
    }

    @Test func errorsNameTheFileAndField() throws {
        let cases: [(String, String, String)] = [
            ("a.json", #"{"cron":"0 0 32 * *","command":["true"]}"#, "a.json: 'cron': invalid cron expression: column 5: field 3 (day of month): 32 is out of range 1-31\n  0 0 32 * *\n      ^"),
            ("b.json", #"{"command":["true"]}"#, "b.json: no trigger: give one of 'cron', 'every' or 'event'"),
            ("c.json", #"{"every":"5m","cron":"@daily","command":["true"]}"#, "c.json: more than one trigger (cron, every): give exactly one"),
            ("d.json", #"{"every":"5 minutes","command":["true"]}"#, "d.json: 'every': invalid duration '5 minutes': expected e.g. 500ms, 10s, 5m, 1h30m"),
            ("d2.json", #"{"every":"500ms","command":["true"]}"#, "d2.json: 'every': must be at least 1s"),
            ("e.json", #"{"every":"5m","command":[]}"#, "e.json: 'command': must be a non-empty array: the program and its arguments (no shell)"),
            ("f.json", #"{"every":"5m","command":["true"],"overlap":"maybe"}"#, "f.json: 'overlap': 'maybe' is not one of skip, queue, parallel"),
            ("g.json", #"{"every":"5m","command":["true"],"timeout_s":3}"#, "g.json: 'timeout_s': unknown field"),
            ("h.json", #"{"cron":"@daily","tz":"Mars/Base","command":["true"]}"#, "h.json: 'tz': unknown time zone 'Mars/Base' (no file /usr/share/zoneinfo/Mars/Base)"),
            ("i.json", #"{"every":"5m","command":["true"],}"#, ""),
            ("j.toml", "every = \"5m\"\ncommand = [\"true\"]\nbad value\n", "j.toml: line 3: expected '=' after 'bad'"),
            ("k.toml", "every = 5.5\n", "k.toml: line 1: '5.5' is not a supported value (strings, integers, booleans and arrays only)"),
            ("l.json", #"{"event":".x ==","command":["true"]}"#, ""),
        ]
        for (name, text, expected) in cases {
            let (def, err) = try load(name, text)
            #expect(def == nil, "\(name) was accepted")
            if expected.isEmpty { #expect(err != nil) } else { #expect(err?.description == expected, "\(name)") }
        }
    }

    @Test func tomlSubset() throws {
        let text = """
            # a health check
            description = "every five minutes"
            cron = '*/5 * * * *'   # literal string
            tz = "Europe/London"
            command = [
              "osmoda-check",
              "--disk", "/:90",
            ]
            timeout = "30s"
            output_limit_bytes = 2048
            catch_up = false

            [env]
            LANG = "C.UTF-8"
            "X_Y" = "a\\"b"
            """
        let (def, err) = try load("health.toml", text)
        #expect(err == nil)
        let d = try #require(def)
        #expect(d.name == "health")
        #expect(d.command == ["osmoda-check", "--disk", "/:90"])
        #expect(d.env == ["LANG": "C.UTF-8", "X_Y": "a\"b"])
        #expect(d.timeoutMs == 30_000 && d.outputLimit == 2048 && d.catchUp == false)
        #expect(d.trigger.kind == "cron")
        #expect(throws: TOMLSubset.Failure.self) { try TOMLSubset.parse("a = 1\na = 2\n") }
        // A file of a million '[' is an error, not a stack overflow.
        let deep = #expect(throws: TOMLSubset.Failure.self) {
            try TOMLSubset.parse("command = " + String(repeating: "[", count: 1_000_000))
        }
        #expect(deep?.description == "line 1: nested arrays are not supported")
        #expect(throws: TOMLSubset.Failure.self) { try TOMLSubset.parse("[other]\n") }
        #expect(throws: TOMLSubset.Failure.self) { try TOMLSubset.parse("a.b = 1\n") }
    }

    @Test func malformedFilesAreSkippedAndOthersLoad() throws {
        let dir = try ToolRunner.temporaryDirectory("osmoda-defs")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        try #"{"every":"5m","command":["true"]}"#.write(toFile: dir.path + "/good.json", atomically: true, encoding: .utf8)
        try "{".write(toFile: dir.path + "/broken.json", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: dir.path + "/README", atomically: true, encoding: .utf8)
        for f in ["good.json", "broken.json"] { chmod(dir.path + "/" + f, 0o644) }
        let (routines, errors) = try DefinitionDirectory(path: dir.path).loadAll()
        #expect(routines.map(\.name) == ["good"])
        #expect(errors.map(\.path) == [dir.path + "/broken.json"])
    }

    /// As cron does: a definition another user could have written is refused, with the
    /// reason, and the others still load.
    @Test func definitionsOthersCouldWriteAreRefused() throws {
        let dir = try ToolRunner.temporaryDirectory("osmoda-defs")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        for name in ["good", "group", "world", "stranger"] {
            try #"{"every":"5m","command":["true"]}"#.write(toFile: dir.path + "/\(name).json", atomically: true, encoding: .utf8)
            chmod(dir.path + "/\(name).json", 0o644)
        }
        chmod(dir.path + "/group.json", 0o664)
        chmod(dir.path + "/world.json", 0o646)
        let strangerOwned = getuid() == 0 && chown(dir.path + "/stranger.json", 65534, 65534) == 0
        let (routines, errors) = try DefinitionDirectory(path: dir.path).loadAll()
        #expect(routines.map(\.name) == (strangerOwned ? ["good"] : ["good", "stranger"]))
        let messages = Dictionary(uniqueKeysWithValues: errors.map { (String($0.path.split(separator: "/").last ?? ""), $0.message) })
        #expect(messages["group.json"] == "refused: writable by group or others (mode 664); chmod go-w it")
        #expect(messages["world.json"] == "refused: writable by group or others (mode 646); chmod go-w it")
        if strangerOwned {
            #expect(messages["stranger.json"] == "refused: owned by uid 65534, not by this user (0) or root")
        }
    }

    @Test func examplesAreValid() throws {
        // Copied with mode 0644, so that a checkout made under a loose umask still tests
        // their content.
        let source = ToolRunner.packageRoot.appendingPathComponent("examples/routines").path
        let dir = try ToolRunner.temporaryDirectory("osmoda-examples")
        defer { ToolRunner.removeTemporaryDirectory(dir) }
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: dir.path + "/" + name)
            chmod(dir.path + "/" + name, 0o644)
        }
        let (routines, errors) = try DefinitionDirectory(path: dir.path).loadAll()
        #expect(errors.isEmpty, "\(errors)")
        #expect(Set(routines.map(\.name)).isSuperset(of: ["health-check", "service-monitor", "log-scan"]))
    }
}
