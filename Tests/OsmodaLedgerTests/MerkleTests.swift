import OsmodaLedger
import OsmodaTestSupport
import Testing

/// RFC 6962 §2.1 written as literally as possible, over arrays: the reference our
/// iterative code is compared with.
enum ReferenceMerkle {
    static func k(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    static func mth(_ d: ArraySlice<[UInt8]>) -> [UInt8] {
        switch d.count {
        case 0: return LedgerHash.sha256([])
        case 1: return d[d.startIndex]
        default:
            let split = d.startIndex + k(d.count)
            return Merkle.nodeHash(mth(d[..<split]), mth(d[split...]))
        }
    }

    static func path(_ m: Int, _ d: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard d.count > 1 else { return [] }
        let split = d.startIndex + k(d.count)
        if m < k(d.count) { return path(m, d[..<split]) + [mth(d[split...])] }
        return path(m - k(d.count), d[split...]) + [mth(d[..<split])]
    }

    static func subproof(_ m: Int, _ d: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        if m == d.count { return b ? [] : [mth(d)] }
        let split = d.startIndex + k(d.count)
        if m <= k(d.count) { return subproof(m, d[..<split], b) + [mth(d[split...])] }
        return subproof(m - k(d.count), d[split...], false) + [mth(d[..<split])]
    }
}

@Suite("Merkle")
struct MerkleTests {
    static let leaves: [[UInt8]] = (0..<64).map { Merkle.leafHash([UInt8(truncatingIfNeeded: $0), 0xA5]) }

    @Test("root, frontier, and every inclusion and consistency proof, for sizes 1…64")
    func generatedProofsVerify() {
        let leaves = Self.leaves
        var frontier = MerkleFrontier()
        var roots: [[UInt8]] = [Merkle.emptyRoot]
        for n in 1...64 {
            frontier.append(leafHash: leaves[n - 1])
            let root = Merkle.root(size: UInt64(n)) { leaves[Int($0)] }
            #expect(root == ReferenceMerkle.mth(leaves[..<n]), "size \(n)")
            #expect(frontier.root == root, "frontier at size \(n)")
            #expect(frontier.size == UInt64(n))
            roots.append(root)

            for i in 0..<n {
                let proof = Merkle.inclusionProof(index: UInt64(i), size: UInt64(n)) { leaves[Int($0)] }
                #expect(proof == ReferenceMerkle.path(i, leaves[..<n]), "PATH(\(i), \(n))")
                #expect(Merkle.verifyInclusion(leafHash: leaves[i], index: UInt64(i), size: UInt64(n), proof: proof, root: root))
                // the same proof must not verify anything else
                #expect(!Merkle.verifyInclusion(leafHash: leaves[(i + 1) % 64], index: UInt64(i), size: UInt64(n), proof: proof, root: root))
                if n > 1 {
                    #expect(!Merkle.verifyInclusion(leafHash: leaves[i], index: UInt64((i + 1) % n), size: UInt64(n), proof: proof, root: root))
                }
                #expect(!Merkle.verifyInclusion(leafHash: leaves[i], index: UInt64(i), size: UInt64(n), proof: proof, root: roots[n - 1]))
                for j in proof.indices {
                    var bad = proof
                    bad[j][j % 32] ^= 0x40
                    #expect(!Merkle.verifyInclusion(leafHash: leaves[i], index: UInt64(i), size: UInt64(n), proof: bad, root: root))
                }
            }

            for m in 1...n {
                let proof = Merkle.consistencyProof(old: UInt64(m), new: UInt64(n)) { leaves[Int($0)] }
                #expect(proof == (m == n ? [] : ReferenceMerkle.subproof(m, leaves[..<n], true)), "PROOF(\(m), \(n))")
                #expect(Merkle.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: roots[m], newRoot: root, proof: proof))
                if m < n {
                    var wrongOld = roots[m]
                    wrongOld[0] ^= 0x80
                    #expect(!Merkle.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: wrongOld, newRoot: root, proof: proof))
                    #expect(!Merkle.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: roots[m], newRoot: roots[n - 1], proof: proof))
                    for j in proof.indices {
                        var bad = proof
                        bad[j][31 - j % 32] ^= 0x01
                        #expect(!Merkle.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: roots[m], newRoot: root, proof: bad))
                    }
                }
            }
        }
    }

