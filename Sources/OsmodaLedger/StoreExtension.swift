import CSQLite
import OsmodaCore

/// A value bound to, or read from, an extension table.
package enum SQLValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])

    package var int: Int64? { if case .int(let v) = self { v } else { nil } }
    package var text: String? { if case .text(let v) = self { v } else { nil } }
    package var blob: [UInt8]? { if case .blob(let v) = self { v } else { nil } }

    package var description: String {
        switch self {
        case .null: "NULL"
        case .int(let v): String(v)
        case .text(let v): "'\(v)'"
        case .blob(let v): "x'\(LedgerHash.hex(v))'"
        }
    }
}

/// SQL access to a caller's own tables inside a ledger transaction: the writer's
/// (`LedgerStore.appendAtomically`) or a read snapshot (`LedgerStore.readExtension`).
///
/// Extension tables are named `ext_…`. An authorizer enforces it while the caller's
/// code runs: statements may read any table, but write only `ext_…` tables; they may
/// not begin, commit or roll back transactions, create or drop anything, attach
/// databases or run pragmas. The ledger's own tables (`entries`, `checkpoints`,
/// `merkle_blocks`, `tree_state`, `meta`) are therefore never changed by extension
/// code, and `verify`, `export` and the Merkle code, which read only those, ignore
/// extension tables.
///
/// Valid only during the call that handed it out; using it afterwards throws
/// `ledger.closed`. Not `Sendable`: it is the writer's connection, used under its lock.
package final class LedgerTransaction {
    let connection: SQLiteConnection
    fileprivate(set) var isValid = true
    /// Statements compiled in this transaction, by SQL text.
    private var cache: [String: SQLiteStatement] = [:]

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }

    static let rolledBack = LedgerStoreError(
        .invalidArgument, "the ledger transaction was rolled back by a statement (ON CONFLICT ROLLBACK); nothing of it is kept")

    func invalidate() {
        isValid = false
        cache.removeAll()
    }

    private func statement(_ sql: String, _ arguments: [SQLValue]) throws(LedgerStoreError) -> SQLiteStatement {
        guard isValid else { throw LedgerStoreError(.closed, "the ledger transaction has ended") }
        // `INSERT OR ROLLBACK` (or a table's `ON CONFLICT ROLLBACK`) ends the
        // transaction without asking the authorizer; what ran after it would commit
        // statement by statement.
        guard !connection.isAutocommit else { throw LedgerTransaction.rolledBack }
        do throws(SQLiteError) {
            let s: SQLiteStatement
            if let cached = cache[sql] {
                s = cached
            } else {
                s = try connection.prepareOne(sql)
                cache[sql] = s
            }
            s.reset()
            for (i, a) in arguments.enumerated() {
                let at = Int32(i + 1)
                switch a {
                case .null: try s.bindNull(at: at)
                case .int(let v): try s.bind(v, at: at)
                case .text(let v): try s.bind(v, at: at)
                case .blob(let v): try s.bind(v, at: at)
                }
            }
            return s
        } catch {
            throw LedgerStore.extensionError(error)
        }
    }

    /// Runs one statement (more is an error) and returns its rows (each a column array).
    package func query(_ sql: String, _ arguments: [SQLValue] = []) throws(LedgerStoreError) -> [[SQLValue]] {
        let s = try statement(sql, arguments)
        defer { s.reset() }
        var rows: [[SQLValue]] = []
        do throws(SQLiteError) {
            while try s.step() {
                let n = s.columnCount
                var row: [SQLValue] = []
                row.reserveCapacity(Int(n))
                for c in 0..<n {
                    switch s.columnType(c) {
                    case .null: row.append(.null)
                    case .integer: row.append(.int(s.int64(c)))
                    case .text: row.append(.text(s.text(c)))
                    case .blob: row.append(.blob(s.blob(c)))
                    case .float: row.append(.text(s.text(c)))
                    }
                }
                rows.append(row)
            }
        } catch {
            throw .storage(error)
        }
        return rows
    }

    /// Runs one statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    package func execute(_ sql: String, _ arguments: [SQLValue] = []) throws(LedgerStoreError) -> Int64 {
        let s = try statement(sql, arguments)
        do throws(SQLiteError) {
            try s.run()
        } catch {
            throw .storage(error)
        }
        return connection.changes
    }
}

