import Foundation
import OsmodaCore
import OsmodaKeys
import OsmodaLedger
import OsmodaVault
import Testing

/// Figures for the vault's policy path: durable decisions per second with a no-op
/// signer (so what is measured is policy + usage + ledger entry + fsync), and the cost
/// of a full 24 h window. They assert nothing. `OSMODA_BENCH_SCALE` multiplies counts.
@Suite(.serialized) struct PolicyBenchmarkTests {
    static let scale = Int(ProcessInfo.processInfo.environment["OSMODA_BENCH_SCALE"] ?? "") ?? 1

    static func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    @Test(arguments: [0, 20_000])
    func authorizationsPerSecond(rowsInWindow: Int) throws {
        let w = try GateWorld(policy: #"{"keys":{"k1":{"max_per_24h":"1000000000000000000000000000","max_signatures_per_24h":1000000}},"chains":{"ethereum":{"max_per_tx":"1000000000000000000"}}}"#)
        if rowsInWindow > 0 {
            w.store.close()
            let raw = try SQLiteConnection(path: w.statePath + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
            try raw.execute("BEGIN")
            let insert = try raw.prepare("INSERT INTO ext_vault_usage (ts, key, chain, amount, d0, d1, d2, d3, d4, d5, d6, d7) VALUES (?, 'k1', 'ethereum', '1000000000', 1000000000, 0, 0, 0, 0, 0, 0, 0)")
            for i in 0..<rowsInWindow {
                try insert.bind(w.clock.ms - Int64(i % 1000), at: 1)
                try insert.run()
            }
            try raw.execute("COMMIT")
            raw.close()
            try w.restart()
        }
        let n = 200 * Self.scale
        let payload = #"{"key":"k1","chain":"ethereum","kind":"transaction","amount":"1000000000","destination":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","decision":"allowed","rule":"key:k1,chain:ethereum","reason":"allowed by key:k1 and chain:ethereum","policy_version":1,"details":{"tx_hash":"0xabc"}}"#
        let a0 = Self.nanos()
        for _ in 0..<n { _ = try w.store.append(AppendRequest(type: "vault.sign", payload: payload, actor: GateWorld.agent)) }
        print("bench: plain ledger append of the same entry: \(Int(Double(n) / (Double(Self.nanos() - a0) / 1e9))) /s")
        let b0 = Self.nanos()
        for _ in 0..<n {
            _ = try w.store.appendAtomically { _ throws(LedgerStoreError) in
                (AppendRequest(type: "vault.sign", payload: payload, actor: GateWorld.agent), 0)
            }
        }
        print("bench: appendAtomically with an empty body: \(Int(Double(n) / (Double(Self.nanos() - b0) / 1e9))) /s")
        let start = Self.nanos()
        for _ in 0..<n { _ = try w.sign(tx("k1", .ethereum, "1000000000")) }
        let seconds = Double(Self.nanos() - start) / 1e9
        print("bench: policy authorize (ledger entry + fsync, no-op signer), \(rowsInWindow) rows in the window: \(Int(Double(n) / seconds)) /s")
        let checks = 2000 * Self.scale
        let c0 = Self.nanos()
        for _ in 0..<checks { _ = try w.gate.check(tx("k1", .ethereum, "1")) }
        let cs = Double(Self.nanos() - c0) / 1e9
        print("bench: policy check (read snapshot), \(rowsInWindow) rows in the window: \(Int(Double(checks) / cs)) /s")
    }
}
