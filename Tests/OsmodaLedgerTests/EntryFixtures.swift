import OsmodaCore
import OsmodaLedger
import OsmodaTestSupport

/// Entries and chains for the ledger core's tests.
enum EntryFixtures {
    static let actor = Actor(uid: 1000, gid: 100, pid: 4242, exe: "/usr/bin/osmoda-ledger")

    static func entry(
        seq: UInt64 = 1, ms: Int64 = 1_767_323_045_678, type: String = "service.restart", actor: Actor = actor,
        payload: String = #"{"unit":"nginx.service"}"#, prevHash: [UInt8] = LedgerEntry.genesisPrevHash
    ) -> LedgerEntry {
        LedgerEntry(
            seq: seq, ts: Timestamp(millisecondsSinceEpoch: ms), type: type, actor: actor, payload: Array(payload.utf8),
            prevHash: prevHash)
    }

    /// A valid chain of `count` entries from seq 1, with varied fields.
    static func chain(count: Int, seed: UInt64 = 7) -> [LedgerEntry] {
        var rng = SplitMix64(seed: seed)
        let types = ["service.restart", "file.write", "package.install", "key.sign", "user.add"]
        let hasher = LedgerHasher()
        var entries: [LedgerEntry] = []
        entries.reserveCapacity(count)
        var prev = LedgerEntry.genesisPrevHash
        for i in 0..<count {
            let payload = #"{"n":\#(i),"host":"web-\#(rng.below(50))","ok":\#(rng.bool())}"#
            let e = entry(
                seq: UInt64(i + 1), ms: 1_767_323_045_678 + Int64(i) * 37, type: rng.pick(types),
                actor: Actor(uid: UInt32(rng.below(3) * 1000), gid: 100, pid: Int32(1000 + rng.below(30_000)), exe: "/usr/bin/osmoda-agent"),
                payload: payload, prevHash: prev)
            prev = hasher.entryHash(e)
            entries.append(e)
        }
        return entries
    }

    /// Recomputes every `prevHash` from `start` on, as a forger who rewrites the tail would.
    static func rechain(_ entries: inout [LedgerEntry], from start: Int = 0) {
        var prev = start == 0 ? LedgerEntry.genesisPrevHash : LedgerHash.entryHash(entries[start - 1])
        for i in start..<entries.count {
            entries[i].prevHash = prev
            prev = LedgerHash.entryHash(entries[i])
        }
    }

    static func hex(_ s: String) -> [UInt8] {
        guard let bytes = LedgerHash.bytes(hex: s) else { preconditionFailure("bad hex in a test: \(s)") }
        return bytes
    }
}
