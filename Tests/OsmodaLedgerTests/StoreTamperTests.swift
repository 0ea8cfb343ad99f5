import Foundation
import OsmodaCore
import OsmodaLedger
import Testing

/// Tampering with a ledger database directly, as someone with write access to the file
/// would: raw SQLite, no store in between.
enum StoreTamper {
    static func withRaw(_ stateDir: String, _ body: (SQLiteConnection) throws -> Void) throws {
        let raw = try SQLiteConnection(path: stateDir + "/" + LedgerStore.databaseFileName, flags: [.readWrite])
        defer { raw.close() }
        try body(raw)
    }

    static func flipBlob(_ raw: SQLiteConnection, seq: UInt64, column: String) throws {
        let read = try raw.prepare("SELECT \(column) FROM entries WHERE seq = ?")
        try read.bind(Int64(seq), at: 1)
        guard try read.step() else { throw StoreTestFailure("no seq \(seq)") }
        var bytes = read.blob(0)
        // Flip a bit of a byte that stays printable, so a payload stays valid JSON text.
        let i = bytes.count / 2
        bytes[i] = bytes[i] == UInt8(ascii: "a") ? UInt8(ascii: "b") : (bytes[i] >= 0x30 && bytes[i] < 0x7E ? bytes[i] ^ 0x01 : bytes[i] ^ 0x80)
        let write = try raw.prepare("UPDATE entries SET \(column) = ? WHERE seq = ?")
        try write.bind(bytes, at: 1)
        try write.bind(Int64(seq), at: 2)
        try write.run()
    }

    static func flipText(_ raw: SQLiteConnection, seq: UInt64, column: String) throws {
        let read = try raw.prepare("SELECT \(column) FROM entries WHERE seq = ?")
        try read.bind(Int64(seq), at: 1)
        guard try read.step() else { throw StoreTestFailure("no seq \(seq)") }
        var bytes = Array(read.text(0).utf8)
        bytes[0] = bytes[0] == UInt8(ascii: "u") ? UInt8(ascii: "v") : UInt8(ascii: "u")
        let write = try raw.prepare("UPDATE entries SET \(column) = ? WHERE seq = ?")
        try write.bind(String(decoding: bytes, as: UTF8.self), at: 1)
        try write.bind(Int64(seq), at: 2)
        try write.run()
    }

    static func flipInteger(_ raw: SQLiteConnection, seq: UInt64, column: String, mask: Int64 = 1) throws {
        // x ^ mask, written with SQL's operators: (x | m) - (x & m).
        let xor = try raw.prepare("UPDATE entries SET \(column) = (\(column) | ?1) - (\(column) & ?1) WHERE seq = ?2")
        try xor.bind(mask, at: 1)
        try xor.bind(Int64(seq), at: 2)
        try xor.run()
    }

    /// Every row, in seq order.
    static func rows(_ raw: SQLiteConnection) throws -> [StoredEntry] {
        let s = try raw.prepare("SELECT seq, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash FROM entries ORDER BY seq")
        var out: [StoredEntry] = []
        while try s.step() {
            let e = LedgerEntry(
                seq: UInt64(s.int64(0)), ts: Timestamp(millisecondsSinceEpoch: s.int64(1)), type: s.text(2),
                actor: Actor(uid: UInt32(s.int64(3)), gid: UInt32(s.int64(4)), pid: Int32(s.int64(5)), exe: s.text(6)),
                payload: s.blob(7), prevHash: s.blob(8))
            out.append(StoredEntry(entry: e, hash: s.blob(9), leafHash: s.blob(10)))
        }
        return out
    }

