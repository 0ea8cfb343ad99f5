import OsmodaCore
import OsmodaSystem

/// Options every record-reading tool shares.
public struct StreamOptions: Sendable {
    public var maxLine: Int
    public var strict: Bool
    /// Call `idle` again after this long without input (nil: only before a blocking read).
    public var wakeEveryMs: Int32?
    public init(maxLine: Int = 1 << 20, strict: Bool = false, wakeEveryMs: Int32? = nil) {
        self.maxLine = maxLine
        self.strict = strict
        self.wakeEveryMs = wakeEveryMs
    }
}

/// Reads records from the inputs, reporting bad lines and counting them.
///
/// A bad line (malformed JSON, not an object, oversized) is reported on stderr with
/// its source, line and column, and skipped; with `strict` the first one stops the
/// run. The returned status is `.dataError` when anything was skipped, `.noInput` when
/// an input could not be opened, and `.success` otherwise.
public enum RecordStream {
    public static func run(
        inputs: [String],
        options: StreamOptions,
        projection: KeyProjection?,
        diagnostics: Diagnostics,
        idle: () throws -> Void,
        _ body: (JSONObject, UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws -> ExitStatus {
        try run(inputs: inputs, options: options, projection: projection, diagnostics: diagnostics, idle: idle) { record, raw, _ in
            try body(record, raw)
        }
    }

    /// Where a record came from, for messages about it: `source:line`.
    public struct Location: Sendable, CustomStringConvertible {
        public var source: String
        public var line: Int
        public var description: String { "\(source):\(line)" }
    }

    /// The same, telling `body` where each record came from.
    public static func run(
        inputs: [String],
        options: StreamOptions,
        projection: KeyProjection?,
        diagnostics: Diagnostics,
        idle: () throws -> Void,
        _ body: (JSONObject, UnsafeBufferPointer<UInt8>, Location) throws -> Void
    ) throws -> ExitStatus {
        let (sources, failedOpens) = InputSource.open(inputs, diagnostics: diagnostics)
        var bad = 0
        var stopped = false
        for source in sources where !stopped {
            defer { if source.fd != 0 { Sys.close(source.fd) } }
            let reader = LineReader(fd: source.fd, maxLine: options.maxLine)
            do {
                try reader.forEachLine(idle: idle, wakeEveryMs: options.wakeEveryMs) { line in
                    if line.oversized {
                        diagnostics.error("line longer than \(options.maxLine) bytes; skipped (see --max-line)", source: source.name, line: line.number)
                        bad += 1
                        if options.strict { throw StopReading() }
                        return
                    }
                    // Blank lines separate nothing in JSON Lines, but are harmless.
                    if isBlank(line.bytes) { return }
                    let parsed = Result { () throws(JSONError) -> JSONObject in try JSONReader.parseRecord(line.bytes, projecting: projection) }
                    guard case .success(let record) = parsed else {
                        guard case .failure(let error) = parsed else { return }
                        diagnostics.error(error.message, source: source.name, line: line.number, column: error.column)
                        bad += 1
                        if options.strict { throw StopReading() }
                        return
                    }
                    try body(record, line.bytes, Location(source: source.name, line: line.number))
                }
            } catch is StopReading {
                stopped = true
            } catch let e as SystemError {
                throw ToolFailure("cannot read '\(source.name)': \(e.message)", status: .ioError)
            }
        }
        try idle()
        if bad > 0 {
            diagnostics.error(options.strict ? "stopped at the first bad line (--strict)" : "skipped \(bad) bad line\(bad == 1 ? "" : "s")")
            return .dataError
        }
        return failedOpens > 0 ? .noInput : .success
    }

    static func isBlank(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in b where !(c == 0x20 || c == 0x09 || c == 0x0D) { return false }
        return true
    }
}

struct StopReading: Error {}
