#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSQLite
import OsmodaCore

/// Reads rows selected as `LedgerStore.entryColumns` into one reused `StoredEntry`,
/// for streaming verification: the payload, hash and prev-hash arrays keep their
/// storage from row to row (the verifier only borrows them), and `type` and `exe` are
/// decoded into Strings only when their bytes differ from the previous row's.
///
/// It makes exactly the checks `LedgerSchema.decodeEntry` makes and decodes the same
/// values; a row that fails any of them is handed to `decodeEntry` itself, so the
/// failure (and its message) is the one `decodeEntry` reports.
struct EntryRowReader {
    private(set) var stored = StoredEntry(
        entry: LedgerEntry(
            seq: 0, ts: Timestamp(millisecondsSinceEpoch: 0), type: "", actor: Actor(uid: 0, gid: 0, pid: 0, exe: ""),
            payload: [], prevHash: []),
        hash: [], leafHash: [])
    /// The bytes `stored.entry.type` and `stored.entry.actor.exe` were decoded from.
    private var typeBytes: [UInt8] = []
    private var exeBytes: [UInt8] = []

    init() {}

    /// Decodes the current row of `s` into `stored`; a failure is `decodeEntry`'s.
    mutating func read(_ s: SQLiteStatement) -> ChainFailure? {
        if readFast(s.handle) { return nil }
        switch LedgerSchema.decodeEntry(s) {
        case .failure(let f): return f
        case .success(let e):
            // Unreachable while the checks agree; stay correct if they ever do not.
            stored = e
            typeBytes = Array(e.entry.type.utf8)
            exeBytes = Array(e.entry.actor.exe.utf8)
            return nil
        }
    }

    /// The checks of `decodeEntry`, and the decoding, without per-row allocation;
    /// `false` when any check fails (the caller then lets `decodeEntry` report it).
    ///
    /// Each column is fetched once (`sqlite3_column_value`) and read with the
    /// `sqlite3_value_*` calls. The value is "unprotected" (no mutex held), which is
    /// what every call on these `SQLITE_OPEN_NOMUTEX` connections is anyway; it stays
    /// valid until the next step, and the verifier is done with the row before then.
    @inline(__always)
    private mutating func readFast(_ h: OpaquePointer) -> Bool {
        guard let seqV = sqlite3_column_value(h, 0), sqlite3_value_type(seqV) == SQLITE_INTEGER,
              let tsV = sqlite3_column_value(h, 1), sqlite3_value_type(tsV) == SQLITE_INTEGER,
              let typeV = sqlite3_column_value(h, 2), sqlite3_value_type(typeV) == SQLITE_TEXT,
              let uidV = sqlite3_column_value(h, 3), sqlite3_value_type(uidV) == SQLITE_INTEGER,
              let gidV = sqlite3_column_value(h, 4), sqlite3_value_type(gidV) == SQLITE_INTEGER,
              let pidV = sqlite3_column_value(h, 5), sqlite3_value_type(pidV) == SQLITE_INTEGER,
              let exeV = sqlite3_column_value(h, 6), sqlite3_value_type(exeV) == SQLITE_TEXT,
              let payloadV = sqlite3_column_value(h, 7), sqlite3_value_type(payloadV) == SQLITE_BLOB,
              let prevV = sqlite3_column_value(h, 8), sqlite3_value_type(prevV) == SQLITE_BLOB,
              let hashV = sqlite3_column_value(h, 9), sqlite3_value_type(hashV) == SQLITE_BLOB,
              let leafV = sqlite3_column_value(h, 10), sqlite3_value_type(leafV) == SQLITE_BLOB
        else { return false }
        let seqValue = sqlite3_value_int64(seqV)
        guard seqValue >= 1 else { return false }
        guard let uid = UInt32(exactly: sqlite3_value_int64(uidV)), let gid = UInt32(exactly: sqlite3_value_int64(gidV)),
              let pid = Int32(exactly: sqlite3_value_int64(pidV))
        else { return false }
        let hashBase = sqlite3_value_blob(hashV)
        let hashCount = Int(sqlite3_value_bytes(hashV))
        let leafBase = sqlite3_value_blob(leafV)
        let leafCount = Int(sqlite3_value_bytes(leafV))
        guard hashCount == LedgerHash.size, leafCount == LedgerHash.size, let hashBase, let leafBase else { return false }
        Self.assign(UnsafeRawBufferPointer(start: hashBase, count: hashCount), to: &stored.hash)
        Self.assign(UnsafeRawBufferPointer(start: leafBase, count: leafCount), to: &stored.leafHash)
        stored.entry.seq = UInt64(seqValue)
        stored.entry.ts = Timestamp(millisecondsSinceEpoch: sqlite3_value_int64(tsV))
        stored.entry.actor.uid = uid
        stored.entry.actor.gid = gid
        stored.entry.actor.pid = pid
        Self.text(typeV, into: &stored.entry.type, bytes: &typeBytes)
        Self.text(exeV, into: &stored.entry.actor.exe, bytes: &exeBytes)
        Self.blob(payloadV, into: &stored.entry.payload)
        Self.blob(prevV, into: &stored.entry.prevHash)
        return true
    }

