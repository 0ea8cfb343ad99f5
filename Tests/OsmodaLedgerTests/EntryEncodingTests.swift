import OsmodaCore
import OsmodaLedger
import OsmodaTestSupport
import Testing

@Suite("Entry encoding")
struct EntryEncodingTests {
    @Test("fields are written in order, big-endian, with u32 length prefixes")
    func layout() {
        let e = LedgerEntry(
            seq: 0x0102_0304_0506_0708, ts: Timestamp(millisecondsSinceEpoch: -2), type: "a.b",
            actor: Actor(uid: 0xA1A2_A3A4, gid: 7, pid: -1, exe: "/x"), payload: Array("{}".utf8),
            prevHash: [UInt8](repeating: 0xEE, count: 32))
        var expected: [UInt8] = Array("osmoda-ledger-entry-v1".utf8) + [0x00]
        expected += [1, 2, 3, 4, 5, 6, 7, 8]
        expected += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]
        expected += [0, 0, 0, 3] + Array("a.b".utf8)
        expected += [0xA1, 0xA2, 0xA3, 0xA4]
        expected += [0, 0, 0, 7]
        expected += [0xFF, 0xFF, 0xFF, 0xFF]
        expected += [0, 0, 0, 2] + Array("/x".utf8)
        expected += [0, 0, 0, 2] + Array("{}".utf8)
        expected += [UInt8](repeating: 0xEE, count: 32)
        #expect(LedgerHash.encode(e) == expected)
        #expect(LedgerHash.encodedSize(e) == expected.count)
        #expect(LedgerEntry(encoding: expected) == e)
    }

    @Test("encode(into:) appends and leaves what was there")
    func appends() {
        let e = EntryFixtures.entry()
        var out: [UInt8] = [9, 9]
        LedgerHash.encode(e, into: &out)
        #expect(out == [9, 9] + LedgerHash.encode(e))
    }

    /// Pairs that a separator-joined or unprefixed encoding would confuse: bytes moved
    /// across the boundary of two fields, or a separator smuggled into a field.
    @Test("moving bytes between fields changes the encoding and the hash", arguments: [
        // type and payload, the predecessor's `|`-joined collision
        (EntryFixtures.entry(type: "a.b", payload: "{}"), EntryFixtures.entry(type: "a", payload: ".b{}")),
        (EntryFixtures.entry(type: "a|b", payload: "{}"), EntryFixtures.entry(type: "a", payload: "b|{}")),
        // exe and payload are adjacent in the encoding
        (
            EntryFixtures.entry(actor: Actor(uid: 1, gid: 1, pid: 1, exe: "/bin/x"), payload: "{}"),
            EntryFixtures.entry(actor: Actor(uid: 1, gid: 1, pid: 1, exe: "/bin/x{"), payload: "}")
        ),
        (
            EntryFixtures.entry(actor: Actor(uid: 1, gid: 1, pid: 1, exe: ""), payload: "{}"),
            EntryFixtures.entry(actor: Actor(uid: 1, gid: 1, pid: 1, exe: "{}"), payload: "")
        ),
        // type and exe
        (
            EntryFixtures.entry(type: "a.b", actor: Actor(uid: 1, gid: 1, pid: 1, exe: "c")),
            EntryFixtures.entry(type: "a", actor: Actor(uid: 1, gid: 1, pid: 1, exe: ".bc"))
        ),
        // payload and prevHash: a byte of the hash taken into the payload
        (
            EntryFixtures.entry(payload: "{}", prevHash: [UInt8](repeating: 0x7D, count: 32)),
            EntryFixtures.entry(payload: "{}}", prevHash: [UInt8](repeating: 0x7D, count: 31))
        ),
        // numbers written as text would collide here; fixed widths do not
        (EntryFixtures.entry(seq: 12, ms: 3), EntryFixtures.entry(seq: 1, ms: 23)),
        (
            EntryFixtures.entry(actor: Actor(uid: 1, gid: 23, pid: 4, exe: "")),
            EntryFixtures.entry(actor: Actor(uid: 12, gid: 3, pid: 4, exe: ""))
        ),
    ])
    func boundaries(_ a: LedgerEntry, _ b: LedgerEntry) {
        #expect(a != b)
        #expect(LedgerHash.encode(a) != LedgerHash.encode(b))
        #expect(LedgerHash.entryHash(a) != LedgerHash.entryHash(b))
        #expect(LedgerEntry(encoding: LedgerHash.encode(a)) == a)
        #expect(LedgerEntry(encoding: LedgerHash.encode(b)) == b)
    }

    @Test("changing any one field changes the hash")
    func everyField() {
        let e = EntryFixtures.entry()
        var variants: [LedgerEntry] = []
        var v = e; v.seq += 1; variants.append(v)
        v = e; v.ts = Timestamp(millisecondsSinceEpoch: e.ts.millisecondsSinceEpoch + 1); variants.append(v)
        v = e; v.type = "service.restarT"; variants.append(v)
        v = e; v.actor.uid += 1; variants.append(v)
        v = e; v.actor.gid += 1; variants.append(v)
        v = e; v.actor.pid += 1; variants.append(v)
        v = e; v.actor.exe += "x"; variants.append(v)
        v = e; v.payload[3] ^= 1; variants.append(v)
        v = e; v.prevHash[31] ^= 1; variants.append(v)
        let hashes = Set(([e] + variants).map(LedgerHash.entryHash))
        #expect(hashes.count == variants.count + 1)
    }

    @Test("strings are bytes: canonically equivalent but different UTF-8 is a different entry")
    func unicodeIsBytes() {
        let composed = EntryFixtures.entry(type: "caf\u{E9}.open")
        let decomposed = EntryFixtures.entry(type: "cafe\u{301}.open")
        #expect(composed.type == decomposed.type)  // Swift's String equality
        #expect(composed != decomposed)  // the entry's equality, byte for byte
        #expect(LedgerHash.encode(composed) != LedgerHash.encode(decomposed))
    }

    @Test("random entries: distinct entries have distinct encodings, and every encoding decodes back")
    func randomized() {
        var rng = SplitMix64(seed: 0x0511_0DA1)
        // Tiny alphabets and ranges, so that many entries differ only slightly.
        let pieces = ["", "a", ".", "|", "{", "}", "\u{0}", "é", "a.b"]
        func text(_ rng: inout SplitMix64) -> String {
            (0..<rng.below(4)).map { _ in rng.pick(pieces) }.joined()
        }
        var seen: [[UInt8]: LedgerEntry] = [:]
        var collisions = 0
        for _ in 0..<20_000 {
            let e = LedgerEntry(
                seq: UInt64(rng.below(3)), ts: Timestamp(millisecondsSinceEpoch: Int64(rng.int(in: -1...1))), type: text(&rng),
                actor: Actor(uid: UInt32(rng.below(2)), gid: UInt32(rng.below(2)), pid: Int32(rng.int(in: -1...0)), exe: text(&rng)),
                payload: Array(text(&rng).utf8), prevHash: (0..<rng.below(3)).map { _ in UInt8(rng.below(2)) })
            let bytes = LedgerHash.encode(e)
            #expect(bytes.count == LedgerHash.encodedSize(e))
            #expect(LedgerEntry(encoding: bytes) == e)
            if let earlier = seen[bytes] {
                if earlier != e { collisions += 1 }
            } else {
                seen[bytes] = e
            }
        }
        #expect(collisions == 0)
        #expect(seen.count > 5_000)  // the generator really produced many distinct entries
    }

    @Test("the decoder refuses what encode cannot have written")
    func decoderRefuses() {
        let good = LedgerHash.encode(EntryFixtures.entry())
        #expect(LedgerEntry(encoding: good) != nil)
        var wrongTag = good
        wrongTag[21] = UInt8(ascii: "2")
        #expect(LedgerEntry(encoding: wrongTag) == nil)
        #expect(LedgerEntry(encoding: Array(good.prefix(40))) == nil)
        #expect(LedgerEntry(encoding: []) == nil)
        // a type length that runs past the end
        var overrun = good
        overrun[39] = 0xFF
        #expect(LedgerEntry(encoding: overrun) == nil)
        // a type that is not UTF-8
        var badUTF8 = good
        badUTF8[43] = 0xFF
        #expect(LedgerEntry(encoding: badUTF8) == nil)
    }
}
