import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaDaemon
import OsmodaIPC
import OsmodaLedger
import OsmodaSystem

/// `osmoda-ledger`: append to, read, prove and verify the audit ledger.
public struct LedgerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-ledger",
        abstract: "Append to, read, prove and verify the tamper-evident audit ledger.",
        discussion: """
            The ledger is kept by osmodad, its only writer; this tool talks to it over its \
            socket, starting it on demand in user mode. Entries are ledger.entry records \
            (osmoda-records(5)); their hashes, the Merkle tree and the signed checkpoints are \
            specified in docs/ledger-format.md. verify also works with no daemon on a copied \
            database file (--db) or on an export (--export), against checkpoints kept \
            elsewhere (--checkpoint).

            Examples:
              osmoda-check --tcp 127.0.0.1:22 | osmoda-ledger append
              osmoda-ledger tail -n 20 -f
              osmoda-ledger checkpoint --append-to /srv/witness/ledger.jsonl
              osmoda-ledger verify --db /backup/ledger.sqlite --checkpoint /srv/witness/ledger.jsonl
            """,
        version: "osmoda-ledger (osmoda) \(osmodaVersion)",
        subcommands: [LedgerAppend.self, LedgerTail.self, LedgerQuery.self, LedgerVerify.self, LedgerProve.self,
                      LedgerConsistency.self, LedgerCheckpoint.self, LedgerStatsCommand.self, LedgerExportCommand.self]
    )

    public init() {}
}

/// Connects to the daemon, or ends the tool with the client error's status.
func connectDaemon(_ mode: DaemonModeOptions) throws(ToolFailure) -> DaemonClient {
    let paths = try mode.paths()
    do { return try DaemonClient.connect(paths: paths) } catch { throw clientFailure(error) }
}

func clientFailure(_ e: ClientError) -> ToolFailure {
    // A sealed ledger (failed verification) refuses writes until an admin recovers:
    // the service is unavailable, not broken.
    switch e.code.rawValue {
    case "ledger.verification_failed": return ToolFailure(e.description, status: .unavailable)
    case "ledger.not_found", "ledger.invalid_argument": return ToolFailure(e.description, status: .usage)
    // The daemon could not write (a full disk, an I/O error): nothing of it was committed.
    case "ledger.storage", "ledger.io": return ToolFailure(e.description, status: .ioError)
    default: break
    }
    return ToolFailure(e.description, status: ExitStatus(rawValue: e.exitStatus) ?? .software)
}

func call(_ client: DaemonClient, _ method: String, _ params: JSONObject = JSONObject()) throws(ToolFailure) -> JSONValue {
    do { return try client.call(method, .object(params)) } catch { throw clientFailure(error) }
}

/// A daemon reply as a record: `type` and `ts` first, then the reply's fields.
/// The reply's own `ts` (when the daemon stamped the event) is the record's `ts`.
func replyRecord(_ type: String, _ reply: JSONValue) -> JSONObject {
    var ts: JSONValue = .string(Sys.now().rfc3339)
    if case .string? = reply["ts"], let own = reply["ts"] { ts = own }
    var o = JSONObject(["type": .string(type), "ts": ts])
    if case .object(let r) = reply { o.members += r.members.filter { $0.key != "ts" && $0.key != "type" } }
    return o
}

/// Calls one daemon method and prints its reply as one record of `type`.
func printReply(_ type: String, _ method: String, _ params: JSONObject = JSONObject(),
                mode: DaemonModeOptions, format: OutputFormat) throws(ToolFailure) -> ExitStatus {
    let client = try connectDaemon(mode)
    defer { client.close() }
    let sink = RecordSink(format: format)
    try sink.emit(replyRecord(type, try call(client, method, params)))
    try sink.flush()
    return .success
}

func uint(_ v: JSONValue?) -> UInt64? {
    if case .int(let i)? = v, i >= 0 { return UInt64(i) }
    return nil
}

