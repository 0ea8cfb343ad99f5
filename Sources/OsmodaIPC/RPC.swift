import OsmodaCore

// The JSON-RPC 2.0 messages that cross the daemon's socket, one per line
// (docs/protocol.md). Requests are checked strictly: a closed set of members, no
// duplicates, no batches.

/// A stable error code, carried as `error.data.code`: what clients act on. New codes
/// break nothing; a code never changes meaning.
public struct RPCErrorCode: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// The frame is not JSON.
    public static let parseError: RPCErrorCode = "rpc.parse_error"
    /// The frame is JSON but not a valid request (wrong shape, a batch, an unknown member).
    public static let invalidRequest: RPCErrorCode = "rpc.invalid_request"
    /// No such method.
    public static let methodNotFound: RPCErrorCode = "rpc.method_not_found"
    /// The method exists but its `params` are wrong.
    public static let invalidParams: RPCErrorCode = "rpc.invalid_params"
    /// The daemon failed while handling a valid request.
    public static let internalError: RPCErrorCode = "rpc.internal"
    /// The frame is longer than the daemon's limit.
    public static let tooLarge: RPCErrorCode = "rpc.too_large"
    /// A frame was started but not finished in time.
    public static let timeout: RPCErrorCode = "rpc.timeout"
    /// The caller's credentials give no role, or not the role the method needs.
    public static let denied: RPCErrorCode = "auth.denied"
    /// The daemon is at its connection limit (for the caller's uid, or in all).
    public static let busy: RPCErrorCode = "daemon.busy"
    /// The daemon is shutting down and took no new work.
    public static let stopping: RPCErrorCode = "daemon.stopping"

    /// The JSON-RPC numeric code that goes with this string code: the spec's own for the
    /// five it defines, one of the server range (-32001…-32005) for the daemon's, and
    /// -32000 for every other (a service's own errors such as `ledger.*`).
    public var number: Int {
        switch self {
        case .parseError: return -32700
        case .invalidRequest: return -32600
        case .methodNotFound: return -32601
        case .invalidParams: return -32602
        case .internalError: return -32603
        case .tooLarge: return -32001
        case .timeout: return -32002
        case .denied: return -32003
        case .busy: return -32004
        case .stopping: return -32005
        default: return -32000
        }
    }

    /// The string code for a numeric one, for a response that carries no `data.code`.
    static func forNumber(_ n: Int64) -> RPCErrorCode {
        let known: [RPCErrorCode] = [.parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError,
                                     .tooLarge, .timeout, .denied, .busy, .stopping]
        return known.first { Int64($0.number) == n } ?? "rpc.error"
    }
}

/// A JSON-RPC error: the stable string code, the numeric code, a message for people,
/// and optional details that go into `error.data` beside `code`.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: RPCErrorCode
    public var number: Int
    public var message: String
    /// Extra members of `error.data` (a limit, a required role); never `code`.
    public var details: JSONObject

    public init(_ code: RPCErrorCode, _ message: String, number: Int? = nil, details: JSONObject = JSONObject()) {
        self.code = code
        self.number = number ?? code.number
        self.message = message
        self.details = details
    }

    /// `rpc.method_not_found: method not found: 'x'`.
    public var description: String { "\(code): \(message)" }

    public static func parseError(_ message: String) -> RPCError { RPCError(.parseError, message) }
    public static func invalidRequest(_ message: String) -> RPCError { RPCError(.invalidRequest, message) }
    public static func invalidParams(_ message: String) -> RPCError { RPCError(.invalidParams, message) }
    public static func internalError(_ message: String) -> RPCError { RPCError(.internalError, message) }
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "method not found: '\(method)'")
    }
    public static func tooLarge(limit: Int) -> RPCError {
        RPCError(.tooLarge, "request is larger than \(limit) bytes", details: JSONObject(["limit": .int(Int64(limit))]))
    }

    /// The `error` member of a response.
    public var json: JSONValue {
        var data = JSONObject(["code": .string(code.rawValue)])
        for m in details.members where m.key != "code" { data.members.append(m) }
        return .object(JSONObject([
            "code": .int(Int64(number)),
            "message": .string(message),
            "data": .object(data),
        ]))
    }

    /// Reads the `error` member of a response; `nil` when it is not a JSON-RPC error object.
    public init?(json: JSONValue) {
        guard case .object(let o) = json, case .int(let n)? = o["code"], case .string(let message)? = o["message"] else { return nil }
        var code = RPCErrorCode.forNumber(n)
        var details = JSONObject()
        if case .object(let data)? = o["data"] {
            for m in data.members {
                if m.key == "code", case .string(let s) = m.value { code = RPCErrorCode(rawValue: s) } else { details.members.append(m) }
            }
        }
        self.init(code, message, number: Int(n), details: details)
    }
}

