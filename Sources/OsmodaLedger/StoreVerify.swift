import OsmodaCore

extension LedgerStore {
    /// Verifies the whole ledger, streaming: every entry's sequence, chain link, stored
    /// hash and leaf hash; the Merkle root at the size of every stored checkpoint whose
    /// note verifies, and of every note in `externalCheckpoints`; the persisted Merkle
    /// state; and that no stored checkpoint note fails to verify.
    ///
    /// Checkpoints kept elsewhere are what detect a truncation or a wholesale re-chain
    /// by someone who could also rewrite the stored checkpoints. Their notes are
    /// verified with `trustedKey` (default: this store's key; for a read-only copy, pass
    /// the key from a trusted `checkpoint.pub`, since the copy's own record of its key
    /// is only as trustworthy as the copy). A note that does not parse or verify is an
    /// error (`ledger.bad_checkpoint`), not a verdict: it is the caller's input.
    ///
    /// Not an error: a ledger that fails verification. That is the verdict.
    public func verifyAll(externalCheckpoints: [String] = [], trustedKey: NoteVerifierKey? = nil) throws(LedgerStoreError) -> LedgerVerdict {
        let key = trustedKey ?? verifierKey
        var heads: [MerkleTreeHead] = []
        for note in externalCheckpoints {
            heads.append(try CheckpointNote.verify(note, key: key, origin: origin).treeHead)
        }
        let c = try openStreamConnection()
        defer { c.close() }
        do throws(SQLiteError) {
            try c.execute("BEGIN")
            defer { c.rollbackIfOpen() }
            var storedProblem: String?
            let cps = try c.prepare("SELECT id, size, root, note FROM checkpoints ORDER BY size, id")
            while try cps.step() {
                let id = cps.int64(0)
                let size = UInt64(bitPattern: cps.int64(1))
                let root = cps.blob(2)
                switch Self.checkStored(note: cps.text(3), size: size, root: root, key: key, origin: origin) {
                case .success(let cp): heads.append(cp.treeHead)
                case .failure(let error):
                    if storedProblem == nil { storedProblem = "stored checkpoint \(id) (size \(size)) does not verify: \(error.message)" }
                }
            }
            var verifier = ChainVerifier(checkpoints: heads)
            let rows = try c.prepare("SELECT \(Self.entryColumns) FROM entries ORDER BY seq")
            if let failure = try Self.feed(rows, into: &verifier) {
                return LedgerVerdict(chain: verifier.finish(), failure: failure)
            }
            let chain = verifier.finish()
            if let failure = chain.failure { return LedgerVerdict(chain: chain, failure: failure) }
            if let problem = try Self.treeStateProblem(c, frontier: chain.frontier ?? MerkleFrontier(), lastHash: chain.tipHash) {
                return LedgerVerdict(chain: chain, code: "ledger.tree_state", seq: problem.seq, reason: problem.reason)
            }
            if let storedProblem {
                return LedgerVerdict(chain: chain, code: "ledger.checkpoint", seq: nil, reason: storedProblem)
            }
            return LedgerVerdict(chain: chain, failure: nil)
        } catch {
            throw .storage(error)
        }
    }

    /// Verifies the entries after the last stored checkpoint: that checkpoint's note
    /// (signature, origin, size, root), that its last entry is the one it signed (from
    /// the tree of the entries before it, stored with the checkpoint), that every later
    /// entry chains on and hashes as stored, and that the persisted Merkle state is the
    /// tree of those entries. With no checkpoint, it verifies the whole chain.
    ///
    /// This is what `open` runs; it reads O(entries since the checkpoint), so the
    /// daemon should checkpoint regularly and at shutdown. It does not re-read entries
    /// before the checkpoint: `verifyAll` does.
    public func verifyTail() throws(LedgerStoreError) -> LedgerVerdict {
        try tailCheck().verdict
    }