    static func insert(_ raw: SQLiteConnection, _ e: StoredEntry) throws {
        let s = try raw.prepare(
            "INSERT INTO entries (seq, ts, type, uid, gid, pid, exe, payload, prev_hash, hash, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try LedgerStore.bindEntry(e, to: s)
    }

    /// Rewrites the table from `entries` with fresh, correct hashes from `from` on, and
    /// makes the persisted Merkle state match: a re-chain that leaves no inconsistency
    /// inside the database. Stored checkpoints are deleted (or re-signed by the caller).
    static func rechain(_ raw: SQLiteConnection, _ entries: [LedgerEntry]) throws {
        try raw.execute("DELETE FROM entries; DELETE FROM checkpoints;")
        var prev = LedgerEntry.genesisPrevHash
        var frontier = MerkleFrontier()
        var before = MerkleFrontier()
        for var e in entries {
            e.prevHash = prev
            let h = LedgerHash.entryHash(e)
            try insert(raw, StoredEntry(entry: e, hash: h, leafHash: h))
            before = frontier
            frontier.append(leafHash: h)
            prev = h
        }
        try setTreeState(raw, frontier: frontier, before: before)
    }

    static func setTreeState(_ raw: SQLiteConnection, frontier: MerkleFrontier, before: MerkleFrontier) throws {
        let s = try raw.prepare("UPDATE tree_state SET size = ?, frontier = ?, prev_frontier = ? WHERE id = 1")
        try s.bind(Int64(frontier.size), at: 1)
        try s.bind(frontier.serialized(), at: 2)
        try s.bind(before.serialized(), at: 3)
        try s.run()
    }
}

/// A closed ledger of 120 entries with checkpoints at 40 and 100, whose notes and
/// verifier key are also kept "elsewhere" (in memory), as a witness would keep them.
struct TamperFixture {
    let dir: TempDir
    let notes: [String]
    let key: NoteVerifierKey
    var state: String { dir.path }

    init() throws {
        let dir = try TempDir()
        do {
            let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
            defer { store.close() }
            try Fixtures.appendMany(store, 40, batch: 20)
            let c40 = try store.checkpoint()
            try Fixtures.appendMany(store, 60, batch: 20, from: 40)
            let c100 = try store.checkpoint()
            try Fixtures.appendMany(store, 20, batch: 20, from: 100)
            notes = [c40.note, c100.note]
            key = try Fixtures.readPub(dir.path)
            self.dir = dir
        } catch {
            dir.remove()
            throw error
        }
    }

    /// Verifies offline, as `osmoda-ledger verify --checkpoint` would on a copy.
    func verify(external: Bool = false) throws -> LedgerVerdict {
        let ro = try LedgerStore.openReadOnly(path: dir.sub(LedgerStore.databaseFileName))
        defer { ro.close() }
        return try ro.verifyAll(externalCheckpoints: external ? notes : [], trustedKey: key)
    }