    @Test("proofs that cannot exist are empty and do not verify")
    func degenerate() {
        let leaves = Self.leaves
        #expect(Merkle.inclusionProof(index: 5, size: 5) { leaves[Int($0)] } == [])
        #expect(Merkle.consistencyProof(old: 0, new: 5) { leaves[Int($0)] } == [])
        #expect(Merkle.consistencyProof(old: 6, new: 5) { leaves[Int($0)] } == [])
        #expect(Merkle.root(size: 0) { leaves[Int($0)] } == Merkle.emptyRoot)
        let root5 = Merkle.root(size: 5) { leaves[Int($0)] }
        #expect(!Merkle.verifyInclusion(leafHash: leaves[5], index: 5, size: 5, proof: [], root: root5))
        #expect(!Merkle.verifyConsistency(oldSize: 0, newSize: 5, oldRoot: Merkle.emptyRoot, newRoot: root5, proof: []))
        #expect(!Merkle.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: Merkle.emptyRoot, newRoot: Merkle.emptyRoot, proof: []))
        #expect(Merkle.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root5, newRoot: root5, proof: []))
        #expect(!Merkle.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root5, newRoot: root5, proof: [root5]))
    }

    @Test("the leaf closure's errors propagate")
    func errorsPropagate() {
        struct Unreadable: Error {}
        #expect(throws: Unreadable.self) { try Merkle.root(size: 3) { i in if i == 2 { throw Unreadable() }; return Self.leaves[0] } }
        #expect(throws: Unreadable.self) { try Merkle.inclusionProof(index: 0, size: 3) { _ in throw Unreadable() } }
        #expect(throws: Unreadable.self) { try Merkle.consistencyProof(old: 1, new: 3) { _ in throw Unreadable() } }
        #expect(throws: Unreadable.self) { try MerkleFrontier(size: 3) { _ in throw Unreadable() } }
    }

    @Test("a frontier survives serialisation at every size, and bad bytes are refused")
    func frontierSerialisation() {
        var f = MerkleFrontier()
        for n in 0...64 {
            let bytes = f.serialized()
            #expect(bytes.count == 9 + 32 * n.nonzeroBitCount)
            let back = MerkleFrontier(serialized: bytes)
            #expect(back == f)
            #expect(back?.root == f.root)
            #expect(MerkleFrontier(size: UInt64(n)) { Self.leaves[Int($0)] } == f)
            #expect(MerkleFrontier(serialized: bytes + [0]) == nil)
            if n > 0 { #expect(MerkleFrontier(serialized: Array(bytes.dropLast())) == nil) }
            var wrongVersion = bytes
            wrongVersion[0] = 2
            #expect(MerkleFrontier(serialized: wrongVersion) == nil)
            if n < 64 { f.append(leafHash: Self.leaves[n]) }
        }
        #expect(MerkleFrontier(serialized: []) == nil)
        // Continuing from a restored frontier gives the same tree as never stopping.
        var restored = MerkleFrontier(serialized: MerkleFrontier(size: 37) { Self.leaves[Int($0)] }.serialized())
        for i in 37..<64 { restored?.append(leafHash: Self.leaves[i]) }
        #expect(restored?.root == Merkle.root(size: 64) { Self.leaves[Int($0)] })
    }

    @Test("random large trees: proofs verify against the frontier's root")
    func randomLarge() {
        var rng = SplitMix64(seed: 62)
        let leaves = (0..<3_000).map { Merkle.leafHash([UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)]) }
        let frontier = MerkleFrontier(size: UInt64(leaves.count)) { leaves[Int($0)] }
        for _ in 0..<20 {
            let n = rng.int(in: 1...leaves.count)
            let i = rng.below(n)
            let m = rng.int(in: 1...n)
            let root = Merkle.root(size: UInt64(n)) { leaves[Int($0)] }
            let proof = Merkle.inclusionProof(index: UInt64(i), size: UInt64(n)) { leaves[Int($0)] }
            #expect(Merkle.verifyInclusion(leafHash: leaves[i], index: UInt64(i), size: UInt64(n), proof: proof, root: root))
            let old = Merkle.root(size: UInt64(m)) { leaves[Int($0)] }
            let cproof = Merkle.consistencyProof(old: UInt64(m), new: UInt64(leaves.count)) { leaves[Int($0)] }
            #expect(Merkle.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(leaves.count), oldRoot: old, newRoot: frontier.root, proof: cproof))
        }
    }
}
