import Foundation
import OsmodaCore
import OsmodaLedger
import Synchronization
import Testing

/// Figures for DESIGN §9, printed next to their raw SQLite peers on the same disk.
/// They assert nothing: timing belongs to benchmarks, not to pass/fail. The counts are
/// small so the suite stays quick; set `OSMODA_BENCH_SCALE` (e.g. 10) for steadier numbers.
@Suite(.serialized) struct StoreBenchmarkTests {
    static let scale = Int(ProcessInfo.processInfo.environment["OSMODA_BENCH_SCALE"] ?? "") ?? 1

    static func report(_ name: String, _ value: Double, _ unit: String) {
        print("bench: \(name): \(Int(value.rounded())) \(unit)")
    }

    @Test func durableAppendsPerSecond() throws {
        for (threads, perThread) in [(1, 300), (8, 250), (64, 60)] {
            let dir = try TempDir()
            defer { dir.remove() }
            let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
            defer { store.close() }
            let committer = GroupCommitter(store: store)
            let n = perThread * Self.scale
            let latencies = Mutex<[UInt64]>([])
            let start = monotonicNanos()
            onThreads(threads) { _ in
                var mine: [UInt64] = []
                mine.reserveCapacity(n)
                for i in 0..<n {
                    let t0 = monotonicNanos()
                    _ = try? committer.submit(Fixtures.request(i))
                    mine.append(monotonicNanos() - t0)
                }
                latencies.withLock { $0 += mine }
            }
            let seconds = Double(monotonicNanos() - start) / 1e9
            let total = threads * n
            let stats = committer.statistics
            Self.report("durable appends/s, \(threads) submitter(s)", Double(total) / seconds, "entries/s (mean batch \(String(format: "%.1f", Double(stats.entries) / Double(max(stats.batches, 1)))))")
            let sorted = latencies.withLock { $0 }.sorted()
            if threads == 1, !sorted.isEmpty {
                let p50 = Double(sorted[sorted.count / 2]) / 1e6
                let p99 = Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1e6
                print("bench: single append latency: p50 \(String(format: "%.3f", p50)) ms, p99 \(String(format: "%.3f", p99)) ms")
            }
        }
    }

    @Test func rawSQLitePeers() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let db = try SQLiteConnection(path: dir.sub("raw.sqlite"), flags: [.readWrite, .create])
        #expect(try db.pragma("journal_mode=WAL") == "wal")
        try db.execute("PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB, hash BLOB)")
        let insert = try db.prepare("INSERT INTO t (payload, hash) VALUES (?, ?)")
        let payload = Fixtures.payload(0)
        let hash = [UInt8](repeating: 7, count: 32)

        let single = 300 * Self.scale
        var start = monotonicNanos()
        for _ in 0..<single {
            try db.transaction { () throws(SQLiteError) in
                try insert.bind(payload, at: 1)
                try insert.bind(hash, at: 2)
                try insert.run()
            }
        }
        Self.report("raw SQLite single-row fsynced inserts/s", Double(single) / (Double(monotonicNanos() - start) / 1e9), "rows/s")

        let batches = 20 * Self.scale
        start = monotonicNanos()
        for _ in 0..<batches {
            try db.transaction { () throws(SQLiteError) in
                for _ in 0..<1000 {
                    try insert.bind(payload, at: 1)
                    try insert.bind(hash, at: 2)
                    try insert.run()
                }
            }
        }
        Self.report("raw SQLite batched inserts/s (1000 rows/txn)", Double(batches * 1000) / (Double(monotonicNanos() - start) / 1e9), "rows/s")
    }

    @Test func batchedAppendsAndVerificationRate() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        let total = 50_000 * Self.scale
        let requests = (0..<1000).map { Fixtures.request($0) }
        var start = monotonicNanos()
        for _ in 0..<(total / 1000) { _ = try store.append(requests) }
        Self.report("store appends/s in batches of 1000", Double(total) / (Double(monotonicNanos() - start) / 1e9), "entries/s")
        _ = try store.checkpoint()

        start = monotonicNanos()
        let verdict = try store.verifyAll()
        let seconds = Double(monotonicNanos() - start) / 1e9
        #expect(verdict.ok)
        Self.report("verifyAll", Double(total) / seconds, "entries/s")

        start = monotonicNanos()
        var lines: [[UInt8]] = []
        try store.export { lines.append(Array($0.dropLast())) }
        let exportSeconds = Double(monotonicNanos() - start) / 1e9
        start = monotonicNanos()
        #expect(try LedgerExport.verify(lines: lines).ok)
        Self.report("export", Double(total) / exportSeconds, "entries/s")
        Self.report("verify export", Double(total) / (Double(monotonicNanos() - start) / 1e9), "entries/s")

        start = monotonicNanos()
        let proof = try store.inclusionProof(seq: UInt64(total / 3))
        #expect(proof.verify())
        print("bench: inclusion proof over \(total) entries: \(String(format: "%.1f", Double(monotonicNanos() - start) / 1e6)) ms")
    }
}
