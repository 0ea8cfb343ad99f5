import Foundation
import OsmodaCore
import OsmodaLedger
import Synchronization
import Testing

@Suite struct StoreConcurrencyTests {
    /// 8 threads × 500 submits through one group committer: every acknowledged entry is
    /// in the database as acknowledged, seqs are contiguous, the chain verifies, and
    /// commits were actually shared.
    @Test func eightThreadsGroupCommit() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        let committer = GroupCommitter(store: store)
        let acknowledged = Mutex<[AppendedEntry]>([])
        let failures = Mutex<[String]>([])
        onThreads(8) { t in
            var mine: [AppendedEntry] = []
            for i in 0..<500 {
                let actor = Actor(uid: UInt32(1000 + t), gid: 100, pid: Int32(t), exe: "/bin/thread\(t)")
                let payload = Array(#"{"thread":\#(t),"i":\#(i)}"#.utf8)
                do {
                    mine.append(try committer.submit(AppendRequest(type: "test.concurrent", payload: payload, actor: actor)))
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            acknowledged.withLock { $0 += mine }
        }
        #expect(failures.withLock { $0 } == [])
        let acks = acknowledged.withLock { $0 }.sorted { $0.seq < $1.seq }
        #expect(acks.count == 4000)
        #expect(acks.map(\.seq) == Array(1...4000))
        for a in acks {
            #expect(try store.entry(seq: a.seq) == a)
        }
        // Each thread's own entries are in the order it submitted them.
        for t in 0..<8 {
            let order = acks.filter { $0.entry.actor.uid == UInt32(1000 + t) }.map { $0.entry.payload }
            #expect(order == (0..<500).map { Array(#"{"thread":\#(t),"i":\#($0)}"#.utf8) })
        }
        let stats = committer.statistics
        print("group commit, 8 threads × 500: \(stats.batches) batches, largest \(stats.largestBatch), mean \(Double(stats.entries) / Double(max(stats.batches, 1)))")
        #expect(stats.entries == 4000 && stats.failedBatches == 0)
        #expect(stats.largestBatch > 1)
        #expect(stats.batches < 4000)
        let verdict = try store.verifyAll()
        #expect(verdict.ok && verdict.entriesChecked == 4000, "\(verdict)")
    }

    /// Reads and checkpoints run while appends go on; the store stays consistent.
    @Test func readersAndCheckpointsDuringAppends() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        let committer = GroupCommitter(store: store)
        let problems = Mutex<[String]>([])
        onThreads(6) { t in
            do {
                switch t {
                case 0..<4:
                    for i in 0..<150 { _ = try committer.submit(Fixtures.request(i)) }
                case 4:
                    for _ in 0..<10 {
                        let cp = try store.checkpoint()
                        if cp.size > 0 {
                            let proof = try store.inclusionProof(seq: cp.size, size: cp.size)
                            if proof.root != cp.root { problems.withLock { $0.append("root mismatch at \(cp.size)") } }
                        }
                    }
                default:
                    for _ in 0..<5 {
                        var last: UInt64 = 0
                        try store.entries { e in
                            if e.seq != last + 1 { problems.withLock { $0.append("gap after \(last)") } }
                            last = e.seq
                        }
                    }
                }
            } catch {
                problems.withLock { $0.append("\(error)") }
            }
        }
        #expect(problems.withLock { $0 } == [])
        #expect(try store.lastSeq == 600)
        #expect(try store.verifyAll().ok)
        store.close()
        let reopened = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { reopened.close() }
        #expect(reopened.sealedReason == nil)
    }
}
