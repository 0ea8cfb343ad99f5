import Foundation
import OsmodaCore
import OsmodaLedger
import OsmodaTestSupport
import Testing

/// Stored block roots are a shortcut: every root and proof built with them must be the
/// one built from the leaves alone, for every size, index and pair of sizes.
@Suite struct MerkleBlockShortcut {
    static func leaves(_ n: Int) -> [[UInt8]] { (0..<n).map { Merkle.leafHash(Array("leaf \($0)".utf8)) } }

    static func blocks(_ leaves: [[UInt8]], level: Int) -> MerkleBlocks {
        let b = 1 << level
        let roots = stride(from: 0, to: leaves.count / b * b, by: b).map { start in
            Merkle.root(size: UInt64(b)) { leaves[start + Int($0)] }
        }
        return MerkleBlocks(level: level, roots: roots)
    }

    @Test(arguments: [1, 2, 3])
    func sameRootsAndProofsAsFromLeaves(level: Int) {
        var rng = SplitMix64(seed: UInt64(level))
        for n in [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 129] {
            let d = Self.leaves(n)
            let blocks = Self.blocks(d, level: level)
            let leaf = { (i: UInt64) in d[Int(i)] }
            #expect(Merkle.root(size: UInt64(n), blocks: blocks, leaf: leaf) == Merkle.root(size: UInt64(n), leaf: leaf))
            for i in 0..<n {
                #expect(Merkle.inclusionProof(index: UInt64(i), size: UInt64(n), blocks: blocks, leaf: leaf)
                    == Merkle.inclusionProof(index: UInt64(i), size: UInt64(n), leaf: leaf), "n \(n) i \(i)")
            }
            for _ in 0..<20 {
                let new = 1 + Int(rng.next() % UInt64(n))
                let old = 1 + Int(rng.next() % UInt64(new))
                #expect(Merkle.consistencyProof(old: UInt64(old), new: UInt64(new), blocks: blocks, leaf: leaf)
                    == Merkle.consistencyProof(old: UInt64(old), new: UInt64(new), leaf: leaf), "\(old) → \(new)")
            }
        }
    }

    /// The shortcut reads only the leaves it must: those of the blocks holding the index
    /// and the tree's partial last block.
    @Test func readsFewLeaves() throws {
        let n = 1000
        let d = Self.leaves(n)
        let blocks = Self.blocks(d, level: 4)
        var read = Set<Int>()
        let proof = Merkle.inclusionProof(index: 500, size: UInt64(n), blocks: blocks) { i in
            read.insert(Int(i))
            return d[Int(i)]
        }
        #expect(proof == Merkle.inclusionProof(index: 500, size: UInt64(n)) { d[Int($0)] })
        #expect(read.count <= 32, "read \(read.count) leaves")
        #expect(read.allSatisfy { $0 / 16 == 500 / 16 || $0 >= n / 16 * 16 })
    }

    /// A frontier captures the root of each completed block as leaves are appended.
    @Test func frontierCapturesCompletedBlocks() {
        let d = Self.leaves(100)
        var frontier = MerkleFrontier()
        var captured: [[UInt8]] = []
        for leaf in d {
            if let block = LedgerStore.appendLeafForTesting(leaf, to: &frontier, level: 3) { captured.append(block) }
        }
        #expect(captured == Self.blocks(d, level: 3).roots)
        #expect(frontier.root == Merkle.root(size: 100) { d[Int($0)] })
    }
}

@Suite struct StoreMerkleBlocks {
    /// Proofs from the store (block roots plus a few leaves) equal those from every leaf.
    @Test func storeProofsUseBlocksAndAgreeWithTheLeaves() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        let total = 256 * 5 + 37
        try Fixtures.appendMany(store, total, batch: 97)
        #expect(try store.merkleBlocksCheckOut())
        var leaves: [[UInt8]] = []
        try store.entries(from: 1, through: UInt64(total)) { leaves.append($0.leafHash) }
        let leaf = { (i: UInt64) in leaves[Int(i)] }
        var rng = SplitMix64(seed: 6962)
        var pairs: [(UInt64, UInt64)] = [(1, 1), (256, 256), (257, 512), (512, 1317), (1, UInt64(total)), (UInt64(total), UInt64(total))]
        for _ in 0..<40 {
            let size = 1 + rng.next() % UInt64(total)
            pairs.append((1 + rng.next() % size, size))
        }
        for (a, size) in pairs {
            let p = try store.inclusionProof(seq: a, size: size)
            #expect(p.hashes == Merkle.inclusionProof(index: a - 1, size: size, leaf: leaf), "seq \(a) size \(size)")
            #expect(p.root == Merkle.root(size: size, leaf: leaf))
            #expect(p.verify())
            let c = try store.consistencyProof(old: a, new: size)
            #expect(c.hashes == Merkle.consistencyProof(old: a, new: size, leaf: leaf), "\(a) → \(size)")
            #expect(c.verify())
        }
    }

    /// A database without the table (made before it existed) or with a damaged one gets
    /// it rebuilt by the next writer; meanwhile proofs fall back to the leaves, still right.
    @Test func missingOrDamagedBlocksAreRebuilt() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        try Fixtures.appendMany(store, 700, batch: 50)
        let good = try store.inclusionProof(seq: 300)
        let raw = try SQLiteConnection(path: store.path, flags: [.readWrite])
        try raw.execute("UPDATE merkle_blocks SET root = zeroblob(32) WHERE idx = 1")
        #expect(try !store.merkleBlocksCheckOut())
        #expect(try store.inclusionProof(seq: 300) == good, "a damaged block must not change a proof")
        store.close()

        store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        #expect(try store.merkleBlocksCheckOut(), "reopening rebuilds damaged blocks")
        store.close()

        try raw.execute("DROP TABLE merkle_blocks")
        store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        raw.close()
        #expect(try store.merkleBlocksCheckOut(), "reopening fills a missing table")
        #expect(try store.inclusionProof(seq: 300) == good)
        try Fixtures.appendMany(store, 100, from: 700)
        #expect(try store.merkleBlocksCheckOut())
        #expect(try store.verifyAll().ok)
    }
}
