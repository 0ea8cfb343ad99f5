import OsmodaCore
import OsmodaLedger
import Testing

@Suite("Chain verifier")
struct ChainVerifierTests {
    static let entries = EntryFixtures.chain(count: 20)

    static func head(_ entries: [LedgerEntry], size: Int) -> MerkleTreeHead {
        let frontier = MerkleFrontier(size: UInt64(size)) { LedgerHash.leafHash(entries[Int($0)]) }
        return frontier.treeHead
    }

    /// Verifies with the hashes storage would keep beside each row (computed before the
    /// tampering), as the daemon and `osmoda-ledger verify` do.
    static func verifyWithStoredHashes(_ entries: [LedgerEntry], stored: [[UInt8]], checkpoints: [MerkleTreeHead] = []) -> ChainVerdict {
        var v = ChainVerifier(checkpoints: checkpoints)
        for (i, e) in entries.enumerated() where !v.feed(e, storedHash: i < stored.count ? stored[i] : nil) { break }
        return v.finish()
    }

    @Test("a good chain verifies, with its tip, frontier and checkpoints")
    func good() {
        let entries = Self.entries
        let checkpoints = [Self.head(entries, size: 20), Self.head(entries, size: 0), Self.head(entries, size: 7)]
        let verdict = ChainVerifier.verify(entries: entries, checkpoints: checkpoints)
        #expect(verdict.isValid)
        #expect(verdict.failure == nil)
        #expect(verdict.entriesChecked == 20)
        #expect(verdict.tipSeq == 20)
        #expect(verdict.tipHash == LedgerHash.entryHash(entries[19]))
        #expect(verdict.frontier?.root == Self.head(entries, size: 20).root)
        #expect(verdict.checkpointsMatched == [0, 7, 20])

        let empty = ChainVerifier.verify(entries: [])
        #expect(empty.isValid)
        #expect(empty.tipSeq == 0)
        #expect(empty.tipHash == LedgerEntry.genesisPrevHash)
    }

    @Test("streaming in runs gives the same verdict as one pass")
    func runs() {
        let entries = Self.entries
        let checkpoints = [Self.head(entries, size: 12), Self.head(entries, size: 20)]
        let first = ChainVerifier.verify(entries: entries[..<9], checkpoints: checkpoints.filter { $0.size <= 9 })
        #expect(first.isValid)
        let second = ChainVerifier.verify(
            entries: entries[9...], startingAfter: (first.tipSeq, first.tipHash), frontier: first.frontier, checkpoints: checkpoints)
        #expect(second.isValid)
        #expect(second.checkpointsMatched == [12, 20])
        #expect(second.tipHash == ChainVerifier.verify(entries: entries).tipHash)

        // Without a frontier the chain is still checked, but checkpoints cannot be.
        let noTree = ChainVerifier.verify(entries: entries[9...], startingAfter: (first.tipSeq, first.tipHash))
        #expect(noTree.isValid)
        #expect(noTree.frontier == nil)
        let refused = ChainVerifier.verify(entries: entries[9...], startingAfter: (first.tipSeq, first.tipHash), checkpoints: checkpoints)
        #expect(refused.failure?.kind == .anchor)
        #expect(refused.failure?.seq == 10)
        let wrongFrontier = ChainVerifier.verify(
            entries: entries[9...], startingAfter: (first.tipSeq, first.tipHash), frontier: MerkleFrontier())
        #expect(wrongFrontier.failure?.kind == .anchor)
        let shortAnchor = ChainVerifier.verify(entries: entries[9...], startingAfter: (9, [1, 2, 3]))
        #expect(shortAnchor.failure?.kind == .anchor)
        #expect(shortAnchor.entriesChecked == 0)
        // An anchor at seq 0 with the zero hash is the same as no anchor.
        #expect(ChainVerifier.verify(entries: entries, startingAfter: (0, LedgerEntry.genesisPrevHash), checkpoints: checkpoints).isValid)
        // A wrong anchor hash is a broken link at the first entry.
        let wrongAnchor = ChainVerifier.verify(entries: entries[9...], startingAfter: (9, LedgerEntry.genesisPrevHash))
        #expect(wrongAnchor.failure == ChainFailure(seq: 10, kind: .link, reason: wrongAnchor.failure?.reason ?? ""))
    }