extension LedgerStore {
    /// Creates or migrates extension tables: runs `sql` (one or more `CREATE TABLE IF
    /// NOT EXISTS ext_…` / `CREATE INDEX IF NOT EXISTS ext_… ON ext_…` statements,
    /// `DROP`/`ALTER` of `ext_…` tables, and writes to `ext_…` rows, e.g. to rebuild
    /// derived ones) in one writer transaction. Anything that touches another table, or
    /// makes triggers, views or virtual tables, is refused with
    /// `ledger.invalid_argument` and nothing is changed.
    ///
    /// Allowed on a sealed store (it writes nothing of the ledger), refused on a
    /// read-only or closed one.
    package func prepareExtensionSchema(_ sql: String) throws(LedgerStoreError) {
        try writer.withLock { (w: inout sending WriterState) throws(LedgerStoreError) in
            guard !w.closed else { throw LedgerStoreError(.closed, "the ledger store is closed") }
            guard let conn = w.connection, !isReadOnly else { throw LedgerStoreError(.readOnly, "the ledger store is open read-only") }
            do throws(SQLiteError) {
                try conn.transaction { () throws(SQLiteError) in
                    try ExtensionAuthorizer.install(on: conn, mode: .schema)
                    defer { ExtensionAuthorizer.remove(from: conn) }
                    try conn.execute(sql)
                }
            } catch {
                throw Self.extensionError(error)
            }
        }
    }

    /// Runs `body` inside the ledger writer's transaction, then appends the entry it
    /// returns in the same transaction, and commits: the caller's table changes and the
    /// entry become durable together, or neither does.
    ///
    /// - Serialised with every other append (the group committer's batches included):
    ///   it holds the writer lock from `BEGIN IMMEDIATE` to `COMMIT`, so `body` sees
    ///   the latest committed state and nothing commits in between. Keep `body` short,
    ///   and never call back into this store from it (the lock is not re-entrant).
    /// - `body` may read any table and write only `ext_…` tables (see
    ///   `LedgerTransaction`). Its `AppendRequest` is validated like `append`'s.
    /// - When `body` throws, the request is invalid, or any write or the `COMMIT`
    ///   fails, everything is rolled back and the error is thrown; `value` is never
    ///   returned, so a caller may hand out a result only once it is committed. A
    ///   `COMMIT` whose outcome is unknown seals the store, as `append` does.
    /// - Refused before `body` runs when the store is sealed, read-only or closed.
    package func appendAtomically<T: Sendable>(
        _ body: (LedgerTransaction) throws(LedgerStoreError) -> (request: AppendRequest, value: T)
    ) throws(LedgerStoreError) -> (entry: AppendedEntry, value: T) {
        let clock = self.clock
        return try writer.withLock { (w: inout sending WriterState) throws(LedgerStoreError) -> (entry: AppendedEntry, value: T) in
            let conn = try w.writableConnection()
            let tx = LedgerTransaction(conn)
            defer { tx.invalidate() }
            do throws(LedgerStoreError) {
                do throws(SQLiteError) {
                    try conn.execute("BEGIN IMMEDIATE")
                } catch {
                    throw .storage(error)
                }
                let made: (request: AppendRequest, value: T)
                do throws(SQLiteError) {
                    try ExtensionAuthorizer.install(on: conn, mode: .body)
                } catch {
                    throw .storage(error)
                }
                do {
                    defer { ExtensionAuthorizer.remove(from: conn) }
                    made = try body(tx)
                }
                tx.invalidate()
                // The body may have swallowed the error of a statement that rolled the
                // transaction back: then the entry must not be written in autocommit.
                guard !conn.isAutocommit else { throw LedgerTransaction.rolledBack }
                try made.request.validate()
                let pending = w.chain([made.request], now: clock())
                do throws(SQLiteError) {
                    try w.write(pending)
                    try conn.execute("COMMIT")
                } catch {
                    throw .storage(error)
                }
                w.tail = pending.tail
                guard let entry = pending.entries.first else { throw LedgerStoreError(.storage, "append returned no entry") }
                return (entry, made.value)
            } catch {
                w.sealIfStateChanged(expecting: w.tail.lastSeq)
                throw error
            }
        }
    }