struct LedgerAppend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append every input record to the ledger and print a ledger.entry acknowledgement for each.",
        discussion: "The entry's type is the record's own type (or --type); the record is stored byte-exact as the payload. Records already waiting on the input are sent together and written in one transaction; each is acknowledged only once it is durable, in input order. A bad line, or a record the ledger refuses, is reported with its position and skipped; the others are still appended.")

    @Option(name: .long, help: ArgumentHelp("The entry type for every record (noun.event), instead of each record's own type.", valueName: "type"))
    var type: String?

    @OptionGroup var input: InputOptions
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    /// A batch stays well under the daemon's 1 MiB frame.
    static let maxBatchBytes = 512 * 1024

    func run() throws {
        try runTool("osmoda-ledger") { diagnostics in
            let client = try connectDaemon(mode)
            defer { client.close() }
            let out = RecordSink(format: output.format)
            // Acknowledgements already received are shown even when the daemon goes away.
            defer { try? out.flush() }
            typealias Pending = (location: RecordStream.Location, type: String, payload: String)
            var pending: [Pending] = []
            var pendingBytes = 0
            var rejected = 0
            // Batches sent and not yet answered: the next batch is read and sent while
            // the daemon writes the previous one, and answers are taken oldest first.
            var inFlight: [(call: DaemonClient.PendingCall, batch: [Pending])] = []

            func settleOldest() throws {
                let (pendingCall, batch) = inFlight.removeFirst()
                let reply = try Result { () throws(ClientError) -> JSONValue in try client.awaitReply(pendingCall) }.mapError(clientFailure).get()
                guard case .array(let results)? = reply["results"], results.count == batch.count else {
                    throw ToolFailure("the daemon answered the batch with \(reply["results"].map { "\($0.typeName)" } ?? "nothing")", status: .software)
                }
                for (p, result) in zip(batch, results) {
                    if case .object(let err)? = result["error"] {
                        let message = err["message"].flatMap { if case .string(let m) = $0 { m } else { nil } } ?? "refused"
                        diagnostics.error("not appended: \(message)", source: p.location.source, line: p.location.line)
                        rejected += 1
                        continue
                    }
                    var ack = replyRecord("ledger.entry", result)
                    ack["entry_type"] = .string(p.type)
                    try out.emit(ack)
                }
            }

            func send() throws {
                guard !pending.isEmpty else { return }
                let records = pending.map { JSONValue.object(JSONObject(["type": .string($0.type), "payload_json": .string($0.payload)])) }
                let params = JSONValue.object(JSONObject(["records": .array(records)]))
                do { inFlight.append((try client.submit(LedgerMethod.appendBatch, params), pending)) } catch { throw clientFailure(error) }
                pending.removeAll(keepingCapacity: true)
                pendingBytes = 0
                while inFlight.count > 1 { try settleOldest() }
            }

            func settleAll() throws {
                try send()
                while !inFlight.isEmpty { try settleOldest() }
            }

            let status = try RecordStream.run(inputs: input.files, options: input.stream, projection: KeyProjection(["type"]),
                                              diagnostics: diagnostics, idle: { try settleAll(); try out.flush() }) { record, raw, location in
                var entryType = type
                if entryType == nil, case .string(let t)? = record["type"] { entryType = t }
                guard let entryType else {
                    diagnostics.error("record has no 'type' and no --type was given; skipped", source: location.source, line: location.line)
                    rejected += 1
                    return
                }
                if pendingBytes + raw.count > Self.maxBatchBytes || pending.count >= LedgerMethod.maxBatchRecords { try send() }
                pending.append((location, entryType, String(decoding: raw, as: UTF8.self)))
                pendingBytes += raw.count + entryType.utf8.count + 64
            }
            try settleAll()
            try out.flush()
            if rejected > 0 && status == .success { return .dataError }
            return status
        }
    }
}

