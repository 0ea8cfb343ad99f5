import OsmodaCore
import OsmodaIPC

/// A method's handler: the caller as the kernel reports it, and the request's params
/// (an empty object when the request had none).
public typealias RPCHandler = @Sendable (Peer, JSONValue) throws(RPCError) -> JSONValue

/// A request the router refused for want of a role, as a method's denial hook sees it:
/// the caller's credentials, the role it has (`nil` for a stranger), and the refusal.
public struct DeniedRequest: Sendable, Equatable {
    public var method: String
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public var exe: String?
    public var role: Role?
    public var requiredRole: Role
    public var error: RPCError
}

/// Called, before the refusal is answered, for a request that a method's role check
/// refused (the vault records every refusal in the ledger). It cannot change the answer.
public typealias DenialHook = @Sendable (DeniedRequest) -> Void

/// The params of a method that takes none: `{}` or no `params` at all.
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}

/// The closed set of methods a daemon answers: each name with the least role it needs
/// and its handler.
///
/// The router authorises every request before its handler runs: a caller with no role
/// gets `auth.denied` whatever it asks (it does not learn which methods exist); a caller
/// whose role is too low for the method gets `auth.denied` naming the role needed.
public struct Router: Sendable {
    public struct Route: Sendable {
        public let method: String
        public let role: Role
        let handler: RPCHandler
        let onDenied: DenialHook?
    }

    private var routes: [String: Route] = [:]

    public init() {}

    /// The registered method names, sorted.
    public var methods: [String] { routes.keys.sorted() }

    /// The route for `method`, if there is one.
    public func route(_ method: String) -> Route? { routes[method] }

    /// Adds `method`. Registering a name twice is a programming error.
    public mutating func register(_ method: String, role: Role, onDenied: DenialHook? = nil, _ handler: @escaping RPCHandler) {
        precondition(routes[method] == nil, "method '\(method)' registered twice")
        routes[method] = Route(method: method, role: role, handler: handler, onDenied: onDenied)
    }

    /// Adds `method` with typed params and result: params are decoded strictly (an
    /// unknown field is `rpc.invalid_params`), and the result is encoded with absent
    /// optionals as `null`.
    public mutating func register<Params: Decodable & Sendable, Reply: Encodable & Sendable>(
        _ method: String, role: Role, params: Params.Type,
        _ handler: @escaping @Sendable (Peer, Params) throws(RPCError) -> Reply
    ) {
        register(method, role: role) { (peer, raw) throws(RPCError) -> JSONValue in
            let decoded: Params
            do {
                decoded = try ValueDecoder.decode(Params.self, from: raw)
            } catch {
                throw .invalidParams("params: \(error)")
            }
            let reply = try handler(peer, decoded)
            do {
                return try ValueEncoder.encode(reply, absentAsNull: true)
            } catch {
                throw .internalError("cannot encode the result of '\(method)': \(error)")
            }
        }
    }

    /// Authorises and runs one request; `nil` for a notification, which gets no response.
    func handle(_ request: RPCRequest, credentials: Credentials, roles: Roles) -> RPCResponse? {
        let outcome: RPCResponse.Outcome
        do throws(RPCError) {
            outcome = .result(try dispatch(request, credentials: credentials, roles: roles))
        } catch {
            outcome = .error(error)
        }
        guard let id = request.id else { return nil }
        return RPCResponse(id: id, outcome: outcome)
    }

    private func dispatch(_ request: RPCRequest, credentials c: Credentials, roles: Roles) throws(RPCError) -> JSONValue {
        guard let role = roles.role(uid: c.uid, gids: [c.gid] + c.groups) else {
            let error = RPCError(.denied, "uid \(c.uid) has no role in this daemon")
            // A stranger learns nothing of which methods exist; a hooked method still records the attempt.
            if let route = routes[request.method], let hook = route.onDenied {
                hook(DeniedRequest(method: route.method, pid: c.pid, uid: c.uid, gid: c.gid, exe: c.exe, role: nil,
                                   requiredRole: route.role, error: error))
            }
            throw error
        }
        guard let route = routes[request.method] else { throw .methodNotFound(request.method) }
        guard role >= route.role else {
            let error = RPCError(.denied, "'\(route.method)' needs role '\(route.role.rawValue)'; uid \(c.uid) has '\(role.rawValue)'",
                                 details: JSONObject(["required_role": .string(route.role.rawValue), "role": .string(role.rawValue)]))
            if let hook = route.onDenied {
                hook(DeniedRequest(method: route.method, pid: c.pid, uid: c.uid, gid: c.gid, exe: c.exe, role: role,
                                   requiredRole: route.role, error: error))
            }
            throw error
        }
        return try route.handler(c.peer(role: role), request.params ?? .object(JSONObject()))
    }
}