    /// Runs `body` on a read snapshot (the shared read connection, in one read
    /// transaction): it sees committed state only, never waits for a commit, and can
    /// write nothing.
    package func readExtension<T: Sendable>(_ body: (LedgerTransaction) throws(LedgerStoreError) -> T) throws(LedgerStoreError) -> T {
        try reader.withLock { (r: inout sending ReaderState) throws(LedgerStoreError) -> T in
            guard let c = r.connection else { throw LedgerStoreError(.closed, "the ledger store is closed") }
            let tx = LedgerTransaction(c)
            defer {
                tx.invalidate()
                c.rollbackIfOpen()
            }
            do throws(SQLiteError) {
                try c.execute("BEGIN DEFERRED")
            } catch {
                throw .storage(error)
            }
            do throws(SQLiteError) {
                try ExtensionAuthorizer.install(on: c, mode: .read)
            } catch {
                throw .storage(error)
            }
            defer { ExtensionAuthorizer.remove(from: c) }
            return try body(tx)
        }
    }

    static func extensionError(_ e: SQLiteError) -> LedgerStoreError {
        if e.primaryCode == SQLITE_AUTH {
            return LedgerStoreError(.invalidArgument, "extension SQL may change only ext_ tables: \(e.description)")
        }
        return .storage(e)
    }
}

/// The SQLite authorizer that confines extension code to `ext_…` tables.
enum ExtensionAuthorizer {
    enum Mode: Int {
        /// `prepareExtensionSchema`: DDL on `ext_…` tables and indexes.
        case schema = 1
        /// `appendAtomically` bodies: reads anywhere, writes to `ext_…` rows.
        case body = 2
        /// `readExtension` bodies: reads only.
        case read = 3
    }

    static func install(on c: SQLiteConnection, mode: Mode) throws(SQLiteError) {
        let db = try c.liveHandle("set_authorizer")
        let rc = sqlite3_set_authorizer(db, callback, UnsafeMutableRawPointer(bitPattern: mode.rawValue))
        if rc != SQLITE_OK { throw c.error("set_authorizer", code: rc) }
    }

    static func remove(from c: SQLiteConnection) {
        guard let db = try? c.liveHandle("set_authorizer") else { return }
        sqlite3_set_authorizer(db, nil, nil)
    }

    /// True for `ext_…` names (SQLite names are case-insensitive).
    static func isExtension(_ name: UnsafePointer<CChar>?) -> Bool {
        guard let name else { return false }
        return String(cString: name).lowercased().hasPrefix("ext_")
    }

    static func isAutoIndex(_ name: UnsafePointer<CChar>?) -> Bool {
        guard let name else { return false }
        return String(cString: name).lowercased().hasPrefix("sqlite_autoindex_ext_")
    }

    static func isSchemaTable(_ name: UnsafePointer<CChar>?) -> Bool {
        guard let name else { return false }
        let s = String(cString: name).lowercased()
        return s == "sqlite_master" || s == "sqlite_schema"
    }

    private static let callback: @convention(c) (
        UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?
    ) -> Int32 = { context, action, arg1, arg2, _, _ in
        let mode = Mode(rawValue: Int(bitPattern: context)) ?? .read
        let schema = mode == .schema
        let allowed: Bool
        switch action {
        case SQLITE_READ, SQLITE_SELECT, SQLITE_FUNCTION, SQLITE_RECURSIVE:
            allowed = true
        case _ where mode == .read:
            allowed = false
        case SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE:
            allowed = isExtension(arg1) || (schema && isSchemaTable(arg1))
        case SQLITE_CREATE_TABLE, SQLITE_DROP_TABLE:
            allowed = schema && isExtension(arg1)
        case SQLITE_CREATE_INDEX, SQLITE_DROP_INDEX:
            // Named ext_…, or the automatic index of a UNIQUE/PRIMARY KEY constraint.
            allowed = schema && isExtension(arg2) && (isExtension(arg1) || isAutoIndex(arg1))
        case SQLITE_ALTER_TABLE:
            allowed = schema && isExtension(arg2)
        case SQLITE_REINDEX:
            // `CREATE INDEX` reindexes the new index.
            allowed = schema && isExtension(arg1)
        default:
            // Transactions, savepoints, pragmas, attach/detach, triggers, views, virtual
            // and temporary objects, analyze, reindex.
            allowed = false
        }
        return allowed ? SQLITE_OK : SQLITE_DENY
    }
}

