import Foundation
@testable import OsmodaVault
import Testing

@Suite("Keccak-256")
struct KeccakTests {
    /// Published Keccak-256 values (Ethereum's keccak256, the Keccak team's padding).
    @Test(arguments: [
        ("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        ("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        ("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"),
    ])
    func publishedVectors(input: String, digest: String) {
        #expect(Hex.encode(Keccak256.hash(Array(input.utf8))) == digest)
    }

    /// The sponge with FIPS 202 padding must give SHA3-256 as another implementation
    /// (Python's hashlib) computes it: checks the permutation and block handling at
    /// every boundary of the 136-byte rate — lengths r-1, r, r+1, 2r-1, 2r, 2r+1.
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }

    @Test(arguments: [
        (0, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"),
        (1, "e3ed56bd086d8958483a12734fa0ae7f5c8bb160ef9092c67e82ed9b19e4c7b2"),
        (135, "d9dcf1f98e49a79b0643a9e68fef48079ff8777c5e7e7f93469ded65f192ac71"),
        (136, "743bd32e775ac7387a57d4d574c89ddef5ebcb08bb5cc6b88c55a27b5035cc45"),
        (137, "01d47e8d6dce6e3dcbf1baa6f845b6ace4ef74bd17da8176ecc49bc35dbe5d21"),
        (271, "20bf2d2a8b462cf032927768963867773b04bcfdbf1419d1ac06aa23637e5b19"),
        (272, "ddeb5151c079739970e780e6257d0c4d52d83bf82c6aa8d47d5195530b5d5f4b"),
        (273, "ca74f68cfcda3bbd9068ae31dd3156e6df046aeb68e3176e4e17bf1557174553"),
        (1000, "bd8b4d76041e0135e53fab1aaf425c7b1c129d8878ffb64cc31230ccafd7dc7c"),
    ])
    func sha3BlockBoundaries(length: Int, digest: String) {
        var h = Keccak256(sha3Padding: ())
        h.update(Self.pattern(length))
        #expect(Hex.encode(h.finalize()) == digest)
    }

    @Test func sha3LongMessage() {
        var h = Keccak256(sha3Padding: ())
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { h.update(chunk) }
        #expect(Hex.encode(h.finalize()) == "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1")
    }

    /// Streaming in any split gives the one-shot digest, across block boundaries.
    @Test func streamingEqualsOneShot() {
        for length in [0, 1, 135, 136, 137, 300, 1000] {
            let msg = Self.pattern(length)
            let whole = Keccak256.hash(msg)
            for step in [1, 7, 64, 135, 136, 137, 500] {
                var h = Keccak256()
                var i = 0
                while i < msg.count {
                    h.update(msg[i..<min(i + step, msg.count)])
                    i += step
                }
                #expect(h.finalize() == whole, "length \(length) in steps of \(step)")
            }
        }
    }

    /// Different lengths of the same pattern never collide (a check that the length
    /// and padding are absorbed, not only the bytes).
    @Test func lengthsDiffer() {
        let digests = Set((130..<142).map { Keccak256.hash(Self.pattern($0)) })
        #expect(digests.count == 12)
    }
}
