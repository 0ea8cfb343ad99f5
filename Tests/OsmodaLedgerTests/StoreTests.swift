import Foundation
import OsmodaCore
import OsmodaLedger
import Testing

@Suite struct StoreTests {
    @Test func appendAndReadBackByteExact() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        #expect(store.sealedReason == nil)
        #expect(store.origin == "osmoda.ledger/test-host")
        var acknowledged: [AppendedEntry] = []
        for i in 0..<12 { acknowledged.append(try store.append(Fixtures.request(i))) }
        acknowledged += try store.append((12..<30).map { Fixtures.request($0) })

        #expect(acknowledged.map(\.seq) == Array(1...30))
        #expect(acknowledged[0].entry.prevHash == LedgerEntry.genesisPrevHash)
        for (a, b) in zip(acknowledged, acknowledged.dropFirst()) {
            #expect(b.entry.prevHash == a.hash)
            #expect(b.ts >= a.ts)
        }
        for a in acknowledged {
            #expect(a.hash == LedgerHash.entryHash(a.entry))
            #expect(a.entry.actor == Fixtures.actor)
            let stored = try #require(try store.entry(seq: a.seq))
            #expect(stored == a)
            #expect(stored.entry.payload == Fixtures.payload(Int(a.seq) - 1))
        }
        #expect(try store.entry(seq: 31) == nil)
        #expect(try store.lastSeq == 30)
        #expect(try store.count == 30)

        var streamed: [StoredEntry] = []
        try store.entries(from: 5, through: 9) { streamed.append($0) }
        #expect(streamed == Array(acknowledged[4...8]))
        var all = 0
        try store.entries { _ in all += 1 }
        #expect(all == 30)

        let stats = try store.stats()
        #expect(stats.entries == 30 && stats.lastSeq == 30)
        #expect(stats.firstTs == acknowledged.first?.ts && stats.lastTs == acknowledged.last?.ts)
        #expect(stats.databaseBytes > 0)
        #expect(stats.checkpoints == 0 && stats.sealedReason == nil && stats.epoch == 1)
        store.close()

