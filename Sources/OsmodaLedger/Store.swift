import CSodium
import OsmodaCore
import Synchronization

/// The durable ledger: one SQLite database (`ledger.sqlite`) in a state directory,
/// written only by the daemon through one instance of this class.
///
/// - Durability: WAL with `synchronous=FULL`; `append` returns only after `COMMIT`,
///   so an acknowledged entry survives a crash or power loss. Concurrent callers
///   share commits through a `GroupCommitter`.
/// - Integrity: every entry is chained (`LedgerHash`) and is a leaf of an RFC 6962
///   tree whose frontier is stored with each commit; `checkpoint()` signs the tree
///   head as a C2SP signed note.
/// - Fail-closed: `open` verifies the tail against the last checkpoint. When that
///   fails the store is *sealed*: reads work, appends and checkpoints throw
///   `ledger.verification_failed` until an admin runs `recover` (see
///   `docs/ledger-format.md`, "Recovery").
///
/// Reads (`entry`, `entries`, proofs, verification) use their own read connections and
/// never wait for a commit; WAL gives each a consistent snapshot. The class is
/// `Sendable`: its mutable state lives behind two mutexes.
public final class LedgerStore: Sendable {
    /// How `open` names and times the ledger.
    public struct Options: Sendable {
        /// The log's name, used only when the checkpoint key is first created: the key
        /// name and origin become `osmoda.ledger/<name>`. Defaults to a random id; the
        /// daemon passes the host name. An existing key keeps its name.
        public var name: String?
        /// The clock that stamps entries and checkpoints (injected by tests).
        public var clock: @Sendable () -> Timestamp
        /// How long a locked database is retried before failing, in milliseconds.
        public var busyTimeoutMilliseconds: Int32
        /// What `open` verifies before it accepts appends.
        public var startupVerification: StartupVerification

        public init(
            name: String? = nil, clock: @escaping @Sendable () -> Timestamp = LedgerStore.systemClock,
            busyTimeoutMilliseconds: Int32 = 5000, startupVerification: StartupVerification = .tail
        ) {
            self.name = name
            self.clock = clock
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.startupVerification = startupVerification
        }
    }

    /// What `open` verifies before accepting appends; a failure seals the store.
    public enum StartupVerification: Sendable {
        /// `verifyTail`: the last checkpoint and everything after it. O(tail).
        case tail
        /// `verifyTail`, then `verifyAll` (every entry and stored checkpoint). O(ledger),
        /// at ≥ 1M entries/s: for ledgers small enough, or after an unclean shutdown.
        case full
    }

    /// Wall-clock time (`clock_gettime(CLOCK_REALTIME)`), in milliseconds.
    public static let systemClock: @Sendable () -> Timestamp = { StoreSystem.now() }

    public static let databaseFileName = "ledger.sqlite"
    /// The `meta.schema_version` this code reads and writes.
    public static let schemaVersion = 1
    /// Block roots are stored for every complete, aligned run of `2^merkleBlockLevel`
    /// entries (`merkle_blocks`), so proofs read O(size / 256 + 256) hashes, not O(size).
    public static let merkleBlockLevel = 8
    /// Origins and key names start with this.
    public static let originPrefix = "osmoda.ledger/"

    /// The database file.
    public let path: String
    public let isReadOnly: Bool
    /// The checkpoint origin line (`osmoda.ledger/<name>`, with `/epoch-<n>` after a recovery).
    public let origin: String
    /// A random id given to the database when it was created.
    public let ledgerID: String
    /// 1 for a new ledger; one more for each recovery.
    public let epoch: Int
    /// The key that verifies this ledger's checkpoints: the signing key's, or for a
    /// read-only store the one recorded in the database (which only a checkpoint kept
    /// elsewhere, with its own trusted key, can vouch for).
    public let verifierKey: NoteVerifierKey

    let signer: CheckpointSigner?
    let clock: @Sendable () -> Timestamp
    let busyTimeout: Int32
    /// How read connections open the file (a `file:` URI, possibly `immutable=1`).
    let readURI: String
    let writer: Mutex<WriterState>
    let reader: Mutex<ReaderState>

