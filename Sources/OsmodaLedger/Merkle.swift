/// A tree size and the root hash over its first `size` leaves: what a checkpoint commits
/// to, without the signature.
public struct MerkleTreeHead: Sendable, Hashable {
    public var size: UInt64
    /// `LedgerHash.size` bytes.
    public var root: [UInt8]

    public init(size: UInt64, root: [UInt8]) {
        self.size = size
        self.root = root
    }
}

/// RFC 6962 §2.1 Merkle tree hashing over SHA-256: the tree hash (MTH), inclusion
/// proofs (PATH), consistency proofs (PROOF and SUBPROOF), and their verification as
/// RFC 9162 §2.1.3.2 and §2.1.4.2 describe it.
///
/// Leaves are given as 32-byte leaf hashes by index (`leaf(i)` for `i` in `0..<size`),
/// so storage can hand over hashes it keeps rather than whole entries. A `leaf` closure
/// that returns anything but 32 bytes is a programming error and traps.
///
/// Generating a proof or a root reads every leaf it covers once: O(size) hashes, O(log
/// size) memory.
public enum Merkle {
    /// The hash of the empty tree, `SHA-256("")`.
    public static let emptyRoot: [UInt8] = LedgerHash.sha256([])

    /// `SHA-256(0x00 || data)`.
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        LedgerHash.sha256([0x00] + data)
    }

    /// `SHA-256(0x01 || l || r)`.
    public static func nodeHash(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0x01]
        bytes.reserveCapacity(1 + l.count + r.count)
        bytes.append(contentsOf: l)
        bytes.append(contentsOf: r)
        return LedgerHash.sha256(bytes)
    }

    /// MTH over leaves `0..<size`; `emptyRoot` for size 0. With `blocks`, complete
    /// aligned blocks take their stored roots instead of their leaves.
    public static func root(size: UInt64, blocks: MerkleBlocks? = nil, leaf: (UInt64) throws -> [UInt8]) rethrows -> [UInt8] {
        let engine = SHA256Engine()
        return try subtreeRoot(start: 0, count: size, leaf: leaf, blocks: blocks, engine: engine)
    }

    /// The audit path (RFC 6962 PATH) for leaf `index` in the tree of `size` leaves,
    /// from the leaf's sibling up to the root's child. Empty when `index >= size`: no
    /// such proof exists, and `verifyInclusion` refuses that index.
    public static func inclusionProof(index: UInt64, size: UInt64, blocks: MerkleBlocks? = nil, leaf: (UInt64) throws -> [UInt8]) rethrows -> [[UInt8]] {
        guard index < size else { return [] }
        var proof: [[UInt8]] = []
        try path(index, start: 0, count: size, leaf: leaf, blocks: blocks, engine: SHA256Engine(), into: &proof)
        return proof
    }

    /// The consistency proof (RFC 6962 PROOF) between the trees of `old` and `new`
    /// leaves. Empty when `old == new` (nothing to prove) and when `old == 0` or `old >
    /// new`, which have no proof and which `verifyConsistency` refuses.
    public static func consistencyProof(old: UInt64, new: UInt64, blocks: MerkleBlocks? = nil, leaf: (UInt64) throws -> [UInt8]) rethrows -> [[UInt8]] {
        guard old > 0, old < new else { return [] }
        var proof: [[UInt8]] = []
        try subproof(old, start: 0, count: new, complete: true, leaf: leaf, blocks: blocks, engine: SHA256Engine(), into: &proof)
        return proof
    }

    /// Whether `proof` shows that `leafHash` is leaf `index` of the tree of `size` leaves
    /// whose root is `root`. Every hash must be 32 bytes.
    public static func verifyInclusion(leafHash: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard index < size, leafHash.count == 32, root.count == 32, proof.allSatisfy({ $0.count == 32 }) else { return false }
        let engine = SHA256Engine()
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = engine.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = engine.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with root `newRoot`
    /// extends the tree of `oldSize` leaves with root `oldRoot`.
    ///
    /// Equal sizes need an empty proof and equal roots. An old size of 0 is refused, as
    /// the transparency-dev conformance cases require: every tree extends the empty
    /// one, so a "proof" of it proves nothing and usually means a caller's mistake.
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]) -> Bool {
        guard oldSize > 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty, oldRoot.count == 32, newRoot.count == 32, proof.allSatisfy({ $0.count == 32 }) else { return false }
        let engine = SHA256Engine()
        // When the old tree is a complete subtree of the new one, its root is the first
        // node of the path and the proof leaves it out.
        var path = proof[...]
        let seed: [UInt8]
        if oldSize & (oldSize - 1) == 0 {
            seed = oldRoot
        } else {
            seed = proof[0]
            path = proof.dropFirst()
        }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = seed
        var sr = seed
        for c in path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = engine.node(c, fr)
                sr = engine.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = engine.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }

    /// The largest power of two smaller than `n` (RFC 6962's split point k); `n > 1`.
    @inline(__always)
    static func split(_ n: UInt64) -> UInt64 {
        UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH over leaves `start..<start+count`, by merging complete subtrees left to right
    /// (the same tree as RFC 6962's recursive definition). A stored block root stands in
    /// for its leaves where the block lies wholly inside the range at an aligned offset.
    static func subtreeRoot(start: UInt64, count: UInt64, leaf: (UInt64) throws -> [UInt8], blocks: MerkleBlocks?,
                            engine: SHA256Engine) rethrows -> [UInt8] {
        var frontier = MerkleFrontier()
        var i = start
        let end = start + count
        while i < end {
            if let blocks, let root = blocks.root(covering: i, offset: i - start, end: end) {
                frontier.append(root: root, level: blocks.level, engine: engine)
                i += blocks.blockSize
                continue
            }
            try frontier.append(leafHash: leaf(i), engine: engine)
            i += 1
        }
        return frontier.root(engine: engine)
    }

    /// RFC 6962 PATH(m, D[start..<start+count]), appended leaf-first.
    private static func path(
        _ m: UInt64, start: UInt64, count n: UInt64, leaf: (UInt64) throws -> [UInt8], blocks: MerkleBlocks?,
        engine: SHA256Engine, into proof: inout [[UInt8]]
    ) rethrows {
        guard n > 1 else { return }
        let k = split(n)
        if m < k {
            try path(m, start: start, count: k, leaf: leaf, blocks: blocks, engine: engine, into: &proof)
            try proof.append(subtreeRoot(start: start + k, count: n - k, leaf: leaf, blocks: blocks, engine: engine))
        } else {
            try path(m - k, start: start + k, count: n - k, leaf: leaf, blocks: blocks, engine: engine, into: &proof)
            try proof.append(subtreeRoot(start: start, count: k, leaf: leaf, blocks: blocks, engine: engine))
        }
    }

    /// RFC 6962 SUBPROOF(m, D[start..<start+count], b), appended deepest first.
    private static func subproof(
        _ m: UInt64, start: UInt64, count n: UInt64, complete b: Bool, leaf: (UInt64) throws -> [UInt8], blocks: MerkleBlocks?,
        engine: SHA256Engine, into proof: inout [[UInt8]]
    ) rethrows {
        if m == n {
            if !b { try proof.append(subtreeRoot(start: start, count: n, leaf: leaf, blocks: blocks, engine: engine)) }
            return
        }
        let k = split(n)
        if m <= k {
            try subproof(m, start: start, count: k, complete: b, leaf: leaf, blocks: blocks, engine: engine, into: &proof)
            try proof.append(subtreeRoot(start: start + k, count: n - k, leaf: leaf, blocks: blocks, engine: engine))
        } else {
            try subproof(m - k, start: start + k, count: n - k, complete: false, leaf: leaf, blocks: blocks, engine: engine, into: &proof)
            try proof.append(subtreeRoot(start: start, count: k, leaf: leaf, blocks: blocks, engine: engine))
        }
    }
}

