import COpenSSL
import CSodium
import OsmodaCore

/// Web3 Secret Storage v3 keystores (go-ethereum's `keystore/*.json`, MetaMask and
/// ethers exports): scrypt (libsodium) or PBKDF2-HMAC-SHA256 (OpenSSL), AES-128-CTR (OpenSSL), and a MAC of
/// keccak256(derivedKey[16..<32] ‖ ciphertext) that tells a wrong password apart.
///
/// Parsing is strict: every field is checked for presence, type, length and range, an
/// unknown field is refused (vendor `x-…` members at the top level excepted), and the
/// KDF parameters are bounded *before* any work is done, so a hostile file cannot make
/// the daemon allocate gigabytes or spin for minutes (`keystore.kdf_limits`).
public enum KeystoreV3 {
    /// scrypt memory (128·r·N bytes) above go-ethereum's standard 256 MiB is refused.
    public static let maxScryptMemory = 256 << 20
    /// scrypt work N·r·p, and PBKDF2 iterations, above 2²² (twice the standard) are refused.
    public static let maxScryptWork = 1 << 22
    public static let maxPBKDF2Iterations = 1 << 22
    /// A key file is a few hundred bytes; anything past this is not a keystore.
    public static let maxFileSize = 64 << 10

    /// scrypt parameters for export.
    public struct ScryptParameters: Sendable, Equatable {
        public var n: Int
        public var r: Int
        public var p: Int
        public init(n: Int, r: Int, p: Int) { self.n = n; self.r = r; self.p = p }
        /// go-ethereum's StandardScryptN/P: 256 MiB, about a second.
        public static let standard = ScryptParameters(n: 1 << 18, r: 8, p: 1)
        /// go-ethereum's LightScryptN/P: 4 MiB, for tests and small machines.
        public static let light = ScryptParameters(n: 1 << 12, r: 8, p: 6)
    }

    /// The KDF a keystore names, after validation.
    public enum KDF: Sendable, Equatable {
        case scrypt(ScryptParameters, salt: [UInt8])
        case pbkdf2(iterations: Int, salt: [UInt8])
    }

    /// A parsed, validated keystore, not yet decrypted.
    public struct Parsed: Sendable, Equatable {
        /// `ethereum` unless the file is an osmoda Solana export (`x-osmoda-chain`, ADR 0028).
        public var chain: Chain = .ethereum
        /// A Solana export's base58 address (`x-osmoda-address`).
        public var solanaAddress: String?
        public var address: EthereumAddress?
        public var id: String?
        public var kdf: KDF
        public var iv: [UInt8]
        public var ciphertext: [UInt8]
        public var mac: [UInt8]
    }

    // MARK: Parsing

    private struct File: Decodable {
        var address: String?
        var crypto: Crypto?
        var Crypto: Crypto?  // go-ethereum reads either spelling
        var id: String?
        var version: Int
    }

    private struct Crypto: Decodable {
        var cipher: String
        var cipherparams: CipherParams
        var ciphertext: String
        var kdf: String
        var kdfparams: KDFParams
        var mac: String
    }

    private struct CipherParams: Decodable { var iv: String }

    private struct KDFParams: Decodable {
        var dklen: Int
        var salt: String
        var n: Int?
        var r: Int?
        var p: Int?
        var c: Int?
        var prf: String?
    }

    static func invalid(_ message: String) -> VaultError { VaultError("keystore.invalid", message) }