/// A request id: JSON-RPC allows a string, a number or null; this protocol takes
/// integers (no fractions) and strings, and echoes null.
public enum RPCID: Sendable, Hashable, CustomStringConvertible {
    case number(Int64)
    case string(String)
    case null

    public var json: JSONValue {
        switch self {
        case .number(let n): return .int(n)
        case .string(let s): return .string(s)
        case .null: return .null
        }
    }

    init?(json: JSONValue) {
        switch json {
        case .int(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .null: self = .null
        default: return nil
        }
    }

    public var description: String { JSONWriter.serialize(json) }
}

/// The limits both ends agree on.
public enum RPCLimits {
    /// The largest request frame the daemon reads, newline not counted: 1 MiB for a
    /// payload and 64 KiB for the envelope around it.
    public static let defaultMaxFrameBytes = (1 << 20) + (64 << 10)
    /// The deepest nesting a request may have.
    public static let maxDepth = 64
}

/// A JSON-RPC request, or a notification when `id` is `nil`.
public struct RPCRequest: Sendable, Equatable {
    public var id: RPCID?
    public var method: String
    /// An object or an array; `nil` when the request has none.
    public var params: JSONValue?

    public init(id: RPCID?, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// Whether the caller expects no response.
    public var isNotification: Bool { id == nil }

    /// Why a frame is not a request, and the id to answer with (null when none could be read).
    public struct Rejection: Error, Sendable, Equatable {
        public var id: RPCID
        public var error: RPCError
        public init(id: RPCID, error: RPCError) {
            self.id = id
            self.error = error
        }
        public var response: RPCResponse { RPCResponse(id: id, error: error) }
    }

    /// One line of JSON, with its newline.
    public func encoded() -> [UInt8] {
        var o = JSONObject(["jsonrpc": .string("2.0")])
        if let id { o.append("id", id.json) }
        o.append("method", .string(method))
        if let params { o.append("params", params) }
        var out: [UInt8] = []
        JSONWriter.write(.object(o), into: &out)
        out.append(0x0A)
        return out
    }

    private static let members: Set<String> = ["jsonrpc", "id", "method", "params"]

    /// Reads a request from one frame (a line without its newline).
    ///
    /// Not an error: extra whitespace, a trailing `\r`, an `id` of null (answered with
    /// null). Errors, in order: not JSON (`rpc.parse_error`); a batch (an array), a
    /// non-object, a duplicate or unknown member, `jsonrpc` not `"2.0"`, `method` not
    /// a string, `params` neither object nor array, `id` neither string, integer nor
    /// null (all `rpc.invalid_request`).
    public static func decode(_ frame: UnsafeBufferPointer<UInt8>) throws(Rejection) -> RPCRequest {
        let value: JSONValue
        do {
            value = try JSONReader.parse(frame, maxDepth: RPCLimits.maxDepth)
        } catch {
            throw Rejection(id: .null, error: .parseError("invalid JSON: \(error)"))
        }
        guard case .object(let o) = value else {
            if case .array = value {
                throw Rejection(id: .null, error: .invalidRequest("batch requests are not supported; send one request per line"))
            }
            throw Rejection(id: .null, error: .invalidRequest("a request must be a JSON object, not \(value.typeName)"))
        }
        var seen = Set<String>()
        for m in o.members where !seen.insert(m.key).inserted {
            throw Rejection(id: .null, error: .invalidRequest("duplicate member '\(m.key)'"))
        }
        var id: RPCID?
        if let raw = o["id"] {
            guard let parsed = RPCID(json: raw) else {
                throw Rejection(id: .null, error: .invalidRequest("'id' must be a string, an integer or null"))
            }
            id = parsed
        }
        let answer = id ?? .null
        if let unknown = o.keys.first(where: { !members.contains($0) }) {
            throw Rejection(id: answer, error: .invalidRequest("unknown member '\(unknown)'"))
        }
        guard case .string("2.0")? = o["jsonrpc"] else {
            throw Rejection(id: answer, error: .invalidRequest("'jsonrpc' must be \"2.0\""))
        }
        guard case .string(let method)? = o["method"] else {
            throw Rejection(id: answer, error: .invalidRequest("'method' must be a string"))
        }
        let params = o["params"]
        switch params {
        case nil, .object?, .array?: break
        default: throw Rejection(id: answer, error: .invalidRequest("'params' must be an object or an array"))
        }
        return RPCRequest(id: id, method: method, params: params)
    }

    public static func decode(_ frame: [UInt8]) throws(Rejection) -> RPCRequest {
        try frame.withUnsafeBufferPointer { buf in Result { () throws(Rejection) in try decode(buf) } }.get()
    }
}

/// A JSON-RPC response: a result or an error for the request with the same id.
public struct RPCResponse: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case result(JSONValue)
        case error(RPCError)
    }

