/// The outcome of checking one request against the egress policy and the address
/// classification: what `osmoda-egress` logs as an `egress.decision` record.
public struct EgressDecision: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        /// Allowed by a rule, every resolved address global unicast.
        case allow
        /// Refused (enforce mode).
        case deny
        /// Would have been refused, but the client's policy is in report mode.
        case report
    }

    public var verdict: Verdict
    /// The stable name of the rule or check that decided, e.g. `allow:*.github.com`,
    /// `deny:metadata.internal`, `default_deny`, `address:private(10.0.0.0/8)`,
    /// `address:self`.
    public var rule: String
    /// For people: why.
    public var reason: String

    public init(verdict: Verdict, rule: String, reason: String) {
        self.verdict = verdict
        self.rule = rule
        self.reason = reason
    }
}