    /// Reopens as the daemon would and reports what an append then does.
    func appendAfterReopen(full: Bool = false) throws -> LedgerStoreError? {
        var options = Fixtures.options()
        options.startupVerification = full ? .full : .tail
        let store = try LedgerStore.open(stateDirectory: dir.path, options: options)
        defer { store.close() }
        do {
            _ = try store.append(Fixtures.request(999))
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct StoreTamperTests {
    /// Every field of one entry, one byte changed: named at that entry's seq.
    static let fields: [(String, @Sendable (SQLiteConnection, UInt64) throws -> Void)] = [
        ("seq", { try StoreTamper.flipInteger($0, seq: $1, column: "seq", mask: 0x100) }),
        ("ts", { try StoreTamper.flipInteger($0, seq: $1, column: "ts") }),
        ("type", { try StoreTamper.flipText($0, seq: $1, column: "type") }),
        ("uid", { try StoreTamper.flipInteger($0, seq: $1, column: "uid") }),
        ("gid", { try StoreTamper.flipInteger($0, seq: $1, column: "gid") }),
        ("pid", { try StoreTamper.flipInteger($0, seq: $1, column: "pid") }),
        ("exe", { try StoreTamper.flipText($0, seq: $1, column: "exe") }),
        ("payload", { try StoreTamper.flipBlob($0, seq: $1, column: "payload") }),
        ("prev_hash", { try StoreTamper.flipBlob($0, seq: $1, column: "prev_hash") }),
        ("hash", { try StoreTamper.flipBlob($0, seq: $1, column: "hash") }),
        ("leaf_hash", { try StoreTamper.flipBlob($0, seq: $1, column: "leaf_hash") }),
    ]

    @Test(arguments: [UInt64(50), 100, 120])
    func oneByteOfEachField(seq: UInt64) throws {
        for (name, tamper) in Self.fields {
            let f = try TamperFixture()
            defer { f.dir.remove() }
            #expect(try f.verify(external: true).ok)
            try StoreTamper.withRaw(f.state) { try tamper($0, seq) }
            let verdict = try f.verify()
            #expect(!verdict.ok, "\(name) of \(seq)")
            #expect(verdict.firstBadSeq == seq, "\(name) of \(seq): \(verdict)")
            #expect(try f.verify(external: true).firstBadSeq == seq, "\(name) of \(seq) with the kept checkpoints")
            // Fail closed: 100 and 120 are in reach of the start-up check (the last
            // checkpoint's entry and the tail); 50 needs the full check.
            let refused = try f.appendAfterReopen(full: seq == 50)
            #expect(refused?.code == .verificationFailed, "\(name) of \(seq)")
            #expect(refused?.message.contains("seq \(seq)") == true, "\(name) of \(seq): \(refused?.message ?? "")")
        }
    }

    @Test func tailCheckAloneDoesNotReadOldEntries() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { try StoreTamper.flipBlob($0, seq: 50, column: "payload") }
        // Documented: the start-up tail check vouches for the tail only; verifyAll finds it.
        #expect(try f.appendAfterReopen() == nil)
        #expect(try f.verify().firstBadSeq == 50)
    }

    @Test func deletedEntry() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { try $0.execute("DELETE FROM entries WHERE seq = 50") }
        let v = try f.verify()
        #expect(v.firstBadSeq == 50 && v.failureCode == "ledger.sequence", "\(v)")
        #expect(try f.appendAfterReopen(full: true)?.code == .verificationFailed)
    }

    @Test func swappedEntries() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { raw in
            try raw.execute("""
                UPDATE entries SET seq = 1050 WHERE seq = 50;
                UPDATE entries SET seq = 50 WHERE seq = 60;
                UPDATE entries SET seq = 60 WHERE seq = 1050;
                """)
        }
        let v = try f.verify()
        #expect(v.firstBadSeq == 50, "\(v)")
        #expect(try f.appendAfterReopen(full: true)?.code == .verificationFailed)
    }

    /// A forged entry inserted at 50 with a correct link and hash of its own: the chain
    /// breaks at the entry after it, whose prevHash no longer matches.
    @Test func insertedEntry() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { raw in
            let rows = try StoreTamper.rows(raw)
            try raw.execute("UPDATE entries SET seq = seq + 1000 WHERE seq >= 50; UPDATE entries SET seq = seq - 999 WHERE seq >= 1000;")
            var forged = rows[49].entry
            forged.seq = 50
            forged.payload = Array(#"{"forged":true}"#.utf8)
            forged.prevHash = rows[48].hash
            let h = LedgerHash.entryHash(forged)
            try StoreTamper.insert(raw, StoredEntry(entry: forged, hash: h, leafHash: h))
        }
        let v = try f.verify()
        #expect(v.firstBadSeq == 51, "\(v)")
        #expect(v.failureCode == "ledger.link" || v.failureCode == "ledger.hash")
        #expect(try f.appendAfterReopen()?.code == .verificationFailed)
    }

