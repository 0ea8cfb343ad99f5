import OsmodaEgress

/// A proxy request's head, parsed strictly: what the server needs to decide, and the
/// header lines to forward for plain HTTP.
///
/// Strict on purpose: a proxy that reads a head differently from the origin it forwards
/// to can be used to smuggle requests. So: CRLF line ends only, one space between the
/// parts of the request line, no whitespace before a header's colon, no obsolete line
/// folding, no control bytes, one Content-Length at most, no Transfer-Encoding.
struct RequestHead: Equatable {
    enum Target: Equatable {
        /// `CONNECT host:port`.
        case connect(host: RequestHost, port: Int, authority: String)
        /// An absolute-form `http://` request; `path` is the origin-form to send on.
        case forward(host: RequestHost, port: Int, authority: String, path: String)
    }

    var method: String
    var version: String
    var target: Target
    /// Header fields in order, as sent (names as written).
    var headers: [(name: String, value: String)]

    static func == (a: RequestHead, b: RequestHead) -> Bool {
        a.method == b.method && a.version == b.version && a.target == b.target
            && a.headers.map { $0.name + ":" + $0.value } == b.headers.map { $0.name + ":" + $0.value }
    }

    /// The values of a header, by case-insensitive name.
    func values(_ name: String) -> [String] {
        let n = name.lowercased()
        return headers.filter { $0.name.lowercased() == n }.map(\.value)
    }

    var host: RequestHost {
        switch target { case .connect(let h, _, _), .forward(let h, _, _, _): return h }
    }
    var port: Int {
        switch target { case .connect(_, let p, _), .forward(_, let p, _, _): return p }
    }
    /// The host as the client wrote it, for records.
    var hostText: String {
        switch target {
        case .connect(_, _, let a), .forward(_, _, let a, _):
            if a.hasPrefix("["), let close = a.firstIndex(of: "]") { return String(a[a.index(after: a.startIndex)..<close]) }
            if let colon = a.lastIndex(of: ":") { return String(a[..<colon]) }
            return a
        }
    }
}

/// Why a head was refused: the HTTP status to answer with and a short reason.
struct HeadError: Error, Equatable {
    var status: Int
    var reason: String
    init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}

enum RequestHeadParser {
    /// The index just past the blank line that ends the head in `bytes`, or nil.
    static func endOfHead(_ bytes: some Collection<UInt8>, searchFrom start: Int = 0) -> Int? {
        let a = Array(bytes)
        var i = max(0, start - 3)
        while i + 3 < a.count {
            if a[i] == 13 && a[i + 1] == 10 && a[i + 2] == 13 && a[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }

    /// Parses a complete head (request line, header lines, the blank line).
    static func parse(_ head: [UInt8]) throws(HeadError) -> RequestHead {
        for b in head where (b < 0x20 && b != 13 && b != 10 && b != 9) || b == 0x7F {
            throw HeadError(400, "control character in the request head")
        }
        guard head.count >= 4, head.suffix(4).elementsEqual([13, 10, 13, 10]) else { throw HeadError(400, "the head does not end with an empty line") }
        var lines: [[UInt8]] = []
        var start = 0
        var i = 0
        while i < head.count - 2 {
            if head[i] == 13 {
                guard head[i + 1] == 10 else { throw HeadError(400, "a bare CR in the request head") }
                lines.append(Array(head[start..<i]))
                i += 2
                start = i
            } else if head[i] == 10 {
                throw HeadError(400, "a bare LF in the request head (lines end with CRLF)")
            } else {
                i += 1
            }
        }
        guard let first = lines.first else { throw HeadError(400, "empty request") }
        let requestLine = String(decoding: first, as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HeadError(400, "malformed request line")
        }
        let method = String(parts[0])
        guard method.utf8.allSatisfy(isTokenByte) else { throw HeadError(400, "malformed method") }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw HeadError(505, "only HTTP/1.1 and HTTP/1.0 are served") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            if let b = line.first, b == 32 || b == 9 { throw HeadError(400, "obsolete header line folding") }
            guard let colon = line.firstIndex(of: 58), colon > 0 else { throw HeadError(400, "malformed header line") }
            let name = line[..<colon]
            guard name.allSatisfy(isTokenByte) else { throw HeadError(400, "malformed header name") }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 32 || f == 9 { value = value.dropFirst() }
            while let l = value.last, l == 32 || l == 9 { value = value.dropLast() }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        let targetText = String(parts[1])
        let target: RequestHead.Target
        if method == "CONNECT" {
            do {
                let (host, port) = try HostParser.parseAuthority(targetText)
                target = .connect(host: host, port: port, authority: targetText)
            } catch {
                throw HeadError(400, "bad CONNECT authority: \(error.message)")
            }
        } else {
            target = try absoluteTarget(targetText)
        }
        let head = RequestHead(method: method, version: version, target: target, headers: headers)
        if case .forward = target {
            if !head.values("Transfer-Encoding").isEmpty {
                throw HeadError(501, "Transfer-Encoding in a forwarded request is not supported; send Content-Length or use CONNECT")
            }
            let lengths = head.values("Content-Length")
            if lengths.count > 1 { throw HeadError(400, "more than one Content-Length") }
            if let l = lengths.first, Int(l) == nil || !l.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) || l.count > 15 {
                throw HeadError(400, "malformed Content-Length")
            }
        }
        return head
    }

    /// The host (as `RequestHead.hostText` gives it) and port of the request line at the
    /// start of `bytes`, when that line is complete and its target parses; nil otherwise.
    /// For the record of a head refused before it was read or parsed whole.
    static func targetHint(_ bytes: [UInt8]) -> (host: String, port: Int)? {
        guard let end = bytes.firstIndex(where: { $0 == 13 || $0 == 10 }) else { return nil }
        let parts = String(decoding: bytes[..<end], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].utf8.allSatisfy(isTokenByte) else { return nil }
        let text = String(parts[1])
        let target: RequestHead.Target
        if parts[0] == "CONNECT" {
            guard let (host, port) = try? HostParser.parseAuthority(text) else { return nil }
            target = .connect(host: host, port: port, authority: text)
        } else {
            guard let t = try? absoluteTarget(text) else { return nil }
            target = t
        }
        let head = RequestHead(method: String(parts[0]), version: String(parts[2]), target: target, headers: [])
        return (head.hostText, head.port)
    }

    /// `http://authority/path?query` → host, port (80 by default), origin-form
    /// (`HostParser.parseAbsoluteHTTP`); the authority as written, for the `Host` header.
    static func absoluteTarget(_ text: String) throws(HeadError) -> RequestHead.Target {
        let lower = text.lowercased()
        if lower.hasPrefix("https://") { throw HeadError(400, "an https:// URL must be requested with CONNECT") }
        guard lower.hasPrefix("http://") else {
            throw HeadError(400, "not a proxy request: the target must be an absolute http:// URL, or use CONNECT")
        }
        do {
            let (host, port, path) = try HostParser.parseAbsoluteHTTP(text)
            let rest = text.utf8.dropFirst("http://".count)
            let authority = String(decoding: rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }, as: UTF8.self)
            return .forward(host: host, port: port, authority: authority, path: path)
        } catch {
            throw HeadError(400, error.message)
        }
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }

