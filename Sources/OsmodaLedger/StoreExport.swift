import OsmodaCore

/// The JSON Lines export of a ledger, and its verification without SQLite.
///
/// One line per entry, a flat `ledger.entry` record whose keys are always in this
/// order, with `payload` last and embedded as the stored JSON object, byte for byte:
///
///     {"type":"ledger.entry","ts":"2026-11-24T20:27:03.123Z","seq":1,"entry_type":"service.restart",
///      "actor_uid":0,"actor_gid":0,"actor_pid":812,"actor_exe":"/usr/bin/osmoda-watch",
///      "prev_hash":"00…00","hash":"…","leaf_hash":"…","payload":{"unit":"nginx.service"}}
///
/// (one line in the file). Hashes are lowercase hex. `verifyExport` recomputes every
/// hash from these fields, so the file is checked by the same rules as the database.
public enum LedgerExport {
    static let payloadKey: [UInt8] = Array(",\"payload\":".utf8)

    /// The export line of `e`, without its newline.
    public static func line(_ e: StoredEntry) -> [UInt8] {
        let x = e.entry
        let head = JSONObject([
            "type": .string("ledger.entry"),
            "ts": .string(x.ts.rfc3339),
            "seq": .int(Int64(bitPattern: x.seq)),
            "entry_type": .string(x.type),
            "actor_uid": .int(Int64(x.actor.uid)),
            "actor_gid": .int(Int64(x.actor.gid)),
            "actor_pid": .int(Int64(x.actor.pid)),
            "actor_exe": .string(x.actor.exe),
            "prev_hash": .string(LedgerHash.hex(x.prevHash)),
            "hash": .string(LedgerHash.hex(e.hash)),
            "leaf_hash": .string(LedgerHash.hex(e.leafHash)),
        ])
        var out: [UInt8] = []
        out.reserveCapacity(400 + x.payload.count)
        JSONWriter.write(.object(head), into: &out)
        out.removeLast()  // the closing brace; the payload goes last
        out.append(contentsOf: payloadKey)
        out.append(contentsOf: x.payload)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads one export line back. Fails on anything but the form `line` writes: a
    /// whole-line JSON object with every field of the right type, and a payload that is
    /// a JSON object equal to the parsed `payload` member.
    public static func parse(_ bytes: [UInt8]) -> Result<StoredEntry, LedgerStoreError> {
        let object: JSONObject
        do {
            object = try bytes.withUnsafeBufferPointer { buf throws(JSONError) in try JSONReader.parseRecord(buf, projecting: nil) }
        } catch {
            return .failure(bad("not a JSON object: \(error)"))
        }
        guard case .string("ledger.entry")? = object["type"] else { return .failure(bad("type is not 'ledger.entry'")) }
        guard case .int(let seq)? = object["seq"], seq >= 1 else { return .failure(bad("seq is not a positive integer")) }
        guard case .string(let tsText)? = object["ts"], let ts = Timestamp(rfc3339: tsText) else { return .failure(bad("ts is not an RFC 3339 time")) }
        guard case .string(let type)? = object["entry_type"] else { return .failure(bad("entry_type is not a string")) }
        guard case .int(let uid)? = object["actor_uid"], let uid32 = UInt32(exactly: uid),
              case .int(let gid)? = object["actor_gid"], let gid32 = UInt32(exactly: gid),
              case .int(let pid)? = object["actor_pid"], let pid32 = Int32(exactly: pid),
              case .string(let exe)? = object["actor_exe"]
        else { return .failure(bad("actor_uid, actor_gid, actor_pid or actor_exe is missing or out of range")) }
        var hashes: [[UInt8]] = []
        for key in ["prev_hash", "hash", "leaf_hash"] {
            guard case .string(let hex)? = object[key], let h = LedgerHash.bytes(hex: hex), h.count == LedgerHash.size else {
                return .failure(bad("\(key) is not 64 hex digits"))
            }
            hashes.append(h)
        }
        guard let payload = payloadBytes(bytes) else { return .failure(bad("payload is not the last member")) }
        do {
            let value = try JSONReader.parse(payload)
            guard case .object = value, value == object["payload"] else { return .failure(bad("payload is not the embedded JSON object")) }
        } catch {
            return .failure(bad("payload is not a JSON object: \(error)"))
        }
        let entry = LedgerEntry(
            seq: UInt64(seq), ts: ts, type: type, actor: Actor(uid: uid32, gid: gid32, pid: pid32, exe: exe), payload: payload,
            prevHash: hashes[0])
        return .success(StoredEntry(entry: entry, hash: hashes[1], leafHash: hashes[2]))
    }

    static func bad(_ message: String) -> LedgerStoreError { LedgerStoreError(.badExport, message) }

    /// The raw bytes of the payload: from the first `,"payload":` to the final `}`.
    /// No earlier member can contain that text: inside a JSON string every `"` is escaped.
    static func payloadBytes(_ line: [UInt8]) -> [UInt8]? {
        guard line.last == UInt8(ascii: "}"), line.count > payloadKey.count else { return nil }
        var i = 0
        while i + payloadKey.count < line.count {
            if line[i] == payloadKey[0], line[i..<(i + payloadKey.count)].elementsEqual(payloadKey) {
                return Array(line[(i + payloadKey.count)..<(line.count - 1)])
            }
            i += 1
        }
        return nil
    }

    /// Verifies an export, line by line, by the rules `LedgerStore.verifyAll` applies to
    /// a database: contiguous seqs from 1, each chain link, each stored hash and leaf
    /// hash, and the Merkle root at the size of each checkpoint note in `checkpoints`
    /// (verified with `key`; `origin`, when given, must match). Empty lines are skipped.
    ///
    /// A checkpoint note that does not verify is an error (`ledger.bad_checkpoint`); a
    /// damaged export is the verdict.
    public static func verify<S: Sequence>(
        lines: S, checkpoints: [String] = [], key: NoteVerifierKey? = nil, origin: String? = nil
    ) throws(LedgerStoreError) -> LedgerVerdict where S.Element == [UInt8] {
        var heads: [MerkleTreeHead] = []
        if !checkpoints.isEmpty {
            guard let key else { throw LedgerStoreError(.invalidArgument, "checking an export against checkpoints needs their verifier key") }
            for note in checkpoints { heads.append(try CheckpointNote.verify(note, key: key, origin: origin).treeHead) }
        }
        var verifier = ChainVerifier(checkpoints: heads)
        var number = 0
        for raw in lines {
            number += 1
            let line = raw.last == 0x0D ? Array(raw.dropLast()) : raw
            if line.isEmpty { continue }
            switch parse(line) {
            case .failure(let why):
                let expected = verifier.finish().tipSeq + 1
                let failure = ChainFailure(seq: expected, kind: .malformed, reason: "line \(number): \(why.message)")
                return LedgerVerdict(chain: verifier.finish(), failure: failure)
            case .success(let e):
                if !verifier.feed(e.entry, storedHash: e.hash) { return LedgerVerdict(chain: verifier.finish(), failure: nil) }
                if e.leafHash != e.hash {
                    let failure = ChainFailure(seq: e.seq, kind: .hash, reason: "line \(number): leaf_hash differs from the entry's recomputed hash")
                    return LedgerVerdict(chain: verifier.finish(), failure: failure)
                }
            }
        }
        return LedgerVerdict(chain: verifier.finish(), failure: nil)
    }
}

extension LedgerStore {
    /// Writes the export of entries `from...through` (default: all), one line each
    /// with its newline, through `write`, streaming from a snapshot.
    public func export(from: UInt64 = 1, through: UInt64? = nil, _ write: ([UInt8]) throws -> Void) throws {
        try entries(from: from, through: through) { e in
            var line = LedgerExport.line(e)
            line.append(0x0A)
            try write(line)
        }
    }
}
