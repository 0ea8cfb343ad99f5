/// An Ethereum transaction to sign: legacy with EIP-155 replay protection, or EIP-1559
/// (type 2). Amounts are minimal big-endian integers (`Quantity.parse(decimal:)`), never
/// floating point.
public struct EthereumTransaction: Sendable, Equatable {
    public enum Fee: Sendable, Equatable {
        /// Legacy: one gas price (wei).
        case legacy(gasPrice: [UInt8])
        /// EIP-1559: the tip and the fee cap (wei per gas).
        case eip1559(maxPriorityFeePerGas: [UInt8], maxFeePerGas: [UInt8])
    }

    /// An EIP-2930 access-list entry (type-2 transactions carry one; usually empty).
    public struct AccessListEntry: Sendable, Equatable {
        public var address: EthereumAddress
        public var storageKeys: [[UInt8]]
        public init(address: EthereumAddress, storageKeys: [[UInt8]]) {
            self.address = address
            self.storageKeys = storageKeys
        }
    }

    public var chainID: UInt64
    public var nonce: UInt64
    public var fee: Fee
    public var gasLimit: UInt64
    /// Nil creates a contract.
    public var to: EthereumAddress?
    public var value: [UInt8]
    public var data: [UInt8]
    public var accessList: [AccessListEntry]

    public init(chainID: UInt64, nonce: UInt64, fee: Fee, gasLimit: UInt64, to: EthereumAddress?,
                value: [UInt8], data: [UInt8] = [], accessList: [AccessListEntry] = []) {
        self.chainID = chainID
        self.nonce = nonce
        self.fee = fee
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
        self.accessList = accessList
    }

    /// The signed transaction, ready for `eth_sendRawTransaction`, and its hash.
    public struct Signed: Sendable, Equatable {
        public var raw: [UInt8]
        public var hash: [UInt8]
        public var signature: EthereumSignature
    }

    func validate() throws(VaultError) {
        for q in [value] + feeQuantities where q.count > 32 || q.first == 0 {
            throw VaultError("tx.invalid", "an amount is not a minimal 256-bit integer")
        }
        guard chainID >= 1, chainID <= (UInt64.max - 36) / 2 else {
            throw VaultError("tx.invalid", "chain id \(chainID) is out of range")
        }
        if case .legacy = fee, !accessList.isEmpty {
            throw VaultError("tx.invalid", "a legacy transaction has no access list")
        }
        for entry in accessList where entry.storageKeys.contains(where: { $0.count != 32 }) {
            throw VaultError("tx.invalid", "an access-list storage key is 32 bytes")
        }
    }

    var feeQuantities: [[UInt8]] {
        switch fee {
        case .legacy(let p): return [p]
        case .eip1559(let tip, let cap): return [tip, cap]
        }
    }

    private var toItem: RLP { .bytes(to?.bytes ?? []) }

    private var accessListItem: RLP {
        .list(accessList.map { .list([.bytes($0.address.bytes), .list($0.storageKeys.map { .bytes($0) })]) })
    }

    /// The fields before the signature, in the order of the transaction type.
    private var fields: [RLP] {
        switch fee {
        case .legacy(let gasPrice):
            return [.uint(nonce), .uint(bigEndian: gasPrice), .uint(gasLimit), toItem, .uint(bigEndian: value), .bytes(data)]
        case .eip1559(let tip, let cap):
            return [.uint(chainID), .uint(nonce), .uint(bigEndian: tip), .uint(bigEndian: cap), .uint(gasLimit), toItem,
                    .uint(bigEndian: value), .bytes(data), accessListItem]
        }
    }

    /// The bytes whose Keccak-256 is signed.
    public var signingPayload: [UInt8] {
        switch fee {
        case .legacy:
            // EIP-155: (…, chainId, 0, 0).
            return RLP.list(fields + [.uint(chainID), .uint(0), .uint(0)]).encoded
        case .eip1559:
            return [0x02] + RLP.list(fields).encoded
        }
    }

    public var signingHash: [UInt8] { Keccak256.hash(signingPayload) }

    public func sign(with key: EthereumPrivateKey) throws(VaultError) -> Signed {
        try validate()
        let sig = key.sign(digest: signingHash)
        let r = RLP.uint(bigEndian: sig.r), s = RLP.uint(bigEndian: sig.s)
        let raw: [UInt8]
        switch fee {
        case .legacy:
            let v = chainID * 2 + 35 + UInt64(sig.recoveryID)
            raw = RLP.list(fields + [.uint(v), r, s]).encoded
        case .eip1559:
            raw = [0x02] + RLP.list(fields + [.uint(UInt64(sig.recoveryID)), r, s]).encoded
        }
        return Signed(raw: raw, hash: Keccak256.hash(raw), signature: sig)
    }
}
