import CSQLite

/// A failed SQLite call: the extended result code, `sqlite3_errmsg`, and what the
/// caller was doing (`"prepare"`, `"step: INSERT INTO entries"`, a path).
///
/// `code` is always the *extended* result code (connections are opened with extended
/// codes on), so `SQLITE_CONSTRAINT_CHECK` and `SQLITE_IOERR_FSYNC` stay distinct;
/// `primaryCode` folds it back to `SQLITE_CONSTRAINT`, `SQLITE_IOERR`, ….
package struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    package var code: Int32
    package var message: String
    package var context: String

    package init(code: Int32, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    package var primaryCode: Int32 { code & 0xFF }

    /// SQLite's own English name for the code (`sqlite3_errstr`), e.g. "disk I/O error".
    package var codeName: String { String(cString: sqlite3_errstr(code)) }

    package var description: String {
        "\(context): \(message) (sqlite code \(code))"
    }
}

/// One SQLite database connection (`sqlite3 *`).
///
/// Not thread-safe on its own: connections are opened `SQLITE_OPEN_NOMUTEX` and their
/// owner serialises every use (the ledger store keeps each connection under a lock).
/// That is why this type is not `Sendable`.
package final class SQLiteConnection {
    /// The `SQLITE_OPEN_*` flags for `sqlite3_open_v2`.
    package struct OpenFlags: OptionSet, Sendable {
        package let rawValue: Int32
        package init(rawValue: Int32) { self.rawValue = rawValue }
        package static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        package static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        package static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        /// The path is a `file:` URI (for `?immutable=1` and friends).
        package static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)
    }

    /// How `BEGIN` takes its locks.
    package enum TransactionKind: String, Sendable {
        case deferred = "DEFERRED"
        /// Takes the write lock at `BEGIN`, so a busy database fails before any work.
        case immediate = "IMMEDIATE"
    }

    private var handle: OpaquePointer?
    package let path: String

    /// Wraps `sqlite3_open_v2` (always adding `SQLITE_OPEN_NOMUTEX` and
    /// `SQLITE_OPEN_EXRESCODE` semantics through `sqlite3_extended_result_codes`).
    package init(path: String, flags: OpenFlags) throws(SQLiteError) {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags.rawValue | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: code, message: message, context: "open '\(path)'")
        }
        sqlite3_extended_result_codes(db, 1)
        handle = db
    }

    deinit {
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Closes the connection with `sqlite3_close_v2`; later calls throw `SQLITE_MISUSE`.
    /// Statements still alive keep the underlying handle until they are released.
    package func close() {
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    package var isOpen: Bool { handle != nil }

    func liveHandle(_ context: String) throws(SQLiteError) -> OpaquePointer {
        guard let handle else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "the database connection is closed", context: context)
        }
        return handle
    }

    /// The connection's current error as a `SQLiteError`.
    func error(_ context: String, code rc: Int32? = nil) -> SQLiteError {
        guard let handle else {
            return SQLiteError(code: rc ?? SQLITE_MISUSE, message: "the database connection is closed", context: context)
        }
        let code = sqlite3_extended_errcode(handle)
        return SQLiteError(code: code == SQLITE_OK ? (rc ?? code) : code, message: String(cString: sqlite3_errmsg(handle)), context: context)
    }

    /// Runs one or more statements that return no rows of interest (`sqlite3_exec`).
    package func execute(_ sql: String) throws(SQLiteError) {
        let db = try liveHandle("exec")
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(errmsg)
            throw SQLiteError(code: sqlite3_extended_errcode(db), message: message, context: "exec: \(Self.firstLine(sql))")
        }
    }

    /// Compiles one statement (`sqlite3_prepare_v3`). `persistent` hints that the
    /// statement is cached and reused many times.
    package func prepare(_ sql: String, persistent: Bool = false) throws(SQLiteError) -> SQLiteStatement {
        let db = try liveHandle("prepare")
        var stmt: OpaquePointer?
        let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let rc = sqlite3_prepare_v3(db, sql, -1, flags, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw error("prepare: \(Self.firstLine(sql))", code: rc)
        }
        return SQLiteStatement(handle: stmt, connection: self, sql: sql)
    }

    /// Compiles exactly one statement: anything after it but whitespace and `;` (a
    /// second statement, a comment) is an error, not silently ignored.
    package func prepareOne(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        let db = try liveHandle("prepare")
        var stmt: OpaquePointer?
        let utf8 = Array(sql.utf8CString)
        var rest = ""
        let rc = utf8.withUnsafeBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { return SQLITE_MISUSE }
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, base, Int32(buf.count), 0, &stmt, &tail)
            if let tail { rest = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK, let stmt else {
            throw error("prepare: \(Self.firstLine(sql))", code: rc)
        }
        let statement = SQLiteStatement(handle: stmt, connection: self, sql: sql)
        if !rest.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
            throw SQLiteError(code: SQLITE_MISUSE, message: "more than one statement", context: "prepare: \(Self.firstLine(sql))")
        }
        return statement
    }

    /// Sets how long a locked database is retried before `SQLITE_BUSY` (`sqlite3_busy_timeout`).
    package func setBusyTimeout(milliseconds: Int32) throws(SQLiteError) {
        let db = try liveHandle("busy_timeout")
        let rc = sqlite3_busy_timeout(db, milliseconds)
        if rc != SQLITE_OK { throw error("busy_timeout", code: rc) }
    }

    /// Runs a `PRAGMA` that returns one value, such as `journal_mode`, and returns it as text.
    @discardableResult
    package func pragma(_ statement: String) throws(SQLiteError) -> String? {
        let stmt = try prepare("PRAGMA \(statement)")
        guard try stmt.step() else { return nil }
        return stmt.isNull(0) ? nil : stmt.text(0)
    }

    /// True when no transaction is open (`sqlite3_get_autocommit`).
    package var isAutocommit: Bool {
        guard let handle else { return true }
        return sqlite3_get_autocommit(handle) != 0
    }

    /// Rows changed by the last statement (`sqlite3_changes64`).
    package var changes: Int64 {
        guard let handle else { return 0 }
        return sqlite3_changes64(handle)
    }

    /// Runs `body` in a transaction: `COMMIT` when it returns, `ROLLBACK` when it or the
    /// commit throws. When this returns, the commit is as durable as the connection's
    /// `synchronous` setting makes it.
    package func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN \(kind.rawValue)")
        let value: T
        do {
            value = try body()
            try execute("COMMIT")
        } catch {
            rollbackIfOpen()
            throw error
        }
        return value
    }

    /// Rolls back an open transaction, if SQLite has not already done so after an error.
    package func rollbackIfOpen() {
        guard let handle, sqlite3_get_autocommit(handle) == 0 else { return }
        _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }

    static func firstLine(_ sql: String) -> String {
        let line = sql.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? sql
        return line.count > 60 ? String(line.prefix(60)) + "…" : line
    }
}