    public var id: RPCID
    public var outcome: Outcome

    public init(id: RPCID, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    public init(id: RPCID, result: JSONValue) { self.init(id: id, outcome: .result(result)) }
    public init(id: RPCID, error: RPCError) { self.init(id: id, outcome: .error(error)) }

    /// One line of JSON, with its newline.
    public func encoded() -> [UInt8] {
        var o = JSONObject(["jsonrpc": .string("2.0"), "id": id.json])
        switch outcome {
        case .result(let v): o.append("result", v)
        case .error(let e): o.append("error", e.json)
        }
        var out: [UInt8] = []
        JSONWriter.write(.object(o), into: &out)
        out.append(0x0A)
        return out
    }

    /// Why a frame from the daemon is not a response.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Reads a response from one frame. Unknown members are ignored, so that a newer
    /// daemon may add some; exactly one of `result` and `error` must be there.
    public static func decode(_ frame: [UInt8]) throws(Malformed) -> RPCResponse {
        let value: JSONValue
        do {
            value = try JSONReader.parse(frame)
        } catch {
            throw Malformed(message: "response is not JSON: \(error)")
        }
        guard case .object(let o) = value else { throw Malformed(message: "response is a JSON \(value.typeName), not an object") }
        guard case .string("2.0")? = o["jsonrpc"] else { throw Malformed(message: "response has no \"jsonrpc\": \"2.0\"") }
        guard let rawID = o["id"], let id = RPCID(json: rawID) else { throw Malformed(message: "response has no valid 'id'") }
        switch (o["result"], o["error"]) {
        case (let result?, nil):
            return RPCResponse(id: id, result: result)
        case (nil, let error?):
            guard let e = RPCError(json: error) else { throw Malformed(message: "response has a malformed 'error'") }
            return RPCResponse(id: id, error: e)
        default:
            throw Malformed(message: "response must have exactly one of 'result' and 'error'")
        }
    }
}

/// What a caller may do. Each method names the least role it needs; a higher role may
/// do everything a lower one may.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// May read: status, queries, proofs.
    case reader
    /// May act, and ask for approvals (an AI agent's uid or group).
    case agent
    /// May do everything, including granting approvals.
    case admin

    private var rank: Int {
        switch self {
        case .reader: return 0
        case .agent: return 1
        case .admin: return 2
        }
    }

    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}