/// One entry as the daemon sent it: the export line, byte-exact, and its parse.
struct EntryLine {
    var raw: [UInt8]
    var record: JSONObject

    /// Writes the line as it came (JSON output), or adds the record to a table.
    func emit(to sink: RecordSink) throws(ToolFailure) {
        let result = raw.withUnsafeBufferPointer { buf in Result { () throws(ToolFailure) in try sink.pass(buf, parsed: record) } }
        try result.get()
    }
}

/// Reads entries `from` on through the daemon, a page at a time.
func forEachEntry(_ client: DaemonClient, from: UInt64, through: UInt64? = nil, _ body: (EntryLine) throws -> Void) throws -> UInt64 {
    var next = max(from, 1)
    while true {
        var params = JSONObject(["from": .int(Int64(next)), "limit": .int(Int64(LedgerMethod.maxEntriesPerCall))])
        if let through { params["through"] = .int(Int64(through)) }
        let reply = try call(client, LedgerMethod.entries, params)
        guard case .array(let items)? = reply["lines"] else { return next }
        for case .string(let text) in items {
            let raw = Array(text.utf8)
            guard case .object(let e) = try JSONReader.parse(raw) else { continue }
            try body(EntryLine(raw: raw, record: e))
            if let s = uint(e["seq"]) { next = s + 1 }
        }
        let last = uint(reply["last_seq"]) ?? 0
        if items.isEmpty || next > last || (through.map { next > $0 } ?? false) { return next }
    }
}

struct LedgerTail: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print the last entries; with -f, follow new ones as they land.")

    @Option(name: .short, help: ArgumentHelp("How many entries to print.", valueName: "n"))
    var n: Int = 10

    @Flag(name: .short, help: "Follow: keep printing entries as they are appended.")
    var follow = false

    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws { if n < 0 { throw ValidationError("-n must not be negative") } }

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            let client = try connectDaemon(mode)
            defer { client.close() }
            let sink = RecordSink(format: output.format)
            let last = uint(try call(client, LedgerMethod.stats)["last_seq"]) ?? 0
            var next = last >= UInt64(n) ? last - UInt64(n) + 1 : 1
            next = try forEachEntry(client, from: next) { try $0.emit(to: sink) }
            try sink.flush()
            while follow {
                Sys.sleep(milliseconds: 200)
                next = try forEachEntry(client, from: next) { try $0.emit(to: sink) }
                try sink.flush()
            }
            return .success
        }
    }
}

struct LedgerQuery: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Print the entries that match every filter given.")

    @Option(name: .long, help: ArgumentHelp("Only entries of this type.", valueName: "type")) var type: String?
    @Option(name: .long, help: ArgumentHelp("Only entries whose actor has this uid.", valueName: "uid")) var actor: UInt32?
    @Option(name: .long, help: ArgumentHelp("Only entries at or after this RFC 3339 time.", valueName: "time")) var since: String?
    @Option(name: .long, help: ArgumentHelp("Only entries before this RFC 3339 time.", valueName: "time")) var until: String?
    @Option(name: .long, help: ArgumentHelp("Only entries for which this osmoda-expr(7) expression is true.", valueName: "expr")) var `where`: String?

    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws {
        for (flag, v) in [("--since", since), ("--until", until)] {
            if let v, Timestamp(rfc3339: v) == nil { throw ValidationError("\(flag): '\(v)' is not an RFC 3339 time") }
        }
        if let w = `where` {
            do { _ = try Expression(w) } catch { throw ValidationError("--where: \(error)") }
        }
    }

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            let expr = try `where`.map { (w) throws -> Expression in try Expression(w) }
            let sinceTS = since.flatMap { Timestamp(rfc3339: $0) }, untilTS = until.flatMap { Timestamp(rfc3339: $0) }
            let client = try connectDaemon(mode)
            defer { client.close() }
            let sink = RecordSink(format: output.format)
            _ = try forEachEntry(client, from: 1) { line in
                let e = line.record
                if let type, e["entry_type"] != .string(type) { return }
                if let actor, e["actor_uid"] != .int(Int64(actor)) { return }
                if sinceTS != nil || untilTS != nil {
                    guard case .string(let s)? = e["ts"], let ts = Timestamp(rfc3339: s) else { return }
                    if let sinceTS, ts < sinceTS { return }
                    if let untilTS, ts >= untilTS { return }
                }
                if let expr, !expr.matches(e) { return }
                try line.emit(to: sink)
            }
            try sink.flush()
            return .success
        }
    }
}

