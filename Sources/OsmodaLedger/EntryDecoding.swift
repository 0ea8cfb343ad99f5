import OsmodaCore

extension LedgerEntry {
    /// Reads `LedgerHash.encode`'s version-1 form back: `nil` for a wrong tag, a length
    /// that overruns the bytes, or `type` or `exe` that are not valid UTF-8. Any `prevHash`
    /// length is read back as it was written; a verifier refuses the wrong ones.
    ///
    /// `LedgerEntry(encoding: LedgerHash.encode(e)) == e` for every entry, which is what
    /// makes the encoding injective.
    public init?(encoding bytes: [UInt8]) {
        var reader = EntryByteReader(bytes: bytes)
        guard reader.expect(LedgerHash.versionTag),
              let seq = reader.u64(),
              let ts = reader.u64(),
              let type = reader.string(),
              let uid = reader.u32(),
              let gid = reader.u32(),
              let pid = reader.u32(),
              let exe = reader.string(),
              let payload = reader.lengthPrefixed()
        else { return nil }
        self.init(
            seq: seq,
            ts: Timestamp(millisecondsSinceEpoch: Int64(bitPattern: ts)),
            type: type,
            actor: Actor(uid: uid, gid: gid, pid: Int32(bitPattern: pid), exe: exe),
            payload: payload,
            prevHash: reader.rest())
    }
}

/// A cursor over big-endian fields.
private struct EntryByteReader {
    let bytes: [UInt8]
    var at = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func expect(_ prefix: [UInt8]) -> Bool {
        guard bytes.count - at >= prefix.count, bytes[at..<(at + prefix.count)].elementsEqual(prefix) else { return false }
        at += prefix.count
        return true
    }

    mutating func u64() -> UInt64? {
        guard bytes.count - at >= 8 else { return nil }
        var v: UInt64 = 0
        for b in bytes[at..<(at + 8)] { v = v << 8 | UInt64(b) }
        at += 8
        return v
    }

    mutating func u32() -> UInt32? {
        guard bytes.count - at >= 4 else { return nil }
        var v: UInt32 = 0
        for b in bytes[at..<(at + 4)] { v = v << 8 | UInt32(b) }
        at += 4
        return v
    }

    mutating func lengthPrefixed() -> [UInt8]? {
        guard let n = u32(), bytes.count - at >= Int(n) else { return nil }
        defer { at += Int(n) }
        return Array(bytes[at..<(at + Int(n))])
    }

    mutating func string() -> String? {
        guard let raw = lengthPrefixed() else { return nil }
        return String(validating: raw, as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { at = bytes.count }
        return Array(bytes[at...])
    }
}
