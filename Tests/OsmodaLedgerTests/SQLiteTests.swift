import CSQLite
import OsmodaLedger
import Testing

@Suite struct SQLiteTests {
    @Test func bindAndReadBackEveryType() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readWrite, .create])
        try db.execute("CREATE TABLE t (i INTEGER, b BLOB, s TEXT, n BLOB)")
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?)")
        let values: [(Int64, [UInt8], String)] = [
            (Int64.min, [], ""), (Int64.max, [0, 1, 2, 255], "héllo ✓"), (0, Array(repeating: 0xAB, count: 70_000), "a\u{0}b"),
        ]
        for (i, b, s) in values {
            try insert.bind(i, at: 1)
            try insert.bind(b, at: 2)
            try insert.bind(s, at: 3)
            try insert.bindNull(at: 4)
            try insert.run()
        }
        #expect(db.changes == 1)
        let select = try db.prepare("SELECT i, b, s, n, typeof(b) FROM t ORDER BY rowid")
        for (i, b, s) in values {
            #expect(try select.step())
            #expect(select.int64(0) == i)
            #expect(select.blob(1) == b)
            // An empty array binds a zero-length blob, not NULL.
            #expect(select.text(4) == "blob")
            #expect(select.columnType(1) == .blob)
            #expect(Array(select.text(2).utf8) == Array(s.utf8))
            #expect(select.isNull(3) && select.columnType(3) == .null)
        }
        #expect(try !select.step())
    }

    @Test func errorsCarryMessageAndExtendedCode() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readWrite, .create])
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y INTEGER CHECK (y > 0))")

        do {
            _ = try db.prepare("SELEKT 1")
            Issue.record("prepared nonsense")
        } catch {
            #expect(error.primaryCode == SQLITE_ERROR)
            #expect(error.message.contains("syntax error"))
            #expect(error.context.contains("SELEKT"))
        }
        let insert = try db.prepare("INSERT INTO t VALUES (?, ?)")
        try insert.bind(1, at: 1)
        try insert.bind(-5, at: 2)
        do {
            try insert.run()
            Issue.record("a CHECK constraint did not fire")
        } catch {
            #expect(error.code == SQLITE_CONSTRAINT | (1 << 8))  // SQLITE_CONSTRAINT_CHECK
            #expect(error.primaryCode == SQLITE_CONSTRAINT)
            #expect(error.message.contains("CHECK constraint failed"))
        }
        #expect(throws: SQLiteError.self) { try insert.bind(1, at: 9) }

        // A missing file with no CREATE flag.
        do {
            _ = try SQLiteConnection(path: dir.sub("missing/x.sqlite"), flags: [.readWrite])
            Issue.record("opened a missing file")
        } catch {
            #expect(error.primaryCode == SQLITE_CANTOPEN)
        }
        // Writing through a read-only connection.
        let ro = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readOnly])
        do {
            try ro.execute("INSERT INTO t VALUES (2, 2)")
            Issue.record("wrote through a read-only connection")
        } catch {
            #expect(error.primaryCode == SQLITE_READONLY)
        }
        db.close()
        #expect(!db.isOpen)
        do {
            try db.execute("SELECT 1")
            Issue.record("used a closed connection")
        } catch {
            #expect(error.code == SQLITE_MISUSE)
        }
    }

    @Test func transactionsCommitOrRollBack() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readWrite, .create])
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        try db.transaction { () throws(SQLiteError) in try db.execute("INSERT INTO t VALUES (1)") }
        do {
            try db.transaction { () throws(SQLiteError) in
                try db.execute("INSERT INTO t VALUES (2)")
                try db.execute("INSERT INTO t VALUES (1)")  // primary key conflict
            }
            Issue.record("the transaction committed")
        } catch {
            #expect(error.code == SQLITE_CONSTRAINT | (6 << 8))  // SQLITE_CONSTRAINT_PRIMARYKEY
        }
        #expect(db.isAutocommit)
        let count = try db.prepare("SELECT count(*), max(x) FROM t")
        #expect(try count.step())
        #expect(count.int64(0) == 1 && count.int64(1) == 1)
    }

    @Test func busyTimeoutGivesUpWithBusy() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let a = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readWrite, .create])
        #expect(try a.pragma("journal_mode=WAL") == "wal")
        try a.execute("CREATE TABLE t (x INTEGER)")
        let b = try SQLiteConnection(path: dir.sub("t.sqlite"), flags: [.readWrite])
        try b.setBusyTimeout(milliseconds: 50)
        try a.execute("BEGIN IMMEDIATE")
        let start = monotonicNanos()
        do {
            try b.execute("BEGIN IMMEDIATE")
            Issue.record("took a write lock that is held")
        } catch {
            #expect(error.primaryCode == SQLITE_BUSY)
        }
        #expect(monotonicNanos() - start >= 40_000_000)
        // Readers are not blocked by a writer in WAL mode.
        let r = try b.prepare("SELECT count(*) FROM t")
        #expect(try r.step())
        try a.execute("COMMIT")
    }
}
