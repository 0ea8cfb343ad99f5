/// An RFC 6962 inclusion proof: entry `seq` is leaf `seq - 1` of the tree of `size`
/// entries whose root is `root`.
public struct InclusionProof: Sendable, Equatable {
    public var seq: UInt64
    public var size: UInt64
    public var leafHash: [UInt8]
    public var root: [UInt8]
    /// The audit path, leaf's sibling first.
    public var hashes: [[UInt8]]

    /// Whether the path leads from the leaf to the root (`Merkle.verifyInclusion`).
    public func verify() -> Bool {
        seq >= 1 && Merkle.verifyInclusion(leafHash: leafHash, index: seq - 1, size: size, proof: hashes, root: root)
    }
}

/// An RFC 6962 consistency proof: the tree of `newSize` entries extends the tree of
/// `oldSize` entries.
public struct ConsistencyProof: Sendable, Equatable {
    public var oldSize: UInt64
    public var newSize: UInt64
    public var oldRoot: [UInt8]
    public var newRoot: [UInt8]
    public var hashes: [[UInt8]]

    /// `Merkle.verifyConsistency` over the proof's own fields.
    public func verify() -> Bool {
        Merkle.verifyConsistency(oldSize: oldSize, newSize: newSize, oldRoot: oldRoot, newRoot: newRoot, proof: hashes)
    }
}

