import OsmodaCore

/// The outcome of one probe: a `check.result` record.
///
/// `name`, `kind`, `target`, `ok`, `latency_ms` and `detail` are always present; the
/// kind-specific fields only where the probe got that far.
public struct CheckResult: Record, Equatable {
    public static let type = "check.result"

    /// The probe's name.
    public var name: String
    /// The probe's kind (`tcp`, `http`, …).
    public var kind: String
    /// What was probed: `host:port`, the URL, the unit, the path, the command line.
    public var target: String
    public var ok: Bool
    /// Wall time of the probe, in milliseconds rounded to 0.001.
    public var latencyMs: Double
    /// Why it passed or failed, for people: `HTTP 503, expected 200`,
    /// `connect: Connection refused`, `exit status 3`, `12 days left, need 14`.
    public var detail: String
    /// Set (true) only when the probe ran out of time.
    public var timedOut: Bool?

    /// http: the response status.
    public var status: Int?
    /// https and cert: whether the certificate chain and name verified.
    public var verified: Bool?
    /// command: the exit status, when it exited.
    public var exitStatus: Int?
    /// command: the signal that ended it, when one did.
    public var signal: Int?
    /// command, failed: the last output (standard error if it wrote any, else standard
    /// output), at most 4 KiB.
    public var output: String?
    /// systemd: the unit's state as `systemctl is-active` prints it.
    public var state: String?
    /// process: the first matching process id.
    public var pid: Int?
    /// process: how many processes matched.
    public var processCount: Int?
    /// file: size in bytes.
    public var sizeBytes: Int?
    /// file: seconds since the last modification, rounded to 0.001.
    public var ageS: Double?
    /// file: the SHA-256 of the contents, when a checksum was asked for.
    public var sha256: String?
    /// disk: used space, as `df` computes it, rounded to 0.01.
    public var usedPct: Double?
    /// disk: bytes available to unprivileged users.
    public var availBytes: Int?
    /// cert: whole days until the certificate expires (negative once expired).
    public var daysLeft: Int?
    /// cert: when it expires, RFC 3339.
    public var notAfter: String?

    public init(name: String, kind: String, target: String, ok: Bool = false, latencyMs: Double = 0, detail: String = "") {
        self.name = name
        self.kind = kind
        self.target = target
        self.ok = ok
        self.latencyMs = latencyMs
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, target, ok
        case latencyMs = "latency_ms"
        case detail
        case timedOut = "timed_out"
        case status, verified
        case exitStatus = "exit_status"
        case signal, output, state, pid
        case processCount = "process_count"
        case sizeBytes = "size_bytes"
        case ageS = "age_s"
        case sha256
        case usedPct = "used_pct"
        case availBytes = "avail_bytes"
        case daysLeft = "days_left"
        case notAfter = "not_after"
    }
}