    /// The head sent to the origin for a forwarded request: origin-form, `Host` from the
    /// URL, Proxy-* and hop-by-hop headers removed (and those that `Connection` names),
    /// `Connection: close` (one request per connection).
    static func forwardedHead(_ head: RequestHead) -> [UInt8] {
        guard case .forward(_, _, let authority, let path) = head.target else { return [] }
        var hop: Set<String> = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
                                "te", "trailer", "transfer-encoding", "upgrade", "host"]
        for v in head.values("Connection") {
            for n in v.split(separator: ",") { hop.insert(n.trimmingSpaces().lowercased()) }
        }
        // The body's framing is never hop-by-hop: the body is sent up to its Content-Length,
        // so the origin must be told that length, or it reads the body as a request of its own.
        hop.remove("content-length")
        var out = "\(head.method) \(path) \(head.version)\r\nHost: \(authority)\r\n"
        for h in head.headers {
            let n = h.name.lowercased()
            if hop.contains(n) || n.hasPrefix("proxy-") { continue }
            out += "\(h.name): \(h.value)\r\n"
        }
        out += "Connection: close\r\n\r\n"
        return Array(out.utf8)
    }

    /// The token from `Proxy-Authorization`: `Bearer TOKEN`, or `Basic` with the token as
    /// the password (any user name). nil when the header is malformed.
    static func proxyToken(_ value: String) -> [UInt8]? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let credentials = parts[1].trimmingSpaces()
        if scheme == "bearer" { return credentials.isEmpty ? nil : Array(credentials.utf8) }
        if scheme == "basic" {
            guard let decoded = Base64.decode(credentials), let colon = decoded.firstIndex(of: 58) else { return nil }
            let password = Array(decoded[(colon + 1)...])
            return password.isEmpty ? nil : password
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Standard base64 (RFC 4648 §4), strict: padding required, no whitespace.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4 * 3)
        var i = 0
        while i < bytes.count {
            var v: UInt32 = 0
            var pad = 0
            for j in 0..<4 {
                let c = bytes[i + j]
                let d: UInt32
                switch c {
                case 65...90: d = UInt32(c - 65)
                case 97...122: d = UInt32(c - 97 + 26)
                case 48...57: d = UInt32(c - 48 + 52)
                case 43: d = 62
                case 47: d = 63
                case 61 where i + 4 == bytes.count && j >= 2: d = 0; pad += 1
                default: return nil
                }
                if pad > 0 && c != 61 { return nil }
                v = v << 6 | d
            }
            out.append(UInt8(v >> 16 & 0xff))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xff)) }
            if pad < 1 { out.append(UInt8(v & 0xff)) }
            i += 4
        }
        return out
    }
}
