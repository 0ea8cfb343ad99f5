/// The right edge of an RFC 6962 tree: the roots of its complete subtrees, one per set
/// bit of `size`, largest (leftmost) first. Enough to append leaves and compute the root
/// in O(log size) hashes and 32 × popcount(size) bytes, without reading old leaves.
public struct MerkleFrontier: Sendable, Equatable {
    /// Leaves appended so far.
    public private(set) var size: UInt64
    /// popcount(size) hashes of 32 bytes, concatenated, largest subtree first. May be
    /// longer than that: bytes past the used ones are spare room, not state.
    private var nodes: [UInt8]

    /// Bytes of `nodes` in use.
    private var used: Int { 32 * size.nonzeroBitCount }

    public static func == (a: MerkleFrontier, b: MerkleFrontier) -> Bool {
        a.size == b.size && a.nodes[..<a.used].elementsEqual(b.nodes[..<b.used])
    }

    /// The frontier of the empty tree.
    public init() {
        size = 0
        nodes = []
    }

    /// The frontier of the tree over leaves `0..<size`.
    public init(size: UInt64, leaf: (UInt64) throws -> [UInt8]) rethrows {
        self.init()
        let engine = SHA256Engine()
        var i: UInt64 = 0
        while i < size {
            try append(leafHash: leaf(i), engine: engine)
            i += 1
        }
    }

    /// Appends one leaf, given as its 32-byte leaf hash (a trap for any other length).
    public mutating func append(leafHash: [UInt8]) {
        append(leafHash: leafHash, engine: SHA256Engine())
    }

    /// The tree's root (RFC 6962 MTH); `Merkle.emptyRoot` for the empty tree.
    public var root: [UInt8] { root(engine: SHA256Engine()) }

    /// The tree head this frontier stands for.
    public var treeHead: MerkleTreeHead { MerkleTreeHead(size: size, root: root) }

    /// The version byte of `serialized()`.
    static let serialVersion: UInt8 = 1

    /// A stable byte form for storage: version byte 0x01, `size` as u64 big-endian,
    /// then the popcount(size) 32-byte hashes, largest subtree first.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = [Self.serialVersion]
        out.reserveCapacity(9 + nodes.count)
        LedgerHash.appendBigEndian(size, to: &out)
        out.append(contentsOf: nodes[..<used])
        return out
    }

    /// Reads `serialized()`'s form; `nil` for a wrong version or length.
    public init?(serialized bytes: [UInt8]) {
        guard bytes.count >= 9, bytes[0] == Self.serialVersion else { return nil }
        var size: UInt64 = 0
        for b in bytes[1..<9] { size = size << 8 | UInt64(b) }
        guard bytes.count == 9 + 32 * size.nonzeroBitCount else { return nil }
        self.size = size
        self.nodes = Array(bytes[9...])
    }

    mutating func append(leafHash: [UInt8], engine: SHA256Engine) {
        precondition(leafHash.count == 32, "a Merkle leaf hash has 32 bytes")
        leafHash.withUnsafeBytes { leaf in
            guard let p = leaf.baseAddress else { return }
            append(leafHash: p, engine: engine)
        }
    }

    mutating func append(leafDigest: Digest32, engine: SHA256Engine) {
        withUnsafeBytes(of: leafDigest) { leaf in
            guard let p = leaf.baseAddress else { return }
            append(leafHash: p, engine: engine)
        }
    }

    /// Appends the 32-byte leaf hash at `leaf`: merges it with one complete subtree per
    /// trailing one bit of `size`, as binary addition carries, in place.
    mutating func append(leafHash leaf: UnsafeRawPointer, engine: SHA256Engine) {
        append(root: leaf, level: 0, engine: engine, capture: nil)
    }

    /// Appends the root of a complete subtree of `2^level` leaves (level 0: one leaf
    /// hash); `size` must be a multiple of `2^level`. When `capture` is given and the
    /// append completes a subtree of `2^capture.level` leaves ending at the new size, its
    /// root is copied to `capture.into` and true is returned.
    @discardableResult
    mutating func append(root node: UnsafeRawPointer, level: Int, engine: SHA256Engine,
                         capture: (level: Int, into: UnsafeMutableRawPointer)?) -> Bool {
        precondition(level >= 0 && level < 63 && size & ((UInt64(1) << level) - 1) == 0, "an unaligned subtree")
        let merges = (~(size >> level)).trailingZeroBitCount
        let keep = used - 32 * merges
        if nodes.count < keep + 32 { nodes.append(contentsOf: repeatElement(0, count: keep + 32 - nodes.count)) }
        var captured = false
        nodes.withUnsafeMutableBytes { n in
            guard let base = n.baseAddress else { return }
            let slot = base + keep
            if let capture, capture.level == level {
                capture.into.copyMemory(from: node, byteCount: 32)
                captured = true
            }
            if merges == 0 {
                slot.copyMemory(from: node, byteCount: 32)
                return
            }
            // The smallest subtree merges first, (last node, new node), then each one to
            // its left; the carry lives in the last node's slot, which the first merge
            // consumed.
            var at = keep + 32 * (merges - 1)
            let carry = base + at
            engine.node(carry, node, into: carry)
            var carryLevel = level + 1
            while true {
                if let capture, capture.level == carryLevel {
                    capture.into.copyMemory(from: carry, byteCount: 32)
                    captured = true
                }
                guard at > keep else { break }
                at -= 32
                engine.node(base + at, carry, into: carry)
                carryLevel += 1
            }
            if carry != slot { slot.copyMemory(from: carry, byteCount: 32) }
        }
        size += UInt64(1) << level
        return captured
    }

    /// Appends a subtree root of `2^level` leaves (see `append(root:level:engine:capture:)`).
    mutating func append(root: [UInt8], level: Int, engine: SHA256Engine) {
        precondition(root.count == 32, "a Merkle node hash has 32 bytes")
        root.withUnsafeBytes { r in
            guard let p = r.baseAddress else { return }
            append(root: p, level: level, engine: engine, capture: nil)
        }
    }

    func root(engine: SHA256Engine) -> [UInt8] {
        guard size > 0 else { return Merkle.emptyRoot }
        return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            guard let r = out.baseAddress else { return }
            let used = used
            nodes.withUnsafeBytes { n in
                guard let base = n.baseAddress else { return }
                var at = used - 32
                UnsafeMutableRawPointer(r).copyMemory(from: base + at, byteCount: 32)
                while at > 0 {
                    at -= 32
                    engine.node(base + at, r, into: r)
                }
            }
            count = 32
        }
    }
}