    struct TailState {
        var lastSeq: UInt64 = 0
        var lastHash: [UInt8] = LedgerEntry.genesisPrevHash
        var lastTs: Timestamp?
        /// The tree over entries `1...lastSeq`.
        var frontier = MerkleFrontier()
        /// The tree over entries `1..<lastSeq`, stored with checkpoints so a start-up
        /// check can authenticate the checkpoint's last entry.
        var prevFrontier = MerkleFrontier()
    }

    struct WriterState {
        var connection: SQLiteConnection?
        var insertEntry: SQLiteStatement?
        var updateTree: SQLiteStatement?
        var insertCheckpoint: SQLiteStatement?
        var insertBlock: SQLiteStatement?
        let hasher = LedgerHasher()
        var tail = TailState()
        var sealed: LedgerStoreError?
        var closed = false
    }

    struct ReaderState {
        var connection: SQLiteConnection?
    }

    private init(
        path: String, readOnly: Bool, meta: Meta, verifierKey: NoteVerifierKey, signer: CheckpointSigner?,
        options: Options, readURI: String, writer: consuming sending WriterState, reader: consuming sending ReaderState
    ) {
        self.path = path
        self.isReadOnly = readOnly
        self.origin = meta.origin
        self.ledgerID = meta.ledgerID
        self.epoch = meta.epoch
        self.verifierKey = verifierKey
        self.signer = signer
        self.clock = options.clock
        self.busyTimeout = options.busyTimeoutMilliseconds
        self.readURI = readURI
        self.writer = Mutex(writer)
        self.reader = Mutex(reader)
    }

    // MARK: - Opening

    /// Opens (creating when missing) the ledger of `stateDirectory`, with its
    /// checkpoint key, and verifies the tail against the last checkpoint.
    ///
    /// A failed verification is not an error here: the store opens *sealed*
    /// (`sealedReason` says why) so the daemon can serve reads and report it. Errors
    /// are what prevents opening at all: an unreadable file, a schema from another
    /// version, a malformed key file.
    public static func open(stateDirectory: String, options: Options = Options()) throws(LedgerStoreError) -> LedgerStore {
        try open(stateDirectory: stateDirectory, options: options, epoch: 1)
    }

