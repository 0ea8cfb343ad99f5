import Foundation
import OsmodaCore
import OsmodaLedger
import Testing

@Suite struct CheckpointTests {
    // The signer key, verifier key and signed note published with Go's reference
    // implementation of signed notes (golang.org/x/mod/sumdb/note), which C2SP's
    // signed-note specification describes: data no one here wrote.
    static let goSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goSignature = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func goReferenceVectors() throws {
        let signer = try CheckpointSigner(privateKeyText: Self.goSigner)
        #expect(signer.verifierKey.description == Self.goVerifier)
        let key = try NoteVerifierKey(parsing: Self.goVerifier)
        #expect(key == signer.verifierKey)
        #expect(LedgerHash.hex(key.keyID) == "c74f20a3")

        // Ed25519 is deterministic: our signature line is byte for byte the published one.
        let sig = signer.sign(Array(Self.goText.utf8))
        let line = "\u{2014} PeterNeumann " + base64(key.keyID + sig) + "\n"
        #expect(line == Self.goSignature)

        let note = Self.goText + "\n" + Self.goSignature
        #expect(try CheckpointNote.open(note, key: key) == Self.goText)
        // Unknown signatures beside a good one are ignored.
        let other = try CheckpointSigner(name: "witness.example/w1", seed: Array(repeating: 7, count: 32))
        let extra = "\u{2014} witness.example/w1 " + base64(other.verifierKey.keyID + other.sign(Array(Self.goText.utf8))) + "\n"
        #expect(try CheckpointNote.open(note + extra, key: key) == Self.goText)
        #expect(try CheckpointNote.open(note + extra, key: other.verifierKey) == Self.goText)
    }

    @Test func notesThatMustNotVerify() throws {
        let key = try NoteVerifierKey(parsing: Self.goVerifier)
        let good = Self.goText + "\n" + Self.goSignature
        let bad: [(String, String)] = [
            ("changed text", good.replacingOccurrences(of: "problem,", with: "problem;")),
            ("changed signature", good.replacingOccurrences(of: "x08go", with: "x08gp")),
            ("no blank line", Self.goText + Self.goSignature),
            ("hyphen for em dash", Self.goText + "\n" + Self.goSignature.replacingOccurrences(of: "\u{2014}", with: "-")),
            ("no final newline", String(good.dropLast())),
            ("control character", good.replacingOccurrences(of: "think", with: "th\u{7}ink")),
            ("no signature", Self.goText + "\n"),
            ("name without key id match", Self.goText + "\n" + Self.goSignature.replacingOccurrences(of: "PeterNeumann", with: "PeterNeuman")),
        ]
        for (what, note) in bad {
            #expect(errorCode { _ = try CheckpointNote.open(note, key: key) } == .badCheckpoint, "\(what)")
        }
        // The right name with another key ID is an unknown key, so the note has no signature by ours.
        let other = try CheckpointSigner(name: "PeterNeumann", seed: Array(repeating: 1, count: 32))
        #expect(errorCode { _ = try CheckpointNote.open(good, key: other.verifierKey) } == .badCheckpoint)
    }

    @Test func verifierKeyParsing() throws {
        for bad in [
            "", "PeterNeumann", "PeterNeumann+c74f20a3", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        ] {
            #expect(errorCode { _ = try NoteVerifierKey(parsing: bad) } == .key, "\(bad)")
        }
        #expect(errorCode { _ = try CheckpointSigner(privateKeyText: "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz") } == .key)
    }

    @Test func checkpointNoteRoundTrip() throws {
        let signer = try CheckpointSigner(name: "osmoda.ledger/host1", seed: Array(0..<32))
        let root = LedgerHash.sha256(Array("root".utf8))
        let ts = Timestamp(millisecondsSinceEpoch: 1_790_000_000_123)
        let cp = CheckpointNote.sign(origin: "osmoda.ledger/host1", size: 1042, root: root, ts: ts, signer: signer)
        let lines = cp.note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 7)
        #expect(lines[0] == "osmoda.ledger/host1")
        #expect(lines[1] == "1042")
        #expect(lines[2] == base64(root))
        #expect(lines[3] == "ts 2026-09-21T14:13:20.123Z")
        #expect(lines[4] == "" && lines[6] == "")
        #expect(lines[5].hasPrefix("\u{2014} osmoda.ledger/host1 "))
        let blob = try #require(Data(base64Encoded: String(lines[5].split(separator: " ")[2])))
        #expect(blob.count == 68 && Array(blob.prefix(4)) == signer.verifierKey.keyID)
        // The key ID is SHA-256(name || 0x0A || 0x01 || public key)[:4].
        #expect(signer.verifierKey.keyID == Array(LedgerHash.sha256(Array("osmoda.ledger/host1".utf8) + [0x0A, 0x01] + signer.verifierKey.publicKey).prefix(4)))

