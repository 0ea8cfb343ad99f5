/// Why a run of entries failed verification, and where.
///
/// `seq` is the first entry that is not verified: every entry before it (after the
/// starting anchor) passed every check that was made. A root mismatch cannot say which
/// entry changed, so it names the first entry that no matching checkpoint vouches for.
public struct ChainFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, as a stable code for clients and records.
    public enum Kind: String, Sendable {
        /// An entry is missing, repeated or out of order.
        case sequence = "ledger.sequence"
        /// An entry's `prevHash` is not the previous entry's hash.
        case link = "ledger.link"
        /// An entry's recomputed hash differs from the hash stored with it.
        case hash = "ledger.hash"
        /// An entry cannot be a valid entry (a `prevHash` that is not 32 bytes).
        case malformed = "ledger.malformed"
        /// The Merkle root at a checkpoint's size differs from the checkpoint's root.
        case root = "ledger.root"
        /// The entries end before a checkpoint's size.
        case truncated = "ledger.truncated"
        /// The starting anchor, frontier and checkpoints do not fit together.
        case anchor = "ledger.anchor"
        /// The entries could not be read (reported by storage, not by the verifier).
        case unreadable = "ledger.unreadable"
    }

    public var seq: UInt64
    public var kind: Kind
    public var reason: String

    public init(seq: UInt64, kind: Kind, reason: String) {
        self.seq = seq
        self.kind = kind
        self.reason = reason
    }

    /// A failure found outside the verifier, such as a row storage could not read.
    public init(seq: UInt64, reason: String) {
        self.init(seq: seq, kind: .unreadable, reason: reason)
    }

    public var description: String { "seq \(seq): \(reason)" }
}

/// What verifying a run of entries found.
public struct ChainVerdict: Sendable, Equatable {
    /// The first failure; `nil` when every check passed.
    public var failure: ChainFailure?
    /// Entries that passed the per-entry checks (sequence, link, stored hash).
    public var entriesChecked: UInt64
    /// The last entry that passed the per-entry checks, or the starting anchor: where a
    /// later run can continue from (`startingAfter: (tipSeq, tipHash)`).
    public var tipSeq: UInt64
    public var tipHash: [UInt8]
    /// The Merkle frontier after `tipSeq`, when the verifier kept one.
    public var frontier: MerkleFrontier?
    /// The sizes of the checkpoints whose roots matched, ascending.
    public var checkpointsMatched: [UInt64]

    public var isValid: Bool { failure == nil }
}

/// Verifies a run of ledger entries: contiguous `seq`s from the starting anchor, each
/// `prevHash` equal to the previous entry's recomputed hash (32 zero bytes before seq
/// 1), each recomputed hash equal to a stored one where given, and the RFC 6962 root at
/// each checkpoint's size equal to the checkpoint's root. It stops at the first failure.
///
/// Streaming: `feed` one entry at a time in `seq` order and `finish` at the end, so a
/// ledger of any length needs O(log n) memory. `verify(entries:…)` does the same over a
/// sequence. Not `Sendable` (it reuses one digest context): one verifier per task.
///
/// Checkpoints are checked when the verifier's tree reaches their size. That needs the
/// tree from leaf 0: without an anchor the verifier starts from the empty tree; with an
/// anchor at seq N it needs the `frontier` of size N. Checkpoints smaller than the
/// starting size cannot be checked and are ignored; one whose size the entries do not
/// reach is a truncation, so pass only checkpoints the run should reach.
public struct ChainVerifier {
    private let hasher = LedgerHasher()
    private var nextSeq: UInt64
    private var lastHash: Digest32
    private var checked: UInt64 = 0
    private var frontier: MerkleFrontier?
    /// Checkpoints still ahead, ascending by size.
    private var pending: [MerkleTreeHead]
    private var pendingIndex = 0
    private var matched: [UInt64] = []
    /// The size up to which the tree is vouched for: the anchor, or the largest matched
    /// checkpoint. A root mismatch blames the first entry after it.
    private var vouchedThrough: UInt64
    public private(set) var failure: ChainFailure?