        // Reopening verifies the tail (no checkpoint yet: the whole chain) and continues it.
        let again = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { again.close() }
        #expect(again.sealedReason == nil)
        let next = try again.append(Fixtures.request(30))
        #expect(next.seq == 31 && next.entry.prevHash == acknowledged[29].hash)
        #expect(try again.verifyAll().ok)
    }

    @Test func schemaAndPragmas() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        _ = try store.append(Fixtures.request(0))
        let raw = try SQLiteConnection(path: store.path, flags: [.readWrite])
        #expect(try raw.pragma("journal_mode") == "wal")
        let tables = try raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        var names: [String] = []
        while try tables.step() { names.append(tables.text(0)) }
        #expect(names == ["checkpoints", "entries", "merkle_blocks", "meta", "tree_state"])
        let meta = try raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'")
        #expect(try meta.step() && meta.text(0) == "1")
        store.close()

        // A database of a future schema is refused, not misread.
        try raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        raw.close()
        #expect(errorCode { _ = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options()) } == .schema)
    }

    @Test func validationRefusesBadRequests() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        let a = Fixtures.actor
        let cases: [(String, [UInt8], LedgerStoreError.Code)] = [
            ("Service.restart", Array("{}".utf8), .invalidType),
            ("service", Array("{}".utf8), .invalidType),
            ("service..restart", Array("{}".utf8), .invalidType),
            ("service.", Array("{}".utf8), .invalidType),
            ("service.re-start", Array("{}".utf8), .invalidType),
            (String(repeating: "a", count: 60) + ".abcd", Array("{}".utf8), .invalidType),
            ("ledger.recovered", Array("{}".utf8), .reservedType),
            ("x.y", Array("[1]".utf8), .invalidPayload),
            ("x.y", Array(#""str""#.utf8), .invalidPayload),
            ("x.y", Array(#"{"a":}"#.utf8), .invalidPayload),
            ("x.y", Array(" {}".utf8), .invalidPayload),
            ("x.y", Array("{\n}".utf8), .invalidPayload),
            ("x.y", Array(#"{"a":1} {"b":2}"#.utf8), .invalidPayload),
            ("x.y", [0x7B, 0xFF, 0x7D], .invalidPayload),
            ("x.y", Array(("{\"a\":\"" + String(repeating: "x", count: 65_530) + "\"}").utf8), .payloadTooLarge),
        ]
        for (type, payload, code) in cases {
            #expect(errorCode { _ = try store.append(AppendRequest(type: type, payload: payload, actor: a)) } == code, "type '\(type)'")
        }
        // A batch with one bad request writes nothing.
        #expect(throws: LedgerStoreError.self) {
            try store.append([Fixtures.request(0), AppendRequest(type: "BAD", payload: Array("{}".utf8), actor: a)])
        }
        #expect(try store.lastSeq == 0)
        // The limits themselves are accepted.
        let max64 = String(repeating: "a", count: 31) + "." + String(repeating: "b", count: 32)
        let exact = Array(("{\"a\":\"" + String(repeating: "x", count: 65_536 - 8) + "\"}").utf8)
        #expect(exact.count == 65_536)
        let e = try store.append(AppendRequest(type: max64, payload: exact, actor: a))
        #expect(try store.entry(seq: e.seq)?.entry.payload == exact)
        _ = try store.append(AppendRequest(type: "a_1.b_2.c_3", payload: Array("{}".utf8), actor: a))
    }

    @Test func inclusionAndConsistencyProofs() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        try Fixtures.appendMany(store, 37, batch: 5)
        let cp = try store.checkpoint()
        #expect(cp.size == 37)
        for size in [UInt64(1), 2, 7, 8, 16, 37] {
            for seq in Set([UInt64(1), (size + 1) / 2, size]) {
                let proof = try store.inclusionProof(seq: seq, size: size)
                #expect(proof.verify(), "seq \(seq) size \(size)")
                if size == 37 { #expect(proof.root == cp.root) }
                var bad = proof
                bad.leafHash[0] ^= 1
                #expect(!bad.verify())
            }
        }
        for (old, new) in [(UInt64(1), UInt64(37)), (7, 8), (8, 37), (13, 37), (37, 37), (16, 17)] {
            let proof = try store.consistencyProof(old: old, new: new)
            #expect(proof.verify(), "\(old) → \(new)")
            if new == 37 { #expect(proof.newRoot == cp.root) }
            if !proof.hashes.isEmpty {
                var bad = proof
                bad.hashes[0][5] ^= 0x80
                #expect(!bad.verify())
            }
        }
        #expect(throws: LedgerStoreError.self) { try store.inclusionProof(seq: 0) }
        #expect(throws: LedgerStoreError.self) { try store.inclusionProof(seq: 38) }
        #expect(throws: LedgerStoreError.self) { try store.inclusionProof(seq: 3, size: 40) }
        #expect(throws: LedgerStoreError.self) { try store.consistencyProof(old: 0, new: 5) }
        #expect(throws: LedgerStoreError.self) { try store.consistencyProof(old: 9, new: 5) }
    }

    /// A transaction that fails part-way acknowledges nothing and leaves the writer's
    /// state as it was: a real SQLite failure, injected by a trigger that aborts the
    /// insert of one seq.
    @Test func failedTransactionAcknowledgesNothing() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        try Fixtures.appendMany(store, 3)
        let raw = try SQLiteConnection(path: store.path, flags: [.readWrite])
        try raw.execute("CREATE TRIGGER fail_five BEFORE INSERT ON entries WHEN NEW.seq = 5 BEGIN SELECT RAISE(ABORT, 'injected failure'); END")

        do {
            _ = try store.append([Fixtures.request(3), Fixtures.request(4), Fixtures.request(5)])
            Issue.record("the batch was acknowledged")
        } catch {
            #expect(error.code == .storage)
            #expect(error.message.contains("injected failure"))
        }
        #expect(try store.lastSeq == 3)
        #expect(try store.entry(seq: 4) == nil)

        // Through the group committer: every caller of the failing batch gets the error.
        let committer = GroupCommitter(store: store)
        let first = try committer.submit(Fixtures.request(3))
        #expect(first.seq == 4)
        #expect(throws: LedgerStoreError.self) { try committer.submit(Fixtures.request(4)) }
        #expect(committer.statistics.failedBatches == 1)
        #expect(try store.lastSeq == 4)

        try raw.execute("DROP TRIGGER fail_five")
        raw.close()
        let fifth = try committer.submit(Fixtures.request(4))
        #expect(fifth.seq == 5 && fifth.entry.prevHash == first.hash)
        #expect(store.sealedReason == nil)
        #expect(try store.verifyAll().ok)
        _ = try store.checkpoint()
        store.close()

        // A closed store acknowledges nothing either.
        #expect(errorCode { _ = try committer.submit(Fixtures.request(9)) } == .closed)
        #expect(throws: LedgerStoreError.self) { try store.checkpoint() }
        let reopened = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { reopened.close() }
        #expect(try reopened.lastSeq == 5)
        #expect(reopened.sealedReason == nil)
    }

    @Test func readOnlyCopyVerifiesOffline() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let state = dir.sub("state")
        let store = try LedgerStore.open(stateDirectory: state, options: Fixtures.options())
        try Fixtures.appendMany(store, 50)
        let kept = try store.checkpoint()
        try Fixtures.appendMany(store, 10, from: 50)
        let key = try Fixtures.readPub(state)
        #expect(key == store.verifierKey)

        // A copy taken while the daemon runs: the file and its write-ahead log.
        try FileManager.default.createDirectory(atPath: dir.sub("live"), withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: store.path, toPath: dir.sub("live/ledger.sqlite"))
        if FileManager.default.fileExists(atPath: store.path + "-wal") {
            try FileManager.default.copyItem(atPath: store.path + "-wal", toPath: dir.sub("live/ledger.sqlite-wal"))
        }
        store.close()
        // A copy of a stopped daemon's file (its WAL folded in at close).
        try FileManager.default.copyItem(atPath: store.path, toPath: dir.sub("copy.sqlite"))

        for path in [dir.sub("live/ledger.sqlite"), dir.sub("copy.sqlite")] {
            let ro = try LedgerStore.openReadOnly(path: path)
            defer { ro.close() }
            #expect(ro.isReadOnly)
            #expect(try ro.lastSeq == 60)
            let verdict = try ro.verifyAll(externalCheckpoints: [kept.note], trustedKey: key)
            #expect(verdict.ok, "\(verdict)")
            #expect(verdict.entriesChecked == 60)
            #expect(verdict.checkpointsMatched.contains(50))
            #expect(try ro.verifyTail().ok)
            #expect(errorCode { _ = try ro.append(Fixtures.request(1)) } == .readOnly)
            #expect(throws: LedgerStoreError.self) { try ro.checkpoint() }
        }
        #expect(throws: LedgerStoreError.self) { try LedgerStore.openReadOnly(path: dir.sub("missing.sqlite")) }
    }

    @Test func exportVerifiesWithoutSQLite() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { store.close() }
        try Fixtures.appendMany(store, 40)
        let cp = try store.checkpoint()
        var text: [UInt8] = []
        try store.export { text += $0 }
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        #expect(lines.count == 41 && lines.last == [])

        // Every line is a flat ledger.entry record with the payload embedded verbatim.
        let first = try JSONReader.parse(lines[0])
        #expect(first["type"] == .string("ledger.entry"))
        #expect(first["seq"] == .int(1))
        #expect(first["entry_type"] == .string("test.event"))
        #expect(first["actor_uid"] == .int(1000) && first["actor_exe"] == .string("/usr/bin/osmoda-test"))
        #expect(first["prev_hash"] == .string(String(repeating: "0", count: 64)))
        #expect(lines[1].suffix(Fixtures.payload(1).count + 1) == ArraySlice(Fixtures.payload(1) + [UInt8(ascii: "}")]))

        let ok = try LedgerExport.verify(lines: lines, checkpoints: [cp.note], key: store.verifierKey, origin: store.origin)
        #expect(ok.ok, "\(ok)")
        #expect(ok.entriesChecked == 40 && ok.checkpointsMatched == [40])
        #expect(ok.treeHead?.root == cp.root)

        // One changed byte in line 17's payload.
        var tampered = lines
        let at = try #require(tampered[16].lastIndex(of: UInt8(ascii: "7")))
        tampered[16][at] = UInt8(ascii: "8")
        let v1 = try LedgerExport.verify(lines: tampered)
        #expect(!v1.ok && v1.firstBadSeq == 17 && v1.failureCode == "ledger.hash")

        // A changed hash in line 30 (the hash no longer matches its entry).
        tampered = lines
        let hashKey = Array("\"hash\":\"".utf8)
        let hashAt = try #require(tampered[29].firstRange(of: hashKey)).upperBound
        tampered[29][hashAt] = tampered[29][hashAt] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        let v2 = try LedgerExport.verify(lines: tampered)
        #expect(!v2.ok && v2.firstBadSeq == 30)

        // A dropped line, a line that is not JSON, and a truncated export.
        var dropped = lines
        dropped.remove(at: 9)
        #expect(try LedgerExport.verify(lines: dropped).firstBadSeq == 10)
        var garbage = lines
        garbage[4] = Array("{not json".utf8)
        let v3 = try LedgerExport.verify(lines: garbage)
        #expect(v3.firstBadSeq == 5 && v3.failureCode == "ledger.malformed")
        let short = Array(lines.prefix(25))
        #expect(try LedgerExport.verify(lines: short).ok)
        let v4 = try LedgerExport.verify(lines: short, checkpoints: [cp.note], key: store.verifierKey)
        #expect(!v4.ok && v4.firstBadSeq == 26 && v4.failureCode == "ledger.truncated")
        // A checkpoint note that does not verify is an input error, not a verdict.
        #expect(throws: LedgerStoreError.self) {
            try LedgerExport.verify(lines: lines, checkpoints: [cp.note.replacingOccurrences(of: "\n40\n", with: "\n41\n")], key: store.verifierKey)
        }
    }

    @Test func recoveryStartsANewEpochAndKeepsTheEvidence() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        try Fixtures.appendMany(store, 20)
        _ = try store.checkpoint()
        try Fixtures.appendMany(store, 5, from: 20)
        store.close()

        // Nothing to recover in a healthy ledger.
        #expect(errorCode {
            _ = try LedgerStore.recover(stateDirectory: dir.path, acknowledging: "test", actor: Fixtures.actor, options: Fixtures.options())
        } == .notSealed)

        try StoreTamper.withRaw(dir.path) { raw in try StoreTamper.flipBlob(raw, seq: 23, column: "payload") }
        let sealed = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        let reason = try #require(sealed.sealedReason)
        #expect(reason.code == .verificationFailed && reason.message.contains("seq 23"))
        sealed.close()

        let admin = Actor(uid: 0, gid: 0, pid: 1, exe: "/usr/bin/osmodad")
        let recovery = try LedgerStore.recover(
            stateDirectory: dir.path, acknowledging: "disk replaced; see ticket 42", actor: admin, options: Fixtures.options())
        let fresh = recovery.store
        defer { fresh.close() }
        #expect(fresh.epoch == 2 && fresh.origin == "osmoda.ledger/test-host/epoch-2")
        #expect(recovery.entry.seq == 1 && recovery.entry.entry.type == "ledger.recovered" && recovery.entry.entry.actor == admin)
        let evidence = try JSONReader.parse(recovery.entry.entry.payload)
        #expect(evidence["first_bad_seq"] == .int(23))
        #expect(evidence["acknowledged"] == .string("disk replaced; see ticket 42"))
        #expect(evidence["previous_entries"] == .int(25))
        #expect(evidence["previous_epoch"] == .int(1))
        #expect(recovery.checkpoint.size == 1)
        #expect(fresh.sealedReason == nil)
        _ = try fresh.append(Fixtures.request(1))
        #expect(try fresh.verifyAll().ok)

        // The archive is untouched and still shows the damage.
        let archived = try LedgerStore.openReadOnly(path: recovery.archivedDatabase)
        defer { archived.close() }
        #expect(try archived.verifyAll().firstBadSeq == 23)
        #expect(try archived.lastSeq == 25)

        // The recovered ledger reopens clean.
        fresh.close()
        let reopened = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        defer { reopened.close() }
        #expect(reopened.sealedReason == nil && reopened.epoch == 2)
    }
}