    /// Deleting the tail: the stored checkpoint at 100 shows it; when the stored
    /// checkpoints and Merkle state are rewritten too, only a kept checkpoint does.
    @Test func truncatedTail() throws {
        let crude = try TamperFixture()
        defer { crude.dir.remove() }
        try StoreTamper.withRaw(crude.state) { try $0.execute("DELETE FROM entries WHERE seq > 80") }
        let v1 = try crude.verify()
        #expect(v1.firstBadSeq == 81, "\(v1)")
        #expect(try crude.appendAfterReopen()?.code == .verificationFailed)

        let careful = try TamperFixture()
        defer { careful.dir.remove() }
        try StoreTamper.withRaw(careful.state) { raw in
            let rows = try StoreTamper.rows(raw)
            try raw.execute("DELETE FROM entries WHERE seq > 80; DELETE FROM checkpoints WHERE size > 80;")
            let frontier = MerkleFrontier(size: 80) { rows[Int($0)].hash }
            let before = MerkleFrontier(size: 79) { rows[Int($0)].hash }
            try StoreTamper.setTreeState(raw, frontier: frontier, before: before)
        }
        #expect(try careful.verify().ok)  // nothing left inside the database shows it
        let v2 = try careful.verify(external: true)
        #expect(!v2.ok && v2.firstBadSeq == 81 && v2.failureCode == "ledger.truncated", "\(v2)")
    }

    /// Root re-chains the whole table with fresh, correct hashes, deletes the stored
    /// checkpoints and even signs a new one with the key from the state directory:
    /// only the checkpoints kept elsewhere show it.
    @Test func wholesaleRechain() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { raw in
            var entries = try StoreTamper.rows(raw).map(\.entry)
            entries[0].payload = Array(#"{"i":0,"unit":"sshd.service"}"#.utf8)
            try StoreTamper.rechain(raw, entries)
        }
        let resigned = try LedgerStore.open(stateDirectory: f.state, options: Fixtures.options())
        #expect(resigned.sealedReason == nil)
        _ = try resigned.checkpoint()
        resigned.close()

        #expect(try f.verify().ok)
        let v = try f.verify(external: true)
        #expect(!v.ok && v.firstBadSeq == 1 && v.failureCode == "ledger.root", "\(v)")

        // A kept note checked on its own says the same.
        let ro = try LedgerStore.openReadOnly(path: f.dir.sub(LedgerStore.databaseFileName))
        defer { ro.close() }
        #expect(try ro.verifyAll(externalCheckpoints: [f.notes[1]], trustedKey: f.key).firstBadSeq == 1)
    }

    /// A re-chain from the middle is located between the kept checkpoints.
    @Test func rechainFromTheMiddle() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { raw in
            var entries = try StoreTamper.rows(raw).map(\.entry)
            entries[59].payload = Array(#"{"i":59,"rewritten":true}"#.utf8)
            try StoreTamper.rechain(raw, entries)
        }
        #expect(try f.verify().ok)
        let v = try f.verify(external: true)
        #expect(v.firstBadSeq == 41 && v.failureCode == "ledger.root", "\(v)")
        #expect(v.reason?.contains("41…100") == true)
        #expect(v.checkpointsMatched == [40])
    }

    @Test func storedCheckpointTampering() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        try StoreTamper.withRaw(f.state) { raw in
            try raw.execute("UPDATE checkpoints SET note = replace(note, char(10) || '100' || char(10), char(10) || '101' || char(10)) WHERE size = 100")
        }
        let v = try f.verify()
        #expect(!v.ok && v.failureCode == "ledger.checkpoint", "\(v)")
        #expect(try f.appendAfterReopen()?.code == .verificationFailed)
    }

    @Test func replacedSigningKeySeals() throws {
        let f = try TamperFixture()
        defer { f.dir.remove() }
        unlink(f.dir.sub(CheckpointSigner.keyFileName))
        let store = try LedgerStore.open(stateDirectory: f.state, options: Fixtures.options())
        defer { store.close() }
        #expect(store.sealedReason?.code == .verificationFailed)
        #expect(errorCode { _ = try store.checkpoint() } == .verificationFailed)
    }
}
