/// An `http://` or `https://` URL, split the way a request needs it.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host, without brackets for IPv6.
    public var host: String
    public var port: Int
    /// The request target: the path and query, at least `/`; the fragment is dropped.
    public var target: String

    public var isTLS: Bool { scheme == "https" }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(target)" }

    /// Why a URL was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// Parses an absolute `http://` or `https://` URL. User information (`user@`) is
    /// refused rather than sent nowhere, and so are spaces and control characters,
    /// which must be percent-encoded.
    public init(parsing text: String) throws(ParseError) {
        let bytes = Array(text.utf8)
        func fail(_ m: String) -> ParseError { ParseError(message: m) }
        let lower = String(decoding: bytes.prefix(8), as: UTF8.self).lowercased()
        var i: Int
        if lower.hasPrefix("https://") {
            scheme = "https"
            i = 8
        } else if lower.hasPrefix("http://") {
            scheme = "http"
            i = 7
        } else {
            throw fail("expected an http:// or https:// URL")
        }
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { throw fail("spaces and control characters must be percent-encoded") }
        let authorityStart = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "/"), bytes[i] != UInt8(ascii: "?"), bytes[i] != UInt8(ascii: "#") { i += 1 }
        let authority = Array(bytes[authorityStart..<i])
        if authority.contains(UInt8(ascii: "@")) { throw fail("user information in URLs is not supported") }
        var hostBytes: ArraySlice<UInt8>
        var portBytes: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw fail("unclosed '[' in the host") }
            hostBytes = authority[1..<close]
            let rest = authority[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { throw fail("unexpected text after ']'") }
                portBytes = rest.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            hostBytes = authority[..<colon]
            portBytes = authority[(colon + 1)...]
        } else {
            hostBytes = authority[...]
        }
        guard !hostBytes.isEmpty else { throw fail("missing host") }
        host = String(decoding: hostBytes, as: UTF8.self)
        if let portBytes {
            guard !portBytes.isEmpty, portBytes.count <= 5, portBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let p = Int(String(decoding: portBytes, as: UTF8.self)), (1...65535).contains(p)
            else { throw fail("port must be an integer in 1...65535") }
            port = p
        } else {
            port = scheme == "https" ? 443 : 80
        }
        var end = i
        while end < bytes.count, bytes[end] != UInt8(ascii: "#") { end += 1 }
        let path = String(decoding: bytes[i..<end], as: UTF8.self)
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : path)
    }
}

/// One header field as received.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A response: status, headers, and as much of the body as the limit allowed.
public struct HTTPResponse: Sendable, Equatable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// Whether the body went on past the limit (the rest was not read).
    public var bodyTruncated: Bool
    /// For `https`, what the handshake made of the certificate; `nil` for `http`.
    public var verification: TLSVerification?

    /// The last value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.last { $0.name.lowercased() == n }?.value
    }
}

/// A minimal HTTP/1.1 client for health checks: one `GET` per connection
/// (`Connection: close`), no redirects followed, no compression asked for.
///
/// It understands `Content-Length`, `Transfer-Encoding: chunked` and bodies that end
/// when the server closes; it skips `1xx` interim responses. Everything, from name
/// resolution to the last body byte, is bounded by one deadline.
public enum HTTPClient {
    /// Sends `GET url` and reads the response.
    ///
    /// - Parameters:
    ///   - verify: for `https`, refuse a certificate that does not verify
    ///     (`NetError.Code.untrusted`); when false the response is read anyway and
    ///     `HTTPResponse.verification` tells what was skipped.
    ///   - headerLimit: bytes allowed for the status line and headers together.
    ///   - bodyLimit: body bytes kept; past it the body is cut (`bodyTruncated`).
    public static func get(_ url: HTTPURL, verify: Bool = true, userAgent: String = "osmoda-check",
                           deadline: MonotonicDeadline, headerLimit: Int = 64 << 10, bodyLimit: Int = 1 << 20) throws(NetError) -> HTTPResponse {
        try exchange(url, method: "GET", body: nil, verify: verify, userAgent: userAgent, deadline: deadline,
                     headerLimit: headerLimit, bodyLimit: bodyLimit)
    }

    /// Sends `POST url` with `body` (for notifications) and reads the response; the
    /// same bounds and verification as `get`.
    public static func post(_ url: HTTPURL, body: [UInt8], contentType: String = "application/json", verify: Bool = true,
                            userAgent: String = "osmoda", deadline: MonotonicDeadline,
                            headerLimit: Int = 64 << 10, bodyLimit: Int = 64 << 10) throws(NetError) -> HTTPResponse {
        try exchange(url, method: "POST", body: (contentType, body), verify: verify, userAgent: userAgent, deadline: deadline,
                     headerLimit: headerLimit, bodyLimit: bodyLimit)
    }

