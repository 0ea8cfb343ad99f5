import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaSystem

/// `--ledger auto|on|off`, shared by the tools that act (watch, switch, routines).
struct LedgerOptions: ParsableArguments {
    enum Policy: String, ExpressibleByArgument, CaseIterable {
        /// Record when osmodad is reachable (started on demand in user mode); warn once and go on when not.
        case auto
        /// Recording is required: a failure to record is an error.
        case on
        /// Do not record.
        case off
    }

    @Option(name: .long, help: ArgumentHelp("Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.", valueName: "when"))
    var ledger: Policy = .auto

    @OptionGroup var mode: DaemonModeOptions

    /// The recorder for `program`; it connects on first use.
    func recorder(_ program: String, diagnostics: Diagnostics) -> LedgerRecorder {
        LedgerRecorder(policy: ledger, paths: ledger == .off ? nil : try? mode.paths(), diagnostics: diagnostics)
    }
}

/// Records a tool's actions in the audit ledger through osmodad.
///
/// The daemon fills in the actor from the peer's credentials; the recorder sends only
/// the entry's type and payload. With policy `auto`, an unreachable daemon is reported
/// once as a warning and the tool goes on; the next attempt to connect is made no
/// sooner than `retryAfterNanos` later, so a tool that acts often does not wait on a
/// missing daemon every time. With policy `on`, a failure is thrown.
final class LedgerRecorder: @unchecked Sendable {
    let policy: LedgerOptions.Policy
    let paths: Paths?
    let diagnostics: Diagnostics
    var retryAfterNanos: UInt64 = 30_000_000_000

    private let monitor = ConditionMonitor()
    private var client: DaemonClient?
    private var lastFailure: UInt64?
    private var warned = false

    init(policy: LedgerOptions.Policy, paths: Paths?, diagnostics: Diagnostics) {
        self.policy = policy
        self.paths = paths
        self.diagnostics = diagnostics
    }

    /// Appends one entry; returns its sequence number, or `nil` when it was not recorded
    /// (policy `off`, or `auto` with no daemon).
    @discardableResult
    func record(_ type: String, _ payload: JSONObject) throws(ToolFailure) -> Int64? {
        if policy == .off { return nil }
        monitor.lock()
        defer { monitor.unlock() }
        guard let client = try connected() else { return nil }
        let params = JSONObject(["type": .string(type), "payload": .object(payload)])
        do {
            let reply = try client.call(LedgerMethod.append, .object(params))
            if case .int(let seq)? = reply["seq"] { return seq }
            return nil
        } catch {
            self.client = nil
            return try failed("cannot record \(type) in the ledger: \(error.description)", error)
        }
    }

    func close() {
        monitor.lock()
        defer { monitor.unlock() }
        client?.close()
        client = nil
    }

    private func connected() throws(ToolFailure) -> DaemonClient? {
        if let client { return client }
        guard let paths else {
            if policy == .on { throw ToolFailure("cannot record in the ledger: the daemon's paths cannot be worked out", status: .config) }
            warnOnce("the ledger is not recorded: the daemon's paths cannot be worked out")
            return nil
        }
        if let lastFailure, Sys.monotonicNanos() - lastFailure < retryAfterNanos { return nil }
        do {
            let c = try DaemonClient.connect(paths: paths, options: ClientOptions(connectTimeoutMs: 1000, callTimeoutMs: 10_000))
            client = c
            lastFailure = nil
            return c
        } catch {
            return try failed("the ledger is not recorded: \(error.description)", error)
        }
    }

    private func failed<T>(_ message: String, _ error: ClientError) throws(ToolFailure) -> T? {
        lastFailure = Sys.monotonicNanos()
        if policy == .on { throw clientFailure(error) }
        warnOnce(message)
        return nil
    }

    private func warnOnce(_ message: String) {
        if warned { return }
        warned = true
        diagnostics.warning(message)
    }
}