    /// `SQLiteStatement.blob`, into `out`'s existing storage.
    @inline(__always)
    private static func blob(_ v: OpaquePointer, into out: inout [UInt8]) {
        let base = sqlite3_value_blob(v)
        let count = Int(sqlite3_value_bytes(v))
        guard count > 0, let base else {
            out.removeAll(keepingCapacity: true)
            return
        }
        // Keep a large buffer only while rows are about as large, so a pipeline of
        // reused rows holds O(its rows' current bytes), not one maximal payload each.
        if out.capacity > Self.keptCapacity, count < out.capacity / 4 { out = [] }
        assign(UnsafeRawBufferPointer(start: base, count: count), to: &out)
    }

    /// `SQLiteStatement.text`, reusing `out` when the row's bytes are those it was decoded from.
    @inline(__always)
    private static func text(_ v: OpaquePointer, into out: inout String, bytes: inout [UInt8]) {
        guard let base = sqlite3_value_text(v) else {
            out = ""
            bytes.removeAll(keepingCapacity: true)
            return
        }
        let raw = UnsafeRawBufferPointer(start: base, count: Int(sqlite3_value_bytes(v)))
        if equal(bytes, raw) { return }
        assign(raw, to: &bytes)
        out = String(decoding: raw, as: UTF8.self)
    }

    /// The buffer size a reused row keeps whatever its later rows need.
    static let keptCapacity = 4096

    /// The payload bytes the row holds.
    var payloadCount: Int { stored.entry.payload.count }

    /// Whether `a` holds exactly the bytes of `b`.
    @inline(__always)
    private static func equal(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { a in
            guard let p = a.baseAddress, let q = b.baseAddress else { return true }
            let n = a.count
            var i = 0
            while i + 8 <= n {
                if p.loadUnaligned(fromByteOffset: i, as: UInt64.self) != q.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            while i < n {
                if p.load(fromByteOffset: i, as: UInt8.self) != q.load(fromByteOffset: i, as: UInt8.self) { return false }
                i += 1
            }
            return true
        }
    }

    /// Replaces `out`'s bytes with `src`, in place when the count is unchanged.
    @inline(__always)
    private static func assign(_ src: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if out.count == src.count {
            out.withUnsafeMutableBytes { dst in
                if let d = dst.baseAddress, let s = src.baseAddress { d.copyMemory(from: s, byteCount: src.count) }
            }
        } else {
            out.removeAll(keepingCapacity: true)
            out.append(contentsOf: src)
        }
    }
}

/// How a pipelined read ended: after the last row, at a row `decodeEntry` refuses, or
/// at a SQLite error.
enum RowReadEnd {
    case done
    case malformed(ChainFailure)
    case error(SQLiteError)
}

/// A batch of rows read ahead by the reading thread.
final class RowBatch {
    var rows: [EntryRowReader]
    var count = 0
    var end: RowReadEnd?

