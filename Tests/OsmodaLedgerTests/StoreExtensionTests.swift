import Foundation
import OsmodaCore
@testable import OsmodaLedger
import Synchronization
import Testing

/// `appendAtomically`, `readExtension` and `prepareExtensionSchema`: caller tables in
/// the ledger database, written in the writer's transaction.
@Suite struct StoreExtensionTests {
    static let schema = """
        CREATE TABLE IF NOT EXISTS ext_counter (name TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;
        CREATE INDEX IF NOT EXISTS ext_counter_by_n ON ext_counter (n);
        """

    func withStore(_ body: (LedgerStore, TempDir) throws -> Void) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        try store.prepareExtensionSchema(Self.schema)
        try body(store, dir)
    }

    /// Increments `ext_counter[name]` and appends an entry saying so, atomically.
    @discardableResult
    func bump(_ store: LedgerStore, _ name: String = "a", fail: Bool = false) throws(LedgerStoreError) -> (entry: AppendedEntry, value: Int64) {
        try store.appendAtomically { tx throws(LedgerStoreError) in
            try tx.execute("INSERT INTO ext_counter (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1", [.text(name)])
            let n = try tx.query("SELECT n FROM ext_counter WHERE name = ?", [.text(name)]).first?.first?.int ?? -1
            if fail { throw LedgerStoreError(.invalidArgument, "the body gave up") }
            return (AppendRequest(type: "counter.bumped", payload: #"{"name":"\#(name)","n":\#(n)}"#, actor: Fixtures.actor), n)
        }
    }

    func counter(_ store: LedgerStore, _ name: String = "a") throws -> Int64? {
        try store.readExtension { tx throws(LedgerStoreError) in
            try tx.query("SELECT n FROM ext_counter WHERE name = ?", [.text(name)]).first?.first?.int
        }
    }

    @Test func tableRowsAndEntryCommitTogether() throws {
        try withStore { store, _ throws in
            _ = try store.append(Fixtures.request(0))
            let r = try bump(store)
            #expect(r.value == 1)
            #expect(r.entry.seq == 2)
            #expect(try store.entry(seq: 2) == r.entry)
            #expect(try bump(store).value == 2)
            #expect(try counter(store) == 2)
            #expect(try store.verifyAll().ok)
            _ = try store.checkpoint()
            #expect(try store.verifyAll().ok)
            var lines = 0
            try store.export { _ in lines += 1 }
            #expect(lines == 3)
        }
    }

    @Test func aThrowingBodyCommitsNothing() throws {
        try withStore { store, _ throws in
            try bump(store)
            #expect(throws: LedgerStoreError(.invalidArgument, "the body gave up")) { try bump(store, fail: true) }
            #expect(try counter(store) == 1)
            #expect(try store.count == 1)
            #expect(store.sealedReason == nil)
            #expect(try bump(store).value == 2)
        }
    }

    @Test func anInvalidEntryRollsBackTheRows() throws {
        try withStore { store, _ throws in
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("INSERT INTO ext_counter (name, n) VALUES ('x', 1)")
                    return (AppendRequest(type: "ledger.forged", payload: "{}", actor: Fixtures.actor), 0)
                }
            } == .reservedType)
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("INSERT INTO ext_counter (name, n) VALUES ('x', 1)")
                    return (AppendRequest(type: "a.b", payload: "[]", actor: Fixtures.actor), 0)
                }
            } == .invalidPayload)
            #expect(try counter(store, "x") == nil)
            #expect(try store.count == 0)
        }
    }

    /// Extension code may read anything but change only ext_ tables, and may not end
    /// the transaction it runs in.
    @Test(arguments: [
        "INSERT INTO entries (seq, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash) SELECT seq + 1, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash FROM entries",
        "UPDATE entries SET payload = CAST('{}' AS BLOB)",
        "DELETE FROM checkpoints",
        "UPDATE tree_state SET size = 0",
        "DELETE FROM meta",
        "DELETE FROM merkle_blocks",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT s",
        "CREATE TABLE ext_new (x INTEGER)",
        "DROP TABLE ext_counter",
        "CREATE TRIGGER ext_t AFTER INSERT ON ext_counter BEGIN DELETE FROM entries; END",
        "PRAGMA journal_mode=DELETE",
        "ATTACH DATABASE ':memory:' AS other",
        "CREATE TEMP TABLE ext_t (x)",
    ])
    func theLedgerTablesAreOutOfReach(_ sql: String) throws {
        try withStore { store, _ throws in
            try bump(store)
            _ = try store.checkpoint()
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("UPDATE ext_counter SET n = 99")
                    try tx.execute(sql)
                    return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
                }
            } == .invalidArgument)
            #expect(try counter(store) == 1)
            #expect(try store.count == 1)
            #expect(store.sealedReason == nil)
            #expect(try store.verifyAll().ok)
            #expect(try bump(store).value == 2)
        }
    }

    /// `INSERT OR ROLLBACK` ends the transaction without the authorizer being asked. A
    /// body that goes on (here: it swallows the conflict) must not run statements, nor
    /// have its entry written, in autocommit mode: each would commit on its own.
    @Test func aTransactionEndedByConflictResolutionCommitsNothing() throws {
        try withStore { store, _ throws in
            try bump(store)
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    _ = try? tx.execute("INSERT OR ROLLBACK INTO ext_counter (name, n) VALUES ('a', 5)")
                    _ = try? tx.execute("UPDATE ext_counter SET n = 42")
                    return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
                }
            } == .invalidArgument)
            #expect(try counter(store) == 1)
            #expect(try store.count == 1)
            #expect(store.sealedReason == nil)
            #expect(try bump(store).value == 2)
            #expect(try store.verifyAll().ok)
        }
    }

    /// The authorizer is the body's only: once a body or a read has failed, the
    /// connections run what it refuses (a savepoint, a pragma) again.
    @Test func theAuthorizerIsRemovedAfterAnError() throws {
        try withStore { store, _ throws in
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("PRAGMA user_version = 1")
                    return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
                }
            } == .invalidArgument)
            #expect(errorCode {
                _ = try store.readExtension { tx throws(LedgerStoreError) in try tx.query("PRAGMA user_version") }
            } == .invalidArgument)
            #expect(errorCode { try store.prepareExtensionSchema("PRAGMA user_version = 1") } == .invalidArgument)
            try store.writer.withLock { w in try w.connection?.execute("SAVEPOINT s; RELEASE s; PRAGMA user_version") }
            #expect(try store.withReader { c throws(SQLiteError) in try c.pragma("user_version") } == "0")
            _ = try store.append(Fixtures.request(0))
            #expect(try store.verifyAll().ok)
        }
    }

    @Test func oneStatementAtATime() throws {
        try withStore { store, _ throws in
            try bump(store)
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("UPDATE ext_counter SET n = 7; DELETE FROM ext_counter")
                    return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
                }
            } == .storage)
            #expect(try counter(store) == 1)
            _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                try tx.execute("UPDATE ext_counter SET n = 7; ;\n ")
                return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
            }
            #expect(try counter(store) == 7)
        }
    }

    @Test func readsOfLedgerTablesAreAllowed() throws {
        try withStore { store, _ throws in
            try Fixtures.appendMany(store, 3)
            let seen = try store.appendAtomically { tx throws(LedgerStoreError) in
                let n = try tx.query("SELECT max(seq) FROM entries").first?.first?.int ?? 0
                return (AppendRequest(type: "a.b", payload: #"{"after":\#(n)}"#, actor: Fixtures.actor), n)
            }
            #expect(seen.value == 3 && seen.entry.seq == 4)
            #expect(try store.readExtension { tx throws(LedgerStoreError) in try tx.query("SELECT count(*) FROM entries").first?.first?.int } == 4)
        }
    }

    @Test func theReadSnapshotWritesNothing() throws {
        try withStore { store, _ throws in
            try bump(store)
            #expect(errorCode {
                _ = try store.readExtension { tx throws(LedgerStoreError) in try tx.execute("UPDATE ext_counter SET n = 5") }
            } == .invalidArgument)
            #expect(try counter(store) == 1)
        }
    }

    @Test(arguments: [
        "CREATE TABLE other (x INTEGER)",
        "CREATE INDEX ext_i ON entries (ts)",
        "CREATE INDEX other_i ON ext_counter (n)",
        "DROP TABLE entries",
        "ALTER TABLE entries ADD COLUMN x INTEGER",
        "CREATE VIEW ext_v AS SELECT * FROM entries",
        "CREATE TABLE ext_a (x INTEGER); CREATE TABLE b (x INTEGER)",
        "CREATE TRIGGER ext_t AFTER INSERT ON ext_counter BEGIN SELECT 1; END",
        // A rename would make a table that is not named ext_ (SQLite refuses it here
        // because it also rewrites the temporary schema).
        "ALTER TABLE ext_counter RENAME TO planted",
    ])
    func theSchemaHookCreatesOnlyExtensionTables(_ sql: String) throws {
        try withStore { store, dir throws in
            #expect(errorCode { try store.prepareExtensionSchema(sql) } == .invalidArgument)
            // Nothing of a refused script stays, not even its allowed first statement.
            #expect(try store.readExtension { tx throws(LedgerStoreError) in
                try tx.query("SELECT count(*) FROM sqlite_schema WHERE name = 'ext_a'").first?.first?.int
            } == 0)
            store.close()
            let again = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
            defer { again.close() }
            #expect(again.sealedReason == nil)
        }
    }

    @Test func refusedWhenTheStoreCannotBeWritten() throws {
        try withStore { store, dir throws in
            try bump(store)
            let ran = Mutex(false)
            let body = { (tx: LedgerTransaction) throws(LedgerStoreError) -> (request: AppendRequest, value: Int) in
                ran.withLock { $0 = true }
                return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
            }
            let ro = try LedgerStore.openReadOnly(path: dir.sub(LedgerStore.databaseFileName))
            #expect(errorCode { _ = try ro.appendAtomically(body) } == .readOnly)
            #expect(errorCode { try ro.prepareExtensionSchema(Self.schema) } == .readOnly)
            ro.close()
            store.close()
            #expect(errorCode { _ = try store.appendAtomically(body) } == .closed)
            #expect(errorCode { _ = try store.readExtension { _ throws(LedgerStoreError) in 0 } } == .closed)
            #expect(!ran.withLock { $0 })
        }
    }

    @Test func aSealedStoreRefusesBeforeTheBodyRuns() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        try store.prepareExtensionSchema(Self.schema)
        try Fixtures.appendMany(store, 3)
        _ = try store.checkpoint()
        try bump(store)
        store.close()
        try StoreTamper.withRaw(dir.path) { raw in try StoreTamper.flipBlob(raw, seq: 4, column: "payload") }
        store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        #expect(store.sealedReason != nil)
        let ran = Mutex(false)
        #expect(errorCode {
            _ = try store.appendAtomically { _ throws(LedgerStoreError) in
                ran.withLock { $0 = true }
                return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
            }
        } == .verificationFailed)
        #expect(!ran.withLock { $0 })
        // The schema hook and reads still work on a sealed store.
        try store.prepareExtensionSchema(Self.schema)
        #expect(try counter(store) == 1)
    }

    /// A full disk (SQLite's page limit, here) fails the transaction: nothing is
    /// committed, the value is not returned, and the store keeps accepting appends.
    @Test func aFullDatabaseCommitsNothing() throws {
        try withStore { store, _ throws in
            try bump(store)
            try store.writer.withLock { w in
                let pages = try w.connection?.pragma("page_count") ?? "0"
                try w.connection?.execute("PRAGMA max_page_count = \(pages)")
            }
            let big = String(repeating: "x", count: 50_000)
            #expect(errorCode {
                _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                    try tx.execute("UPDATE ext_counter SET n = 100")
                    return (AppendRequest(type: "a.b", payload: #"{"big":"\#(big)"}"#, actor: Fixtures.actor), "secret")
                }
            } == .storage)
            #expect(try counter(store) == 1)
            #expect(try store.count == 1)
            #expect(store.sealedReason == nil)
            try store.writer.withLock { w in try w.connection?.execute("PRAGMA max_page_count = 1073741823") }
            #expect(try bump(store).value == 2)
            #expect(try store.verifyAll().ok)
        }
    }

    /// Whether this process may mount a tmpfs (root, in a namespace that allows it).
    static func canMountTmpfs() -> Bool {
        guard getuid() == 0, let dir = try? TempDir() else { return false }
        defer { dir.remove() }
        func run(_ tool: String, _ args: [String]) -> Bool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = args
            guard (try? p.run()) != nil else { return false }
            p.waitUntilExit()
            return p.terminationStatus == 0
        }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path]) else { return false }
        _ = run("/bin/umount", [dir.path])
        return true
    }

    /// A real full disk (a small tmpfs; needs root): the WAL write at `COMMIT` fails.
    /// Every failed atomic append leaves the rows, the entries, the writer's tail and
    /// the seal as they were — also as a reopened store (WAL recovery) sees them — and
    /// appends resume once there is room.
    @Test(.enabled(if: Self.canMountTmpfs())) func aRealFullDiskFailsCommitsCleanly() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let state = dir.sub("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=2m", "tmpfs", state]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = ["-l", state]
            try? umount.run()
            umount.waitUntilExit()
        }
        var store = try LedgerStore.open(stateDirectory: state, options: Fixtures.options())
        defer { store.close() }
        try store.prepareExtensionSchema(Self.schema + "CREATE TABLE IF NOT EXISTS ext_pad (b BLOB) STRICT;")
        let pad = String(repeating: "p", count: 3000)
        func padded() throws(LedgerStoreError) -> AppendedEntry {
            try store.appendAtomically { tx throws(LedgerStoreError) in
                try tx.execute("INSERT INTO ext_counter (name, n) VALUES ('a', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1")
                try tx.execute("INSERT INTO ext_pad (b) VALUES (?)", [.blob([UInt8](repeating: 7, count: 3000))])
                return (AppendRequest(type: "a.b", payload: #"{"pad":"\#(pad)"}"#, actor: Fixtures.actor), 0)
            }.entry
        }
        for _ in 0..<5 { _ = try padded() }
        let filler = state + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0xAB, count: 16384)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
        var committed = try store.count
        var failures = 0
        for _ in 0..<400 where failures < 5 {
            let before = (count: try store.count, counter: try counter(store), tail: store.writer.withLock { $0.tail.lastSeq })
            do throws(LedgerStoreError) {
                let e = try padded()
                #expect(e.seq == before.tail + 1)
                committed += 1
            } catch {
                failures += 1
                #expect(error.code == .storage, "\(error)")
                #expect(store.sealedReason == nil, "\(store.sealedReason.map { "\($0)" } ?? "")")
                #expect(try store.count == before.count)
                #expect(try counter(store) == before.counter)
                #expect(store.writer.withLock { $0.tail.lastSeq } == before.tail)
            }
        }
        #expect(failures > 0, "the disk never filled")
        store.close()
        // What a new connection recovers from the WAL is what was acknowledged.
        var full = Fixtures.options()
        full.startupVerification = .full
        store = try LedgerStore.open(stateDirectory: state, options: full)
        #expect(store.sealedReason == nil, "\(store.sealedReason.map { "\($0)" } ?? "")")
        #expect(try store.count == committed)
        #expect(try counter(store) == Int64(committed))
        try FileManager.default.removeItem(atPath: filler)
        _ = try padded()
        #expect(try counter(store) == Int64(committed) + 1)
        #expect(try store.verifyAll().ok)
    }

    /// `recover` on a disk with room for a new ledger but not for the extension tables
    /// (the vault's spend counters): it must not start a new epoch without them — that
    /// would reset every spend window. It puts the sealed database back, changes
    /// nothing, and fails; once there is room, recovery carries the tables over.
    @Test(.enabled(if: Self.canMountTmpfs())) func recoveryThatCannotCopyTheCountersChangesNothing() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let state = dir.sub("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        func run(_ tool: String, _ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", state]) == 0)
        defer { _ = try? run("/bin/umount", ["-l", state]) }
        var store = try LedgerStore.open(stateDirectory: state, options: Fixtures.options())
        try store.prepareExtensionSchema(Self.schema + "CREATE TABLE IF NOT EXISTS ext_pad (b BLOB) STRICT;")
        for _ in 0..<12 {
            _ = try store.appendAtomically { tx throws(LedgerStoreError) in
                try tx.execute("INSERT INTO ext_counter (name, n) VALUES ('a', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1")
                try tx.execute("INSERT INTO ext_pad (b) VALUES (?)", [.blob([UInt8](repeating: 7, count: 100_000))])
                return (AppendRequest(type: "a.b", payload: "{}", actor: Fixtures.actor), 0)
            }
        }
        _ = try store.checkpoint()
        try bump(store)
        store.close()
        try StoreTamper.withRaw(state) { raw in try StoreTamper.flipBlob(raw, seq: 13, column: "payload") }
        // Leave about 300 KB: room for a new, empty ledger, not for 1.2 MB of rows.
        let filler = state + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0xAB, count: 16384)
        var written = 0
        while true {
            let n = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        ftruncate(fd, off_t(max(0, written - 300_000)))
        close(fd)
        // The files, but SQLite's own -wal and -shm (the old ledger's, put back too).
        func files() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: state).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted()
        }
        let before = try files()
        #expect(errorCode {
            _ = try LedgerStore.recover(stateDirectory: state, acknowledging: "test", actor: Fixtures.actor, options: Fixtures.options())
        } == .storage)
        let after = try files()
        #expect(after == before, "\(before) -> \(after)")
        store = try LedgerStore.open(stateDirectory: state, options: Fixtures.options())
        #expect(store.sealedReason != nil)
        #expect(store.epoch == 1)
        #expect(try counter(store) == 13)
        store.close()
        try FileManager.default.removeItem(atPath: filler)
        let recovery = try LedgerStore.recover(stateDirectory: state, acknowledging: "test", actor: Fixtures.actor, options: Fixtures.options())
        store = recovery.store
        defer { store.close() }
        #expect(store.epoch == 2)
        #expect(try counter(store) == 13)
    }

    /// The body runs under the writer lock: concurrent group-committed appends and
    /// atomic appends interleave, but nothing commits between a body's read and its
    /// entry (each body sees exactly the entries before its own).
    @Test func serialisedWithTheGroupCommitter() throws {
        try withStore { store, _ throws in
            let committer = GroupCommitter(store: store)
            let mismatches = Mutex(0)
            onThreads(8) { t in
                for i in 0..<40 {
                    if t % 2 == 0 {
                        _ = try? committer.submit(Fixtures.request(i))
                    } else {
                        let r = try? store.appendAtomically { tx throws(LedgerStoreError) in
                            let before = try tx.query("SELECT coalesce(max(seq), 0) FROM entries").first?.first?.int ?? -1
                            try tx.execute(
                                "INSERT INTO ext_counter (name, n) VALUES ('a', 1) ON CONFLICT (name) DO UPDATE SET n = n + 1")
                            return (AppendRequest(type: "counter.bumped", payload: "{}", actor: Fixtures.actor), before)
                        }
                        if let r, UInt64(r.value) + 1 != r.entry.seq { mismatches.withLock { $0 += 1 } }
                    }
                }
            }
            #expect(mismatches.withLock { $0 } == 0)
            #expect(try store.count == 320)
            #expect(try counter(store) == 160)
            #expect(try store.verifyAll().ok)
        }
    }

    /// `recover` starts a new database; the extension tables (operating state, not
    /// evidence) come along, and the recovery entry says which.
    @Test func recoveryCarriesTheExtensionTablesOver() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        try store.prepareExtensionSchema(Self.schema + "CREATE TABLE IF NOT EXISTS ext_blobs (b BLOB, t TEXT, i INTEGER, n ANY) STRICT;"
            + "CREATE TABLE IF NOT EXISTS ext_reals (r REAL, a ANY) STRICT;")
        _ = try store.appendAtomically { tx throws(LedgerStoreError) in
            // 0.1 + 0.2 needs 17 significant digits; SQLite's text of it has 15.
            try tx.execute("INSERT INTO ext_reals VALUES (0.1 + 0.2, 0.1 + 0.2)")
            return (AppendRequest(type: "real.added", payload: "{}", actor: Fixtures.actor), 0)
        }
        let reals = try store.readExtension { tx throws(LedgerStoreError) in
            try tx.query("SELECT r = 0.1 + 0.2, typeof(a), a = 0.1 + 0.2 FROM ext_reals")
        }
        #expect(reals == [[.int(1), .text("real"), .int(1)]])
        try bump(store)
        try bump(store, "b")
        _ = try store.appendAtomically { tx throws(LedgerStoreError) in
            try tx.execute("INSERT INTO ext_blobs VALUES (?, ?, ?, ?)", [.blob([0, 1, 255]), .text("é\"'"), .int(-7), .null])
            return (AppendRequest(type: "blob.added", payload: "{}", actor: Fixtures.actor), 0)
        }
        _ = try store.checkpoint()
        try bump(store)
        store.close()
        try StoreTamper.withRaw(dir.path) { raw in try StoreTamper.flipBlob(raw, seq: 5, column: "payload") }
        let recovery = try LedgerStore.recover(stateDirectory: dir.path, acknowledging: "test", actor: Fixtures.actor, options: Fixtures.options())
        store = recovery.store
        defer { store.close() }
        let evidence = try JSONReader.parse(recovery.entry.entry.payload)
        #expect(evidence["extension_tables"] == .array([.string("ext_counter"), .string("ext_blobs"), .string("ext_reals")]))
        // REAL values come over exactly, and stay REAL.
        #expect(try store.readExtension { tx throws(LedgerStoreError) in
            try tx.query("SELECT r = 0.1 + 0.2, typeof(a), a = 0.1 + 0.2 FROM ext_reals")
        } == reals)
        #expect(evidence["extension_tables_error"] == nil)
        #expect(try store.verifyAll().ok)
        try store.prepareExtensionSchema(Self.schema)
        #expect(try counter(store) == 2)
        #expect(try counter(store, "b") == 1)
        #expect(try store.readExtension { tx throws(LedgerStoreError) in try tx.query("SELECT * FROM ext_blobs") }
            == [[.blob([0, 1, 255]), .text("é\"'"), .int(-7), .null]])
        let next = try bump(store)
        #expect(next.value == 3 && next.entry.seq == 2)
        // The index came along too.
        #expect(try store.readExtension { tx throws(LedgerStoreError) in
            try tx.query("SELECT count(*) FROM sqlite_schema WHERE name = 'ext_counter_by_n'").first?.first?.int
        } == 1)
    }
}
