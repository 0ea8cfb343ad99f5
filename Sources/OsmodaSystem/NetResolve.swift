#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Name resolution with a deadline.
public enum NetResolver {
    /// The TCP addresses of `host`, in the order `getaddrinfo(3)` gives them.
    ///
    /// A numeric address is converted at once. A name is looked up on a helper thread,
    /// because `getaddrinfo` has no timeout of its own: when the deadline passes first
    /// the lookup is left to finish alone and this throws a timeout.
    public static func resolve(host: String, port: Int, deadline: MonotonicDeadline) throws(NetError) -> [SocketAddress] {
        if case .success(let addresses) = lookup(host: host, port: port, numericOnly: true) { return addresses }

        final class Pending: @unchecked Sendable {
            // Guarded by `monitor`.
            let monitor = ConditionMonitor()
            var result: Result<[SocketAddress], NetError>?
        }
        let pending = Pending()
        let started = WorkerThreads.detach {
            let r = lookup(host: host, port: port, numericOnly: false)
            pending.monitor.withLock {
                pending.result = r
                pending.monitor.broadcast()
            }
        }
        if !started { return try lookup(host: host, port: port, numericOnly: false).get() }
        let outcome: Result<[SocketAddress], NetError>? = pending.monitor.withLock {
            while pending.result == nil {
                if !pending.monitor.wait(untilNanos: deadline.nanos) { break }
            }
            return pending.result
        }
        guard let outcome else { throw NetError(.timeout, "resolve '\(host)'", "timed out after \(deadline.budgetMs) ms") }
        return try outcome.get()
    }

    /// Calls `getaddrinfo(3)` for a stream socket and copies the addresses out.
    static func lookup(host: String, port: Int, numericOnly: Bool) -> Result<[SocketAddress], NetError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : 0)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard rc == 0 else {
            let message = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            return .failure(NetError(.resolve, "resolve '\(host)'", message))
        }
        var out: [SocketAddress] = []
        var seen = Set<SocketAddress>()
        var node = list
        while let ai = node {
            if let sa = ai.pointee.ai_addr, ai.pointee.ai_family == AF_INET || ai.pointee.ai_family == AF_INET6 {
                let bytes = [UInt8](UnsafeRawBufferPointer(start: sa, count: Int(ai.pointee.ai_addrlen)))
                let address = SocketAddress(family: ai.pointee.ai_family, storage: bytes)
                if seen.insert(address).inserted { out.append(address) }
            }
            node = ai.pointee.ai_next
        }
        if out.isEmpty { return .failure(NetError(.resolve, "resolve '\(host)'", "no IPv4 or IPv6 address")) }
        return .success(out)
    }
}
