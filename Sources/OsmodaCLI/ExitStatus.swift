/// The exit statuses every tool uses (CONVENTIONS 10; `osmoda(7)` EXIT STATUS).
///
/// `1` is only for tools that answer a yes/no question (`osmoda-check` in one-shot
/// mode); errors use the BSD sysexits codes.
public enum ExitStatus: Int32, Sendable, CaseIterable, Hashable {
    case success = 0
    /// The answer is "no": a probe failed.
    case no = 1
    /// A command-line usage error.
    case usage = 64
    /// Bad input data: a malformed or skipped line, a bad rules or probe file.
    case dataError = 65
    /// An input file does not exist or cannot be opened.
    case noInput = 66
    /// A service the tool needs is unavailable (systemd, osmodad).
    case unavailable = 69
    /// An internal error: a bug.
    case software = 70
    /// An I/O error reading input or writing output.
    case ioError = 74
    /// A temporary failure; trying again may work.
    case tempFail = 75
    /// Permission denied.
    case noPermission = 77
    /// A configuration error.
    case config = 78

    public var summary: String {
        switch self {
        case .success: return "success"
        case .no: return "the answer is no (a probe failed)"
        case .usage: return "usage error"
        case .dataError: return "bad input data; lines were skipped"
        case .noInput: return "an input file could not be opened"
        case .unavailable: return "a required service is unavailable"
        case .software: return "internal error"
        case .ioError: return "I/O error"
        case .tempFail: return "temporary failure; try again"
        case .noPermission: return "permission denied"
        case .config: return "configuration error"
        }
    }
}

/// An error that ends the tool with a message and a status.
public struct ToolFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var status: ExitStatus
    public init(_ message: String, status: ExitStatus) {
        self.message = message
        self.status = status
    }
    public var description: String { message }
}
