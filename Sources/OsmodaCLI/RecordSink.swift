import OsmodaCore
import OsmodaSystem

/// How records leave a tool: JSON Lines, or a table for people.
public enum OutputFormat: String, CaseIterable, Sendable {
    /// A table when stdout is a terminal, JSON Lines otherwise.
    case auto
    case json
    case table

    public func resolved(stdoutIsTerminal: Bool = Sys.isTerminal(1)) -> OutputFormat {
        self == .auto ? (stdoutIsTerminal ? .table : .json) : self
    }
}

/// Where a tool writes its records: JSON Lines on stdout, or a streaming table.
public final class RecordSink {
    public let output: RecordOutput
    let table: TableRenderer?

    public init(format: OutputFormat, columns: [String]? = nil, output: RecordOutput = RecordOutput()) {
        self.output = output
        self.table = format.resolved() == .table ? TableRenderer(columns: columns) : nil
    }

    public var isTable: Bool { table != nil }

    /// Writes a typed record stamped with `ts`.
    public func emit<R: Record>(_ record: R, at ts: Timestamp) throws(ToolFailure) {
        if let table {
            let value: JSONValue
            do { value = try record.jsonValue(at: ts) } catch {
                throw ToolFailure("cannot encode \(R.type) record: \(error)", status: .software)
            }
            if case .object(let o) = value { table.add(o) }
        } else {
            try output.write(record, at: ts)
        }
    }

    /// Writes a record that is already a JSON object.
    public func emit(_ object: JSONObject) throws(ToolFailure) {
        if let table { table.add(object); return }
        do { try output.write(.object(object)) } catch { throw ToolFailure.output(error) }
    }

    /// Passes a record's original bytes through unchanged (or adds it to the table).
    public func pass(_ raw: UnsafeBufferPointer<UInt8>, parsed: @autoclosure () -> JSONObject?) throws(ToolFailure) {
        if let table {
            if let o = parsed() { table.add(o) }
            return
        }
        do { try output.writeLine(raw) } catch { throw ToolFailure.output(error) }
    }

    /// Sends what is buffered to the terminal or pipe.
    public func flush() throws(ToolFailure) {
        do {
            if let table {
                let text = table.render()
                if !text.isEmpty { try output.writeLine(Array(text.utf8.dropLast())) }
            }
            try output.flush()
        } catch {
            throw ToolFailure.output(error)
        }
    }
}
