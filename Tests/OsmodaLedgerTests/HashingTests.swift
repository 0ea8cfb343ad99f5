import OsmodaLedger
import OsmodaTestSupport
import Testing

@Suite("Hashing")
struct HashingTests {
    /// FIPS 180-4 / NIST CSRC example vectors for SHA-256.
    @Test("SHA-256 matches the published vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256(_ input: String, _ digest: String) {
        #expect(LedgerHash.hex(LedgerHash.sha256(Array(input.utf8))) == digest)
        #expect(LedgerHash.hex(LedgerHasher().sha256(Array(input.utf8))) == digest)
    }

    @Test("SHA-256 of a million 'a's")
    func millionA() {
        let digest = LedgerHash.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(LedgerHash.hex(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("a reused hasher gives the same digests as fresh ones, whatever came before")
    func reuse() {
        var rng = SplitMix64(seed: 3)
        let hasher = LedgerHasher()
        for _ in 0..<300 {
            let bytes = (0..<rng.below(300)).map { _ in UInt8(rng.below(256)) }
            #expect(hasher.sha256(bytes) == LedgerHash.sha256(bytes))
        }
        for e in EntryFixtures.chain(count: 50) {
            #expect(hasher.entryHash(e) == LedgerHash.entryHash(e))
        }
    }

    @Test("a hasher grows its buffer for large entries and shrinks back to small ones")
    func largeEntries() {
        let hasher = LedgerHasher()
        let small = EntryFixtures.entry()
        var large = EntryFixtures.entry()
        large.payload = [UInt8](repeating: UInt8(ascii: "x"), count: LedgerEntry.maxPayloadBytes)
        large.actor.exe = String(repeating: "/long", count: 1_000)
        for e in [small, large, small, large] {
            #expect(hasher.entryHash(e) == LedgerHash.sha256([0x00] + LedgerHash.encode(e)))
        }
        #expect(LedgerHash.encode(large).count == 95 + 15 + 5_000 + 65_536)
    }

    @Test("the chain hash is the RFC 6962 leaf hash of the encoding")
    func entryHashIsLeafHash() {
        let e = EntryFixtures.entry()
        let leaf = Merkle.leafHash(LedgerHash.encode(e))
        #expect(LedgerHash.entryHash(e) == leaf)
        #expect(LedgerHash.leafHash(e) == leaf)
        #expect(leaf == LedgerHash.sha256([0x00] + LedgerHash.encode(e)))
        #expect(leaf.count == LedgerHash.size)
    }

    @Test("RFC 6962 domain separation: leaf and node prefixes")
    func prefixes() {
        #expect(LedgerHash.hex(Merkle.leafHash([])) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        #expect(LedgerHash.hex(Merkle.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let l = [UInt8](repeating: 1, count: 32)
        let r = [UInt8](repeating: 2, count: 32)
        #expect(Merkle.nodeHash(l, r) == LedgerHash.sha256([0x01] + l + r))
        #expect(Merkle.nodeHash(l, r) != Merkle.nodeHash(r, l))
    }

    @Test("hex round-trips and refuses odd or non-hex text")
    func hex() {
        let bytes: [UInt8] = [0x00, 0x7F, 0x80, 0xFF, 0x0A]
        #expect(LedgerHash.hex(bytes) == "007f80ff0a")
        #expect(LedgerHash.bytes(hex: "007F80ff0a") == bytes)
        #expect(LedgerHash.bytes(hex: "") == [])
        #expect(LedgerHash.bytes(hex: "abc") == nil)
        #expect(LedgerHash.bytes(hex: "zz") == nil)
        #expect(LedgerHash.bytes(hex: "0x00") == nil)
    }
}
