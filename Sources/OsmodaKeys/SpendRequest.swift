import OsmodaVault

/// What a signing request asks, as the spend policy sees it. It holds no secret
/// material: it is what the policy decides on and what the ledger entry records.
public struct SpendRequest: Sendable, Equatable {
    /// What is to be signed.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A raw message: EIP-191 `personal_sign`, or a Solana message.
        case message
        /// EIP-712 typed data.
        case typedData = "typed_data"
        /// An Ethereum transaction (legacy EIP-155 or EIP-1559).
        case transaction
        /// A Solana system-program transfer.
        case transfer
    }

    /// The vault's id of the key asked to sign.
    public var keyID: String
    public var chain: Chain
    public var kind: Kind
    /// The amount moved, in base units (wei, lamports), as a minimal big-endian integer
    /// (`Quantity` in OsmodaVault: no leading zero bytes; zero is `[]`). `nil` for
    /// messages and typed data, which move nothing the vault can count.
    public var amount: [UInt8]?
    /// Where the amount goes, in its chain's canonical text: an EIP-55 checksummed
    /// address for Ethereum, base58 for Solana. `nil` when there is none (messages,
    /// typed data, contract creation).
    public var destination: String?
    /// The EIP-155 chain id an Ethereum transaction is signed for; `nil` for everything
    /// else.
    public var chainID: UInt64?

    public init(keyID: String, chain: Chain, kind: Kind, amount: [UInt8]? = nil, destination: String? = nil, chainID: UInt64? = nil) {
        self.keyID = keyID
        self.chain = chain
        self.kind = kind
        self.amount = amount
        self.destination = destination
        self.chainID = chainID
    }
}

/// The policy's answer to a `SpendRequest`, naming the rule that decided it.
public struct PolicyDecision: Sendable, Equatable {
    public var allowed: Bool
    /// A stable name of the deciding rule, e.g. `key:ops-hot.max_per_tx` or
    /// `default_deny`; what `osmoda-keys policy check` prints.
    public var rule: String
    /// For people: why, with the figures (limit, used, asked).
    public var reason: String

    public init(allowed: Bool, rule: String, reason: String) {
        self.allowed = allowed
        self.rule = rule
        self.reason = reason
    }
}
