/// Why a request host, an authority or a config file was refused. The message says what
/// is wrong; untrusted text in it is quoted with control and non-ASCII bytes escaped.
public struct EgressInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The host of a request (CONNECT authority or absolute-form URL), normalised.
public enum RequestHost: Hashable, Sendable, CustomStringConvertible {
    /// Lower-case ASCII, no trailing dot, LDH labels (punycode `xn--` labels as they are).
    case name(String)
    /// An IP literal, in whatever notation the client wrote it.
    case address(IPAddress)

    /// The name, or the address in standard notation (IPv6 without brackets).
    public var description: String {
        switch self {
        case .name(let n): return n
        case .address(let a): return a.description
        }
    }
}

/// Reads the host a client asked for, the way the resolver would.
///
/// The rule that makes it safe: whatever `getaddrinfo` (through `inet_aton`) would read as
/// an IPv4 address is an address here too, in every notation — decimal `2130706433`,
/// octal `0177.0.0.1`, hex `0x7f.1`, short `127.1` — so an address can never pass as a
/// name and dodge the address checks. A name whose last label is numeric but is not a
/// valid address (`1.2.3.4.5`, `example.0x`) is refused rather than guessed at, as the
/// WHATWG URL standard does. Non-ASCII names are refused: clients send the IDNA (`xn--`)
/// form, and converting here would need the Unicode tables of UTS #46 for no gain.
public enum HostParser {
    /// Longest host text looked at (a DNS name is at most 253 bytes; brackets and an IPv6
    /// literal fit easily).
    static let maxHostBytes = 255

    /// Parses a host: a name (`EXAMPLE.com.`), an IPv4 literal in any `inet_aton`
    /// notation, or an IPv6 literal with or without brackets (`[::1]`, `::1`).
    public static func parse(_ host: String) throws(EgressInputError) -> RequestHost {
        let b = Array(host.utf8)
        guard !b.isEmpty else { throw EgressInputError("empty host") }
        guard b.count <= maxHostBytes else {
            throw EgressInputError("host \(quoted(b)) is too long (\(b.count) bytes, at most 253 for a name)")
        }
        for c in b {
            switch c {
            case 0x00..<0x20, 0x7f:
                throw EgressInputError("host \(quoted(b)) contains a control character")
            case 0x80...:
                throw EgressInputError("host \(quoted(b)) is not ASCII: send its IDNA form (xn--…), as curl and browsers do")
            case UInt8(ascii: " "):
                throw EgressInputError("host \(quoted(b)) contains a space")
            case UInt8(ascii: "@"):
                throw EgressInputError("host \(quoted(b)) contains '@': user information is not allowed in a host")
            default: continue
            }
        }
        if b.first == UInt8(ascii: "[") {
            guard b.last == UInt8(ascii: "]"), b.count > 2 else {
                throw EgressInputError("host \(quoted(b)): unbalanced '[' in an IPv6 literal")
            }
            return .address(try parseIPv6Literal(Array(b[1..<(b.count - 1)]), original: b))
        }
        if b.contains(UInt8(ascii: ":")) {
            return .address(try parseIPv6Literal(b, original: b))
        }
        return try parseNameOrIPv4(b)
    }

    /// Parses a CONNECT authority `host:port` (`[v6]:port` for IPv6); the port must be
    /// 1…65535 in decimal.
    public static func parseAuthority(_ authority: String) throws(EgressInputError) -> (host: RequestHost, port: Int) {
        let b = Array(authority.utf8)
        guard !b.isEmpty else { throw EgressInputError("empty authority") }
        guard b.last != UInt8(ascii: "]"), let colon = b.lastIndex(of: UInt8(ascii: ":")) else {
            throw EgressInputError("authority \(quoted(b)) has no port (expected host:port)")
        }
        let hostPart = Array(b[..<colon])
        if hostPart.first != UInt8(ascii: "["), hostPart.contains(UInt8(ascii: ":")) {
            throw EgressInputError("authority \(quoted(b)): an IPv6 address must be in brackets, e.g. [::1]:443")
        }
        if hostPart.first == UInt8(ascii: "["), hostPart.last != UInt8(ascii: "]") {
            throw EgressInputError("authority \(quoted(b)): unbalanced '[' in an IPv6 literal")
        }
        let port = try parsePort(Array(b[(colon + 1)...]), in: b)
        let host = try parse(String(decoding: hostPart, as: UTF8.self))
        return (host, port)
    }

