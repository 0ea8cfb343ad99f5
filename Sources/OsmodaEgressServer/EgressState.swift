import OsmodaCore
import OsmodaEgress
import OsmodaSystem
import Synchronization

/// What every connection reads when it decides: the config in force (swapped on
/// SIGHUP), the address policy, and the tunnel counts behind the caps. Shared by the
/// event loops, so behind a mutex; each request reads one consistent snapshot.
final class EgressState: Sendable {
    struct Snapshot: Sendable {
        var config: EgressConfig
        var addressPolicy: AddressPolicy
    }

    private struct Counts: ~Copyable {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    private let current: Mutex<Snapshot>
    private let counts = Mutex(Counts())
    let extraAllowed: [CIDR]
    /// The addresses and ports the proxy listens on (fixed at start).
    let selfAddresses: [(IPAddress, Int)]

    init(config: EgressConfig, extraAllowed: [CIDR], selfAddresses: [(IPAddress, Int)]) {
        self.extraAllowed = extraAllowed
        self.selfAddresses = selfAddresses
        current = Mutex(Snapshot(config: config, addressPolicy: AddressPolicy(extraAllowed: extraAllowed, selfAddresses: selfAddresses)))
    }

    var snapshot: Snapshot { current.withLock { $0 } }

    func replace(_ config: EgressConfig) {
        current.withLock { $0.config = config }
    }

    enum Admission: Equatable {
        case admitted
        /// The proxy's total is reached (503).
        case totalFull(Int)
        /// This client's share is reached (429).
        case clientFull(Int)
    }

    /// Takes a tunnel slot for `client`, or says which cap is reached.
    func admit(client: String, limits: EgressConfig.Limits) -> Admission {
        counts.withLock { Self.take(&$0, client, limits) }
    }

    func release(client: String) {
        counts.withLock { Self.give(&$0, client) }
    }

    /// Connections still reading their head or waiting for their decision, under the same
    /// two caps as tunnels (kept apart from them), by listener and peer: silent and slow
    /// clients cannot hold descriptors and head buffers without bound.
    private let pending = Mutex(Counts())

    func admitPending(_ key: String, limits: EgressConfig.Limits) -> Admission {
        pending.withLock { Self.take(&$0, key, limits) }
    }

    func releasePending(_ key: String) {
        pending.withLock { Self.give(&$0, key) }
    }

    var pendingConnections: Int { pending.withLock { $0.total } }

    private static func take(_ c: inout Counts, _ client: String, _ limits: EgressConfig.Limits) -> Admission {
        if c.total >= limits.maxTunnels { return .totalFull(limits.maxTunnels) }
        let mine = c.perClient[client, default: 0]
        if mine >= limits.maxTunnelsPerClient { return .clientFull(limits.maxTunnelsPerClient) }
        c.total += 1
        c.perClient[client] = mine + 1
        return .admitted
    }

    private static func give(_ c: inout Counts, _ client: String) {
        c.total -= 1
        let left = c.perClient[client, default: 1] - 1
        c.perClient[client] = left > 0 ? left : nil
    }

    var openTunnels: Int { counts.withLock { $0.total } }

    /// Set when the proxy stops, so that the connections it closes then are not recorded
    /// as clients that left.
    private let stopping = Atomic<Bool>(false)
    func beginStop() { stopping.store(true, ordering: .releasing) }
    var isStopping: Bool { stopping.load(ordering: .acquiring) }
}
