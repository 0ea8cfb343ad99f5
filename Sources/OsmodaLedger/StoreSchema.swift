import OsmodaCore

/// The `meta` rows of a ledger database.
struct Meta: Sendable, Equatable {
    var schemaVersion: Int
    var ledgerID: String
    var epoch: Int
    var origin: String
    /// The checkpoint verifier key in note text form.
    var verifierKey: String
}

/// The database schema (version 1) and the decoding of its rows.
///
/// `STRICT` tables and `CHECK` constraints keep wrong types and sizes out; they are a
/// guard against bugs, not against tampering (anyone who can write the file can drop
/// them), which is what the hashes and checkpoints are for.
enum LedgerSchema {
    static let createSQL = """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) STRICT;
        CREATE TABLE entries (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            ts INTEGER NOT NULL,
            type TEXT NOT NULL CHECK (length(CAST(type AS BLOB)) BETWEEN 3 AND 64),
            uid INTEGER NOT NULL CHECK (uid BETWEEN 0 AND 4294967295),
            gid INTEGER NOT NULL CHECK (gid BETWEEN 0 AND 4294967295),
            pid INTEGER NOT NULL CHECK (pid BETWEEN -2147483648 AND 2147483647),
            exe TEXT NOT NULL,
            payload BLOB NOT NULL CHECK (length(payload) BETWEEN 2 AND 65536),
            prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
            hash BLOB NOT NULL CHECK (length(hash) = 32),
            leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
        ) STRICT;
        CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY,
            size INTEGER NOT NULL CHECK (size >= 0),
            root BLOB NOT NULL CHECK (length(root) = 32),
            ts INTEGER NOT NULL,
            note TEXT NOT NULL,
            frontier BLOB NOT NULL
        ) STRICT;
        CREATE INDEX checkpoints_by_size ON checkpoints (size);
        CREATE TABLE merkle_blocks (
            idx INTEGER PRIMARY KEY CHECK (idx >= 0),
            root BLOB NOT NULL CHECK (length(root) = 32)
        ) STRICT;
        CREATE TABLE tree_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            size INTEGER NOT NULL CHECK (size >= 0),
            frontier BLOB NOT NULL,
            prev_frontier BLOB NOT NULL
        ) STRICT;
        """

    /// The table of Merkle block roots, for databases made before it existed. It holds
    /// only what can be recomputed from the entries, so adding it needs no new version.
    static let blocksSQL = """
        CREATE TABLE IF NOT EXISTS merkle_blocks (
            idx INTEGER PRIMARY KEY CHECK (idx >= 0),
            root BLOB NOT NULL CHECK (length(root) = 32)
        ) STRICT
        """

    /// Creates the schema in an empty database (inside the caller's transaction) or
    /// reads the existing `meta`. A database with other tables but no `meta` is refused.
    static func prepare(_ c: SQLiteConnection, create meta: Meta) throws(SQLiteError) -> Meta {
        let tables = try c.prepare("SELECT count(*), coalesce(sum(name = 'meta'), 0) FROM sqlite_schema WHERE type = 'table'")
        _ = try tables.step()
        let (count, hasMeta) = (tables.int64(0), tables.int64(1))
        if hasMeta == 1 { return try readMetaRows(c) }
        guard count == 0 else {
            throw SQLiteError(code: 26, message: "the database has tables but no ledger 'meta' table", context: "open '\(c.path)'")
        }
        try c.execute(createSQL)
        let insert = try c.prepare("INSERT INTO meta (key, value) VALUES (?, ?)")
        for (k, v) in [
            ("schema_version", String(meta.schemaVersion)), ("ledger_id", meta.ledgerID), ("epoch", String(meta.epoch)),
            ("origin", meta.origin), ("verifier_key", meta.verifierKey),
        ] {
            try insert.bind(k, at: 1)
            try insert.bind(v, at: 2)
            try insert.run()
        }
        let tree = try c.prepare("INSERT INTO tree_state (id, size, frontier, prev_frontier) VALUES (1, 0, ?, ?)")
        try tree.bind(MerkleFrontier().serialized(), at: 1)
        try tree.bind(MerkleFrontier().serialized(), at: 2)
        try tree.run()
        return meta
    }

    /// Reads `meta` from a read-only connection; a database without it is `ledger.schema`.
    static func readMeta(_ c: SQLiteConnection) throws(LedgerStoreError) -> Meta {
        do {
            let t = try c.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'")
            _ = try t.step()
            guard t.int64(0) == 1 else { throw LedgerStoreError(.schema, "'\(c.path)' is not a ledger database (no 'meta' table)") }
            return try readMetaRows(c)
        } catch let e as SQLiteError {
            throw .storage(e)
        } catch let e as LedgerStoreError {
            throw e
        } catch {
            throw LedgerStoreError(.storage, "\(error)")
        }
    }

    static func readMetaRows(_ c: SQLiteConnection) throws(SQLiteError) -> Meta {
        let s = try c.prepare("SELECT key, value FROM meta")
        var values: [String: String] = [:]
        while try s.step() { values[s.text(0)] = s.text(1) }
        guard let version = values["schema_version"].flatMap({ Int($0) }), let id = values["ledger_id"],
              let epoch = values["epoch"].flatMap({ Int($0) }), let origin = values["origin"], let key = values["verifier_key"]
        else { throw SQLiteError(code: 11, message: "the ledger 'meta' table is incomplete", context: "open '\(c.path)'") }
        return Meta(schemaVersion: version, ledgerID: id, epoch: epoch, origin: origin, verifierKey: key)
    }

    /// Decodes a row selected as `LedgerStore.entryColumns`, checking every column's
    /// type and range; a failure names the row's seq and the column.
    static func decodeEntry(_ s: SQLiteStatement) -> Result<StoredEntry, ChainFailure> {
        let seqValue = s.int64(0)
        let seq = UInt64(clamping: max(seqValue, 0))
        func fail(_ why: String) -> Result<StoredEntry, ChainFailure> { .failure(ChainFailure(seq: seq, reason: why)) }
        let expected: [(Int32, String, SQLiteStatement.ColumnType)] = [
            (0, "seq", .integer), (1, "ts", .integer), (2, "type", .text), (3, "uid", .integer), (4, "gid", .integer),
            (5, "pid", .integer), (6, "exe", .text), (7, "payload", .blob), (8, "prev_hash", .blob), (9, "hash", .blob),
            (10, "leaf_hash", .blob),
        ]
        for (i, name, type) in expected where s.columnType(i) != type {
            return fail("column '\(name)' has type \(s.columnType(i)), not \(type)")
        }
        guard seqValue >= 1 else { return fail("seq \(seqValue) is not positive") }
        guard let uid = UInt32(exactly: s.int64(3)), let gid = UInt32(exactly: s.int64(4)), let pid = Int32(exactly: s.int64(5)) else {
            return fail("uid, gid or pid is out of range")
        }
        let hash = s.blob(9)
        let leaf = s.blob(10)
        guard hash.count == LedgerHash.size, leaf.count == LedgerHash.size else { return fail("hash or leaf_hash is not 32 bytes") }
        let entry = LedgerEntry(
            seq: seq, ts: Timestamp(millisecondsSinceEpoch: s.int64(1)), type: s.text(2),
            actor: Actor(uid: uid, gid: gid, pid: pid, exe: s.text(6)), payload: s.blob(7), prevHash: s.blob(8))
        return .success(StoredEntry(entry: entry, hash: hash, leafHash: leaf))
    }
}