    enum Field: String, CaseIterable, Sendable {
        case seq, ts, type, uid, gid, pid, exe, payload, prevHash, storedHash
    }

    static func tamper(_ e: inout LedgerEntry, _ field: Field) {
        switch field {
        case .seq: e.seq ^= 0x100
        case .ts: e.ts = Timestamp(millisecondsSinceEpoch: e.ts.millisecondsSinceEpoch ^ 1)
        case .type: e.type = String(e.type.dropLast()) + "X"
        case .uid: e.actor.uid ^= 1
        case .gid: e.actor.gid ^= 1
        case .pid: e.actor.pid ^= 1
        case .exe: e.actor.exe = String(e.actor.exe.dropLast()) + "X"
        case .payload: e.payload[e.payload.count / 2] ^= 0x01
        case .prevHash: e.prevHash[5] ^= 0x01
        case .storedHash: break
        }
    }

    @Test("one changed byte in any field, of a middle or the last entry, names that entry", arguments: Field.allCases, [9, 19])
    func oneByte(_ field: Field, _ index: Int) {
        var entries = Self.entries
        var stored = entries.map(LedgerHash.entryHash)
        Self.tamper(&entries[index], field)
        if field == .storedHash { stored[index][0] ^= 0x01 }
        let verdict = Self.verifyWithStoredHashes(entries, stored: stored)
        #expect(verdict.failure?.seq == UInt64(index + 1), "\(verdict.failure?.description ?? "passed")")
        #expect(verdict.entriesChecked == UInt64(index))
        #expect(verdict.tipSeq == UInt64(index))
    }

    @Test("without stored hashes, a changed middle entry breaks the next link; the last one needs a checkpoint")
    func oneByteNoStoredHashes() {
        var entries = Self.entries
        entries[9].payload[2] ^= 0x01
        let middle = ChainVerifier.verify(entries: entries)
        #expect(middle.failure?.kind == .link)
        #expect(middle.failure?.seq == 11)

        entries = Self.entries
        let checkpoint = Self.head(entries, size: 20)
        entries[19].payload[2] ^= 0x01
        #expect(ChainVerifier.verify(entries: entries).isValid)  // nothing else vouches for the last entry
        let last = ChainVerifier.verify(entries: entries, checkpoints: [checkpoint])
        #expect(last.failure?.kind == .root)
        #expect(last.failure?.seq == 1)
    }

    @Test("a deleted entry names the missing seq")
    func deleted() {
        var entries = Self.entries
        entries.remove(at: 9)
        let verdict = ChainVerifier.verify(entries: entries)
        #expect(verdict.failure?.kind == .sequence)
        #expect(verdict.failure?.seq == 10)
        #expect(verdict.failure?.reason == "expected seq 10, found seq 11: seq 10 missing")
        entries.removeSubrange(9..<12)
        #expect(ChainVerifier.verify(entries: entries).failure?.reason == "expected seq 10, found seq 14: seq 10…13 missing")
        #expect(ChainVerifier.verify(entries: entries[1...]).failure?.reason == "expected seq 1, found seq 2: seq 1 missing")
        var zero = Self.entries[0]
        zero.seq = 0
        #expect(ChainVerifier.verify(entries: [zero]).failure?.reason == "expected seq 1, found seq 0 again or out of order")
        zero.seq = .max
        #expect(ChainVerifier.verify(entries: [zero]).failure?.seq == 1)
    }

    @Test("two swapped entries name the first position")
    func swapped() {
        var entries = Self.entries
        entries.swapAt(9, 10)
        let verdict = ChainVerifier.verify(entries: entries)
        #expect(verdict.failure?.kind == .sequence)
        #expect(verdict.failure?.seq == 10)
        // Swapped with their seqs renumbered, the link breaks instead.
        entries[9].seq = 10
        entries[10].seq = 11
        #expect(ChainVerifier.verify(entries: entries).failure?.seq == 10)
    }

