/// A vault failure with a stable, dotted `code` (`keystore.bad_password`,
/// `seal.mismatch`, …) that scripts and agents match on, and a message for people.
/// Neither ever carries secret material.
public struct VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
