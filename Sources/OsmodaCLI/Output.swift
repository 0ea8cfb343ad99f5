import OsmodaCore
import OsmodaSystem

/// Buffered record output on a file descriptor (stdout by default).
///
/// Filters call `flush()` before each blocking read, so in a live pipeline no record
/// waits in the buffer while the tool waits for input, while a bulk run still writes
/// in large blocks. Producers flush after every record.
public final class RecordOutput {
    let fd: Int32
    var buffer: [UInt8] = []
    let limit: Int

    public init(fd: Int32 = 1, bufferSize: Int = 64 * 1024) {
        self.fd = fd
        self.limit = bufferSize
        buffer.reserveCapacity(bufferSize + 4096)
    }

    /// Appends one line (the newline is added).
    public func writeLine(_ bytes: UnsafeBufferPointer<UInt8>) throws(SystemError) {
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
        if buffer.count >= limit { try flush() }
    }

    public func writeLine(_ bytes: [UInt8]) throws(SystemError) {
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
        if buffer.count >= limit { try flush() }
    }

    public func writeLine(_ text: String) throws(SystemError) {
        try writeLine(Array(text.utf8))
    }

    /// Encodes a record with `type` and `ts` first and writes it as one line.
    public func write<R: Record>(_ record: R, at ts: Timestamp) throws(ToolFailure) {
        let line: [UInt8]
        do {
            line = try record.jsonLine(at: ts)
        } catch {
            throw ToolFailure("cannot encode \(R.type) record: \(error)", status: .software)
        }
        do { try writeLine(line) } catch { throw ToolFailure.output(error) }
    }

    public func write(_ value: JSONValue) throws(SystemError) {
        var line: [UInt8] = []
        JSONWriter.write(value, into: &line)
        try writeLine(line)
    }

    public func flush() throws(SystemError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try Sys.writeAll(fd, buffer)
    }
}

extension ToolFailure {
    /// A failed write to stdout: the reader went away or the disk is full.
    public static func output(_ e: SystemError) -> ToolFailure {
        ToolFailure("cannot write output: \(e.message)", status: .ioError)
    }
}
