import OsmodaCore

/// Who made a change, as the daemon read it from the peer's credentials (`SO_PEERCRED`
/// and `/proc/PID/exe`); never taken from a request.
///
/// Equality compares `exe` byte for byte (its UTF-8), not by Unicode canonical
/// equivalence, so two actors are equal exactly when their encodings are.
public struct Actor: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// The executable's path; empty when the daemon could not read it.
    public var exe: String

    public init(uid: UInt32, gid: UInt32, pid: Int32, exe: String) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.exe = exe
    }

    public static func == (a: Actor, b: Actor) -> Bool {
        a.uid == b.uid && a.gid == b.gid && a.pid == b.pid && a.exe.utf8.elementsEqual(b.exe.utf8)
    }

    public var description: String { "uid=\(uid) gid=\(gid) pid=\(pid) exe=\(exe)" }
}

/// One ledger entry: the fields that are hashed, and nothing else.
///
/// The hash of an entry is not a field: it is computed (`LedgerHash.entryHash`) and
/// becomes the next entry's `prevHash`. See `docs/ledger-format.md` for the bytes.
///
/// Equality compares strings byte for byte (their UTF-8), so two entries are equal
/// exactly when their encodings are. Field limits (`type` syntax, payload size) are not
/// checked here: the encoding is defined for any values, and the daemon validates
/// requests before it builds an entry.
public struct LedgerEntry: Sendable, Equatable {
    /// 1-based and contiguous; the entry's Merkle leaf index is `seq - 1`.
    public var seq: UInt64
    /// When the daemon accepted the entry, in milliseconds.
    public var ts: Timestamp
    /// `noun.event`, e.g. `service.restart`.
    public var type: String
    public var actor: Actor
    /// The UTF-8 bytes of one JSON object, exactly as received (at most `maxPayloadBytes`).
    public var payload: [UInt8]
    /// The previous entry's hash: `LedgerHash.size` bytes, all zero for `seq` 1.
    public var prevHash: [UInt8]

    /// The largest payload the daemon accepts (64 KiB). The encoding itself allows more.
    public static let maxPayloadBytes = 65_536

    /// The `prevHash` of the first entry.
    public static let genesisPrevHash = [UInt8](repeating: 0, count: LedgerHash.size)

    public init(seq: UInt64, ts: Timestamp, type: String, actor: Actor, payload: [UInt8], prevHash: [UInt8]) {
        self.seq = seq
        self.ts = ts
        self.type = type
        self.actor = actor
        self.payload = payload
        self.prevHash = prevHash
    }

    public static func == (a: LedgerEntry, b: LedgerEntry) -> Bool {
        a.seq == b.seq && a.ts == b.ts && a.type.utf8.elementsEqual(b.type.utf8) && a.actor == b.actor
            && a.payload == b.payload && a.prevHash == b.prevHash
    }
}