    /// Parses the authority of an absolute-form URL or a `Host` header: `host`, `host:port`,
    /// `[v6]` or `[v6]:port`; without a port, `defaultPort` (80 for `http://`).
    public static func parseAuthority(_ authority: String, defaultPort: Int) throws(EgressInputError) -> (host: RequestHost, port: Int) {
        let b = Array(authority.utf8)
        let hasPort: Bool
        if b.first == UInt8(ascii: "[") {
            hasPort = b.last != UInt8(ascii: "]")
        } else {
            let colons = b.lazy.filter { $0 == UInt8(ascii: ":") }.count
            if colons > 1 {
                throw EgressInputError("authority \(quoted(b)): an IPv6 address must be in brackets, e.g. [::1]:443")
            }
            hasPort = colons == 1
        }
        if hasPort { return try parseAuthority(authority) }
        return (try parse(authority), defaultPort)
    }

    /// Splits an absolute-form request target (`http://host[:port]/path?query`) into the
    /// host, the port (80 when absent) and the origin-form target (`/path?query`, `/` when
    /// empty). Only `http` is accepted: `https` goes through CONNECT. User information
    /// (`user:pass@`) is refused, as is a fragment.
    public static func parseAbsoluteHTTP(_ target: String) throws(EgressInputError) -> (host: RequestHost, port: Int, path: String) {
        let b = Array(target.utf8)
        let scheme = Array("http://".utf8)
        guard b.count > scheme.count, b.prefix(scheme.count).map({ $0 | 0x20 }) == scheme.map({ $0 | 0x20 }) else {
            throw EgressInputError("request target \(quoted(b)) is not an absolute http:// URL")
        }
        let rest = b[scheme.count...]
        let end = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? rest.endIndex
        let authority = Array(rest[..<end])
        guard !authority.isEmpty else { throw EgressInputError("request target \(quoted(b)) has no host") }
        if authority.contains(UInt8(ascii: "@")) {
            throw EgressInputError("request target \(quoted(b)): user information is not allowed in a proxied URL")
        }
        var path = Array(rest[end...])
        if path.contains(UInt8(ascii: "#")) {
            throw EgressInputError("request target \(quoted(b)): a fragment is not allowed in a request target")
        }
        for c in path where c <= 0x20 || c >= 0x7f {
            throw EgressInputError("request target \(quoted(b)) contains a space, a control character or a non-ASCII byte")
        }
        if path.first == UInt8(ascii: "?") { path.insert(UInt8(ascii: "/"), at: 0) }
        if path.isEmpty { path = [UInt8(ascii: "/")] }
        let (host, port) = try parseAuthority(String(decoding: authority, as: UTF8.self), defaultPort: 80)
        return (host, port, String(decoding: path, as: UTF8.self))
    }

    /// A decimal port 1…65535.
    public static func parsePort(_ text: String) throws(EgressInputError) -> Int {
        let b = Array(text.utf8)
        return try parsePort(b, in: b)
    }

    static func parsePort(_ p: [UInt8], in whole: [UInt8]) throws(EgressInputError) -> Int {
        guard !p.isEmpty else { throw EgressInputError("\(quoted(whole)): empty port") }
        guard p.count <= 5, p.allSatisfy(IPText.isDigit) else {
            throw EgressInputError("\(quoted(whole)): port must be a decimal number 1-65535")
        }
        let n = p.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard n >= 1, n <= 65535 else { throw EgressInputError("\(quoted(whole)): port \(n) is out of range 1-65535") }
        return n
    }

    // MARK: - IPv6

    static func parseIPv6Literal(_ inner: [UInt8], original: [UInt8]) throws(EgressInputError) -> IPAddress {
        if inner.contains(UInt8(ascii: "%")) {
            throw EgressInputError("host \(quoted(original)): IPv6 zone identifiers are not allowed")
        }
        guard let bytes = IPText.parseIPv6(inner[...]) else {
            throw EgressInputError("host \(quoted(original)) is not a valid IPv6 address")
        }
        return .v6(bytes)
    }

    // MARK: - IPv4 in inet_aton notation, and names