    private static func hex(_ text: String, _ field: String, count: ClosedRange<Int>) throws(VaultError) -> [UInt8] {
        guard let bytes = Hex.decode(text) else { throw invalid("'\(field)' is not hexadecimal") }
        guard count.contains(bytes.count) else {
            let want = count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound) to \(count.upperBound)"
            throw invalid("'\(field)' is \(bytes.count) bytes; expected \(want)")
        }
        return bytes
    }

    /// Parses and validates a keystore file's bytes.
    public static func parse(_ bytes: [UInt8]) throws(VaultError) -> Parsed {
        guard bytes.count <= maxFileSize else { throw invalid("the file is \(bytes.count) bytes; a keystore is under \(maxFileSize)") }
        let value: JSONValue
        do { value = try JSONReader.parse(bytes) } catch { throw invalid("not JSON: \(error)") }
        guard case .object(var object) = value else { throw invalid("the top level is \(value.typeName), not an object") }
        // osmoda's own members (ADR 0028); other vendors' x- members are ignored (ADR 0027).
        var chain = Chain.ethereum
        var solanaAddress: String?
        for m in object.members where m.key.hasPrefix("x-osmoda-") {
            switch (m.key, m.value) {
            case ("x-osmoda-chain", .string(let c)):
                guard let parsed = Chain(rawValue: c) else { throw invalid("'x-osmoda-chain' is \(c); expected ethereum or solana") }
                chain = parsed
            case ("x-osmoda-address", .string(let a)): solanaAddress = a
            default: throw invalid("unknown or mistyped member '\(m.key)'")
            }
        }
        object.members.removeAll { $0.key.hasPrefix("x-") }
        let file: File
        do { file = try ValueDecoder.decode(File.self, from: .object(object)) } catch { throw invalid("\(error)") }
        guard file.version == 3 else {
            throw VaultError("keystore.unsupported", "version \(file.version); only Web3 Secret Storage version 3 is supported")
        }
        let crypto: Crypto
        switch (file.crypto, file.Crypto) {
        case (let c?, nil), (nil, let c?): crypto = c
        case (nil, nil): throw invalid("'crypto': missing required field")
        case (_?, _?): throw invalid("both 'crypto' and 'Crypto' are present")
        }
        guard crypto.cipher == "aes-128-ctr" else {
            throw VaultError("keystore.unsupported", "'crypto.cipher' is \(crypto.cipher); only aes-128-ctr is supported")
        }
        let iv = try hex(crypto.cipherparams.iv, "crypto.cipherparams.iv", count: 16...16)
        let ciphertext = try hex(crypto.ciphertext, "crypto.ciphertext", count: 1...64)
        let mac = try hex(crypto.mac, "crypto.mac", count: 32...32)
        let params = crypto.kdfparams
        guard params.dklen == 32 else {
            throw VaultError("keystore.unsupported", "'crypto.kdfparams.dklen' is \(params.dklen); only 32 is supported")
        }
        let salt = try hex(params.salt, "crypto.kdfparams.salt", count: 8...1024)
        let kdf: KDF
        switch crypto.kdf {
        case "scrypt":
            guard params.c == nil, params.prf == nil else { throw invalid("'crypto.kdfparams': c and prf belong to pbkdf2, not scrypt") }
            guard let n = params.n, let r = params.r, let p = params.p else {
                throw invalid("'crypto.kdfparams': scrypt needs n, r and p")
            }
            guard n >= 2, n & (n - 1) == 0 else { throw invalid("'crypto.kdfparams.n' is \(n); scrypt needs a power of two ≥ 2") }
            guard r >= 1, p >= 1 else { throw invalid("'crypto.kdfparams': r and p must be ≥ 1") }
            let (memory, o1) = n.multipliedReportingOverflow(by: r)
            let (work, o2) = memory.multipliedReportingOverflow(by: p)
            guard !o1, !o2, memory <= maxScryptMemory / 128, work <= maxScryptWork else {
                throw VaultError("keystore.kdf_limits",
                                 "scrypt n=\(n) r=\(r) p=\(p) exceeds the limits (128·r·n ≤ \(maxScryptMemory >> 20) MiB, n·r·p ≤ \(maxScryptWork)); re-encrypt the key with standard parameters")
            }
            kdf = .scrypt(ScryptParameters(n: n, r: r, p: p), salt: salt)
        case "pbkdf2":
            guard params.n == nil, params.r == nil, params.p == nil else { throw invalid("'crypto.kdfparams': n, r and p belong to scrypt, not pbkdf2") }
            guard let c = params.c, let prf = params.prf else { throw invalid("'crypto.kdfparams': pbkdf2 needs c and prf") }
            guard prf == "hmac-sha256" else {
                throw VaultError("keystore.unsupported", "'crypto.kdfparams.prf' is \(prf); only hmac-sha256 is supported")
            }
            guard c >= 1 else { throw invalid("'crypto.kdfparams.c' must be ≥ 1") }
            guard c <= maxPBKDF2Iterations else {
                throw VaultError("keystore.kdf_limits", "pbkdf2 c=\(c) exceeds the limit of \(maxPBKDF2Iterations) iterations")
            }
            kdf = .pbkdf2(iterations: c, salt: salt)
        default:
            throw VaultError("keystore.unsupported", "'crypto.kdf' is \(crypto.kdf); only scrypt and pbkdf2 are supported")
        }
        var address: EthereumAddress?
        if let a = file.address {
            guard let b = Hex.decode(a), let parsed = EthereumAddress(bytes: b) else { throw invalid("'address' is not 20 bytes of hex") }
            address = parsed
        }
        if chain == .solana {
            guard address == nil else { throw invalid("a Solana keystore has no Ethereum 'address'") }
            guard let a = solanaAddress, let b = Base58.decode(a), b.count == 32 else {
                throw invalid("'x-osmoda-address' must be a base58 Solana address")
            }
        } else if solanaAddress != nil {
            throw invalid("'x-osmoda-address' belongs to Solana keystores")
        }
        return Parsed(chain: chain, solanaAddress: solanaAddress, address: address, id: file.id, kdf: kdf, iv: iv,
                      ciphertext: ciphertext, mac: mac)
    }

    // MARK: Primitives

    /// The 32-byte derived key.
    static func deriveKey(_ kdf: KDF, password: SecretBytes) throws(VaultError) -> SecretBytes {
        var ok: Int32 = 0
        let pwCount = password.count
        let dk = password.withBytePointer { pw in
            SecretBytes(count: 32) { out in
                let pwPointer = UnsafeRawPointer(pw).assumingMemoryBound(to: CChar.self)
                let outPointer = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                switch kdf {
                case .scrypt(let s, let salt):
                    // libsodium's raw scrypt, not OpenSSL's EVP_PBE_scrypt: OpenSSL enforces
                    // RFC 7914's N < 2^(16·r) and so refuses keystores go-ethereum accepts,
                    // such as the Web3 Secret Storage page's own (N = 2¹⁸, r = 1) — ADR 0025.
                    let rc = crypto_pwhash_scryptsalsa208sha256_ll(pw, pwCount, salt, salt.count,
                                                                   UInt64(s.n), UInt32(s.r), UInt32(s.p), outPointer, 32)
                    ok = rc == 0 ? 1 : 0
                case .pbkdf2(let c, let salt):
                    ok = PKCS5_PBKDF2_HMAC(pwPointer, Int32(pwCount), salt, Int32(salt.count), Int32(c), EVP_sha256(), 32, outPointer)
                }
            }
        }
        guard ok == 1 else { throw VaultError("keystore.kdf_failed", "the key derivation failed (out of memory?)") }
        return dk
    }

    /// keccak256(dk[16..<32] ‖ ciphertext).
    static func mac(derivedKey dk: SecretBytes, ciphertext: [UInt8]) -> [UInt8] {
        var h = Keccak256()
        dk.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[16..<32])) }
        h.update(ciphertext)
        return h.finalize()
    }

    /// AES-128-CTR with dk[0..<16]; encryption and decryption are the same operation.
    /// `output` receives `input.count` bytes.
    static func aes128ctr(key dk: SecretBytes, iv: [UInt8], input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let ctx = EVP_CIPHER_CTX_new() else { return false }
        defer { EVP_CIPHER_CTX_free(ctx) }
        return dk.withBytePointer { key in
            guard EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nil, key, iv) == 1 else { return false }
            var written: Int32 = 0
            guard EVP_EncryptUpdate(ctx, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                                    input.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(input.count)) == 1,
                written == Int32(input.count) else { return false }
            var tail: Int32 = 0
            return EVP_EncryptFinal_ex(ctx, output.baseAddress!.assumingMemoryBound(to: UInt8.self) + Int(written), &tail) == 1 && tail == 0
        }
    }

    // MARK: Decrypt and encrypt

    /// The plaintext of a keystore (an Ethereum private key: 32 bytes, or fewer when
    /// the writer dropped leading zero bytes). A wrong password is `keystore.bad_password`.
    public static func decrypt(_ parsed: Parsed, password: SecretBytes) throws(VaultError) -> SecretBytes {
        let dk = try deriveKey(parsed.kdf, password: password)
        let expected = mac(derivedKey: dk, ciphertext: parsed.ciphertext)
        guard sodiumReady, sodium_memcmp_bytes(expected, parsed.mac) else {
            throw VaultError("keystore.bad_password", "the MAC does not match: wrong password, or the keystore is corrupted")
        }
        var ok = false
        let plain = SecretBytes(count: parsed.ciphertext.count) { out in
            parsed.ciphertext.withUnsafeBytes { ok = aes128ctr(key: dk, iv: parsed.iv, input: $0, output: out) }
        }
        guard ok else { throw VaultError("keystore.cipher_failed", "AES-128-CTR failed") }
        return plain
    }

    public static func decrypt(_ json: [UInt8], password: SecretBytes) throws(VaultError) -> SecretBytes {
        try decrypt(parse(json), password: password)
    }

    /// Imports an Ethereum private key: decrypts, left-pads a short plaintext to 32
    /// bytes, validates the scalar, and checks the file's `address` when it has one.
    public static func importEthereumKey(_ json: [UInt8], password: SecretBytes) throws(VaultError) -> EthereumPrivateKey {
        let parsed = try parse(json)
        guard parsed.chain == .ethereum else {
            throw VaultError("keystore.wrong_chain", "this keystore holds a \(parsed.chain.rawValue) key, not an Ethereum key")
        }
        let plain = try decrypt(parsed, password: password)
        guard plain.count <= 32 else { throw invalid("the decrypted key is \(plain.count) bytes; a secp256k1 key is 32") }
        let padded = plain.withUnsafeBytes { p in
            SecretBytes(count: 32) { out in
                (out.baseAddress! + (32 - p.count)).copyMemory(from: p.baseAddress!, byteCount: p.count)
            }
        }
        let key = try EthereumPrivateKey(padded)
        if let address = parsed.address, address != key.address {
            throw VaultError("keystore.address_mismatch", "the file names \(address) but its key belongs to \(key.address)")
        }
        return key
    }

    /// Encrypts a key as a v3 keystore with scrypt (fresh salt, IV and id). Returns the
    /// JSON bytes; the caller writes them (the plaintext never leaves this function).
    public static func encrypt(_ key: EthereumPrivateKey, password: SecretBytes,
                               scrypt: ScryptParameters = .standard) throws(VaultError) -> [UInt8] {
        try encrypt(plaintext: key.secret, password: password, scrypt: scrypt,
                    leading: [.init(key: "address", value: .string(Hex.encode(key.address.bytes)))])
    }

    /// Exports a Solana key (its 32-byte seed) in the same format, marked with
    /// `x-osmoda-chain: solana` and its base58 `x-osmoda-address` (ADR 0028).
    public static func encrypt(_ keypair: SolanaKeypair, password: SecretBytes,
                               scrypt: ScryptParameters = .standard) throws(VaultError) -> [UInt8] {
        try encrypt(plaintext: keypair.seed, password: password, scrypt: scrypt,
                    leading: [.init(key: "x-osmoda-chain", value: .string(Chain.solana.rawValue)),
                              .init(key: "x-osmoda-address", value: .string(keypair.address))])
    }

    /// Imports a Solana key exported by `encrypt(_: SolanaKeypair, …)`; the address in
    /// the file must be the decrypted seed's.
    public static func importSolanaKey(_ json: [UInt8], password: SecretBytes) throws(VaultError) -> SolanaKeypair {
        let parsed = try parse(json)
        guard parsed.chain == .solana else {
            throw VaultError("keystore.wrong_chain", "this keystore holds an \(parsed.chain.rawValue) key, not a Solana key")
        }
        let seed = try decrypt(parsed, password: password)
        guard seed.count == 32 else { throw invalid("the decrypted seed is \(seed.count) bytes; an Ed25519 seed is 32") }
        let keypair = try SolanaKeypair(seed: seed)
        if let address = parsed.solanaAddress, address != keypair.address {
            throw VaultError("keystore.address_mismatch", "the file names \(address) but its key belongs to \(keypair.address)")
        }
        return keypair
    }

    static func encrypt(plaintext: SecretBytes, password: SecretBytes, scrypt: ScryptParameters,
                        leading: [JSONObject.Member]) throws(VaultError) -> [UInt8] {
        let salt = randomBytes(32)
        let iv = randomBytes(16)
        let kdf = KDF.scrypt(scrypt, salt: salt)
        let memory = scrypt.n * scrypt.r
        guard scrypt.n >= 2, scrypt.n & (scrypt.n - 1) == 0, scrypt.r >= 1, scrypt.p >= 1,
              memory <= maxScryptMemory / 128, memory * scrypt.p <= maxScryptWork else {
            throw VaultError("keystore.kdf_limits", "scrypt n=\(scrypt.n) r=\(scrypt.r) p=\(scrypt.p) is outside the supported range")
        }
        let dk = try deriveKey(kdf, password: password)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        let ok = plaintext.withUnsafeBytes { plain in
            ciphertext.withUnsafeMutableBytes { aes128ctr(key: dk, iv: iv, input: plain, output: $0) }
        }
        guard ok else { throw VaultError("keystore.cipher_failed", "AES-128-CTR failed") }
        var object = JSONObject(leading)
        object.append("crypto", .object(JSONObject([
            "cipher": .string("aes-128-ctr"),
            "cipherparams": .object(JSONObject(["iv": .string(Hex.encode(iv))])),
            "ciphertext": .string(Hex.encode(ciphertext)),
            "kdf": .string("scrypt"),
            "kdfparams": .object(JSONObject([
                "dklen": .int(32), "n": .int(Int64(scrypt.n)), "p": .int(Int64(scrypt.p)),
                "r": .int(Int64(scrypt.r)), "salt": .string(Hex.encode(salt)),
            ])),
            "mac": .string(Hex.encode(mac(derivedKey: dk, ciphertext: ciphertext))),
        ])))
        object.append("id", .string(uuid4()))
        object.append("version", .int(3))
        var out = [UInt8]()
        JSONWriter.write(.object(object), into: &out)
        return out
    }

    /// A random (version 4) UUID in its usual text form.
    static func uuid4() -> String {
        var b = randomBytes(16)
        b[6] = b[6] & 0x0f | 0x40
        b[8] = b[8] & 0x3f | 0x80
        let h = Hex.encode(b)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
            String(h[h.index(h.startIndex, offsetBy: r.lowerBound)..<h.index(h.startIndex, offsetBy: r.upperBound)])
        }
        return parts.joined(separator: "-")
    }
}