/// One compiled statement (`sqlite3_stmt *`), finalised when released.
///
/// Bind indexes and column indexes follow SQLite: binds are 1-based, columns 0-based.
/// Blobs and text are bound `SQLITE_TRANSIENT` (SQLite copies them), so the caller's
/// arrays need not outlive the call.
package final class SQLiteStatement {
    /// `sqlite3_column_type`'s answer.
    package enum ColumnType: Sendable, Equatable {
        case integer, float, text, blob, null
    }

    let handle: OpaquePointer
    let connection: SQLiteConnection
    let sql: String

    init(handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the bind call returns.
    private static let transient = unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)

    private func check(_ rc: Int32, _ what: String) throws(SQLiteError) {
        if rc != SQLITE_OK { throw connection.error("\(what): \(SQLiteConnection.firstLine(sql))", code: rc) }
    }

    /// Wraps `sqlite3_bind_int64`.
    package func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, index, value), "bind")
    }

    /// Wraps `sqlite3_bind_blob64`; an empty array binds a zero-length blob, not NULL.
    package func bind(_ bytes: [UInt8], at index: Int32) throws(SQLiteError) {
        let rc = bytes.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count > 0 else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(raw.count), Self.transient)
        }
        try check(rc, "bind")
    }

    /// Wraps `sqlite3_bind_text64` with the string's UTF-8 bytes.
    package func bind(_ text: String, at index: Int32) throws(SQLiteError) {
        var copy = text
        let rc = copy.withUTF8 { buf -> Int32 in
            guard let base = buf.baseAddress, buf.count > 0 else {
                return sqlite3_bind_text64(handle, index, "", 0, Self.transient, UInt8(SQLITE_UTF8))
            }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                sqlite3_bind_text64(handle, index, $0, sqlite3_uint64(buf.count), Self.transient, UInt8(SQLITE_UTF8))
            }
        }
        try check(rc, "bind")
    }

    /// Wraps `sqlite3_bind_double`.
    package func bindDouble(_ value: Double, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_double(handle, index, value), "bind")
    }

    /// Wraps `sqlite3_bind_null`.
    package func bindNull(at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, index), "bind")
    }

    /// Advances the statement (`sqlite3_step`): `true` when a row is ready, `false` when done.
    package func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error("step: \(SQLiteConnection.firstLine(sql))", code: rc)
    }

    /// Steps a statement that returns no rows, then resets it for reuse.
    package func run() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }

    /// Makes the statement ready to run again and drops its bindings
    /// (`sqlite3_reset`, `sqlite3_clear_bindings`). Errors were already reported by `step`.
    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    package func columnType(_ index: Int32) -> ColumnType {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer
        case SQLITE_FLOAT: return .float
        case SQLITE_TEXT: return .text
        case SQLITE_BLOB: return .blob
        default: return .null
        }
    }

    /// The number of columns the statement returns (`sqlite3_column_count`).
    package var columnCount: Int32 { sqlite3_column_count(handle) }

    package func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Wraps `sqlite3_column_double`.
    package func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Wraps `sqlite3_column_int64`.
    package func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Wraps `sqlite3_column_blob`; NULL and zero-length both read as `[]`.
    package func blob(_ index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let base = sqlite3_column_blob(handle, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Wraps `sqlite3_column_text`, decoding UTF-8 (invalid sequences become U+FFFD).
    package func text(_ index: Int32) -> String {
        guard let base = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
    }
}
