#if canImport(Glibc)
import Glibc
#endif
import OsmodaSystem

/// Writes `prog: error: message` lines to stderr (CONVENTIONS 9).
///
/// Untrusted text (input lines, file contents) is escaped when stderr is a terminal,
/// so a crafted record cannot move the cursor or change the title.
public struct Diagnostics: Sendable {
    public let program: String
    let escapeControls: Bool

    public init(program: String, stderrIsTerminal: Bool = Sys.isTerminal(2)) {
        self.program = program
        self.escapeControls = stderrIsTerminal
    }

    public func error(_ message: String) { emit("error", message) }
    public func warning(_ message: String) { emit("warning", message) }
    public func note(_ message: String) { emit("note", message) }

    /// An error tied to an input position: `prog: error: <stdin>:12:5: message`.
    public func error(_ message: String, source: String, line: Int, column: Int? = nil) {
        let where_ = column.map { "\(source):\(line):\($0)" } ?? "\(source):\(line)"
        emit("error", "\(where_): \(message)")
    }

    func emit(_ level: String, _ message: String) {
        let text = escapeControls ? Diagnostics.escape(message) : message
        var bytes = Array("\(program): \(level): \(text)\n".utf8)
        bytes.withUnsafeMutableBytes { b in
            try? Sys.writeAll(2, UnsafeRawBufferPointer(b))
        }
    }

    /// Replaces control characters (except tab and newline) with visible escapes.
    public static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x09, 0x0A: out.unicodeScalars.append(u)
            case 0..<0x20, 0x7F, 0x80..<0xA0:
                let hex = String(u.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