    /// - Parameters:
    ///   - startingAfter: the last entry already trusted, by seq and hash; `nil` to
    ///     start at seq 1.
    ///   - frontier: the Merkle frontier of size `startingAfter.seq`, needed only to
    ///     check checkpoints when starting after an anchor.
    ///   - checkpoints: tree heads to compare against, in any order.
    public init(
        startingAfter anchor: (seq: UInt64, hash: [UInt8])? = nil,
        frontier: MerkleFrontier? = nil,
        checkpoints: [MerkleTreeHead] = []
    ) {
        let start = anchor?.seq ?? 0
        let anchorHash = Digest32(anchor?.hash ?? LedgerEntry.genesisPrevHash)
        nextSeq = start &+ 1
        lastHash = anchorHash ?? Digest32()
        vouchedThrough = start
        self.frontier = start == 0 ? MerkleFrontier() : frontier
        pending = checkpoints.filter { $0.size >= start }.sorted { $0.size < $1.size }
        if start == UInt64.max {
            failure = ChainFailure(seq: start, kind: .anchor, reason: "no entry can follow seq \(start)")
        } else if anchorHash == nil {
            failure = ChainFailure(
                seq: nextSeq, kind: .anchor, reason: "the starting hash has \(anchor?.hash.count ?? 0) bytes, not \(LedgerHash.size)")
        } else if let f = self.frontier, f.size != start {
            failure = ChainFailure(
                seq: nextSeq, kind: .anchor, reason: "the Merkle frontier has size \(f.size) but the run starts after seq \(start)")
        } else if self.frontier == nil, !pending.isEmpty {
            failure = ChainFailure(
                seq: nextSeq, kind: .anchor,
                reason: "checkpoints cannot be checked from seq \(start) without the Merkle frontier there")
        } else {
            checkCheckpoints()
        }
    }

    /// Checks one entry, the next in `seq` order. `storedHash`, when given, is the hash
    /// kept with the entry, which must equal the recomputed one. Returns whether the
    /// run is still good; after a failure further entries are ignored.
    @discardableResult
    public mutating func feed(_ e: LedgerEntry, storedHash: [UInt8]? = nil) -> Bool {
        guard failure == nil else { return false }
        guard e.seq == nextSeq else {
            let found: String
            if e.seq < nextSeq {
                found = "seq \(e.seq) again or out of order"
            } else {
                found = "seq \(e.seq): " + (e.seq - 1 == nextSeq ? "seq \(nextSeq)" : "seq \(nextSeq)…\(e.seq - 1)") + " missing"
            }
            failure = ChainFailure(seq: nextSeq, kind: .sequence, reason: "expected seq \(nextSeq), found \(found)")
            return false
        }
        guard e.prevHash.count == LedgerHash.size else {
            failure = ChainFailure(seq: e.seq, kind: .malformed, reason: "prevHash has \(e.prevHash.count) bytes, not \(LedgerHash.size)")
            return false
        }
        guard lastHash.equals(e.prevHash) else {
            let reason = e.seq == 1
                ? "prevHash of seq 1 is not 32 zero bytes"
                : "prevHash does not match the hash of seq \(e.seq - 1) (seq \(e.seq - 1) or this prevHash was changed)"
            failure = ChainFailure(seq: e.seq, kind: .link, reason: reason)
            return false
        }
        let hash = hasher.entryDigest(e)
        if let stored = storedHash, !hash.equals(stored) {
            failure = ChainFailure(seq: e.seq, kind: .hash, reason: "the stored hash differs from the entry's recomputed hash")
            return false
        }
        lastHash = hash
        checked += 1
        nextSeq = e.seq &+ 1
        if frontier != nil {
            frontier?.append(leafDigest: hash, engine: hasher.engine)
            checkCheckpoints()
        }
        return failure == nil
    }

    /// The verdict after the last entry: also a truncation failure if a checkpoint lies
    /// beyond it.
    public func finish() -> ChainVerdict {
        var failure = self.failure
        let tip = nextSeq &- 1
        if failure == nil, pendingIndex < pending.count {
            let size = pending[pending.count - 1].size
            failure = ChainFailure(
                seq: nextSeq, kind: .truncated,
                reason: "a checkpoint covers \(size) entries but the ledger ends at seq \(tip)")
        }
        return ChainVerdict(
            failure: failure, entriesChecked: checked, tipSeq: tip, tipHash: lastHash.bytes, frontier: frontier,
            checkpointsMatched: matched)
    }

    /// Verifies `entries` in order; see the type's documentation.
    @inlinable
    public static func verify(
        entries: some Sequence<LedgerEntry>,
        startingAfter anchor: (seq: UInt64, hash: [UInt8])? = nil,
        frontier: MerkleFrontier? = nil,
        checkpoints: [MerkleTreeHead] = []
    ) -> ChainVerdict {
        var verifier = ChainVerifier(startingAfter: anchor, frontier: frontier, checkpoints: checkpoints)
        for e in entries where !verifier.feed(e) { break }
        return verifier.finish()
    }

    /// Compares the tree with every pending checkpoint of its current size.
    private mutating func checkCheckpoints() {
        guard let f = frontier else { return }
        while pendingIndex < pending.count, pending[pendingIndex].size <= f.size {
            let head = pending[pendingIndex]
            pendingIndex += 1
            guard head.size == f.size else { continue }
            if f.root(engine: hasher.engine) == head.root {
                if matched.last != head.size { matched.append(head.size) }
                vouchedThrough = head.size
            } else {
                let from = vouchedThrough + 1
                let range = from == head.size ? "seq \(from)" : "seq \(from)…\(head.size)"
                failure = ChainFailure(
                    seq: from, kind: .root,
                    reason: "the Merkle root over \(head.size) entries differs from the checkpoint's: an entry in \(range) was changed and the chain rehashed")
                return
            }
        }
    }
}