    static func open(stateDirectory: String, options: Options, epoch newEpoch: Int) throws(LedgerStoreError) -> LedgerStore {
        try Sodium.require()
        try StoreSystem.makeDirectory(stateDirectory, mode: 0o700)
        let keyName = originPrefix + (options.name ?? randomID())
        let signer = try CheckpointSigner.loadOrCreate(directory: stateDirectory, name: keyName)
        let path = StoreSystem.join(stateDirectory, databaseFileName)
        let readURI = fileURI(path, query: "mode=ro")

        let conn: SQLiteConnection
        let meta: Meta
        do throws(SQLiteError) {
            conn = try SQLiteConnection(path: path, flags: [.readWrite, .create])
            try conn.setBusyTimeout(milliseconds: options.busyTimeoutMilliseconds)
            let mode = try conn.pragma("journal_mode=WAL")
            guard mode == "wal" else { throw SQLiteError(code: 1, message: "journal_mode is '\(mode ?? "")', not 'wal'", context: "open '\(path)'") }
            try conn.execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            meta = try conn.transaction { () throws(SQLiteError) -> Meta in
                try LedgerSchema.prepare(conn, create: Meta(
                    schemaVersion: schemaVersion, ledgerID: randomID(), epoch: newEpoch,
                    origin: newEpoch == 1 ? signer.name : "\(signer.name)/epoch-\(newEpoch)",
                    verifierKey: signer.verifierKey.description))
            }
        } catch {
            throw .storage(error)
        }
        guard meta.schemaVersion == schemaVersion else {
            throw LedgerStoreError(.schema, "'\(path)' has ledger schema version \(meta.schemaVersion); this build reads version \(schemaVersion)")
        }
        let readerConnection = try openReadConnection(readURI, busyTimeout: options.busyTimeoutMilliseconds)

        var state = WriterState()
        do throws(SQLiteError) {
            state.connection = conn
            state.insertEntry = try conn.prepare(
                "INSERT INTO entries (seq, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                persistent: true)
            state.updateTree = try conn.prepare(
                "INSERT OR REPLACE INTO tree_state (id, size, frontier, prev_frontier) VALUES (1, ?, ?, ?)", persistent: true)
            state.insertCheckpoint = try conn.prepare(
                "INSERT INTO checkpoints (size, root, ts, note, frontier) VALUES (?, ?, ?, ?, ?)", persistent: true)
            try conn.execute(LedgerSchema.blocksSQL)
            state.insertBlock = try conn.prepare("INSERT OR REPLACE INTO merkle_blocks (idx, root) VALUES (?, ?)", persistent: true)
        } catch {
            throw .storage(error)
        }
        let store = LedgerStore(
            path: path, readOnly: false, meta: meta, verifierKey: signer.verifierKey, signer: signer, options: options,
            readURI: readURI, writer: state, reader: ReaderState(connection: readerConnection))

        // Fail closed: the tail must chain onto a genuine checkpoint before anything is appended.
        var sealed: LedgerStoreError?
        if meta.verifierKey != signer.verifierKey.description {
            sealed = LedgerStoreError(
                .verificationFailed,
                "checkpoint.key (\(signer.verifierKey)) is not the key this ledger was created with (\(meta.verifierKey))")
        }
        var (verdict, tail) = try store.tailCheck()
        if options.startupVerification == .full {
            // The full pass names the earliest damage, which may lie before the tail.
            let all = try store.verifyAll()
            if !all.ok { verdict = all }
        }
        if sealed == nil, !verdict.ok {
            sealed = LedgerStoreError(.verificationFailed, "start-up verification failed: \(verdict)")
        }
        store.writer.withLock { w in
            if let tail { w.tail = tail }
            w.sealed = sealed
        }
        if sealed == nil { try store.fillMerkleBlocks() }
        return store
    }

    /// Opens a ledger database file read-only, for verifying a copy with no daemon.
    ///
    /// Tries a normal read-only open first, which sees a write-ahead log beside the
    /// file; where that is impossible (a read-only directory without the `-shm` file)
    /// it opens the file `immutable=1`, which ignores any `-wal` file. A copy made with
    /// `sqlite3 ledger.sqlite ".backup copy.sqlite"`, or of a stopped daemon's file,
    /// has no `-wal` to lose.
    public static func openReadOnly(path: String, options: Options = Options()) throws(LedgerStoreError) -> LedgerStore {
        try Sodium.require()
        guard try StoreSystem.fileStatus(path) != nil else { throw StoreSystem.ioError("open", path, code: 2) }
        var readURI = fileURI(path, query: "mode=ro")
        var conn: SQLiteConnection
        var meta: Meta
        do throws(LedgerStoreError) {
            conn = try openReadConnection(readURI, busyTimeout: options.busyTimeoutMilliseconds)
            meta = try LedgerSchema.readMeta(conn)
        } catch let first {
            readURI = fileURI(path, query: "immutable=1")
            do throws(LedgerStoreError) {
                conn = try openReadConnection(readURI, busyTimeout: options.busyTimeoutMilliseconds)
                meta = try LedgerSchema.readMeta(conn)
            } catch {
                throw first.code == .schema ? first : error
            }
        }
        guard meta.schemaVersion == schemaVersion else {
            throw LedgerStoreError(.schema, "'\(path)' has ledger schema version \(meta.schemaVersion); this build reads version \(schemaVersion)")
        }
        let key = try NoteVerifierKey(parsing: meta.verifierKey)
        var state = WriterState()
        state.closed = false
        return LedgerStore(
            path: path, readOnly: true, meta: meta, verifierKey: key, signer: nil, options: options, readURI: readURI,
            writer: state, reader: ReaderState(connection: conn))
    }

    /// Closes the database. Later calls throw `ledger.closed`; closing twice is not an error.
    public func close() {
        reader.withLock { r in
            r.connection?.close()
            r.connection = nil
        }
        writer.withLock { w in
            w.insertEntry = nil
            w.updateTree = nil
            w.insertCheckpoint = nil
            w.insertBlock = nil
            // Fold the WAL into the database file, so a stopped ledger is one
            // self-contained file that can be copied as it is.
            if !isReadOnly { try? w.connection?.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
            w.connection?.close()
            w.connection = nil
            w.closed = true
        }
    }

    /// Why appends are refused, or `nil` when the store accepts them.
    public var sealedReason: LedgerStoreError? {
        writer.withLock { $0.sealed }
    }

    static func openReadConnection(_ uri: String, busyTimeout: Int32) throws(LedgerStoreError) -> SQLiteConnection {
        do throws(SQLiteError) {
            let conn = try SQLiteConnection(path: uri, flags: [.readOnly, .uri])
            try conn.setBusyTimeout(milliseconds: busyTimeout)
            return conn
        } catch {
            throw .storage(error)
        }
    }

    /// A `file:` URI for `path`, with the characters URIs reserve percent-encoded.
    static func fileURI(_ path: String, query: String) -> String {
        var out = "file:"
        for b in path.utf8 {
            switch b {
            case UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "%"), UInt8(ascii: " "), 0..<0x20, 0x7F...:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            default:
                out.unicodeScalars.append(Unicode.Scalar(b))
            }
        }
        return out + "?" + query
    }

    static func randomID() -> String {
        var bytes = [UInt8](repeating: 0, count: 8)
        if Sodium.ready { randombytes_buf(&bytes, bytes.count) }
        return LedgerHash.hex(bytes)
    }

    // MARK: - Appending

    /// Validates `requests`, then appends them as one transaction: either all are
    /// durable when this returns, or none was written (the error says why).
    ///
    /// The store assigns each entry its `seq`, `ts` (the clock, never earlier than the
    /// previous entry's) and `prevHash`.
    public func append(_ requests: [AppendRequest]) throws(LedgerStoreError) -> [AppendedEntry] {
        for r in requests { try r.validate() }
        return try commit(requests)
    }

    /// Appends one entry; see `append(_:)`.
    public func append(_ request: AppendRequest) throws(LedgerStoreError) -> AppendedEntry {
        let entries = try append([request])
        guard let entry = entries.first else { throw LedgerStoreError(.storage, "append returned no entry") }
        return entry
    }

    /// Writes already-validated requests in one transaction (the group committer's batch).
    func commit(_ requests: [AppendRequest]) throws(LedgerStoreError) -> [AppendedEntry] {
        guard !requests.isEmpty else { return [] }
        let now = clock()
        return try writer.withLock { (w: inout sending WriterState) throws(LedgerStoreError) -> [AppendedEntry] in
            let conn = try w.writableConnection()
            let pending = w.chain(requests, now: now)
            do throws(SQLiteError) {
                try conn.transaction { () throws(SQLiteError) in try w.write(pending) }
            } catch {
                w.sealIfStateChanged(expecting: w.tail.lastSeq)
                throw .storage(error)
            }
            w.tail = pending.tail
            return pending.entries
        }
    }

    /// Binds an entry's eleven columns, in schema order, and runs the insert.
    package static func bindEntry(_ e: StoredEntry, to s: SQLiteStatement) throws(SQLiteError) {
        let x = e.entry
        try s.bind(Int64(bitPattern: x.seq), at: 1)
        try s.bind(x.ts.millisecondsSinceEpoch, at: 2)
        try s.bind(x.type, at: 3)
        try s.bind(Int64(x.actor.uid), at: 4)
        try s.bind(Int64(x.actor.gid), at: 5)
        try s.bind(Int64(x.actor.pid), at: 6)
        try s.bind(x.actor.exe, at: 7)
        try s.bind(x.payload, at: 8)
        try s.bind(x.prevHash, at: 9)
        try s.bind(e.hash, at: 10)
        try s.bind(e.leafHash, at: 11)
        try s.run()
    }

    // MARK: - Checkpoints

    /// Signs the current tree head and stores the note; durable when this returns.
    ///
    /// Refused (`ledger.verification_failed`) while the store is sealed: a log must not
    /// sign a tree it cannot vouch for.
    public func checkpoint() throws(LedgerStoreError) -> SignedCheckpoint {
        guard let signer else { throw LedgerStoreError(.readOnly, "the ledger store is open read-only") }
        let now = clock()
        let origin = self.origin
        return try writer.withLock { (w: inout sending WriterState) throws(LedgerStoreError) -> SignedCheckpoint in
            guard !w.closed, let insert = w.insertCheckpoint else { throw LedgerStoreError(.closed, "the ledger store is closed") }
            if let sealed = w.sealed { throw sealed }
            let tail = w.tail
            let ts = max(now, tail.lastTs ?? now)
            let cp = CheckpointNote.sign(origin: origin, size: tail.lastSeq, root: tail.frontier.root(engine: w.hasher.engine), ts: ts, signer: signer)
            do throws(SQLiteError) {
                try insert.bind(Int64(bitPattern: cp.size), at: 1)
                try insert.bind(cp.root, at: 2)
                try insert.bind(ts.millisecondsSinceEpoch, at: 3)
                try insert.bind(cp.note, at: 4)
                try insert.bind(tail.lastSeq == 0 ? [] : tail.prevFrontier.serialized(), at: 5)
                try insert.run()
            } catch {
                insert.reset()
                throw .storage(error)
            }
            return cp
        }
    }

    /// Verifies a checkpoint note against a verifier key (this store's by default) and
    /// this store's origin; returns what it commits to. Whether the ledger matches it is
    /// `verifyAll(externalCheckpoints:)`'s question.
    public func verifyCheckpoint(_ note: String, key: NoteVerifierKey? = nil) throws(LedgerStoreError) -> SignedCheckpoint {
        try CheckpointNote.verify(note, key: key ?? verifierKey, origin: origin)
    }

    /// The stored checkpoints, oldest first, as their notes say (not re-verified).
    public func checkpoints() throws(LedgerStoreError) -> [SignedCheckpoint] {
        try withReader { (c) throws(SQLiteError) -> [SignedCheckpoint] in
            let s = try c.prepare("SELECT size, root, ts, note FROM checkpoints ORDER BY id")
            var out: [SignedCheckpoint] = []
            while try s.step() {
                out.append(SignedCheckpoint(
                    origin: origin, size: UInt64(bitPattern: s.int64(0)), root: s.blob(1),
                    ts: Timestamp(millisecondsSinceEpoch: s.int64(2)), note: s.text(3)))
            }
            return out
        }
    }

    // MARK: - Reading

    /// Runs `body` on the shared read connection.
    func withReader<T: Sendable>(_ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(LedgerStoreError) -> T {
        try reader.withLock { (r: inout sending ReaderState) throws(LedgerStoreError) -> T in
            guard let c = r.connection else { throw LedgerStoreError(.closed, "the ledger store is closed") }
            do throws(SQLiteError) {
                return try body(c)
            } catch {
                c.rollbackIfOpen()
                throw .storage(error)
            }
        }
    }

    /// A fresh read connection, for long reads that should not hold the shared one.
    func openStreamConnection() throws(LedgerStoreError) -> SQLiteConnection {
        let closed = reader.withLock { $0.connection == nil }
        if closed { throw LedgerStoreError(.closed, "the ledger store is closed") }
        let c = try Self.openReadConnection(readURI, busyTimeout: busyTimeout)
        // Streams read each page once, in order: map the file of a read-only store
        // rather than copying every page through read(2). Only a tuning: SQLite falls
        // back to reads where mapping is unavailable, so a refusal is not an error.
        if isReadOnly { try? c.execute("PRAGMA mmap_size=\(Self.streamMmapBytes)") }
        return c
    }

    /// How much of a read-only store's file a streaming connection maps (1 GiB).
    static let streamMmapBytes = 1 << 30

    static let entryColumns = "seq, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash"

    /// The entry with `seq`, or `nil` when there is none.
    public func entry(seq: UInt64) throws(LedgerStoreError) -> StoredEntry? {
        let row = try withReader { (c) throws(SQLiteError) -> Result<StoredEntry, ChainFailure>? in
            let s = try c.prepare("SELECT \(Self.entryColumns) FROM entries WHERE seq = ?")
            try s.bind(Int64(bitPattern: seq), at: 1)
            guard try s.step() else { return nil }
            return LedgerSchema.decodeEntry(s)
        }
        switch row {
        case nil: return nil
        case .success(let e): return e
        case .failure(let f): throw LedgerStoreError(.storage, "entry \(f.seq) is malformed: \(f.reason)")
        }
    }

    /// Calls `body` with each entry from `from` through `through` (inclusive; `nil` for
    /// the end) in `seq` order, reading one row at a time from a snapshot taken at the
    /// start, on a connection of its own: `body` may call back into the store.
    ///
    /// A malformed row throws `ledger.storage`; so does any error `body` throws.
    public func entries(from: UInt64 = 1, through: UInt64? = nil, _ body: (StoredEntry) throws -> Void) throws {
        let c = try openStreamConnection()
        defer { c.close() }
        do {
            try c.execute("BEGIN")
            defer { c.rollbackIfOpen() }
            let s = try c.prepare("SELECT \(Self.entryColumns) FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq")
            try s.bind(Int64(bitPattern: max(from, 1)), at: 1)
            try s.bind(Int64(clamping: through ?? UInt64(Int64.max)), at: 2)
            while try s.step() {
                switch LedgerSchema.decodeEntry(s) {
                case .success(let e): try body(e)
                case .failure(let f): throw LedgerStoreError(.storage, "entry \(f.seq) is malformed: \(f.reason)")
                }
            }
        } catch let e as SQLiteError {
            throw LedgerStoreError.storage(e)
        }
    }

    /// The highest sequence number stored; 0 for an empty ledger.
    public var lastSeq: UInt64 {
        get throws(LedgerStoreError) {
            try withReader { (c) throws(SQLiteError) -> UInt64 in
                let s = try c.prepare("SELECT coalesce(max(seq), 0) FROM entries")
                _ = try s.step()
                return UInt64(bitPattern: s.int64(0))
            }
        }
    }

    /// The number of entries stored (equal to `lastSeq` in a ledger that verifies).
    public var count: UInt64 {
        get throws(LedgerStoreError) {
            try withReader { (c) throws(SQLiteError) -> UInt64 in
                let s = try c.prepare("SELECT count(*) FROM entries")
                _ = try s.step()
                return UInt64(bitPattern: s.int64(0))
            }
        }
    }

    /// Counts, times and sizes for `osmoda-ledger stats`.
    public func stats() throws(LedgerStoreError) -> LedgerStats {
        let sealed = sealedReason?.message
        let origin = self.origin
        let epoch = self.epoch
        var stats = try withReader { (c) throws(SQLiteError) -> LedgerStats in
            let e = try c.prepare("SELECT count(*), coalesce(max(seq), 0), min(ts), max(ts) FROM entries")
            _ = try e.step()
            let k = try c.prepare("SELECT count(*), max(size) FROM checkpoints")
            _ = try k.step()
            let pages = try c.prepare("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            _ = try pages.step()
            return LedgerStats(
                entries: UInt64(bitPattern: e.int64(0)), lastSeq: UInt64(bitPattern: e.int64(1)),
                firstTs: e.isNull(2) ? nil : Timestamp(millisecondsSinceEpoch: e.int64(2)),
                lastTs: e.isNull(3) ? nil : Timestamp(millisecondsSinceEpoch: e.int64(3)),
                databaseBytes: pages.int64(0), checkpoints: UInt64(bitPattern: k.int64(0)),
                lastCheckpointSize: k.isNull(1) ? nil : UInt64(bitPattern: k.int64(1)),
                origin: origin, epoch: epoch, sealedReason: sealed)
        }
        if let wal = try? StoreSystem.fileStatus(path + "-wal") { stats.databaseBytes += wal.size }
        return stats
    }
}

extension LedgerStore.WriterState {
    /// Entries chained onto the tail, not yet written: what `write` stores and, once
    /// committed, the new tail.
    struct Pending {
        var entries: [AppendedEntry]
        var tail: LedgerStore.TailState
        var blocks: [(index: UInt64, root: [UInt8])]
    }

    /// The open writer connection, or why appends are refused (closed, read-only, sealed).
    func writableConnection() throws(LedgerStoreError) -> SQLiteConnection {
        guard !closed else { throw LedgerStoreError(.closed, "the ledger store is closed") }
        guard let conn = connection, insertEntry != nil, updateTree != nil else {
            throw LedgerStoreError(.readOnly, "the ledger store is open read-only")
        }
        if let sealed { throw sealed }
        return conn
    }

    /// Chains `requests` onto the tail: assigns seq, ts (`now`, never earlier than the
    /// previous entry's) and prevHash, hashes them and extends the Merkle frontier.
    func chain(_ requests: [AppendRequest], now: Timestamp) -> Pending {
        var tail = self.tail
        let ts = max(now, tail.lastTs ?? now)
        var out: [AppendedEntry] = []
        out.reserveCapacity(requests.count)
        var blocks: [(index: UInt64, root: [UInt8])] = []
        for (i, r) in requests.enumerated() {
            let entry = LedgerEntry(seq: tail.lastSeq + 1, ts: ts, type: r.type, actor: r.actor, payload: r.payload, prevHash: tail.lastHash)
            let hash = hasher.entryHash(entry)
            out.append(StoredEntry(entry: entry, hash: hash, leafHash: hash))
            if i == requests.count - 1 { tail.prevFrontier = tail.frontier }
            if let block = LedgerStore.appendLeaf(hash, to: &tail.frontier, engine: hasher.engine) { blocks.append(block) }
            tail.lastSeq = entry.seq
            tail.lastHash = hash
            tail.lastTs = ts
        }
        return Pending(entries: out, tail: tail, blocks: blocks)
    }

    /// Writes chained entries, block roots and the tree state, inside the caller's
    /// open transaction.
    func write(_ p: Pending) throws(SQLiteError) {
        guard let insert = insertEntry, let update = updateTree else {
            throw SQLiteError(code: 21, message: "the ledger store is open read-only", context: "append")
        }
        do throws(SQLiteError) {
            for e in p.entries { try LedgerStore.bindEntry(e, to: insert) }
            if let insertBlock {
                for b in p.blocks {
                    try insertBlock.bind(Int64(bitPattern: b.index), at: 1)
                    try insertBlock.bind(b.root, at: 2)
                    try insertBlock.run()
                }
            }
            try update.bind(Int64(bitPattern: p.tail.frontier.size), at: 1)
            try update.bind(p.tail.frontier.serialized(), at: 2)
            try update.bind(p.tail.prevFrontier.serialized(), at: 3)
            try update.run()
        } catch {
            insert.reset()
            update.reset()
            insertBlock?.reset()
            throw error
        }
    }

    /// After a failed commit: if the database no longer holds exactly the state this
    /// writer knows (an I/O error during `COMMIT` can leave the outcome unknown), seal
    /// the store, so nothing is appended onto a state that was never verified.
    mutating func sealIfStateChanged(expecting lastSeq: UInt64) {
        guard let conn = connection else { return }
        conn.rollbackIfOpen()
        var onDisk: (UInt64, UInt64)?
        do {
            let s = try conn.prepare("SELECT coalesce((SELECT max(seq) FROM entries), 0), coalesce((SELECT size FROM tree_state WHERE id = 1), 0)")
            if try s.step() { onDisk = (UInt64(bitPattern: s.int64(0)), UInt64(bitPattern: s.int64(1))) }
        } catch {
            onDisk = nil
        }
        guard let onDisk, onDisk.0 == lastSeq, onDisk.1 == lastSeq else {
            let seen = onDisk.map { "last seq \($0.0), tree size \($0.1)" } ?? "unreadable"
            sealed = LedgerStoreError(
                .verificationFailed,
                "after a failed commit the database state (\(seen)) is not the expected last seq \(lastSeq); reopen the store to verify it")
            return
        }
    }
}
