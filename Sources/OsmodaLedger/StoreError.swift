/// Why the ledger store refused or failed an operation, with a stable string code that
/// the daemon passes to clients unchanged (CONVENTIONS 7), and a message for people.
///
/// Clients act on `code`, never on `message`. New codes may be added; existing ones keep
/// their meaning.
public struct LedgerStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, dotted error code such as `ledger.verification_failed`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The entry type is not a lowercase `noun.event` of at most 64 bytes.
        public static let invalidType = Code(rawValue: "ledger.invalid_type")
        /// The `ledger.` types are written by the store itself (recovery), never by clients.
        public static let reservedType = Code(rawValue: "ledger.reserved_type")
        /// The payload is not one JSON object.
        public static let invalidPayload = Code(rawValue: "ledger.invalid_payload")
        /// The payload is larger than 64 KiB.
        public static let payloadTooLarge = Code(rawValue: "ledger.payload_too_large")
        /// The store failed verification and refuses appends and checkpoints until an
        /// admin recovers it (`LedgerStore.recover`).
        public static let verificationFailed = Code(rawValue: "ledger.verification_failed")
        /// SQLite reported an error; nothing of the failed operation was committed.
        public static let storage = Code(rawValue: "ledger.storage")
        /// A file of the state directory could not be read or written.
        public static let io = Code(rawValue: "ledger.io")
        /// The store was closed.
        public static let closed = Code(rawValue: "ledger.closed")
        /// The store was opened read-only.
        public static let readOnly = Code(rawValue: "ledger.read_only")
        /// The database was written by an incompatible version, or is not a ledger.
        public static let schema = Code(rawValue: "ledger.schema")
        /// No entry with that sequence number, or a size beyond the ledger.
        public static let notFound = Code(rawValue: "ledger.not_found")
        /// An argument out of range (a proof between sizes that have none, …).
        public static let invalidArgument = Code(rawValue: "ledger.invalid_argument")
        /// A checkpoint note that does not parse, or whose signature does not verify.
        public static let badCheckpoint = Code(rawValue: "ledger.bad_checkpoint")
        /// An export line that is not what `LedgerExport.line` writes.
        public static let badExport = Code(rawValue: "ledger.bad_export")
        /// The checkpoint signing key is missing, malformed or readable by others.
        public static let key = Code(rawValue: "ledger.key")
        /// `recover` was asked of a store that is not sealed.
        public static let notSealed = Code(rawValue: "ledger.not_sealed")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func storage(_ e: SQLiteError) -> LedgerStoreError {
        LedgerStoreError(.storage, e.description)
    }
}
