import Foundation
import OsmodaCore
import OsmodaLedger
import Testing

/// `docs/ledger-format.md` is the contract for independent verifiers; its worked example
/// is recomputed here so the page and the code cannot drift apart.
@Suite("docs/ledger-format.md")
struct EntryFormatDocTests {
    static let doc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/ledger-format.md")

    static let actor = Actor(uid: 1000, gid: 100, pid: 4242, exe: "/usr/bin/osmoda-ledger")
    static let entry1 = LedgerEntry(
        seq: 1, ts: Timestamp(millisecondsSinceEpoch: 1_767_323_045_678), type: "service.restart", actor: actor,
        payload: Array(#"{"unit":"nginx.service"}"#.utf8), prevHash: LedgerEntry.genesisPrevHash)
    static let entry2 = LedgerEntry(
        seq: 2, ts: Timestamp(millisecondsSinceEpoch: 1_767_323_047_178), type: "file.write", actor: actor,
        payload: Array(#"{"path":"/etc/motd"}"#.utf8), prevHash: LedgerHash.entryHash(entry1))

    /// The lines of the fenced block that follows the marker comment `<!-- checked: NAME -->`.
    static func block(_ name: String, in text: String) throws -> [Substring] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let marker = try #require(lines.firstIndex { $0 == "<!-- checked: \(name) -->" }, "no '\(name)' block in the doc")
        let open = marker + 1
        try #require(open < lines.count && lines[open].hasPrefix("```"), "'\(name)' marker is not followed by a fenced block")
        let close = try #require(lines[(open + 1)...].firstIndex { $0.hasPrefix("```") }, "'\(name)' block is not closed")
        return Array(lines[(open + 1)..<close])
    }

    @Test("the worked example's encoding, hashes, roots and proofs are what the code computes")
    func workedExample() throws {
        let text = try String(contentsOf: Self.doc, encoding: .utf8)

        // Encoding: the first column of each line, concatenated.
        let encodingLines = try Self.block("encoding of entry 1", in: text)
        let hex = encodingLines.compactMap { $0.split(separator: " ").first }.joined()
        let encoding = LedgerHash.encode(Self.entry1)
        #expect(hex == LedgerHash.hex(encoding))
        #expect(text.contains("Its encoding, 156 bytes,") && encoding.count == 156)
        #expect(text.contains("Its encoding is 147 bytes.") && LedgerHash.encode(Self.entry2).count == 147)
        let fixed = encoding.count - Self.entry1.type.utf8.count - Self.entry1.actor.exe.utf8.count - Self.entry1.payload.count
        #expect(text.contains("`len(enc(e)) = \(fixed) + len(type) + len(exe) + len(payload)`"))

        // Hashes and roots: "name = hex" lines.
        var values: [String: String] = [:]
        for line in try Self.block("hashes", in: text) {
            let parts = line.split(separator: "=", maxSplits: 1)
            try #require(parts.count == 2, "bad line in the hashes block: \(line)")
            values[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let h1 = LedgerHash.entryHash(Self.entry1)
        let h2 = LedgerHash.entryHash(Self.entry2)
        let leaves = [h1, h2]
        #expect(values["hash(entry 1)"] == LedgerHash.hex(h1))
        #expect(values["hash(entry 2)"] == LedgerHash.hex(h2))
        #expect(values["root(size 1)"] == LedgerHash.hex(Merkle.root(size: 1) { leaves[Int($0)] }))
        #expect(values["root(size 2)"] == LedgerHash.hex(Merkle.root(size: 2) { leaves[Int($0)] }))
        #expect(values.count == 4)

        // The prose: the hash and root formulas, and the two proofs.
        #expect(h1 == LedgerHash.sha256([0x00] + encoding))
        #expect(Merkle.root(size: 2) { leaves[Int($0)] } == LedgerHash.sha256([0x01] + h1 + h2))
        #expect(Merkle.inclusionProof(index: 1, size: 2) { leaves[Int($0)] } == [h1])
        #expect(Merkle.consistencyProof(old: 1, new: 2) { leaves[Int($0)] } == [h2])
        #expect(ChainVerifier.verify(entries: [Self.entry1, Self.entry2]).isValid)
    }

    @Test("the page names the tag and keeps a Checkpoints section")
    func structure() throws {
        let text = try String(contentsOf: Self.doc, encoding: .utf8)
        #expect(LedgerHash.versionTag == Array("osmoda-ledger-entry-v1".utf8) + [0])
        #expect(text.contains("the 22 ASCII bytes `osmoda-ledger-entry-v1` and one 0x00 byte"))
        #expect(text.contains("\n## Checkpoints\n") || text.hasSuffix("\n## Checkpoints"))
    }
}