/// Reads the checkpoint notes of witness files: `ledger.checkpoint` records with a `note`.
func checkpointNotes(_ files: [String]) throws(ToolFailure) -> [String] {
    var notes: [String] = []
    for f in files {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(f, limit: 64 << 20) } catch {
            throw ToolFailure("cannot read checkpoint file '\(f)': \(error.message)", status: .noInput)
        }
        for (i, line) in bytes.split(separator: 0x0A).enumerated() {
            guard let v = try? JSONReader.parse(Array(line)), case .string(let note)? = v["note"] else {
                throw ToolFailure("\(f):\(i + 1): not a ledger.checkpoint record with a note", status: .dataError)
            }
            notes.append(note)
        }
    }
    return notes
}

struct LedgerVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the whole chain and Merkle tree, and the checkpoints; exit 1 when anything fails.",
        discussion: "Through the daemon by default; --db verifies a database file read-only with no daemon, --export verifies an export without SQLite. Each --checkpoint file (ledger.checkpoint records, as checkpoint --append-to writes them) must be consistent with the ledger: this detects truncation and a wholesale re-chain.")

    @Option(name: .long, help: ArgumentHelp("Verify this database file offline.", valueName: "file"), completion: .file())
    var db: String?

    @Option(name: .long, help: ArgumentHelp("Verify this export file offline.", valueName: "file"), completion: .file())
    var export: String?

    @Option(name: .long, help: ArgumentHelp("A witness file of checkpoints kept elsewhere (repeatable).", valueName: "file"), completion: .file())
    var checkpoint: [String] = []

    @Option(name: .long, help: ArgumentHelp("The checkpoint verifier key (name+id+key) to trust, offline.", valueName: "key"))
    var key: String?

    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func validate() throws {
        if db != nil && export != nil { throw ValidationError("--db and --export exclude each other") }
        if let key, (try? NoteVerifierKey(parsing: key)) == nil {
            throw ValidationError("--key: '\(key)' is not a note verifier key (name+id+key, as osmoda-ledger stats prints it)")
        }
    }

    func trustedKey() throws(ToolFailure) -> NoteVerifierKey? {
        guard let key else { return nil }
        do { return try NoteVerifierKey(parsing: key) } catch {
            throw ToolFailure("--key: \(error)", status: .usage)
        }
    }

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            let notes = try checkpointNotes(checkpoint)
            let sink = RecordSink(format: output.format)
            let verdict: JSONValue
            if let db {
                let store: LedgerStore
                do { store = try LedgerStore.openReadOnly(path: db) } catch {
                    throw ToolFailure("cannot open '\(db)': \(error)", status: .noInput)
                }
                defer { store.close() }
                let trusted = try trustedKey()
                do { verdict = LedgerService.verdictJSON(try store.verifyAll(externalCheckpoints: notes, trustedKey: trusted)) } catch {
                    throw ToolFailure("cannot verify '\(db)': \(error)", status: .ioError)
                }
            } else if let export {
                let bytes: [UInt8]
                do { bytes = try Sys.readFile(export, limit: 1 << 34) } catch let error as SystemError {
                    throw ToolFailure("cannot read '\(export)': \(error.message)", status: .noInput)
                }
                let lines = bytes.split(separator: 0x0A).map { Array($0) }
                do {
                    verdict = LedgerService.verdictJSON(try LedgerExport.verify(lines: lines, checkpoints: notes, key: try trustedKey()))
                } catch let error as LedgerStoreError {
                    throw ToolFailure("cannot verify '\(export)': \(error)", status: .usage)
                }
            } else {
                let client = try connectDaemon(mode)
                defer { client.close() }
                verdict = try call(client, LedgerMethod.verify, JSONObject(["checkpoints": .array(notes.map { .string($0) })]))
            }
            try sink.emit(replyRecord("ledger.verify", verdict))
            try sink.flush()
            return verdict["ok"] == .bool(true) ? .success : .no
        }
    }
}

