import OsmodaCore

/// A checkpoint: the Merkle tree head of the ledger at `size` entries, the time it was
/// signed, and the C2SP signed note that carries them (`docs/ledger-format.md`,
/// "Checkpoints").
///
/// The note body is a C2SP tlog-checkpoint with one extension line for the time:
///
///     osmoda.ledger/host1
///     1042
///     <base64 root>
///     ts 2026-11-24T20:27:03.123Z
///
///     — osmoda.ledger/host1 <base64(key ID || Ed25519 signature)>
public struct SignedCheckpoint: Sendable, Equatable {
    public var origin: String
    public var size: UInt64
    /// The 32-byte RFC 6962 root over entries `1...size`.
    public var root: [UInt8]
    public var ts: Timestamp
    /// The whole signed note, newline-terminated.
    public var note: String

    public var treeHead: MerkleTreeHead { MerkleTreeHead(size: size, root: root) }
}

/// Writing and opening checkpoint notes (C2SP signed-note and tlog-checkpoint).
public enum CheckpointNote {
    /// A signed note larger than this is refused before parsing.
    public static let maxNoteBytes = 16 * 1024
    /// A note with more signature lines than this is refused (the spec requires ≥ 16).
    public static let maxSignatures = 100

    static let emDash = "\u{2014}"

    /// The note text (the signed bytes): origin, size, base64 root, the `ts` line,
    /// each ending in a newline.
    public static func body(origin: String, size: UInt64, root: [UInt8], ts: Timestamp) -> String {
        "\(origin)\n\(size)\n\(CheckpointBase64.encode(root))\nts \(ts.rfc3339)\n"
    }

    /// Signs a checkpoint. The origin must be a valid note line (non-empty, no control
    /// characters); the caller checks that it is what verifiers expect.
    public static func sign(origin: String, size: UInt64, root: [UInt8], ts: Timestamp, signer: CheckpointSigner) -> SignedCheckpoint {
        let text = body(origin: origin, size: size, root: root, ts: ts)
        let signature = signer.sign(Array(text.utf8))
        let line = "\(emDash) \(signer.name) \(CheckpointBase64.encode(signer.verifierKey.keyID + signature))\n"
        return SignedCheckpoint(origin: origin, size: size, root: root, ts: ts, note: text + "\n" + line)
    }

    /// Verifies a signed note with `key` and returns its text (the signed bytes).
    ///
    /// Follows C2SP signed-note: the text ends at the last blank line; signatures from
    /// other keys (another name or key ID) are ignored; a signature from `key` that
    /// fails rejects the note, and so does a note with no signature from `key`.
    public static func open(_ note: String, key: NoteVerifierKey) throws(LedgerStoreError) -> String {
        let bytes = Array(note.utf8)
        guard bytes.count <= maxNoteBytes else { throw bad("the note is larger than \(maxNoteBytes) bytes") }
        guard !bytes.contains(where: { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }) else {
            throw bad("the note contains a control character")
        }
        guard bytes.last == 0x0A else { throw bad("the note does not end with a newline") }
        // The separator is the last "\n\n": text before it (with its newline), signatures after.
        var split: Int?
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                split = i
                break
            }
            i -= 1
        }
        guard let split else { throw bad("the note has no blank line before its signatures") }
        let text = Array(bytes[...split])
        let sigLines = bytes[(split + 2)...].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        guard !sigLines.isEmpty else { throw bad("the note has no signature") }
        guard sigLines.count <= maxSignatures else { throw bad("the note has more than \(maxSignatures) signatures") }
        var verified = false
        let prefix = Array("\(emDash) ".utf8)
        for raw in sigLines {
            let line = Array(raw)
            guard line.starts(with: prefix) else { throw bad("a signature line does not start with an em dash and a space") }
            let rest = line[prefix.count...]
            guard let space = rest.lastIndex(of: UInt8(ascii: " ")) else { throw bad("a signature line has no signature") }
            let name = String(decoding: rest[..<space], as: UTF8.self)
            guard NoteVerifierKey.isValidName(name), let sig = CheckpointBase64.decode(String(decoding: rest[(space + 1)...], as: UTF8.self)),
                  sig.count >= 5
            else { throw bad("a signature line is malformed") }
            guard name == key.name, Array(sig[0..<4]) == key.keyID else { continue }
            guard key.isValidSignature(Array(sig[4...]), of: text) else {
                throw bad("the signature by '\(key.name)' does not verify")
            }
            verified = true
        }
        guard verified else { throw bad("the note has no signature by '\(key.name)+\(LedgerHash.hex(key.keyID))'") }
        return String(decoding: text, as: UTF8.self)
    }

    /// Verifies a checkpoint note with `key` and parses its body. The body must be
    /// exactly origin, size, root and the `ts` line; `origin`, when given, must match.
    public static func verify(_ note: String, key: NoteVerifierKey, origin: String? = nil) throws(LedgerStoreError) -> SignedCheckpoint {
        let text = try open(note, key: key)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        guard lines.count == 4 else { throw bad("a checkpoint has 4 lines (origin, size, root, ts), not \(lines.count)") }
        guard !lines[0].isEmpty else { throw bad("the checkpoint's origin is empty") }
        if let origin, lines[0] != origin { throw bad("the checkpoint is for origin '\(lines[0])', not '\(origin)'") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw bad("the checkpoint's size '\(lines[1])' is not a decimal number") }
        guard let root = CheckpointBase64.decode(lines[2]), root.count == LedgerHash.size else {
            throw bad("the checkpoint's root is not a base64 SHA-256 hash")
        }
        guard lines[3].hasPrefix("ts "), let ts = Timestamp(rfc3339: String(lines[3].dropFirst(3))),
              ts.rfc3339 == String(lines[3].dropFirst(3))
        else { throw bad("the checkpoint's ts line is not 'ts <RFC 3339 UTC with milliseconds>'") }
        return SignedCheckpoint(origin: lines[0], size: size, root: root, ts: ts, note: note)
    }

    static func bad(_ message: String) -> LedgerStoreError { LedgerStoreError(.badCheckpoint, message) }
}