/// The roots of the complete, aligned blocks of `2^level` leaves at the start of a
/// tree: `roots[k]` is MTH over leaves `k·2^level ..< (k+1)·2^level`. Proofs and roots
/// computed with them read only the leaves of the blocks that are not complete or not
/// covered whole, so their cost no longer grows with every leaf of the tree.
public struct MerkleBlocks: Sendable, Equatable {
    public var level: Int
    public var roots: [[UInt8]]

    public init(level: Int, roots: [[UInt8]]) {
        precondition(level > 0 && level < 32, "a block level between 1 and 31")
        self.level = level
        self.roots = roots
    }

    public var blockSize: UInt64 { UInt64(1) << level }

    /// The stored root of the block starting at leaf `i`, when `i` starts a block, the
    /// block ends by `end`, and it sits at an aligned `offset` of the subtree being built.
    @inline(__always)
    func root(covering i: UInt64, offset: UInt64, end: UInt64) -> [UInt8]? {
        let b = blockSize
        guard i & (b - 1) == 0, offset & (b - 1) == 0, end - i >= b else { return nil }
        let k = i >> UInt64(level)
        return k < UInt64(roots.count) ? roots[Int(k)] : nil
    }
}

extension SHA256Engine {
    /// `SHA-256(0x01 || l || r)` for 32-byte `l` and `r`.
    func node(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            guard let base = out.baseAddress else { return }
            l.withUnsafeBytes { lb in
                r.withUnsafeBytes { rb in
                    guard let lp = lb.baseAddress, let rp = rb.baseAddress else { return }
                    node(lp, rp, into: UnsafeMutableRawPointer(base))
                    count = 32
                }
            }
        }
    }
}
