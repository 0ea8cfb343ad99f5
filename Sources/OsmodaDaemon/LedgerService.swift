import OsmodaCore
import OsmodaIPC
import OsmodaLedger

/// The ledger's methods, served by the daemon: the only writer of the ledger.
///
/// The actor of every appended entry is the peer the kernel reports (SO_PEERCRED),
/// never a field of the request. Appends go through the group committer, so each is
/// acknowledged only once its batch is durable.
public enum LedgerService {
    struct AppendParams: Decodable, Sendable {
        var type: String
        var payload: JSONValue?
        var payloadJSON: String?
        enum CodingKeys: String, CodingKey {
            case type, payload
            case payloadJSON = "payload_json"
        }
    }

    struct AppendReply: Encodable, Sendable {
        var seq: UInt64
        var hash: String
        var ts: String
    }

    /// `{"records": [{"type", "payload_json"}…]}`, decoded by hand: this is the hot path
    /// of bulk appends, and the generic decoder cost more than hashing and SQLite
    /// together. It is as strict as `ValueDecoder`: unknown fields are refused.
    struct BatchParams: Sendable {
        var records: [(type: String, payload: [UInt8])]

        static func parse(_ raw: JSONValue) throws(RPCError) -> BatchParams {
            guard case .object(let o) = raw else { throw .invalidParams("params: expected an object") }
            var list: [JSONValue]?
            for m in o.members {
                guard m.key == "records" else { throw .invalidParams("params: '\(m.key)': unknown field") }
                guard case .array(let a) = m.value else { throw .invalidParams("params: 'records': expected an array") }
                list = a
            }
            guard let list else { throw .invalidParams("params: 'records': missing required field") }
            guard list.count <= LedgerMethod.maxBatchRecords else {
                throw .invalidParams("at most \(LedgerMethod.maxBatchRecords) records in one batch, not \(list.count)")
            }
            var records: [(type: String, payload: [UInt8])] = []
            records.reserveCapacity(list.count)
            for (i, item) in list.enumerated() {
                guard case .object(let r) = item else { throw .invalidParams("params: 'records[\(i)]': expected an object") }
                var type: String?
                var payload: [UInt8]?
                for m in r.members {
                    guard case .string(let s) = m.value else {
                        if m.key == "type" || m.key == "payload_json" {
                            throw .invalidParams("params: 'records[\(i)].\(m.key)': expected a string")
                        }
                        throw .invalidParams("params: 'records[\(i)].\(m.key)': unknown field")
                    }
                    switch m.key {
                    case "type": type = s
                    case "payload_json": payload = Array(s.utf8)
                    default: throw .invalidParams("params: 'records[\(i)].\(m.key)': unknown field")
                    }
                }
                guard let type else { throw .invalidParams("params: 'records[\(i)].type': missing required field") }
                guard let payload else { throw .invalidParams("params: 'records[\(i)].payload_json': missing required field") }
                records.append((type, payload))
            }
            return BatchParams(records: records)
        }
    }

    struct RangeParams: Decodable, Sendable {
        var from: UInt64?
        var through: UInt64?
        var limit: Int?
    }

    struct VerifyParams: Decodable, Sendable {
        var checkpoints: [String]?
    }

    struct ProveParams: Decodable, Sendable {
        var seq: UInt64
        var size: UInt64?
    }

    struct ConsistencyParams: Decodable, Sendable {
        var old: UInt64
        var new: UInt64?
    }

    /// Decodes params strictly; `null` or absent params count as `{}`.
    static func params<P: Decodable>(_ type: P.Type, _ raw: JSONValue) throws(RPCError) -> P {
        let value: JSONValue = raw == .null ? .object(JSONObject()) : raw
        switch Result(catching: { () throws(ValueDecodingError) -> P in try ValueDecoder.decode(P.self, from: value) }) {
        case .success(let p): return p
        case .failure(let e): throw .invalidParams("params: \(e)")
        }
    }

    /// Maps a store error to a socket error with the store's stable code.
    static func rpc(_ e: LedgerStoreError) -> RPCError {
        RPCError(RPCErrorCode(rawValue: e.code.rawValue), e.message)
    }