struct LedgerProve: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prove", abstract: "Print an inclusion proof of entry SEQ in the tree of the given size (default: the whole ledger).")
    @Argument(help: ArgumentHelp("The entry's sequence number.", valueName: "seq")) var seq: UInt64
    @Option(name: .long, help: ArgumentHelp("The tree size to prove against.", valueName: "n")) var size: UInt64?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        var params = JSONObject(["seq": .int(Int64(seq))])
        if let size { params["size"] = .int(Int64(size)) }
        try runTool("osmoda-ledger") { _ in
            try printReply("ledger.proof", LedgerMethod.prove, params, mode: mode, format: output.format)
        }
    }
}

struct LedgerConsistency: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consistency", abstract: "Print a consistency proof between the trees of sizes OLD and NEW (default: the whole ledger).")
    @Argument(help: ArgumentHelp("The older tree size.", valueName: "old")) var old: UInt64
    @Argument(help: ArgumentHelp("The newer tree size.", valueName: "new")) var new: UInt64?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        var params = JSONObject(["old": .int(Int64(old))])
        if let new { params["new"] = .int(Int64(new)) }
        try runTool("osmoda-ledger") { _ in
            try printReply("ledger.consistency", LedgerMethod.consistency, params, mode: mode, format: output.format)
        }
    }
}

struct LedgerCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Sign and print a checkpoint of the ledger (a C2SP signed note).")
    @Option(name: .customLong("append-to"), help: ArgumentHelp("Also append the checkpoint record to this witness file (fsynced).", valueName: "file"), completion: .file())
    var appendTo: String?
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            let client = try connectDaemon(mode)
            defer { client.close() }
            let record = replyRecord("ledger.checkpoint", try call(client, LedgerMethod.checkpoint))
            if let appendTo {
                var line: [UInt8] = []
                JSONWriter.write(.object(record), into: &line)
                line.append(0x0A)
                do { try Sys.appendDurably(appendTo, line) } catch let error as SystemError {
                    throw ToolFailure("cannot append to '\(appendTo)': \(error.message)", status: .ioError)
                }
            }
            let sink = RecordSink(format: output.format)
            try sink.emit(record)
            try sink.flush()
            return .success
        }
    }
}

struct LedgerStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Print the ledger's statistics.")
    @OptionGroup var output: FormatOptions
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            try printReply("ledger.stats", LedgerMethod.stats, mode: mode, format: output.format)
        }
    }
}

struct LedgerExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write every entry as JSON Lines that verify --export checks without SQLite.")
    @Option(name: .long, help: ArgumentHelp("Export this database file offline, with no daemon.", valueName: "file"), completion: .file())
    var db: String?
    @OptionGroup var mode: DaemonModeOptions

    func run() throws {
        try runTool("osmoda-ledger") { _ in
            let out = RecordOutput()
            if let db {
                let store: LedgerStore
                do { store = try LedgerStore.openReadOnly(path: db) } catch {
                    throw ToolFailure("cannot open '\(db)': \(error)", status: .noInput)
                }
                defer { store.close() }
                try store.export { line in try out.writeLine(line) }
            } else {
                let client = try connectDaemon(mode)
                defer { client.close() }
                _ = try forEachEntry(client, from: 1) { line in try out.writeLine(line.raw) }
            }
            try out.flush()
            return .success
        }
    }
}
