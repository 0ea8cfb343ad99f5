/// A System Program transfer, serialised as a legacy Solana transaction:
///
///     shortvec(1) ‖ signature(64) ‖ message
///     message = header [1, 0, 1] ‖ shortvec(3) ‖ from ‖ to ‖ system program (32 zero bytes)
///             ‖ recent blockhash (32) ‖ shortvec(1) ‖ instruction
///     instruction = program index 2 ‖ shortvec(2) ‖ [0, 1] ‖ shortvec(12) ‖ u32le(2) ‖ u64le(lamports)
///
/// The payer is the sender and the only signer; the recipient is writable, the program
/// read-only.
public struct SolanaTransfer: Sendable, Equatable {
    public var from: [UInt8]
    public var to: [UInt8]
    public var lamports: UInt64
    public var recentBlockhash: [UInt8]

    public static let systemProgram = [UInt8](repeating: 0, count: 32)

    public init(from: [UInt8], to: [UInt8], lamports: UInt64, recentBlockhash: [UInt8]) throws(VaultError) {
        guard from.count == 32, to.count == 32 else { throw VaultError("tx.invalid", "Solana addresses are 32 bytes") }
        guard recentBlockhash.count == 32 else { throw VaultError("tx.invalid", "a recent blockhash is 32 bytes") }
        guard from != to else { throw VaultError("tx.invalid", "the sender and the recipient are the same account") }
        guard to != Self.systemProgram else { throw VaultError("tx.invalid", "the recipient is the System Program") }
        self.from = from
        self.to = to
        self.lamports = lamports
        self.recentBlockhash = recentBlockhash
    }

    /// Addresses and the blockhash in base58, as RPC and the CLI show them.
    public init(from: String, to: String, lamports: UInt64, recentBlockhash: String) throws(VaultError) {
        guard let f = Base58.decode(from), let t = Base58.decode(to) else {
            throw VaultError("tx.invalid", "a Solana address is base58")
        }
        guard let b = Base58.decode(recentBlockhash) else { throw VaultError("tx.invalid", "the recent blockhash is base58") }
        try self.init(from: f, to: t, lamports: lamports, recentBlockhash: b)
    }

    /// Solana's compact-u16: 7 bits a byte, low first, high bit = more.
    static func shortvec(_ n: Int) -> [UInt8] {
        precondition(n >= 0 && n <= 0xffff)
        var out = [UInt8]()
        var v = n
        repeat {
            var byte = UInt8(v & 0x7f)
            v >>= 7
            if v > 0 { byte |= 0x80 }
            out.append(byte)
        } while v > 0
        return out
    }

    /// The message bytes the signature covers.
    public var message: [UInt8] {
        var m: [UInt8] = [1, 0, 1]
        m += Self.shortvec(3) + from + to + Self.systemProgram
        m += recentBlockhash
        var data: [UInt8] = [2, 0, 0, 0]
        for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: lamports >> (8 * UInt64(i)))) }
        m += Self.shortvec(1) + [2] + Self.shortvec(2) + [0, 1] + Self.shortvec(data.count) + data
        return m
    }

    public struct Signed: Sendable, Equatable {
        /// The wire transaction.
        public var raw: [UInt8]
        public var signature: [UInt8]
        /// What `sendTransaction` takes with `encoding: "base64"`.
        public var base64: String { Base64.encode(raw) }
        /// The transaction id: the first signature in base58.
        public var id: String { Base58.encode(signature) }
    }

    public func sign(with keypair: SolanaKeypair) throws(VaultError) -> Signed {
        guard keypair.publicKey == from else {
            throw VaultError("tx.invalid", "the transfer's sender is not this key's address")
        }
        let m = message
        let sig = keypair.sign(m)
        return Signed(raw: Self.shortvec(1) + sig + m, signature: sig)
    }
}

/// RFC 4648 base64 with padding.
public enum Base64 {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : 0x3d)
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : 0x3d)
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
