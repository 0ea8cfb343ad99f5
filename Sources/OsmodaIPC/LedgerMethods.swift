import OsmodaCore

/// The ledger's methods on the daemon socket (docs/protocol.md).
public enum LedgerMethod {
    /// `{"type": "noun.event", "payload_json": "{…}"}` (or `"payload": {…}`) → `{"seq", "hash", "ts"}`; agent.
    public static let append = "ledger.append"
    /// `{"records": [{"type", "payload_json"}…]}` → `{"results": [{"seq", "hash", "ts"} or {"error": {"code", "message"}}…]}`
    /// in order; the valid records are committed in one transaction before the reply; agent.
    public static let appendBatch = "ledger.append_batch"
    /// The most records one `ledger.append_batch` takes.
    public static let maxBatchRecords = 4096
    /// `{"from": seq, "through": seq?, "limit": n?}` → `{"lines": [ledger.entry line…], "last_seq": n}`; reader.
    /// Each line is the entry's export line as text, so its payload stays byte-exact.
    public static let entries = "ledger.entries"
    /// `{}` → the ledger's statistics; reader.
    public static let stats = "ledger.stats"
    /// `{"checkpoints": [note…]}` → the verdict of a full verification; reader.
    public static let verify = "ledger.verify"
    /// `{"seq": n, "size": n?}` → an inclusion proof; reader.
    public static let prove = "ledger.prove"
    /// `{"old": n, "new": n?}` → a consistency proof; reader.
    public static let consistency = "ledger.consistency"
    /// `{}` → a new signed checkpoint (C2SP signed note); agent.
    public static let checkpoint = "ledger.checkpoint"
    /// The largest `limit` of one `ledger.entries` call.
    public static let maxEntriesPerCall = 1000
}