    static func parseNameOrIPv4(_ raw: [UInt8]) throws(EgressInputError) -> RequestHost {
        if raw.contains(UInt8(ascii: "%")) {
            throw EgressInputError("host \(quoted(raw)) contains '%': percent-encoding is not allowed in a host")
        }
        var b = raw
        // One trailing dot is the root of an absolute name; two are an empty label.
        if b.last == UInt8(ascii: "."), b.count > 1 { b.removeLast() }
        for i in b.indices where b[i] >= 0x41 && b[i] <= 0x5A { b[i] += 0x20 }

        let labels = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if let last = labels.last, looksNumeric(last) {
            guard let v4 = inetAton(b) else {
                throw EgressInputError("host \(quoted(raw)) ends in a number but is not a valid IPv4 address")
            }
            return .address(.v4(v4))
        }
        guard b.count <= 253 else {
            throw EgressInputError("host name \(quoted(raw)) is too long (\(b.count) bytes, at most 253)")
        }
        for label in labels {
            guard !label.isEmpty else { throw EgressInputError("host name \(quoted(raw)) has an empty label") }
            guard label.count <= 63 else {
                throw EgressInputError("host name \(quoted(raw)) has a label longer than 63 bytes")
            }
            for c in label where !(isLowerAlnum(c) || c == UInt8(ascii: "-")) {
                throw EgressInputError("host name \(quoted(raw)) contains \(quoted([c])): only letters, digits, '-' and '.' are allowed")
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                throw EgressInputError("host name \(quoted(raw)) has a label that starts or ends with '-'")
            }
        }
        return .name(String(decoding: b, as: UTF8.self))
    }

    static func isLowerAlnum(_ c: UInt8) -> Bool { IPText.isDigit(c) || (c >= 0x61 && c <= 0x7A) }

    /// A label a URL parser or resolver could take for a number: decimal digits, or
    /// `0x` followed by hex digits (possibly none). Such a label cannot end a name.
    static func looksNumeric(_ label: ArraySlice<UInt8>) -> Bool {
        guard let first = label.first else { return false }
        if label.count >= 2, first == 0x30, label[label.startIndex + 1] | 0x20 == UInt8(ascii: "x") {
            return label.dropFirst(2).allSatisfy { IPText.hexValue($0) != nil }
        }
        return label.allSatisfy(IPText.isDigit)
    }

    /// `inet_aton` as glibc's resolver applies it to a whole string (`__inet_aton_exact`):
    /// one to four parts separated by dots, each decimal, octal (leading `0`) or hex
    /// (`0x`), at most 32 bits; every part but the last is one byte and the last fills
    /// the remaining bytes (`127.1` is 127.0.0.1). Nothing may follow.
    public static func inetAton(_ text: String) -> UInt32? { inetAton(Array(text.utf8)) }

    static func inetAton(_ b: [UInt8]) -> UInt32? {
        var parts: [UInt32] = []
        var i = 0
        while true {
            guard i < b.count, IPText.isDigit(b[i]) else { return nil }
            var base: UInt64 = 10
            if b[i] == 0x30 {
                if i + 1 < b.count, b[i + 1] | 0x20 == UInt8(ascii: "x") {
                    base = 16
                    i += 2
                } else {
                    base = 8
                }
            }
            let start = i
            var value: UInt64 = 0
            while i < b.count {
                let d: UInt64
                if base == 16, let h = IPText.hexValue(b[i]) {
                    d = UInt64(h)
                } else if IPText.isDigit(b[i]), UInt64(b[i] - 0x30) < base {
                    d = UInt64(b[i] - 0x30)
                } else {
                    break
                }
                value = value * base + d
                guard value <= 0xffff_ffff else { return nil }
                i += 1
            }
            // "0x" with no hex digit after it: strtoul reads the 0 and stops at the 'x'.
            if base == 16, i == start { return nil }
            parts.append(UInt32(value))
            if i < b.count, b[i] == UInt8(ascii: ".") {
                guard parts.count <= 3, value <= 0xff else { return nil }
                i += 1
            } else {
                break
            }
        }
        guard i == b.count else { return nil }
        let last = parts[parts.count - 1]
        let maxLast: [UInt32] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff]
        guard last <= maxLast[parts.count - 1] else { return nil }
        var result: UInt32 = 0
        for (k, p) in parts.dropLast().enumerated() { result |= p << UInt32(24 - 8 * k) }
        return result | last
    }

    /// `'text'` with bytes outside printable ASCII escaped as `\xNN`, cut at 100 bytes.
    static func quoted(_ b: [UInt8]) -> String {
        var s = "'"
        for c in b.prefix(100) {
            if c >= 0x20, c < 0x7f, c != UInt8(ascii: "\\"), c != UInt8(ascii: "'") {
                s.unicodeScalars.append(Unicode.Scalar(c))
            } else {
                let hex = String(c, radix: 16)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if b.count > 100 { s += "…" }
        return s + "'"
    }
}
