import Foundation
import OsmodaCore
import OsmodaTestSupport
import Testing

/// `osmoda-records(5)` is the schema of every record: each section's example line must
/// parse as a record of that type, and every field the tools really emit must be
/// documented there.
struct RecordSchemaTests {
    struct Section {
        var type: String
        var fields: Set<String>
        var example: String?
    }

    static func sections() throws -> [String: Section] {
        let page = try String(contentsOf: ToolRunner.packageRoot.appendingPathComponent("man/man5/osmoda-records.5"), encoding: .utf8)
        var out: [String: Section] = [:]
        var current: Section?
        var expectExample = false
        for raw in page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix(".Ss ") {
                if let c = current { out[c.type] = c }
                let name = String(raw.dropFirst(4))
                current = name.contains(".") ? Section(type: name, fields: [], example: nil) : nil
                continue
            }
            guard current != nil else { continue }
            if raw.hasPrefix(".It Va ") {
                let name = raw.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                current?.fields.insert(name)
            } else if raw == "Example:" {
                expectExample = true
            } else if expectExample && raw.hasPrefix("{") {
                current?.example = raw.replacingOccurrences(of: "\\e", with: "\\").replacingOccurrences(of: "\\&", with: "")
                expectExample = false
            }
        }
        if let c = current { out[c.type] = c }
        return out
    }

    static let expectedTypes = ["health.sample", "check.result", "process.info", "port.info", "mount.info", "disk.info",
                                "user.info", "interface.info", "sysctl.entry", "kernel.info", "service.info",
                                "ledger.entry", "ledger.verify", "ledger.proof", "ledger.consistency", "ledger.checkpoint",
                                "ledger.stats", "ledger.recovery", "cron.next", "cron.explain", "cron.check", "cron.bench", "routine.run", "routine.info",
                                "watch.state", "watch.action", "watch.alert",
                                "gen.generation", "gen.switch", "gen.diff", "switch.begin",
                                "switch.check", "switch.commit", "switch.rollback", "switch.rollback_failed", "switch.state",
                                "vault.init", "vault.unlock", "vault.lock", "vault.status", "key.created", "key.imported",
                                "key.deleted", "key.info", "key.exported", "key.signature", "vault.policy", "vault.policy.set",
                                "policy.decision", "egress.decision"]

    @Test func everyTypeHasAParsableExample() throws {
        let secs = try Self.sections()
        for type in Self.expectedTypes {
            let s = try #require(secs[type], "osmoda-records(5) has no section for \(type)")
            let line = try #require(s.example, "\(type) has no example line")
            guard case .object(let o) = try JSONReader.parse(line) else {
                Issue.record("\(type) example is not an object")
                continue
            }
            #expect(o.keys.prefix(2) == ["type", "ts"], "\(type) example must start with type and ts")
            #expect(o["type"] == .string(type))
            if case .string(let ts)? = o["ts"] { #expect(Timestamp(rfc3339: ts) != nil) }
            for key in o.keys where !["type", "ts"].contains(key) {
                #expect(s.fields.contains(key), "\(type) example has undocumented field \(key)")
            }
        }
    }

    /// Collects every key in a record, nested objects included.
    static func keys(of value: JSONValue, into set: inout Set<String>) {
        switch value {
        case .object(let o):
            for m in o.members {
                set.insert(m.key)
                // A ledger entry's payload is the appended record itself, not schema.
                if m.key != "payload" { keys(of: m.value, into: &set) }
            }
        case .array(let items):
            for i in items { keys(of: i, into: &set) }
        default: break
        }
    }

    /// The fields of `record` that its type's section does not document.
    static func undocumentedFields(_ record: JSONObject) throws -> [String] {
        guard case .string(let type)? = record["type"], let section = try sections()[type] else { return ["(undocumented type)"] }
        var ks: Set<String> = []
        keys(of: .object(record), into: &ks)
        return ks.subtracting(["type", "ts"]).filter { !section.fields.contains($0) }.sorted()
    }

    @Test func toolsEmitOnlyDocumentedFields() throws {
        let secs = try Self.sections()
        let runs: [(String, [String])] = [
            ("osmoda-health", ["--format", "json"]),
            ("osmoda-query", ["kernel", "--format", "json"]),
            ("osmoda-query", ["processes", "--format", "json"]),
            ("osmoda-query", ["ports", "--format", "json"]),
            ("osmoda-query", ["mounts", "--format", "json"]),
            ("osmoda-query", ["disks", "--format", "json"]),
            ("osmoda-query", ["users", "--format", "json"]),
            ("osmoda-query", ["interfaces", "--format", "json"]),
            ("osmoda-query", ["sysctl", "--prefix", "kernel.ostype", "--format", "json"]),
            ("osmoda-check", ["--tcp", "127.0.0.1:1", "--file", "/etc/passwd", "--disk", "/:100", "--command", #"["/bin/true"]"#,
                              "--process", "init", "--http", "http://127.0.0.1:1/", "--format", "json"]),
            ("osmoda-cron", ["next", "30 2 * * *", "--tz", "America/New_York", "--count", "2", "--format", "json"]),
            ("osmoda-cron", ["explain", "5 4 1-15 * SUN", "--format", "json"]),
            ("osmoda-cron", ["check", "@daily", "--format", "json"]),
        ]
        var seen: Set<String> = []
        for (tool, args) in runs {
            let r = try ToolRunner.run(tool, args)
            #expect(r.status == 0 || (tool == "osmoda-check" && r.status == 1), "\(tool) \(args): \(r.stderrText)")
            for line in r.stdoutLines {
                guard case .object(let o) = try JSONReader.parse(line), case .string(let type)? = o["type"] else {
                    Issue.record("\(tool): not a typed record: \(line)")
                    continue
                }
                seen.insert(type)
                let section = try #require(secs[type], "\(type) is not documented in osmoda-records(5)")
                var ks: Set<String> = []
                Self.keys(of: .object(o), into: &ks)
                for k in ks.subtracting(["type", "ts"]) {
                    #expect(section.fields.contains(k), "\(type): field \(k) is emitted but not documented")
                }
            }
        }
        #expect(seen.isSuperset(of: ["health.sample", "kernel.info", "process.info", "check.result", "sysctl.entry"]))
    }
}
