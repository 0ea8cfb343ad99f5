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
    /// Built from the stored leaf hashes (which `verifyAll` checks against the entries),
    /// reading the `size` leaf hashes once: O(size) time, 32 bytes per entry of memory.
    public func inclusionProof(seq: UInt64, size requested: UInt64? = nil) throws(LedgerStoreError) -> InclusionProof {
        let size: UInt64
        if let given = requested { size = given } else { size = try lastSeq }
        guard seq >= 1, seq <= size else {
            throw LedgerStoreError(.invalidArgument, "no inclusion proof of seq \(seq) in a tree of \(size) entries")
        }
        let leaves = try leafHashes(through: size)
        let leaf = { (i: UInt64) -> [UInt8] in leaves.hash(i) }
        return InclusionProof(
            seq: seq, size: size, leafHash: leaves.hash(seq - 1), root: Merkle.root(size: size, leaf: leaf),
            hashes: Merkle.inclusionProof(index: seq - 1, size: size, leaf: leaf))
    }

    /// The consistency proof from the tree of `old` entries to the tree of `new`
    /// (default: all). `old` must be at least 1 and at most `new`.
    public func consistencyProof(old: UInt64, new newSize: UInt64? = nil) throws(LedgerStoreError) -> ConsistencyProof {
        let new: UInt64
        if let given = newSize { new = given } else { new = try lastSeq }
        guard old >= 1, old <= new else {
            throw LedgerStoreError(.invalidArgument, "no consistency proof from \(old) to \(new) entries (need 1 ≤ old ≤ new)")
        }
        let leaves = try leafHashes(through: new)
        let leaf = { (i: UInt64) -> [UInt8] in leaves.hash(i) }
        return ConsistencyProof(
            oldSize: old, newSize: new, oldRoot: Merkle.root(size: old, leaf: leaf), newRoot: Merkle.root(size: new, leaf: leaf),
            hashes: Merkle.consistencyProof(old: old, new: new, leaf: leaf))
    }

    /// The stored leaf hashes of entries `1...size`, contiguous.
    struct LeafHashes: Sendable {
        var bytes: [UInt8]
        func hash(_ index: UInt64) -> [UInt8] {
            let at = Int(index) * 32
            return Array(bytes[at..<(at + 32)])
        }
    }

    func leafHashes(through size: UInt64) throws(LedgerStoreError) -> LeafHashes {
        let c = try openStreamConnection()
        defer { c.close() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(clamping: size) * 32)
        var expected: UInt64 = 1
        do throws(SQLiteError) {
            let s = try c.prepare("SELECT seq, leaf_hash FROM entries WHERE seq BETWEEN 1 AND ? ORDER BY seq")
            try s.bind(Int64(clamping: size), at: 1)
            while try s.step() {
                let leaf = s.blob(1)
                guard UInt64(bitPattern: s.int64(0)) == expected, leaf.count == 32 else { break }
                bytes.append(contentsOf: leaf)
                expected += 1
            }
        } catch {
            throw .storage(error)
        }
        guard expected == size + 1 else {
            throw LedgerStoreError(.notFound, "entry \(expected) of \(size) is missing or malformed; run verify")
        }
        return LeafHashes(bytes: bytes)
    }
}
