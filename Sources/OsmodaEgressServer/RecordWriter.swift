import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaSystem

/// Writes `egress.decision` records to stdout and appends them to the ledger, on a
/// thread of its own so that neither a slow reader of stdout nor the daemon ever blocks
/// an event loop.
///
/// The queue is bounded (`capacity` records): when it is full, records are dropped and
/// counted, and the count is reported on stderr once the queue drains. With `auto`, an
/// unreachable daemon is warned about once and tried again no sooner than 30 s later;
/// records are then written to stdout only. Pending records are sent in one
/// `ledger.append_batch`.
final class RecordWriter: @unchecked Sendable {
    enum LedgerPolicy: String, Sendable, CaseIterable {
        case auto, on, off
    }

    private let monitor = ConditionMonitor()
    // Guarded by `monitor`.
    private var queue: [JSONObject] = []
    private var dropped = 0
    private var writing = false
    /// The records of the batch being written.
    private var inFlight = 0
    private let capacity: Int

    private let policy: LedgerPolicy
    private let paths: Paths?
    private let diagnostics: Diagnostics
    private let output = RecordOutput()
    // Touched only by the writer thread.
    private var client: DaemonClient?
    private var lastFailure: UInt64?
    private var warned = false
    private var stdoutFailed = false
    /// Records that missed the ledger since it was last reachable.
    private var missed = 0

    init(policy: LedgerPolicy, paths: Paths?, diagnostics: Diagnostics, capacity: Int = 65_536) {
        self.policy = policy
        self.paths = paths
        self.diagnostics = diagnostics
        self.capacity = capacity
    }

    /// Starts the writer thread; false when no thread could be made.
    func start() -> Bool {
        WorkerThreads.detach { [self] in loop() }
    }

    /// Connects now (for `--ledger on`: the proxy does not start without its ledger).
    func connectNow() throws(ClientError) {
        guard let paths else { return }
        client = try DaemonClient.connect(paths: paths, options: ClientOptions(connectTimeoutMs: 1000, callTimeoutMs: 10_000))
    }

    /// Queues one record; never blocks.
    func emit(_ record: JSONObject) {
        monitor.withLock {
            if queue.count >= capacity {
                dropped += 1
            } else {
                queue.append(record)
                monitor.broadcast()
            }
        }
    }

    /// Waits until the queue is written (at shutdown), at most `timeoutMs`. What is still
    /// queued or being written then is lost with the exit: said on stderr, with the count,
    /// never silently. Returns that count.
    @discardableResult
    func drain(timeoutMs: Int64) -> Int {
        let deadline = MonotonicDeadline(milliseconds: timeoutMs)
        let lost = monitor.withLock {
            while !queue.isEmpty || writing {
                if !monitor.wait(untilNanos: deadline.nanos) { break }
            }
            return queue.count + dropped + (writing ? inFlight : 0)
        }
        if lost > 0 {
            diagnostics.error("\(lost) egress.decision records were not written: the output or the ledger did not take them within \(timeoutMs) ms of the stop")
        }
        return lost
    }

    private func loop() {
        while true {
            let (batch, lost): ([JSONObject], Int) = monitor.withLock {
                while queue.isEmpty {
                    writing = false
                    monitor.broadcast()
                    monitor.wait(untilNanos: nil)
                }
                writing = true
                inFlight = queue.count
                let b = queue
                queue.removeAll(keepingCapacity: true)
                let d = dropped
                dropped = 0
                return (b, d)
            }
            if lost > 0 { diagnostics.warning("\(lost) egress.decision records were dropped: the output or the ledger did not keep up") }
            if !stdoutFailed {
                do {
                    for r in batch { try output.write(.object(r)) }
                    try output.flush()
                } catch {
                    // NIO ignores SIGPIPE process-wide, so a reader that went away shows up here.
                    stdoutFailed = true
                    diagnostics.error("standard output failed (\(error.description)); egress.decision records go to the ledger only")
                }
            }
            if policy != .off { record(batch) }
        }
    }

    private func record(_ batch: [JSONObject]) {
        guard let client = connected() else {
            // Between tries the batch misses the ledger: never silently (with `on`, every
            // batch; with `auto`, counted and told when the daemon is back).
            missed += batch.count
            if policy == .on, lastFailure != nil {
                diagnostics.error("\(batch.count) egress.decision records were not recorded in the ledger: retrying the daemon no sooner than 30 s after its failure")
            }
            return
        }
        if missed > 0 {
            diagnostics.warning("the ledger is reachable again; \(missed) egress.decision records were not recorded in it meanwhile (they went to standard output)")
            missed = 0
        }
        var start = 0
        while start < batch.count {
            let slice = batch[start..<min(batch.count, start + LedgerMethod.maxBatchRecords)]
            start += slice.count
            let records = slice.map { r -> JSONValue in
                var payload = r
                payload.members.removeAll { $0.key == "type" }
                return .object(JSONObject(["type": .string("egress.decision"), "payload_json": .string(JSONWriter.serialize(.object(payload)))]))
            }
            do {
                let reply = try client.call(LedgerMethod.appendBatch, .object(JSONObject(["records": .array(records)])))
                if case .array(let results)? = reply["results"] {
                    let refused = results.filter { $0["error"] != nil }.count
                    if refused > 0 { failed("the ledger refused \(refused) of \(results.count) egress.decision records") }
                }
            } catch {
                self.client?.close()
                self.client = nil
                let lost = batch.count - (start - slice.count)
                missed += lost
                failed("\(lost) egress.decision records were not recorded in the ledger: \(error.description)")
                return
            }
        }
    }

    private func connected() -> DaemonClient? {
        if let client { return client }
        guard let paths else {
            failed("the ledger is not recorded: the daemon's paths cannot be worked out")
            return nil
        }
        if let lastFailure, Sys.monotonicNanos() - lastFailure < 30_000_000_000 { return nil }
        do {
            let c = try DaemonClient.connect(paths: paths, options: ClientOptions(connectTimeoutMs: 1000, callTimeoutMs: 10_000))
            client = c
            lastFailure = nil
            return c
        } catch {
            failed("the ledger is not recorded: \(error.description)")
            return nil
        }
    }

    private func failed(_ message: String) {
        lastFailure = Sys.monotonicNanos()
        // With --ledger on every failure is an error; with auto, one warning.
        if policy == .on {
            diagnostics.error(message)
        } else if !warned {
            warned = true
            diagnostics.warning(message)
        }
    }
}
