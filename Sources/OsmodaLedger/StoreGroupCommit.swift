/// Shares durable commits among concurrent appenders (group commit).
///
/// Each caller of `submit` blocks until its entry is committed. There is no writer
/// thread: a caller that finds no commit in progress becomes the leader, takes
/// everything queued (up to `maxBatch`), writes it in one transaction, posts every
/// result, wakes the callers of that batch and the first caller still queued, who
/// leads the next batch. While one batch is being fsynced the next one queues, so the
/// fsync cost is shared by everyone who arrived during it. Wake-ups are targeted (a
/// condition variable per ticket, modulo 64), so a commit does not wake every waiting
/// thread.
///
/// A failed batch fails every caller in it with the same error and acknowledges
/// nothing; later batches are unaffected (unless the failure sealed the store).
/// Validation happens in `submit`, before queueing, so one bad request fails only its
/// own caller.
public final class GroupCommitter: @unchecked Sendable {
    // @unchecked: every mutable field below is guarded by `lock`.
    public let store: LedgerStore
    /// The most entries one transaction takes.
    public let maxBatch: Int

    private let lock = ConditionLock(conditions: 64)
    private var queue: [(ticket: UInt64, request: AppendRequest)] = []
    private var results: [UInt64: Result<AppendedEntry, LedgerStoreError>] = [:]
    private var nextTicket: UInt64 = 0
    private var committing = false
    private var counters = Statistics()

    /// What the committer has done so far.
    public struct Statistics: Sendable, Equatable {
        public var batches = 0
        public var entries = 0
        public var failedBatches = 0
        public var largestBatch = 0
    }

    public init(store: LedgerStore, maxBatch: Int = 4096) {
        self.store = store
        self.maxBatch = max(1, maxBatch)
    }

    public var statistics: Statistics {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }

    /// Appends one entry; returns once it is durable (or throws, and then it is not in
    /// the ledger unless the commit's outcome was unknown, in which case the store seals).
    public func submit(_ request: AppendRequest) throws(LedgerStoreError) -> AppendedEntry {
        try request.validate()
        lock.lock()
        let ticket = nextTicket
        nextTicket += 1
        queue.append((ticket, request))
        while true {
            if let result = results.removeValue(forKey: ticket) {
                lock.unlock()
                return try result.get()
            }
            if committing {
                lock.wait(ticket)
                continue
            }
            committing = true
            let take = min(queue.count, maxBatch)
            let batch = Array(queue.prefix(take))
            queue.removeFirst(take)
            lock.unlock()

            let outcome = Result { () throws(LedgerStoreError) -> [AppendedEntry] in try store.commit(batch.map(\.request)) }

            lock.lock()
            switch outcome {
            case .success(let entries):
                for (item, entry) in zip(batch, entries) { results[item.ticket] = .success(entry) }
                counters.entries += entries.count
            case .failure(let error):
                for item in batch { results[item.ticket] = .failure(error) }
                counters.failedBatches += 1
            }
            counters.batches += 1
            counters.largestBatch = max(counters.largestBatch, batch.count)
            committing = false
            // The next leader: the oldest caller still queued.
            let next = queue.first?.ticket
            // Wake-ups outside the lock (POSIX allows it), so the woken threads do not
            // queue up on a mutex the leader still holds.
            lock.unlock()
            for item in batch { lock.broadcast(item.ticket) }
            if let next { lock.broadcast(next) }
            lock.lock()
        }
    }
}