    /// `verifyTail`, also returning the writer's state at the tail when it passed.
    func tailCheck() throws(LedgerStoreError) -> (verdict: LedgerVerdict, tail: TailState?) {
        let c = try openStreamConnection()
        defer { c.close() }
        do throws(SQLiteError) {
            try c.execute("BEGIN")
            defer { c.rollbackIfOpen() }
            let last = try c.prepare("SELECT id, size, root, note, frontier FROM checkpoints ORDER BY size DESC, id DESC LIMIT 1")
            var verifier = ChainVerifier()
            var from: UInt64 = 1
            if try last.step() {
                let id = last.int64(0)
                let size = UInt64(bitPattern: last.int64(1))
                let root = last.blob(2)
                let note = last.text(3)
                let frontierBytes = last.blob(4)
                let cp: SignedCheckpoint
                switch Self.checkStored(note: note, size: size, root: root, key: verifierKey, origin: origin) {
                case .success(let verified): cp = verified
                case .failure(let error):
                    return (Self.failed("ledger.checkpoint", nil, "the last checkpoint (\(id), size \(size)) does not verify: \(error.message)"), nil)
                }
                if size > 0 {
                    guard let before = MerkleFrontier(serialized: frontierBytes), before.size == size - 1 else {
                        return (Self.failed("ledger.checkpoint", nil, "the last checkpoint's stored frontier is malformed"), nil)
                    }
                    let first = try c.prepare("SELECT prev_hash FROM entries WHERE seq = ?")
                    try first.bind(Int64(bitPattern: size), at: 1)
                    guard try first.step() else {
                        let top = try c.prepare("SELECT coalesce(max(seq), 0) FROM entries")
                        _ = try top.step()
                        let have = UInt64(bitPattern: top.int64(0))
                        return (Self.failed(
                            ChainFailure.Kind.truncated.rawValue, min(have, size - 1) + 1,
                            "the last checkpoint covers \(size) entries but entry \(size) is missing (the ledger ends at seq \(have))"), nil)
                    }
                    // Seq 1's prevHash must be zero, which the verifier checks only without an anchor.
                    verifier = size == 1
                        ? ChainVerifier(checkpoints: [cp.treeHead])
                        : ChainVerifier(startingAfter: (size - 1, first.blob(0)), frontier: before, checkpoints: [cp.treeHead])
                    from = size
                } else {
                    verifier = ChainVerifier(checkpoints: [cp.treeHead])
                }
            }
            let rows = try c.prepare("SELECT \(Self.entryColumns) FROM entries WHERE seq >= ? ORDER BY seq")
            try rows.bind(Int64(bitPattern: from), at: 1)
            var lastTs: Timestamp?
            if let failure = try Self.feed(rows, into: &verifier, lastTs: &lastTs) {
                return (LedgerVerdict(chain: verifier.finish(), failure: failure), nil)
            }
            let chain = verifier.finish()
            if let failure = chain.failure { return (LedgerVerdict(chain: chain, failure: failure), nil) }
            guard let frontier = chain.frontier else {
                return (Self.failed("ledger.tree_state", nil, "no Merkle state after verification"), nil)
            }
            if let problem = try Self.treeStateProblem(c, frontier: frontier, lastHash: chain.tipHash) {
                return (LedgerVerdict(chain: chain, code: "ledger.tree_state", seq: problem.seq, reason: problem.reason), nil)
            }
            let prev = try Self.storedPrevFrontier(c)
            let tail = TailState(lastSeq: chain.tipSeq, lastHash: chain.tipHash, lastTs: lastTs, frontier: frontier, prevFrontier: prev)
            return (LedgerVerdict(chain: chain, failure: nil), tail)
        } catch {
            throw .storage(error)
        }
    }

    /// A stored checkpoint's note, verified, and matching its row's size and root.
    static func checkStored(note: String, size: UInt64, root: [UInt8], key: NoteVerifierKey, origin: String) -> Result<SignedCheckpoint, LedgerStoreError> {
        Result { () throws(LedgerStoreError) -> SignedCheckpoint in
            let cp = try CheckpointNote.verify(note, key: key, origin: origin)
            guard cp.size == size, cp.root == root else {
                throw LedgerStoreError(.badCheckpoint, "the row's size or root differs from its signed note")
            }
            return cp
        }
    }

    /// Feeds every row of `rows` to `verifier`; returns a failure the verifier cannot
    /// see itself (a malformed row, a leaf hash that differs from the hash).
    static func feed(_ rows: SQLiteStatement, into verifier: inout ChainVerifier) throws(SQLiteError) -> ChainFailure? {
        var ts: Timestamp?
        return try feed(rows, into: &verifier, lastTs: &ts)
    }

    static func feed(_ rows: SQLiteStatement, into verifier: inout ChainVerifier, lastTs: inout Timestamp?) throws(SQLiteError) -> ChainFailure? {
        // SQLite reads ahead on a second thread while this one hashes; the rows, their
        // order and where the read ends are those of the single-threaded loop below.
        guard let pipe = PipelinedRowReader.start(rows) else { return try feedInline(rows, into: &verifier, lastTs: &lastTs) }
        defer { pipe.finish() }
        var failure: ChainFailure?
        let end = pipe.forEachBatch { batch in
            // Through a buffer pointer the rows are borrowed in place; indexing the class's
            // array would copy each entry (retaining its arrays) on the way to the verifier.
            batch.rows.withUnsafeBufferPointer { rows in
                for i in 0..<batch.count {
                    if !verifier.feed(rows[i].stored.entry, storedHash: rows[i].stored.hash) { return false }
                    if rows[i].stored.leafHash != rows[i].stored.hash {
                        failure = ChainFailure(
                            seq: rows[i].stored.seq, kind: .hash, reason: "the stored leaf_hash differs from the entry's recomputed hash")
                        return false
                    }
                    lastTs = rows[i].stored.ts
                }
                return true
            }
        }
        switch end {
        case nil: return failure
        case .done: return nil
        case .error(let error): throw error
        case .malformed(let f): return malformed(f, verifier: verifier)
        }
    }

