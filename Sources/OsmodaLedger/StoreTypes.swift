import OsmodaCore

/// One entry to append: its type and payload as the client sent them, and the actor
/// as the daemon read it from the connection (`SO_PEERCRED`), never from the request.
///
/// The store assigns `seq`, `ts` and `prevHash`.
public struct AppendRequest: Sendable {
    public var type: String
    /// One JSON object on one line, stored byte for byte.
    public var payload: [UInt8]
    public var actor: Actor

    public init(type: String, payload: [UInt8], actor: Actor) {
        self.type = type
        self.payload = payload
        self.actor = actor
    }

    public init(type: String, payload: String, actor: Actor) {
        self.init(type: type, payload: Array(payload.utf8), actor: actor)
    }

    /// The longest type, in bytes.
    public static let maxTypeBytes = 64

    /// Checks what the store accepts; the first problem found is thrown.
    ///
    /// - `type`: lowercase `noun.event` — two or more dot-separated segments of
    ///   `[a-z0-9_]`, at most 64 bytes — and not in the `ledger.` namespace, which the
    ///   store keeps for the entries it writes itself (`ledger.recovered`).
    /// - `payload`: one JSON object (RFC 8259, as `JSONReader` parses it), at most
    ///   64 KiB, whose first byte is `{` and last byte `}`, with no CR or LF byte, so
    ///   that an export line can embed it verbatim. Whitespace between tokens and
    ///   duplicate keys are not errors: the bytes are kept as they are.
    public func validate() throws(LedgerStoreError) {
        try Self.validate(type: type, reservedAllowed: false)
        try Self.validate(payload: payload)
    }

    static func validate(type: String, reservedAllowed: Bool) throws(LedgerStoreError) {
        let bytes = Array(type.utf8)
        guard !bytes.isEmpty, bytes.count <= maxTypeBytes else {
            throw LedgerStoreError(.invalidType, "type must be 1 to \(maxTypeBytes) bytes, not \(bytes.count)")
        }
        var segments = 1
        var segmentLength = 0
        for b in bytes {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                segmentLength += 1
            case UInt8(ascii: "."):
                guard segmentLength > 0 else { throw LedgerStoreError(.invalidType, "type '\(type)' has an empty segment") }
                segments += 1
                segmentLength = 0
            default:
                throw LedgerStoreError(.invalidType, "type '\(type)' is not lowercase noun.event ([a-z0-9_] segments joined by '.')")
            }
        }
        guard segmentLength > 0, segments >= 2 else {
            throw LedgerStoreError(.invalidType, "type '\(type)' is not noun.event (two or more segments joined by '.')")
        }
        if !reservedAllowed, type.hasPrefix("ledger.") {
            throw LedgerStoreError(.reservedType, "type '\(type)' is reserved for entries the ledger writes itself")
        }
    }

    static func validate(payload: [UInt8]) throws(LedgerStoreError) {
        guard payload.count <= LedgerEntry.maxPayloadBytes else {
            throw LedgerStoreError(.payloadTooLarge, "payload is \(payload.count) bytes; the limit is \(LedgerEntry.maxPayloadBytes)")
        }
        guard payload.first == UInt8(ascii: "{"), payload.last == UInt8(ascii: "}") else {
            throw LedgerStoreError(.invalidPayload, "payload must be a JSON object starting with '{' and ending with '}'")
        }
        guard !payload.contains(0x0A), !payload.contains(0x0D) else {
            throw LedgerStoreError(.invalidPayload, "payload must be on one line (no CR or LF bytes)")
        }
        // Validated in full, nothing materialised: this runs once per append.
        let checked = payload.withUnsafeBufferPointer { buf in
            Result { () throws(JSONError) -> JSONObject in try JSONReader.parseRecord(buf, projecting: KeyProjection.none) }
        }
        if case .failure(let error) = checked {
            throw LedgerStoreError(.invalidPayload, "payload is not a JSON object: \(error)")
        }
    }
}

/// An entry as stored: the hashed fields, its chain hash, and its Merkle leaf hash.
///
/// In format version 1 the two hashes are the same value (`LedgerHash`); both columns
/// are kept, and verification checks each against the recomputed hash.
public struct StoredEntry: Sendable, Equatable {
    public var entry: LedgerEntry
    /// The chain hash; the next entry's `prevHash`.
    public var hash: [UInt8]
    /// The RFC 6962 leaf hash of the entry.
    public var leafHash: [UInt8]

    public var seq: UInt64 { entry.seq }
    public var ts: Timestamp { entry.ts }

    public init(entry: LedgerEntry, hash: [UInt8], leafHash: [UInt8]) {
        self.entry = entry
        self.hash = hash
        self.leafHash = leafHash
    }
}

/// What an append returns once it is durable.
public typealias AppendedEntry = StoredEntry

/// A summary of the ledger for `osmoda-ledger stats`.
public struct LedgerStats: Sendable, Equatable {
    public var entries: UInt64
    public var lastSeq: UInt64
    public var firstTs: Timestamp?
    public var lastTs: Timestamp?
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64
    public var checkpoints: UInt64
    public var lastCheckpointSize: UInt64?
    public var origin: String
    public var epoch: Int
    /// Why the store refuses appends, when it does.
    public var sealedReason: String?
}

/// The outcome of a verification: either every check passed, or the first sequence
/// number that does not verify and why.
///
/// `firstBadSeq` is exact for damage the hash chain shows (a changed, deleted, swapped
/// or inserted entry). Damage that only a checkpoint shows — a re-chain with fresh,
/// self-consistent hashes — is located to the range between the last checkpoint that
/// still verifies and the first that does not: `firstBadSeq` is then the first entry
/// after the last verified checkpoint, and `reason` gives the range. A truncation names
/// the first missing entry.
public struct LedgerVerdict: Sendable, Equatable, CustomStringConvertible {
    /// Entries that passed every per-entry check.
    public var entriesChecked: UInt64
    /// The recomputed tree head over the entries that passed (the whole ledger when
    /// verification passed; `nil` for a tail verification that could not start).
    public var treeHead: MerkleTreeHead?
    /// Sizes of the checkpoints (stored and external) whose signature and root matched.
    public var checkpointsMatched: [UInt64]
    /// The first sequence number that does not verify, when one can be named.
    public var firstBadSeq: UInt64?
    /// A stable code for the failure: a `ChainFailure.Kind` raw value (`ledger.link`,
    /// `ledger.root`, `ledger.truncated`, …), `ledger.checkpoint` for a stored checkpoint
    /// whose note does not verify, or `ledger.tree_state` for a persisted Merkle state
    /// that differs from the entries. `nil` when verification passed.
    public var failureCode: String?
    /// Why verification failed; `nil` when it passed.
    public var reason: String?

    public var ok: Bool { reason == nil }

    public var description: String {
        guard let reason else {
            let root = treeHead.map { LedgerHash.hex($0.root) } ?? "-"
            return "ok: \(entriesChecked) entries checked, root \(root), \(checkpointsMatched.count) checkpoints matched"
        }
        return firstBadSeq.map { "seq \($0): \(reason)" } ?? reason
    }
}