extension LedgerStore {
    /// Copies the extension tables (`ext_…`: their definitions, indexes and rows) of an
    /// archived database into this one, for `recover`: they hold the host's operating
    /// state (the vault's spend counters, …), not the ledger's evidence, and a new
    /// epoch must not reset them. The archive is read through a read-only connection
    /// and left as it is; its definitions run under the schema authorizer, so a damaged
    /// or tampered archive can add only `ext_…` tables. All or nothing: on any failure
    /// nothing is copied and the error is returned; `writeFailed` says whether it was
    /// this database that could not take them (full disk, I/O error) rather than the
    /// archive that could not be read.
    func carryExtensionTables(from archive: String) -> (tables: [String], error: String?, writeFailed: Bool) {
        // Read everything first, on a read-only connection of its own.
        typealias Definition = (type: String, name: String, sql: String, rows: [[CarriedValue]])
        let read = Result { () throws(SQLiteError) -> [Definition] in
            let source = try SQLiteConnection(path: Self.fileURI(archive, query: "mode=ro"), flags: [.readOnly, .uri])
            defer { source.close() }
            try source.setBusyTimeout(milliseconds: busyTimeout)
            do {
                let schema = try source.prepare(
                    "SELECT type, name, sql FROM sqlite_schema WHERE name LIKE 'ext\\_%' ESCAPE '\\' AND sql IS NOT NULL ORDER BY type = 'index', rowid")
                var out: [Definition] = []
                while try schema.step() { out.append((schema.text(0), schema.text(1), schema.text(2), [])) }
                for i in out.indices where out[i].type == "table" {
                    let rows = try source.prepare("SELECT * FROM \(Self.quoted(out[i].name))")
                    while try rows.step() {
                        var row: [CarriedValue] = []
                        for c in 0..<rows.columnCount {
                            switch rows.columnType(c) {
                            case .null: row.append(.value(.null))
                            case .integer: row.append(.value(.int(rows.int64(c))))
                            // Exactly, as a REAL: its text has only 15 significant digits.
                            case .float: row.append(.real(rows.double(c)))
                            case .text: row.append(.value(.text(rows.text(c))))
                            case .blob: row.append(.value(.blob(rows.blob(c))))
                            }
                        }
                        out[i].rows.append(row)
                    }
                }
                return out
            }
        }
        let definitions: [Definition]
        switch read {
        case .success(let d): definitions = d
        // A full disk (no room for the archive's -shm) is ours to retry; anything else
        // is the archive's damage, which no retry mends.
        case .failure(let e): return ([], e.description, e.primaryCode == SQLITE_FULL)
        }
        if definitions.isEmpty { return ([], nil, false) }
        let result = writer.withLock { (w: inout sending WriterState) -> Result<[String], SQLiteError> in
            guard let conn = w.connection else {
                return .failure(SQLiteError(code: 21, message: "the ledger store is closed", context: "carry extension tables"))
            }
            return Result { () throws(SQLiteError) -> [String] in
                try conn.transaction { () throws(SQLiteError) -> [String] in
                    try ExtensionAuthorizer.install(on: conn, mode: .schema)
                    do {
                        defer { ExtensionAuthorizer.remove(from: conn) }
                        for d in definitions { try conn.execute(d.sql) }
                    }
                    var copied: [String] = []
                    for d in definitions where d.type == "table" {
                        let width = d.rows.first?.count ?? 0
                        if width > 0 {
                            let marks = Array(repeating: "?", count: width).joined(separator: ", ")
                            let insert = try conn.prepare("INSERT INTO \(Self.quoted(d.name)) VALUES (\(marks))")
                            for row in d.rows {
                                for (c, v) in row.enumerated() {
                                    let at = Int32(c + 1)
                                    switch v {
                                    case .real(let x): try insert.bindDouble(x, at: at)
                                    case .value(.null): try insert.bindNull(at: at)
                                    case .value(.int(let x)): try insert.bind(x, at: at)
                                    case .value(.text(let x)): try insert.bind(x, at: at)
                                    case .value(.blob(let x)): try insert.bind(x, at: at)
                                    }
                                }
                                try insert.run()
                            }
                        }
                        copied.append(d.name)
                    }
                    return copied
                }
            }
        }
        switch result {
        case .success(let tables): return (tables, nil, false)
        case .failure(let e):
            // A definition refused by the authorizer is the archive's fault, not ours.
            return ([], e.description, e.primaryCode != SQLITE_AUTH)
        }
    }

    /// A value copied by `carryExtensionTables`: REALs are kept as `Double`.
    enum CarriedValue {
        case value(SQLValue)
        case real(Double)
    }

    /// An SQL identifier in double quotes.
    static func quoted(_ name: String) -> String {
        var out = "\""
        for c in name {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out + "\""
    }
}

