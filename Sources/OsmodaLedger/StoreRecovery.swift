#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore

/// What `LedgerStore.recover` did.
public struct LedgerRecovery: Sendable {
    /// The new ledger (next epoch), open and accepting appends.
    public var store: LedgerStore
    /// Its first entry, `ledger.recovered`, which records the evidence.
    public var entry: AppendedEntry
    /// A checkpoint of the new ledger signed right after that entry.
    public var checkpoint: SignedCheckpoint
    /// Where the failed database now lies, untouched, for investigation.
    public var archivedDatabase: String
}

extension LedgerStore {
    /// The admin's way out of the sealed state: archives the failed database beside
    /// itself, unchanged, and starts the next *epoch* — a new ledger whose first entry,
    /// `ledger.recovered`, records who recovered, their acknowledgement, what
    /// verification found, and how to find the archived file; then signs a checkpoint.
    ///
    /// Nothing is repaired or rewritten: the evidence stays verifiable offline
    /// (`openReadOnly` on the archive). The new ledger's origin gets an `/epoch-<n>`
    /// suffix, so its checkpoints are never mistaken for (inconsistent) successors of
    /// the old ledger's.
    ///
    /// The caller — the daemon, for a request from an admin — must have closed the
    /// sealed store first, and passes the admin's credentials as `actor`. Refused with
    /// `ledger.not_sealed` when the ledger verifies completely (nothing to recover).
    /// A database too damaged to open is archived the same way, its open error recorded.
    public static func recover(
        stateDirectory: String, acknowledging note: String, actor: Actor, options: Options = Options()
    ) throws(LedgerStoreError) -> LedgerRecovery {
        var evidence = JSONObject()
        evidence.append("acknowledged", .string(note))
        var epoch = 1
        var previousCount: UInt64 = 0
        do throws(LedgerStoreError) {
            let old = try open(stateDirectory: stateDirectory, options: options)
            defer { old.close() }
            epoch = old.epoch
            let sealed = old.sealedReason
            let verdict = try old.verifyAll()
            if sealed == nil, verdict.ok {
                throw LedgerStoreError(.notSealed, "the ledger verifies; there is nothing to recover")
            }
            previousCount = try old.lastSeq
            evidence.append("verification", .string(verdict.ok ? (sealed?.message ?? "") : verdict.description))
            evidence.append("failure_code", verdict.failureCode.map { .string($0) } ?? .null)
            evidence.append("first_bad_seq", verdict.firstBadSeq.map { .int(Int64(clamping: $0)) } ?? .null)
            evidence.append("start_up_check", .string(sealed?.message ?? "passed"))
            evidence.append("previous_ledger_id", .string(old.ledgerID))
            evidence.append("previous_origin", .string(old.origin))
            let last = previousCount > 0 ? try old.entry(seq: previousCount) : nil
            evidence.append("previous_last_hash", last.map { .string(LedgerHash.hex($0.hash)) } ?? .null)
            let lastCheckpoint = try old.checkpoints().max { $0.size < $1.size }
            evidence.append("previous_checkpoint_size", lastCheckpoint.map { .int(Int64(clamping: $0.size)) } ?? .null)
            evidence.append("previous_checkpoint_root", lastCheckpoint.map { .string(LedgerHash.hex($0.root)) } ?? .null)
        } catch {
            guard error.code == .storage || error.code == .schema else { throw error }
            evidence.append("verification", .string("the database could not be opened: \(error.message)"))
            evidence.append("failure_code", .string(error.code.rawValue))
        }
        evidence.append("previous_epoch", .int(Int64(epoch)))
        evidence.append("previous_entries", .int(Int64(clamping: previousCount)))

        let path = StoreSystem.join(stateDirectory, databaseFileName)
        let archive = StoreSystem.join(stateDirectory, "ledger-epoch\(epoch)-sealed-\(options.clock().millisecondsSinceEpoch).sqlite")
        guard try StoreSystem.fileStatus(archive) == nil else {
            throw LedgerStoreError(.io, "'\(archive)' exists already; try again")
        }
        for suffix in ["-wal", "-shm"] where try StoreSystem.fileStatus(path + suffix) != nil {
            try StoreSystem.rename(path + suffix, to: archive + suffix)
        }
        try StoreSystem.rename(path, to: archive)
        evidence.append("archived_database", .string(archive))

        let store = try open(stateDirectory: stateDirectory, options: options, epoch: epoch + 1)
        // Operating state kept beside the ledger (extension tables) carries over.
        let carried = store.carryExtensionTables(from: archive)
        if carried.writeFailed, let error = carried.error {
            // The archive is readable but the new database could not take its tables
            // (a full disk, an I/O error): a new epoch without them would reset the
            // operating state they hold (the vault's spend windows). Undo: the sealed
            // database goes back where it was, and the admin tries again with room.
            store.close()
            for suffix in ["", "-wal", "-shm"] { _ = unlink(path + suffix) }
            for suffix in ["-wal", "-shm"] where try StoreSystem.fileStatus(archive + suffix) != nil {
                try StoreSystem.rename(archive + suffix, to: path + suffix)
            }
            try StoreSystem.rename(archive, to: path)
            throw LedgerStoreError(
                .storage, "recovery undone, nothing changed: the extension tables could not be copied into the new database: \(error)")
        }
        evidence.append("extension_tables", .array(carried.tables.map { .string($0) }))
        if let error = carried.error { evidence.append("extension_tables_error", .string(error)) }
        var payload: [UInt8] = []
        JSONWriter.write(.object(evidence), into: &payload)
        try AppendRequest.validate(type: "ledger.recovered", reservedAllowed: true)
        try AppendRequest.validate(payload: payload)
        let entries = try store.commit([AppendRequest(type: "ledger.recovered", payload: payload, actor: actor)])
        guard let entry = entries.first else { throw LedgerStoreError(.storage, "the recovery entry was not written") }
        let checkpoint = try store.checkpoint()
        return LedgerRecovery(store: store, entry: entry, checkpoint: checkpoint, archivedDatabase: archive)
    }
}