    /// The failure for a row `decodeEntry` refuses: the sequence problem first if there is one.
    static func malformed(_ f: ChainFailure, verifier: ChainVerifier) -> ChainFailure {
        let expected = verifier.finish().tipSeq + 1
        if f.seq != expected, verifier.failure == nil {
            return ChainFailure(seq: expected, kind: .sequence, reason: "expected seq \(expected), found seq \(f.seq)")
        }
        return ChainFailure(seq: f.seq, kind: .malformed, reason: f.reason)
    }

    /// `feed` on the calling thread alone.
    static func feedInline(_ rows: SQLiteStatement, into verifier: inout ChainVerifier, lastTs: inout Timestamp?) throws(SQLiteError) -> ChainFailure? {
        // One reused row: the verifier borrows the entry, so its arrays keep their storage.
        var row = EntryRowReader()
        while try rows.step() {
            // A row the verifier never sees.
            if let f = row.read(rows) { return malformed(f, verifier: verifier) }
            // No local copy of the row: one would share its arrays and defeat their reuse.
            if !verifier.feed(row.stored.entry, storedHash: row.stored.hash) { return nil }
            if row.stored.leafHash != row.stored.hash {
                return ChainFailure(seq: row.stored.seq, kind: .hash, reason: "the stored leaf_hash differs from the entry's recomputed hash")
            }
            lastTs = row.stored.ts
        }
        return nil
    }

    /// Compares the persisted Merkle state with the tree of the verified entries.
    static func treeStateProblem(_ c: SQLiteConnection, frontier: MerkleFrontier, lastHash: [UInt8]) throws(SQLiteError) -> (seq: UInt64?, reason: String)? {
        let s = try c.prepare("SELECT size, frontier, prev_frontier FROM tree_state WHERE id = 1")
        guard try s.step() else { return (nil, "the persisted Merkle state is missing") }
        let size = UInt64(bitPattern: s.int64(0))
        guard let stored = MerkleFrontier(serialized: s.blob(1)), stored.size == size else {
            return (nil, "the persisted Merkle state is malformed")
        }
        if size != frontier.size {
            return (
                min(size, frontier.size) + 1,
                "the persisted Merkle state covers \(size) entries but the ledger has \(frontier.size): entries were \(size > frontier.size ? "removed" : "added") behind the writer's back"
            )
        }
        guard stored == frontier else {
            return (nil, "the persisted Merkle state differs from the tree of the entries: they were rewritten behind the writer's back")
        }
        guard var prev = MerkleFrontier(serialized: s.blob(2)), prev.size == (size == 0 ? 0 : size - 1) else {
            return (nil, "the persisted Merkle state's previous frontier is malformed")
        }
        if size > 0 {
            prev.append(leafHash: lastHash)
            guard prev == frontier else { return (nil, "the persisted Merkle state's previous frontier does not lead to the current one") }
        }
        return nil
    }

    static func storedPrevFrontier(_ c: SQLiteConnection) throws(SQLiteError) -> MerkleFrontier {
        let s = try c.prepare("SELECT prev_frontier FROM tree_state WHERE id = 1")
        guard try s.step(), let f = MerkleFrontier(serialized: s.blob(0)) else { return MerkleFrontier() }
        return f
    }

    static func failed(_ code: String, _ seq: UInt64?, _ reason: String) -> LedgerVerdict {
        LedgerVerdict(entriesChecked: 0, treeHead: nil, checkpointsMatched: [], firstBadSeq: seq, failureCode: code, reason: reason)
    }
}

extension LedgerVerdict {
    init(chain: ChainVerdict, failure: ChainFailure?) {
        let f = failure ?? chain.failure
        self.init(
            entriesChecked: chain.entriesChecked, treeHead: chain.frontier?.treeHead, checkpointsMatched: chain.checkpointsMatched,
            firstBadSeq: f?.seq, failureCode: f?.kind.rawValue, reason: f?.reason)
    }

    init(chain: ChainVerdict, code: String, seq: UInt64?, reason: String) {
        self.init(
            entriesChecked: chain.entriesChecked, treeHead: chain.frontier?.treeHead, checkpointsMatched: chain.checkpointsMatched,
            firstBadSeq: seq, failureCode: code, reason: reason)
    }
}
