import OsmodaLedger
import OsmodaSystem

/// Signs a checkpoint at a fixed interval whenever entries were appended since the
/// last one, so that a witness copying checkpoints (`osmoda-ledger checkpoint
/// --append-to`, or the stored ones) never trails the ledger by more than the
/// interval, even when the daemon is killed and never reaches its shutdown checkpoint.
///
/// Nothing is signed while the store is sealed (the store refuses) or while the
/// ledger has not grown; a failure is logged and retried at the next tick.
final class CheckpointTimer: @unchecked Sendable {
    // @unchecked: `stopping` and `finished` are guarded by `monitor`.
    private let store: LedgerStore
    private let intervalNanos: UInt64
    private let log: @Sendable (String) -> Void
    private let monitor = ConditionMonitor()
    private var stopping = false
    private var finished = false

    init(store: LedgerStore, intervalMs: Int64, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        intervalNanos = UInt64(max(intervalMs, 1)) * 1_000_000
        self.log = log
    }

    /// Starts the timer on a thread of its own; false when no thread could be made.
    func start() -> Bool {
        let initial = (try? store.stats().lastCheckpointSize) ?? nil
        let started = WorkerThreads.detach { [self] in
            var signed = initial
            monitor.lock()
            var next = Sys.monotonicNanos() &+ intervalNanos
            while !stopping {
                if Sys.monotonicNanos() < next {
                    monitor.wait(untilNanos: next)
                    continue
                }
                next = Sys.monotonicNanos() &+ intervalNanos
                monitor.unlock()
                signed = tick(after: signed)
                monitor.lock()
            }
            finished = true
            monitor.broadcast()
            monitor.unlock()
        }
        if !started { monitor.withLock { finished = true } }
        return started
    }

    /// Signs when the ledger grew past `signed`; returns the size signed so far.
    private func tick(after signed: UInt64?) -> UInt64? {
        guard store.sealedReason == nil, let size = try? store.lastSeq, size > 0, size != signed else { return signed }
        do {
            return try store.checkpoint().size
        } catch {
            log("cannot write the periodic checkpoint: \(error)")
            return signed
        }
    }

    /// Stops the timer and waits for a tick in progress to finish.
    func stop() {
        monitor.lock()
        stopping = true
        monitor.broadcast()
        while !finished { monitor.wait(untilNanos: nil) }
        monitor.unlock()
    }
}
