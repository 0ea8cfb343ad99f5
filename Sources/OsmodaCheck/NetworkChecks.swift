import OsmodaCore
import OsmodaSystem

extension Probe.TCP {
    /// Connects (trying every address the name resolves to) and closes at once.
    func run(deadline: MonotonicDeadline, into r: inout CheckResult) {
        do {
            let connection = try TCPConnection.connect(host: host, port: port, deadline: deadline)
            r.ok = true
            r.detail = "connected to \(connection.peer)"
        } catch {
            r.fail(error)
        }
    }
}

extension Probe.HTTP {
    /// The most body a check reads.
    static let bodyLimit = 1 << 20

    /// Sends one `GET` and compares the status (and body) with what is expected.
    func run(deadline: MonotonicDeadline, into r: inout CheckResult) {
        let response: HTTPResponse
        do {
            response = try HTTPClient.get(url, verify: !insecure, deadline: deadline, bodyLimit: Self.bodyLimit)
        } catch {
            if error.code == .untrusted { r.verified = false }
            r.fail(error)
            return
        }
        r.status = response.status
        var notes: [String] = []
        if let verification = response.verification {
            r.verified = verification.isTrusted
            if case .untrusted(let reason) = verification { notes.append("certificate not verified: \(reason)") }
        }
        guard response.status == expectStatus else {
            r.detail = (["HTTP \(response.status), expected \(expectStatus)"] + notes).joined(separator: ", ")
            return
        }
        if let needle = bodyContains {
            guard Self.contains(response.body, Array(needle.utf8)) else {
                let scope = response.bodyTruncated ? " in the first \(Self.bodyLimit) bytes" : ""
                r.detail = "HTTP \(response.status), body does not contain '\(Format.snippet(needle, limit: 80))'\(scope)"
                return
            }
            notes.insert("body contains '\(Format.snippet(needle, limit: 80))'", at: 0)
        }
        r.ok = true
        r.detail = (["HTTP \(response.status)"] + notes).joined(separator: ", ")
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}

extension Probe.Cert {
    /// Completes a TLS handshake and reads the leaf certificate's expiry.
    ///
    /// An untrusted chain is not a failure here (the point is the date): the detail
    /// says it, and `verified` is false.
    func run(deadline: MonotonicDeadline, into r: inout CheckResult) {
        let name = serverName ?? host
        let info: TLSCertificateInfo
        let verification: TLSVerification
        do {
            let tcp = try TCPConnection.connect(host: host, port: port, deadline: deadline)
            let session = try TLSSession.handshake(over: tcp, serverName: name, verifyHost: name, deadline: deadline)
            verification = session.verification
            guard let leaf = session.peerCertificate() else {
                r.detail = "the server sent no certificate"
                return
            }
            info = leaf
        } catch {
            r.fail(error)
            return
        }
        let days = info.daysLeft
        r.daysLeft = days
        r.notAfter = info.notAfter.rfc3339
        r.verified = verification.isTrusted
        r.ok = days >= minDays
        var detail: String
        if info.secondsLeft < 0 {
            detail = "expired at \(info.notAfter.rfc3339)"
        } else {
            detail = "\(Format.count(days, "day", "days")) left"
            if !r.ok { detail += ", need \(minDays)" }
        }
        if case .untrusted(let reason) = verification { detail += " (untrusted: \(reason))" }
        r.detail = detail
    }
}

extension CheckResult {
    /// Records a network failure.
    mutating func fail(_ error: NetError) {
        ok = false
        detail = error.description
        if error.code == .timeout { timedOut = true }
    }
}