    init(capacity: Int) { rows = Array(repeating: EntryRowReader(), count: capacity) }
}

/// Steps a statement on a second thread, a few batches ahead of the thread that
/// verifies, so SQLite's work and the hashing overlap.
///
/// The rows are the ones the statement yields, in order, decoded by `EntryRowReader`;
/// the consumer sees them exactly as a single-threaded loop would, including where
/// the read ends and why. The statement is used by the reading thread alone until
/// `finish` has joined it. Batches pass between the threads under `lock`.
final class PipelinedRowReader: @unchecked Sendable {
    static let batchCount = 4
    static let batchSize = 256
    /// A batch ends once its payloads reach this many bytes (256 KiB).
    static let batchBytes = 1 << 18

    private let statement: SQLiteStatement
    private let lock = ConditionLock()
    private let batches: [RowBatch]
    /// Guarded by `lock`: which batches hold rows for the consumer.
    private var full: [Bool]
    /// Guarded by `lock`: the consumer wants no more rows.
    private var stopped = false
    private var thread: pthread_t?

    private init(_ statement: SQLiteStatement) {
        self.statement = statement
        batches = (0..<Self.batchCount).map { _ in RowBatch(capacity: Self.batchSize) }
        full = Array(repeating: false, count: Self.batchCount)
    }

    /// Whether a second thread can help: on one CPU the threads would only take turns.
    static let isWorthwhile = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1

    /// Starts reading `statement` on a new thread; `nil` if that would not help or no
    /// thread could be started.
    static func start(_ statement: SQLiteStatement) -> PipelinedRowReader? {
        guard isWorthwhile else { return nil }
        let reader = PipelinedRowReader(statement)
        let context = Unmanaged.passRetained(reader).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<PipelinedRowReader>.fromOpaque(raw).takeRetainedValue().produce()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<PipelinedRowReader>.fromOpaque(context).release()
            return nil
        }
        reader.thread = tid
        return reader
    }

    private func produce() {
        var index = 0
        while true {
            lock.lock()
            while full[index], !stopped { lock.wait() }
            let stop = stopped
            lock.unlock()
            if stop { return }
            let batch = batches[index]
            batch.count = 0
            batch.end = nil
            fill(batch)
            let ended = batch.end != nil
            lock.lock()
            full[index] = true
            lock.broadcast()
            lock.unlock()
            if ended { return }
            index = (index + 1) % Self.batchCount
        }
    }

    private func fill(_ batch: RowBatch) {
        var bytes = 0
        while batch.count < Self.batchSize {
            do throws(SQLiteError) {
                guard try statement.step() else {
                    batch.end = .done
                    return
                }
            } catch {
                batch.end = .error(error)
                return
            }
            if let failure = batch.rows[batch.count].read(statement) {
                batch.end = .malformed(failure)
                return
            }
            bytes += batch.rows[batch.count].payloadCount
            batch.count += 1
            // Large payloads end a batch early, bounding the memory read ahead.
            if bytes >= Self.batchBytes { return }
        }
    }

    /// Calls `body` with each batch in order until `body` returns `false` or a batch
    /// ends the read; returns that batch's end (or `nil` when `body` stopped).
    func forEachBatch(_ body: (RowBatch) -> Bool) -> RowReadEnd? {
        var index = 0
        while true {
            lock.lock()
            while !full[index] { lock.wait() }
            lock.unlock()
            let batch = batches[index]
            guard body(batch) else { return nil }
            if let end = batch.end { return end }
            lock.lock()
            full[index] = false
            lock.broadcast()
            lock.unlock()
            index = (index + 1) % Self.batchCount
        }
    }

    /// Stops the reading thread and waits for it: the statement is the caller's again.
    func finish() {
        lock.lock()
        stopped = true
        lock.broadcast()
        lock.unlock()
        if let thread { _ = pthread_join(thread, nil) }
        thread = nil
    }
}
