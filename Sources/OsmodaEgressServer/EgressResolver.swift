import OsmodaCore
import OsmodaEgress
import OsmodaSystem

/// Turns a request's host name into addresses, once.
///
/// The system resolver (`getaddrinfo(3)` with a deadline), or, for tests only, a file in
/// /etc/hosts format that answers every name itself (`--hosts-file`): a name it does not
/// list does not resolve. A name listed on several lines gets every address listed.
struct EgressResolver: Sendable {
    enum Source: Sendable {
        case system
        case hostsFile([String: [IPAddress]])
    }
    let source: Source

    static let system = EgressResolver(source: .system)

    /// Reads a hosts file: `ADDRESS NAME [NAME…]` per line, `#` comments.
    static func hostsFile(_ bytes: [UInt8], path: String) throws(EgressSetupError) -> EgressResolver {
        var table: [String: [IPAddress]] = [:]
        var n = 0
        for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard let address = IPAddress(String(fields[0])), fields.count >= 2 else {
                throw EgressSetupError("\(path):\(n): expected 'ADDRESS NAME…' with a canonical IPv4 or IPv6 address")
            }
            for name in fields.dropFirst() {
                var key = name.lowercased()
                if key.hasSuffix(".") { key.removeLast() }
                if !(table[key]?.contains(address) ?? false) { table[key, default: []].append(address) }
            }
        }
        return EgressResolver(source: .hostsFile(table))
    }

    enum Failure: Error {
        case timeout(String)
        case notFound(String)
    }

    /// Blocking: call it on the thread pool. The deadline is taken when the request is
    /// queued, so time spent waiting for a pool thread counts against it.
    func resolve(_ name: String, port: Int, deadline: MonotonicDeadline) -> Result<[IPAddress], Failure> {
        let timeoutMs = deadline.budgetMs
        switch source {
        case .hostsFile(let table):
            guard let list = table[name], !list.isEmpty else { return .failure(.notFound("'\(name)' is not in the hosts file")) }
            return .success(list)
        case .system:
            do {
                if Sys.monotonicNanos() >= deadline.nanos { return .failure(.timeout("resolving '\(name)' timed out after \(timeoutMs) ms")) }
                let found = try NetResolver.resolve(host: name, port: port, deadline: deadline)
                let addresses = found.compactMap { IPAddress($0.host) }
                if addresses.count != found.count { return .failure(.notFound("'\(name)' resolved to an address that cannot be read")) }
                return .success(addresses)
            } catch {
                if error.code == .timeout { return .failure(.timeout("resolving '\(name)' timed out after \(timeoutMs) ms")) }
                return .failure(.notFound("cannot resolve '\(name)': \(error.message)"))
            }
        }
    }
}