        let back = try CheckpointNote.verify(cp.note, key: signer.verifierKey, origin: "osmoda.ledger/host1")
        #expect(back == cp)
        #expect(errorCode { _ = try CheckpointNote.verify(cp.note, key: signer.verifierKey, origin: "osmoda.ledger/other") } == .badCheckpoint)
        let forged = cp.note.replacingOccurrences(of: "\n1042\n", with: "\n1043\n")
        #expect(errorCode { _ = try CheckpointNote.verify(forged, key: signer.verifierKey) } == .badCheckpoint)
        var sig = Array(cp.note.utf8)
        sig[sig.count - 10] = sig[sig.count - 10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(errorCode { _ = try CheckpointNote.verify(String(decoding: sig, as: UTF8.self), key: signer.verifierKey) } == .badCheckpoint)
        let stranger = try CheckpointSigner(name: "osmoda.ledger/host1", seed: Array(repeating: 9, count: 32))
        #expect(errorCode { _ = try CheckpointNote.verify(cp.note, key: stranger.verifierKey) } == .badCheckpoint)

        // The empty tree: size 0 and SHA-256 of nothing.
        let empty = CheckpointNote.sign(origin: "o.example/x", size: 0, root: Merkle.emptyRoot, ts: ts, signer: signer)
        #expect(try CheckpointNote.verify(empty.note, key: signer.verifierKey).size == 0)
    }

    @Test func storeCheckpointsAndKeyFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options())
        let empty = try store.checkpoint()
        #expect(empty.size == 0 && empty.root == Merkle.emptyRoot)
        try Fixtures.appendMany(store, 9)
        let cp = try store.checkpoint()
        #expect(cp.size == 9 && cp.origin == store.origin)
        #expect(try store.verifyCheckpoint(cp.note) == cp)
        #expect(try store.checkpoints().map(\.size) == [0, 9])
        #expect(try store.inclusionProof(seq: 4).root == cp.root)
        let stats = try store.stats()
        #expect(stats.checkpoints == 2 && stats.lastCheckpointSize == 9)
        store.close()

        let keyPath = dir.sub(CheckpointSigner.keyFileName)
        var st = stat()
        #expect(stat(keyPath, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(dir.path, &st) == 0 && st.st_mode & 0o077 == 0)
        let pub = try Fixtures.readPub(dir.path)
        #expect(pub == store.verifierKey && pub.name == "osmoda.ledger/test-host")
        let keyText = try String(contentsOfFile: keyPath, encoding: .utf8)
        #expect(keyText.hasPrefix("PRIVATE+KEY+osmoda.ledger/test-host+\(LedgerHash.hex(pub.keyID))+"))
        #expect(try CheckpointSigner(privateKeyText: keyText).verifierKey == pub)

        // The key survives reopening (same name even when another is asked for).
        let again = try LedgerStore.open(stateDirectory: dir.path, options: LedgerStore.Options(name: "other", clock: StepClock().clock))
        #expect(again.verifierKey == pub && again.sealedReason == nil)
        again.close()

        // A key file others can read is refused.
        chmod(keyPath, 0o644)
        #expect(errorCode { _ = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options()) } == .key)
        chmod(keyPath, 0o600)
        try "garbage\n".write(toFile: keyPath, atomically: false, encoding: .utf8)
        chmod(keyPath, 0o600)
        #expect(errorCode { _ = try LedgerStore.open(stateDirectory: dir.path, options: Fixtures.options()) } == .key)
    }

    func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}

@Suite struct CheckpointDocTests {
    /// The worked checkpoint in docs/ledger-format.md: the tree of the two example
    /// entries, signed with the example key (seed bytes 0x00…0x1f).
    static func example() throws -> (SignedCheckpoint, CheckpointSigner) {
        let signer = try CheckpointSigner(name: "osmoda.ledger/example", seed: Array(0..<32))
        let root = try #require(LedgerHash.bytes(hex: "d43572b298ec2178ab3c244d0e387463e7be7e8dc92de4d66a8daf8c13b2da46"))
        let ts = try #require(Timestamp(rfc3339: "2026-01-02T03:04:07.178Z"))
        return (CheckpointNote.sign(origin: "osmoda.ledger/example", size: 2, root: root, ts: ts, signer: signer), signer)
    }

    @Test func documentedExampleIsWhatTheCodeSigns() throws {
        let (cp, signer) = try Self.example()
        let doc = try String(contentsOfFile: #filePath.replacingOccurrences(of: "Tests/OsmodaLedgerTests/CheckpointTests.swift", with: "docs/ledger-format.md"), encoding: .utf8)
        let section = try #require(doc.range(of: "\n## Checkpoints\n")).upperBound
        let text = String(doc[section...])
        print(cp.note)
        print(signer.verifierKey)
        #expect(text.contains("```text\n" + cp.note + "```"))
        #expect(text.contains(signer.verifierKey.description))
        #expect(text.contains(LedgerHash.hex(signer.verifierKey.publicKey)))
        #expect(try CheckpointNote.verify(cp.note, key: signer.verifierKey) == cp)
    }
}