    private static func exchange(_ url: HTTPURL, method: String, body: (type: String, bytes: [UInt8])?, verify: Bool, userAgent: String,
                                 deadline: MonotonicDeadline, headerLimit: Int, bodyLimit: Int) throws(NetError) -> HTTPResponse {
        let tcp = try TCPConnection.connect(host: url.host, port: url.port, deadline: deadline)
        let stream: any ByteStream
        var verification: TLSVerification?
        if url.isTLS {
            let tls = try TLSSession.handshake(over: tcp, serverName: url.host, verifyHost: url.host, deadline: deadline)
            if verify, case .untrusted(let reason) = tls.verification {
                throw NetError(.untrusted, "tls", "certificate verify failed: \(reason)")
            }
            verification = tls.verification
            stream = tls
        } else {
            stream = tcp
        }
        var head = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUser-Agent: \(userAgent)\r\nAccept: */*\r\n"
        if let body { head += "Content-Type: \(body.type)\r\nContent-Length: \(body.bytes.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        let request = Array(head.utf8) + (body?.bytes ?? [])
        try rename("send request") { () throws(NetError) in try stream.send(request, deadline: deadline) }
        var reader = HTTPResponseReader(stream: stream, deadline: deadline)
        var response = try rename("read response") { () throws(NetError) in
            try reader.read(headerLimit: headerLimit, bodyLimit: bodyLimit)
        }
        response.verification = verification
        return response
    }

    /// Runs `body`, giving a send/receive error the stage of the request it was part of.
    private static func rename<R>(_ stage: String, _ body: () throws(NetError) -> R) throws(NetError) -> R {
        do {
            return try body()
        } catch {
            var e = error
            if e.stage == "send" || e.stage == "receive" { e.stage = stage }
            throw e
        }
    }
}

/// Reads one HTTP/1.x response from a stream; separate from the transport so that it
/// can be fed any bytes.
public struct HTTPResponseReader {
    private let stream: any ByteStream
    private let deadline: MonotonicDeadline
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false

    public init(stream: any ByteStream, deadline: MonotonicDeadline) {
        self.stream = stream
        self.deadline = deadline
    }

    private var available: Int { buffer.count - start }

    /// Receives more bytes into the buffer; false at end of stream.
    private mutating func fill() throws(NetError) -> Bool {
        if atEOF { return false }
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        let more = try stream.receive(upTo: 65536, deadline: deadline)
        if more.isEmpty {
            atEOF = true
            return false
        }
        buffer.append(contentsOf: more)
        return true
    }

    private func malformed(_ m: String) -> NetError { NetError(.protocol, "read response", m) }

    /// Reads a line ending in LF (a preceding CR is dropped), up to `limit` bytes.
    private mutating func line(limit: Int, what: String) throws(NetError) -> [UInt8] {
        var scanned = 0  // bytes after `start` known to hold no LF
        while true {
            if let lf = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                var end = lf
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let l = Array(buffer[start..<end])
                start = lf + 1
                return l
            }
            scanned = available
            if available > limit { throw malformed("\(what) longer than \(limit) bytes") }
            guard try fill() else {
                throw NetError(.io, "read response", available == 0 ? "connection closed before \(what)" : "connection closed in \(what)")
            }
        }
    }

    /// Reads the status line and headers, then the body.
    public mutating func read(headerLimit: Int, bodyLimit: Int) throws(NetError) -> HTTPResponse {
        var response: HTTPResponse
        repeat {
            response = try head(limit: headerLimit)
        } while (100...199).contains(response.status) && response.status != 101
        try body(into: &response, limit: bodyLimit)
        return response
    }

    private mutating func head(limit: Int) throws(NetError) -> HTTPResponse {
        var budget = limit
        let statusLine = try line(limit: budget, what: "the status line")
        budget -= statusLine.count + 2
        // HTTP/1.1 200 OK
        guard statusLine.count >= 12, statusLine.starts(with: Array("HTTP/".utf8)),
              let sp = statusLine.firstIndex(of: 0x20), statusLine.count >= sp + 4
        else {
            throw malformed("malformed status line '\(Self.printable(statusLine.prefix(80)))'")
        }
        let codeBytes = statusLine[(sp + 1)..<(sp + 4)]
        guard codeBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), statusLine.count == sp + 4 || statusLine[sp + 4] == 0x20,
              let status = Int(String(decoding: codeBytes, as: UTF8.self))
        else {
            throw malformed("malformed status line '\(Self.printable(statusLine.prefix(80)))'")
        }
        let version = String(decoding: statusLine[..<sp], as: UTF8.self)
        let reason = statusLine.count > sp + 5 ? String(decoding: statusLine[(sp + 5)...], as: UTF8.self) : ""
        var headers: [HTTPHeader] = []
        while true {
            guard budget > 0 else { throw malformed("headers longer than \(limit) bytes") }
            let l = try line(limit: budget, what: "the headers")
            budget -= l.count + 2
            if l.isEmpty { break }
            if l.first == 0x20 || l.first == 0x09 {
                // An obsolete folded line continues the previous header.
                guard !headers.isEmpty else { throw malformed("header block starts with a continuation line") }
                headers[headers.count - 1].value += " " + Self.trim(String(decoding: l, as: UTF8.self))
                continue
            }
            guard let colon = l.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw malformed("malformed header line '\(Self.printable(l.prefix(80)))'")
            }
            headers.append(HTTPHeader(name: String(decoding: l[..<colon], as: UTF8.self),
                                      value: Self.trim(String(decoding: l[(colon + 1)...], as: UTF8.self))))
        }
        return HTTPResponse(version: version, status: status, reason: reason, headers: headers, body: [], bodyTruncated: false, verification: nil)
    }

    private mutating func body(into response: inout HTTPResponse, limit: Int) throws(NetError) {
        if response.status == 204 || response.status == 304 { return }
        let transferCodings = response.headers.filter { $0.name.lowercased() == "transfer-encoding" }
            .flatMap { $0.value.split(separator: ",") }.map { Self.trim(String($0)).lowercased() }
        if let last = transferCodings.last {
            if last == "chunked" { return try chunked(into: &response, limit: limit) }
            return try untilClose(into: &response, limit: limit)
        }
        let lengths = Set(response.headers.filter { $0.name.lowercased() == "content-length" }
            .flatMap { $0.value.split(separator: ",") }.map { Self.trim(String($0)) })
        if lengths.isEmpty { return try untilClose(into: &response, limit: limit) }
        guard lengths.count == 1, let text = lengths.first, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(text)
        else {
            throw malformed("invalid Content-Length")
        }
        try exactly(length, into: &response, limit: limit, what: "body")
    }

    /// Appends up to `limit` body bytes from the buffer; returns how many it took.
    private mutating func take(_ count: Int, into response: inout HTTPResponse, limit: Int) -> Int {
        let n = min(count, available)
        let room = max(0, limit - response.body.count)
        response.body.append(contentsOf: buffer[start..<(start + min(n, room))])
        if n > room { response.bodyTruncated = true }
        start += n
        return n
    }

    private mutating func exactly(_ length: Int, into response: inout HTTPResponse, limit: Int, what: String) throws(NetError) {
        var left = length
        while left > 0 {
            if response.body.count >= limit {
                response.bodyTruncated = true
                return
            }
            if available == 0 {
                guard try fill() else {
                    throw NetError(.io, "read response", "connection closed with \(left) of \(length) \(what) bytes unread")
                }
            }
            left -= take(left, into: &response, limit: limit)
        }
    }

    private mutating func untilClose(into response: inout HTTPResponse, limit: Int) throws(NetError) {
        while true {
            _ = take(available, into: &response, limit: limit)
            if response.bodyTruncated || response.body.count >= limit {
                if !atEOF { response.bodyTruncated = true }
                return
            }
            guard try fill() else { return }
        }
    }

    private mutating func chunked(into response: inout HTTPResponse, limit: Int) throws(NetError) {
        while true {
            let sizeLine = try line(limit: 4096, what: "a chunk size line")
            let digits = sizeLine.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw malformed("malformed chunk size '\(Self.printable(sizeLine.prefix(40)))'")
            }
            if size == 0 {
                // Trailer fields, if any, up to the empty line.
                while try !line(limit: 8192, what: "the trailer").isEmpty {}
                return
            }
            try exactly(size, into: &response, limit: limit, what: "chunk")
            if response.bodyTruncated { return }
            guard try line(limit: 2, what: "a chunk end").isEmpty else { throw malformed("chunk not followed by CRLF") }
        }
    }

    static func trim(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
        return String(sub)
    }

    /// Bytes for a message: printable ASCII kept, the rest as `?`.
    static func printable(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
