import Foundation
import OsmodaLedger
import Testing

/// The transparency-dev Merkle proof vectors, read in place from
/// `<package>/../shared/conformance/merkle/testdata` (never copied into this repository).
/// A missing directory fails the tests: a conformance suite that silently runs nothing
/// proves nothing.
@Suite("Merkle conformance (transparency-dev testdata)")
struct MerkleConformanceTests {
    struct InclusionCase: Decodable {
        var leafIdx: UInt64
        var treeSize: UInt64
        var root: String
        var leafHash: String
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    struct ConsistencyCase: Decodable {
        var size1: UInt64
        var size2: UInt64
        var root1: String
        var root2: String
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    /// Tests/OsmodaLedgerTests/ThisFile.swift → the package root → ../shared/….
    static let testdata = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/merkle/testdata")

    /// Every `.json` file under `testdata/<kind>`, sorted, as (relative path, contents).
    static func cases<T: Decodable>(_ kind: String, as type: T.Type) throws -> [(String, T)] {
        let dir = testdata.appendingPathComponent(kind)
        var isDir: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) && isDir.boolValue,
            "missing conformance data: \(dir.path)")
        guard let walker = FileManager.default.enumerator(atPath: dir.path) else {
            Issue.record("cannot list \(dir.path)")
            return []
        }
        var out: [(String, T)] = []
        for case let relative as String in walker where relative.hasSuffix(".json") {
            let data = try Data(contentsOf: dir.appendingPathComponent(relative))
            out.append(("\(kind)/\(relative)", try JSONDecoder().decode(T.self, from: data)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    static func bytes(_ base64: String, _ file: String) throws -> [UInt8] {
        try [UInt8](#require(Data(base64Encoded: base64), "\(file): bad base64 '\(base64)'"))
    }

    /// The leaves of the RFC 6962 reference tests, from which the happy-path vectors were
    /// made (their roots are the well-known ones, such as 5dc9da79… for all eight).
    static let referenceLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F],
    ].map(Merkle.leafHash)

    @Test("every inclusion case verifies or fails as it should")
    func inclusion() throws {
        let all = try Self.cases("inclusion", as: InclusionCase.self)
        #expect(all.count >= 90, "expected the full transparency-dev inclusion set, found \(all.count) files")
        var happy = 0
        for (file, c) in all {
            let proof = try (c.proof ?? []).map { try Self.bytes($0, file) }
            let ok = Merkle.verifyInclusion(
                leafHash: try Self.bytes(c.leafHash, file), index: c.leafIdx, size: c.treeSize, proof: proof,
                root: try Self.bytes(c.root, file))
            #expect(ok == !c.wantErr, "\(file) (\(c.desc)): verified \(ok), want error \(c.wantErr)")
            if !c.wantErr { happy += 1 }
        }
        #expect(happy >= 5)
    }

    @Test("every consistency case verifies or fails as it should")
    func consistency() throws {
        let all = try Self.cases("consistency", as: ConsistencyCase.self)
        #expect(all.count >= 90, "expected the full transparency-dev consistency set, found \(all.count) files")
        for (file, c) in all {
            let proof = try (c.proof ?? []).map { try Self.bytes($0, file) }
            let ok = Merkle.verifyConsistency(
                oldSize: c.size1, newSize: c.size2, oldRoot: try Self.bytes(c.root1, file),
                newRoot: try Self.bytes(c.root2, file), proof: proof)
            #expect(ok == !c.wantErr, "\(file) (\(c.desc)): verified \(ok), want error \(c.wantErr)")
        }
    }

    /// Generation, not only verification: over the reference leaves, our roots and proofs
    /// are byte for byte the ones in the vectors.
    @Test("generated roots and proofs equal the happy-path vectors")
    func generationMatches() throws {
        let leaves = Self.referenceLeaves
        var compared = 0
        for (file, c) in try Self.cases("inclusion", as: InclusionCase.self)
        where !c.wantErr && c.treeSize > 1 && c.treeSize <= UInt64(leaves.count) {
            let root = Merkle.root(size: c.treeSize) { leaves[Int($0)] }
            #expect(root == (try Self.bytes(c.root, file)), "\(file): root")
            #expect(leaves[Int(c.leafIdx)] == (try Self.bytes(c.leafHash, file)), "\(file): leaf")
            let proof = Merkle.inclusionProof(index: c.leafIdx, size: c.treeSize) { leaves[Int($0)] }
            #expect(proof == (try (c.proof ?? []).map { try Self.bytes($0, file) }), "\(file): proof")
            compared += 1
        }
        for (file, c) in try Self.cases("consistency", as: ConsistencyCase.self)
        where !c.wantErr && c.size1 < c.size2 && c.size2 <= UInt64(leaves.count) {
            #expect(Merkle.root(size: c.size1) { leaves[Int($0)] } == (try Self.bytes(c.root1, file)), "\(file): root1")
            #expect(Merkle.root(size: c.size2) { leaves[Int($0)] } == (try Self.bytes(c.root2, file)), "\(file): root2")
            let proof = Merkle.consistencyProof(old: c.size1, new: c.size2) { leaves[Int($0)] }
            #expect(proof == (try (c.proof ?? []).map { try Self.bytes($0, file) }), "\(file): proof")
            compared += 1
        }
        #expect(compared >= 8)
    }
}