    static func hex(_ b: [UInt8]) -> String { LedgerHash.hex(b) }

    /// Runs a store call, turning its error into the socket's error.
    static func storeCall<T>(_ body: () throws(LedgerStoreError) -> T) throws(RPCError) -> T {
        switch Result(catching: body) {
        case .success(let v): return v
        case .failure(let e): throw rpc(e)
        }
    }

    /// Registers the ledger's methods on `router`.
    public static func register(on router: inout Router, store: LedgerStore, committer: GroupCommitter) {
        router.register(LedgerMethod.append, role: .agent, params: AppendParams.self) { (peer, p) throws(RPCError) -> AppendReply in
            let payload: [UInt8]
            switch (p.payload, p.payloadJSON) {
            case (nil, let text?): payload = Array(text.utf8)
            case (let value?, nil): payload = Array(JSONWriter.serialize(value).utf8)
            default: throw .invalidParams("give exactly one of 'payload' (an object) and 'payload_json' (its text)")
            }
            let actor = Actor(uid: peer.uid, gid: peer.gid, pid: peer.pid, exe: peer.exe ?? "")
            let e = try storeCall { () throws(LedgerStoreError) in try committer.submit(AppendRequest(type: p.type, payload: payload, actor: actor)) }
            return AppendReply(seq: e.seq, hash: hex(e.hash), ts: e.ts.rfc3339)
        }

        // Many records in one request: each is validated on its own (a bad one is
        // answered with its error, the others still go in), the valid ones are written
        // in one transaction, and the reply comes only after it is durable.
        router.register(LedgerMethod.appendBatch, role: .agent) { (peer, raw) throws(RPCError) -> JSONValue in
            let p = try BatchParams.parse(raw)
            let actor = Actor(uid: peer.uid, gid: peer.gid, pid: peer.pid, exe: peer.exe ?? "")
            var results = [JSONValue](repeating: .null, count: p.records.count)
            var valid: [(Int, AppendRequest)] = []
            for (i, r) in p.records.enumerated() {
                let request = AppendRequest(type: r.type, payload: r.payload, actor: actor)
                do throws(LedgerStoreError) {
                    try request.validate()
                    valid.append((i, request))
                } catch {
                    results[i] = .object(JSONObject(["error": .object(JSONObject(["code": .string(error.code.rawValue), "message": .string(error.message)]))]))
                }
            }
            if !valid.isEmpty {
                let written = try storeCall { () throws(LedgerStoreError) in try store.append(valid.map(\.1)) }
                for ((i, _), e) in zip(valid, written) {
                    results[i] = .object(JSONObject(["seq": .int(Int64(e.seq)), "hash": .string(hex(e.hash)), "ts": .string(e.ts.rfc3339)]))
                }
            }
            return .object(JSONObject(["results": .array(results)]))
        }

        router.register(LedgerMethod.entries, role: .reader) { (_, raw) throws(RPCError) -> JSONValue in
            let p = try params(RangeParams.self, raw)
            let limit = min(max(p.limit ?? LedgerMethod.maxEntriesPerCall, 1), LedgerMethod.maxEntriesPerCall)
            // Each entry travels as its export line, text for text, so a client can
            // write it out byte-exact and `verify --export` recomputes the same hashes.
            var items: [JSONValue] = []
            let from = max(p.from ?? 1, 1)
            let last = try storeCall { () throws(LedgerStoreError) in try store.lastSeq }
            let through = min(p.through ?? last, from &+ UInt64(limit) &- 1)
            if from <= through {
                do {
                    try store.entries(from: from, through: through) { e in
                        items.append(.string(String(decoding: LedgerExport.line(e), as: UTF8.self)))
                    }
                } catch let e as LedgerStoreError {
                    throw rpc(e)
                } catch {
                    throw .internalError("cannot read entries: \(error)")
                }
            }
            return .object(JSONObject(["lines": .array(items), "last_seq": .int(Int64(last))]))
        }

        router.register(LedgerMethod.stats, role: .reader) { (_, _) throws(RPCError) -> JSONValue in
            let s: LedgerStats
            s = try storeCall { () throws(LedgerStoreError) in try store.stats() }
            var o = JSONObject([
                "entries": .int(Int64(s.entries)), "last_seq": .int(Int64(s.lastSeq)),
                "database_bytes": .int(s.databaseBytes), "checkpoints": .int(Int64(s.checkpoints)),
                "origin": .string(s.origin), "epoch": .int(Int64(s.epoch)),
            ])
            o["first_ts"] = s.firstTs.map { .string($0.rfc3339) } ?? .null
            o["last_ts"] = s.lastTs.map { .string($0.rfc3339) } ?? .null
            o["last_checkpoint_size"] = s.lastCheckpointSize.map { .int(Int64($0)) } ?? .null
            o["sealed_reason"] = s.sealedReason.map { .string($0) } ?? .null
            o["verifier_key"] = .string(store.verifierKey.description)
            return .object(o)
        }

        router.register(LedgerMethod.verify, role: .reader) { (_, raw) throws(RPCError) -> JSONValue in
            let p = try params(VerifyParams.self, raw)
            let v: LedgerVerdict
            v = try storeCall { () throws(LedgerStoreError) in try store.verifyAll(externalCheckpoints: p.checkpoints ?? []) }
            return verdictJSON(v)
        }

        router.register(LedgerMethod.prove, role: .reader) { (_, raw) throws(RPCError) -> JSONValue in
            let p = try params(ProveParams.self, raw)
            let proof: InclusionProof
            proof = try storeCall { () throws(LedgerStoreError) in try store.inclusionProof(seq: p.seq, size: p.size) }
            return .object(JSONObject([
                "seq": .int(Int64(proof.seq)), "size": .int(Int64(proof.size)),
                "leaf_hash": .string(hex(proof.leafHash)), "root": .string(hex(proof.root)),
                "proof": .array(proof.hashes.map { .string(hex($0)) }),
            ]))
        }

        router.register(LedgerMethod.consistency, role: .reader) { (_, raw) throws(RPCError) -> JSONValue in
            let p = try params(ConsistencyParams.self, raw)
            let proof: ConsistencyProof
            proof = try storeCall { () throws(LedgerStoreError) in try store.consistencyProof(old: p.old, new: p.new) }
            return .object(JSONObject([
                "old_size": .int(Int64(proof.oldSize)), "new_size": .int(Int64(proof.newSize)),
                "old_root": .string(hex(proof.oldRoot)), "new_root": .string(hex(proof.newRoot)),
                "proof": .array(proof.hashes.map { .string(hex($0)) }),
            ]))
        }

        router.register(LedgerMethod.checkpoint, role: .agent) { (_, _) throws(RPCError) -> JSONValue in
            let c: SignedCheckpoint
            c = try storeCall { () throws(LedgerStoreError) in try store.checkpoint() }
            return .object(JSONObject([
                "origin": .string(c.origin), "size": .int(Int64(c.size)), "root": .string(hex(c.root)),
                "ts": .string(c.ts.rfc3339), "note": .string(c.note), "verifier_key": .string(store.verifierKey.description),
            ]))
        }
    }

    /// A verdict as the `ledger.verify` record's fields.
    public static func verdictJSON(_ v: LedgerVerdict) -> JSONValue {
        var o = JSONObject([
            "ok": .bool(v.ok), "entries_checked": .int(Int64(v.entriesChecked)),
            "checkpoints_matched": .array(v.checkpointsMatched.map { .int(Int64($0)) }),
        ])
        o["tree_size"] = v.treeHead.map { .int(Int64($0.size)) } ?? .null
        o["root"] = v.treeHead.map { .string(hex($0.root)) } ?? .null
        o["first_bad_seq"] = v.firstBadSeq.map { .int(Int64($0)) } ?? .null
        o["failure"] = v.failureCode.map { .string($0) } ?? .null
        o["reason"] = v.reason.map { .string($0) } ?? .null
        return .object(o)
    }
}
