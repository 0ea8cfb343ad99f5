/// Splits a byte stream into newline-terminated frames, each at most `limit` bytes
/// (the newline not counted).
///
/// A frame over the limit is reported once as `.oversized` and its bytes are dropped
/// as they arrive, up to and including its newline, so that memory stays bounded and
/// the next frame is read as usual: in newline-delimited JSON a raw newline only ever
/// ends a frame, so the stream resynchronises there.
package struct FrameBuffer {
    package enum Event: Equatable, Sendable {
        case frame([UInt8])
        case oversized
    }

    package let limit: Int
    private var bytes: [UInt8] = []
    /// Bytes before `start` are consumed.
    private var start = 0
    /// Bytes from `start` to `scanned` hold no newline.
    private var scanned = 0
    /// Dropping an oversized frame until its newline.
    private var discarding = false

    package init(limit: Int) { self.limit = max(1, limit) }

    /// Whether a frame has begun and not ended: bytes without a newline yet, or an
    /// oversized frame still being dropped.
    package var hasPartialFrame: Bool { discarding || start < bytes.count }

    /// Takes in bytes read from the stream.
    package mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        if discarding {
            guard let nl = chunk.firstIndex(of: 0x0A) else { return }
            discarding = false
            bytes.append(contentsOf: chunk[(nl + 1)...])
            return
        }
        bytes.append(contentsOf: chunk)
    }

    package mutating func append(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, `.oversized` for one over the limit, or `nil` when more
    /// bytes are needed.
    package mutating func next() -> Event? {
        if let nl = bytes[scanned...].firstIndex(of: 0x0A) {
            let length = nl - start
            let frame = length > limit ? nil : Array(bytes[start..<nl])
            start = nl + 1
            scanned = start
            compact()
            return frame.map { .frame($0) } ?? .oversized
        }
        scanned = bytes.count
        if bytes.count - start > limit {
            bytes.removeAll(keepingCapacity: false)
            start = 0
            scanned = 0
            discarding = true
            return .oversized
        }
        compact()
        return nil
    }

    /// At end of stream: the last frame when it had no newline (`nil` when there is
    /// none, or when it was an oversized one already reported).
    package mutating func finish() -> Event? {
        defer {
            bytes.removeAll()
            start = 0
            scanned = 0
            discarding = false
        }
        guard !discarding, start < bytes.count else { return nil }
        return .frame(Array(bytes[start...]))
    }

    /// Drops consumed bytes, keeping a small buffer's storage for the next frames.
    private mutating func compact() {
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 65536)
            start = 0
            scanned = 0
        } else if start >= 65536 {
            bytes.removeFirst(start)
            scanned -= start
            start = 0
        }
    }
}