    @Test("an inserted entry is found, renumbered or not")
    func inserted() {
        var entries = Self.entries
        var forged = entries[9]
        forged.payload = Array(#"{"forged":true}"#.utf8)
        entries.insert(forged, at: 10)  // a second seq 10
        #expect(ChainVerifier.verify(entries: entries).failure?.seq == 11)
        #expect(ChainVerifier.verify(entries: entries).failure?.kind == .sequence)
        // Renumbered after it, with the forger fixing the link into it.
        for i in 10..<entries.count { entries[i].seq = UInt64(i + 1) }
        entries[10].prevHash = LedgerHash.entryHash(entries[9])
        let verdict = ChainVerifier.verify(entries: entries)
        #expect(verdict.failure?.kind == .link)
        #expect(verdict.failure?.seq == 12)
    }

    @Test("a truncated tail is found against a kept checkpoint")
    func truncated() {
        let entries = Self.entries
        let checkpoint = Self.head(entries, size: 20)
        let verdict = ChainVerifier.verify(entries: entries[..<15], checkpoints: [checkpoint])
        #expect(verdict.failure?.kind == .truncated)
        #expect(verdict.failure?.seq == 16)
        #expect(verdict.tipSeq == 15)
        #expect(ChainVerifier.verify(entries: entries[..<15]).isValid)  // and not without one
    }

    @Test("a wholesale re-chain is found against kept checkpoints, between the last good and the first bad")
    func rechained() {
        var entries = Self.entries
        let checkpoints = [5, 12, 20].map { Self.head(entries, size: $0) }
        entries[8].payload = Array(#"{"n":8,"rewritten":true}"#.utf8)
        EntryFixtures.rechain(&entries, from: 8)
        #expect(ChainVerifier.verify(entries: entries).isValid)  // the chain alone cannot tell
        let verdict = ChainVerifier.verify(entries: entries, checkpoints: checkpoints)
        #expect(verdict.failure?.kind == .root)
        #expect(verdict.failure?.seq == 6)
        #expect(verdict.checkpointsMatched == [5])
        #expect(verdict.failure?.reason.contains("seq 6…12") == true)

        // Rewriting the whole table from seq 1, with every hash fresh.
        var all = Self.entries
        for i in all.indices { all[i].actor.uid = 0 }
        EntryFixtures.rechain(&all)
        let whole = ChainVerifier.verify(entries: all, checkpoints: [checkpoints[2]])
        #expect(whole.failure?.kind == .root)
        #expect(whole.failure?.seq == 1)
    }

    @Test("seq 1 must start from 32 zero bytes, and every prevHash has 32 bytes")
    func genesisAndMalformed() {
        var entries = Self.entries
        entries[0].prevHash[0] = 1
        EntryFixtures.rechain(&entries, from: 1)
        #expect(ChainVerifier.verify(entries: entries).failure?.seq == 1)
        entries = Self.entries
        entries[4].prevHash.removeLast()
        let verdict = ChainVerifier.verify(entries: entries)
        #expect(verdict.failure?.kind == .malformed)
        #expect(verdict.failure?.seq == 5)
    }

    @Test("feeding after a failure is ignored")
    func stopsAtFirst() {
        var v = ChainVerifier()
        let fed = [v.feed(Self.entries[0]), v.feed(Self.entries[2]), v.feed(Self.entries[1])]
        #expect(fed == [true, false, false])
        #expect(v.failure?.seq == 2)
        #expect(v.finish().entriesChecked == 1)
    }

    /// Prints the rate only; budgets are checked by benchmarks (DESIGN §9), not by timed
    /// tests. Meaningful in release: `swift test -c release --filter ChainVerifier`.
    @Test("verification rate on 200k entries (printed, not asserted)")
    func rate() {
        let count = 200_000
        let entries = EntryFixtures.chain(count: count, seed: 99)
        let checkpoint = MerkleFrontier(size: UInt64(count)) { LedgerHash.leafHash(entries[Int($0)]) }.treeHead
        let clock = ContinuousClock()
        var verdict: ChainVerdict?
        let elapsed = clock.measure {
            verdict = ChainVerifier.verify(entries: entries, checkpoints: [checkpoint])
        }
        #expect(verdict?.isValid == true)
        #expect(verdict?.checkpointsMatched == [UInt64(count)])
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        #if DEBUG
        let build = "debug build"
        #else
        let build = "release build"
        #endif
        print("ChainVerifier: \(count) entries in \(Int(seconds * 1000)) ms = \(Int(Double(count) / seconds)) entries/s (\(build), with Merkle root)")
    }
}