extension LedgerStore {
    /// The inclusion proof of entry `seq` in the tree of `size` entries (default: all).
    ///
    /// Built from the stored block roots (`merkle_blocks`) and the leaf hashes of at most
    /// a few blocks, in one read snapshot; the block roots are first checked against the
    /// snapshot's own tree (their root, completed with the last leaves, must equal the
    /// root of the stored frontier). Where they are missing or do not check out, the
    /// proof is built from every leaf hash instead: slower, never wrong.
    public func inclusionProof(seq: UInt64, size requested: UInt64? = nil) throws(LedgerStoreError) -> InclusionProof {
        try withProofSnapshot(size: requested, near: [seq &- 1]) { (size, source) throws(LedgerStoreError) -> InclusionProof in
            guard seq >= 1, seq <= size else {
                throw LedgerStoreError(.invalidArgument, "no inclusion proof of seq \(seq) in a tree of \(size) entries")
            }
            return InclusionProof(
                seq: seq, size: size, leafHash: try source.leaf(seq - 1),
                root: try lift { try Merkle.root(size: size, blocks: source.blocks, leaf: source.leaf) },
                hashes: try lift { try Merkle.inclusionProof(index: seq - 1, size: size, blocks: source.blocks, leaf: source.leaf) })
        }
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new`
    /// (default: all). `old` must be at least 1 and at most `new`.
    public func consistencyProof(old: UInt64, new newSize: UInt64? = nil) throws(LedgerStoreError) -> ConsistencyProof {
        try withProofSnapshot(size: newSize, near: [old &- 1, old]) { (new, source) throws(LedgerStoreError) -> ConsistencyProof in
            guard old >= 1, old <= new else {
                throw LedgerStoreError(.invalidArgument, "no consistency proof from \(old) to \(new) entries (need 1 ≤ old ≤ new)")
            }
            return ConsistencyProof(
                oldSize: old, newSize: new,
                oldRoot: try lift { try Merkle.root(size: old, blocks: source.blocks, leaf: source.leaf) },
                newRoot: try lift { try Merkle.root(size: new, blocks: source.blocks, leaf: source.leaf) },
                hashes: try lift { try Merkle.consistencyProof(old: old, new: new, blocks: source.blocks, leaf: source.leaf) })
        }
    }

    /// Appends one leaf to a frontier; when that completes a block, returns its index and
    /// root for `merkle_blocks`.
    static func appendLeaf(_ hash: [UInt8], to frontier: inout MerkleFrontier, engine: SHA256Engine,
                           level: Int = merkleBlockLevel) -> (index: UInt64, root: [UInt8])? {
        var root = [UInt8](repeating: 0, count: 32)
        precondition(hash.count == 32, "a Merkle leaf hash has 32 bytes")
        let captured = hash.withUnsafeBytes { h -> Bool in
            root.withUnsafeMutableBytes { r -> Bool in
                guard let leaf = h.baseAddress, let into = r.baseAddress else { return false }
                return frontier.append(root: leaf, level: 0, engine: engine, capture: (level, into))
            }
        }
        guard captured else { return nil }
        return (frontier.size / (UInt64(1) << level) - 1, root)
    }

    /// `appendLeaf` at another block level, for tests.
    package static func appendLeafForTesting(_ hash: [UInt8], to frontier: inout MerkleFrontier, level: Int) -> [UInt8]? {
        appendLeaf(hash, to: &frontier, engine: SHA256Engine(), level: level)?.root
    }

    /// Runs a `Merkle` computation whose leaf closure throws the store's errors.
    private func lift<T>(_ body: () throws -> T) throws(LedgerStoreError) -> T {
        do { return try body() } catch let e as LedgerStoreError { throw e } catch { throw LedgerStoreError(.storage, "\(error)") }
    }

    /// The leaf hashes and block roots a proof reads.
    struct ProofSource {
        var leaves: LeafHashes
        var blocks: MerkleBlocks?
        func leaf(_ i: UInt64) throws(LedgerStoreError) -> [UInt8] { try leaves.hash(i) }
    }

    /// Runs `body` over one read snapshot, with the tree size asked for (default: all)
    /// and the hashes to build proofs from: block roots and the leaves of the blocks
    /// around `near` and at the ends, when the stored blocks check out; every leaf
    /// otherwise.
    func withProofSnapshot<T>(size requested: UInt64?, near: [UInt64],
                              _ body: (UInt64, ProofSource) throws(LedgerStoreError) -> T) throws(LedgerStoreError) -> T {
        let c = try openStreamConnection()
        defer { c.close() }
        do throws(SQLiteError) { try c.execute("BEGIN DEFERRED") } catch { throw .storage(error) }
        defer { c.rollbackIfOpen() }
        let (total, frontierRoot) = try Self.treeState(c)
        let size = requested ?? total
        guard size <= total else {
            throw LedgerStoreError(.invalidArgument, "no tree of \(size) entries: the ledger has \(total)")
        }
        if let fast = try blockSource(c, total: total, sizes: [size] + near, frontierRoot: frontierRoot) {
            return try body(size, fast)
        }
        return try body(size, ProofSource(leaves: try Self.leafHashes(c, from: 0, count: size), blocks: nil))
    }

    /// The stored tree size and the root of its stored frontier, in the snapshot.
    static func treeState(_ c: SQLiteConnection) throws(LedgerStoreError) -> (UInt64, [UInt8]) {
        let row: (size: UInt64, frontier: [UInt8])?
        do throws(SQLiteError) {
            let s = try c.prepare("SELECT size, frontier FROM tree_state WHERE id = 1")
            row = try s.step() ? (UInt64(bitPattern: s.int64(0)), s.blob(1)) : nil
        } catch {
            throw .storage(error)
        }
        guard let row else { return (0, Merkle.emptyRoot) }
        guard let frontier = MerkleFrontier(serialized: row.frontier), frontier.size == row.size else {
            throw LedgerStoreError(.storage, "tree_state holds a malformed frontier; run verify")
        }
        return (frontier.size, frontier.root)
    }

    /// Block roots plus the leaves of the blocks holding `total`'s last leaves and each
    /// index in `sizes` (a size's partial block, a proof's leaf), or `nil` when the
    /// stored blocks are incomplete or do not give the snapshot's root.
    func blockSource(_ c: SQLiteConnection, total: UInt64, sizes: [UInt64], frontierRoot: [UInt8]) throws(LedgerStoreError) -> ProofSource? {
        let level = Self.merkleBlockLevel
        let b = UInt64(1) << level
        let complete = total / b
        var roots: [[UInt8]] = []
        roots.reserveCapacity(Int(complete))
        do throws(SQLiteError) {
            // The table is absent from a database that no writer has opened since it was added.
            let s: SQLiteStatement
            do { s = try c.prepare("SELECT idx, root FROM merkle_blocks WHERE idx < ? ORDER BY idx") } catch { return nil }
            try s.bind(Int64(bitPattern: complete), at: 1)
            while try s.step() {
                guard UInt64(bitPattern: s.int64(0)) == UInt64(roots.count) else { return nil }
                let root = s.blob(1)
                guard root.count == 32 else { return nil }
                roots.append(root)
            }
        } catch {
            throw .storage(error)
        }
        guard UInt64(roots.count) == complete else { return nil }
        // The blocks to read leaves from: each asked-for index's block, and the last one.
        var wanted = Set([total / b])
        for n in sizes where n <= total { wanted.insert(n / b) }
        var leaves = LeafHashes(ranges: [])
        for k in wanted.sorted() where k * b < total {
            leaves.ranges.append(try Self.leafHashes(c, from: k * b, count: min(b, total - k * b)).ranges[0])
        }
        let source = ProofSource(leaves: leaves, blocks: MerkleBlocks(level: level, roots: roots))
        // The stored blocks must give the root of the stored tree.
        guard let root = try? Merkle.root(size: total, blocks: source.blocks, leaf: source.leaf), root == frontierRoot else { return nil }
        return source
    }

    /// Leaf hashes of some ranges of leaves (0-based), 32 bytes each.
    struct LeafHashes: Sendable {
        var ranges: [(first: UInt64, bytes: [UInt8])]

        func hash(_ index: UInt64) throws(LedgerStoreError) -> [UInt8] {
            for r in ranges where index >= r.first && index < r.first + UInt64(r.bytes.count / 32) {
                let at = Int(index - r.first) * 32
                return Array(r.bytes[at..<(at + 32)])
            }
            throw LedgerStoreError(.storage, "leaf \(index) was not read for this proof")
        }
    }

    /// The stored leaf hashes of leaves `from..<from+count` (entries `from+1…`).
    static func leafHashes(_ c: SQLiteConnection, from: UInt64, count: UInt64) throws(LedgerStoreError) -> LeafHashes {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(clamping: count) * 32)
        var expected = from + 1
        do throws(SQLiteError) {
            let s = try c.prepare("SELECT seq, leaf_hash FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq")
            try s.bind(Int64(clamping: from + 1), at: 1)
            try s.bind(Int64(clamping: from + count), at: 2)
            while try s.step() {
                let leaf = s.blob(1)
                guard UInt64(bitPattern: s.int64(0)) == expected, leaf.count == 32 else { break }
                bytes.append(contentsOf: leaf)
                expected += 1
            }
        } catch {
            throw .storage(error)
        }
        guard expected == from + count + 1 else {
            throw LedgerStoreError(.notFound, "entry \(expected) of \(from + count) is missing or malformed; run verify")
        }
        return LeafHashes(ranges: [(from, bytes)])
    }

    /// Computes the block roots that `merkle_blocks` lacks (a database from before the
    /// table, or one whose table was damaged), from the stored leaf hashes, in one
    /// transaction. Run by the writer at open.
    func fillMerkleBlocks() throws(LedgerStoreError) {
        let b = UInt64(1) << Self.merkleBlockLevel
        try writer.withLock { (w: inout sending WriterState) throws(LedgerStoreError) in
            guard let conn = w.connection, let insert = w.insertBlock else { return }
            let complete = w.tail.lastSeq / b
            let engine = w.hasher.engine
            do throws(SQLiteError) {
                let q = try conn.prepare("SELECT count(*), coalesce(max(idx) + 1, 0) FROM merkle_blocks")
                _ = try q.step()
                var next = UInt64(bitPattern: q.int64(1))
                if UInt64(bitPattern: q.int64(0)) != next || next > complete {
                    // Holes, or blocks past the ledger: start over.
                    try conn.execute("DELETE FROM merkle_blocks")
                    next = 0
                }
                try Self.fillBlocks(conn, insert: insert, from: next, through: complete, engine: engine)
            } catch {
                throw .storage(error)
            }
            // Blocks that do not give the tree's root (a damaged table) are computed again.
            if complete > 0, try blockSource(conn, total: w.tail.lastSeq, sizes: [], frontierRoot: w.tail.frontier.root(engine: engine)) == nil {
                do throws(SQLiteError) {
                    try conn.execute("DELETE FROM merkle_blocks")
                    try Self.fillBlocks(conn, insert: insert, from: 0, through: complete, engine: engine)
                } catch {
                    throw .storage(error)
                }
            }
        }
    }

    /// Whether the stored block roots are complete and give the stored tree's root, so
    /// that proofs read only a few blocks' leaves.
    package func merkleBlocksCheckOut() throws(LedgerStoreError) -> Bool {
        let c = try openStreamConnection()
        defer { c.close() }
        do throws(SQLiteError) { try c.execute("BEGIN DEFERRED") } catch { throw .storage(error) }
        defer { c.rollbackIfOpen() }
        let (total, root) = try Self.treeState(c)
        return try blockSource(c, total: total, sizes: [], frontierRoot: root) != nil
    }

    /// Inserts the roots of blocks `from..<through` computed from their leaf hashes.
    static func fillBlocks(_ conn: SQLiteConnection, insert: SQLiteStatement, from next: UInt64, through complete: UInt64,
                           engine: SHA256Engine) throws(SQLiteError) {
        let b = UInt64(1) << merkleBlockLevel
        guard next < complete else { return }
        try conn.transaction { () throws(SQLiteError) in
            let s = try conn.prepare("SELECT leaf_hash FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq")
            try s.bind(Int64(bitPattern: next * b + 1), at: 1)
            try s.bind(Int64(bitPattern: complete * b), at: 2)
            var frontier = MerkleFrontier()
            var index = next
            while try s.step() {
                frontier.append(leafHash: s.blob(0), engine: engine)
                if frontier.size == b {
                    try insert.bind(Int64(bitPattern: index), at: 1)
                    try insert.bind(frontier.root(engine: engine), at: 2)
                    try insert.run()
                    index += 1
                    frontier = MerkleFrontier()
                }
            }
        }
    }
}
