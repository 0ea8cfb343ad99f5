import NIOCore
import NIOPosix
import OsmodaCLI
import OsmodaCore
import OsmodaEgress
import OsmodaSystem

/// An error in what the proxy was given at start: the message names the file or flag.
struct EgressSetupError: Error, CustomStringConvertible {
    var message: String
    var status: ExitStatus
    init(_ message: String, status: ExitStatus = .config) {
        self.message = message
        self.status = status
    }
    var description: String { message }
}

/// The proxy: one listener per config entry (a Unix socket with its mode, or loopback
/// TCP), the event loops, the resolver's thread pool.
final class EgressServer: Sendable {
    let shared: EgressShared
    let group: MultiThreadedEventLoopGroup
    let configPath: String
    let diagnostics: Diagnostics
    private let channels: [Channel]

    /// Binds every listener of `config`; throws `EgressSetupError` (status 74) when one
    /// cannot be bound.
    init(config: EgressConfig, configPath: String, extraAllowed: [CIDR], resolver: EgressResolver,
         writer: RecordWriter, threads: Int, diagnostics: Diagnostics) throws(EgressSetupError) {
        self.configPath = configPath
        self.diagnostics = diagnostics
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        // Each lookup waits here for getaddrinfo (which has no timeout of its own).
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        // The proxy's own addresses are known before binding (ports are fixed in the config).
        let state = EgressState(config: config, extraAllowed: extraAllowed, selfAddresses: config.selfAddresses)
        shared = EgressShared(state: state, resolver: resolver, pool: pool, writer: writer, clock: { Sys.now() })
        var bound: [Channel] = []
        for l in config.listeners {
            let info = ListenerInfo(name: l.name, policy: l.policy, isUnix: l.unixPath != nil)
            let shared = self.shared
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ProxyHandler(shared: shared, listener: info))
                    }
                }
            do {
                if let path = l.unixPath {
                    // Created with the configured mode at once (the umask leaves exactly it):
                    // no window with a wider mode, and no chmod by path afterwards, which,
                    // in a directory others can write, could be turned onto another file.
                    let mode = (l.socketMode ?? 0o660) & 0o777
                    let ch = try Sys.withUmask(~mode & 0o777) {
                        try bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).wait()
                    }
                    bound.append(ch)
                } else if let tcp = l.tcp {
                    bound.append(try bootstrap.bind(host: tcp.host.description, port: tcp.port).wait())
                }
            } catch {
                for ch in bound { ch.close(promise: nil) }
                try? group.syncShutdownGracefully()
                throw EgressSetupError("cannot listen for \(l.name) on \(l.unixPath ?? l.tcp.map { "\($0.host):\($0.port)" } ?? "?"): \(error)",
                                       status: .ioError)
            }
        }
        channels = bound
    }

    /// Where each listener listens, for the start-up note.
    var listening: [String] {
        channels.map { ch in
            if let a = ch.localAddress {
                if let ip = a.ipAddress, let port = a.port { return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
                if let p = a.pathname { return p }
            }
            return "?"
        }
    }

    /// SIGHUP: reads the config again; new requests use it, live tunnels are untouched.
    /// Listeners are bound at start: a change to them needs a restart (warned about).
    func reload() {
        let old = shared.state.snapshot.config
        let next: EgressConfig
        do {
            next = try EgressCommand.loadConfig(configPath)
        } catch {
            diagnostics.error("reload: \(error.message); the config in force is kept")
            return
        }
        let describe: (EgressConfig) -> [String] = { c in
            c.listeners.map { "\($0.name) \($0.unixPath ?? "") \($0.tcp.map { "\($0.host):\($0.port)" } ?? "")" }.sorted()
        }
        if describe(old) != describe(next) {
            diagnostics.warning("reload: the listeners changed; they are bound at start, so that change takes a restart")
        }
        shared.state.replace(next)
        diagnostics.note("reloaded \(configPath); \(shared.state.openTunnels) tunnels open")
    }

    /// Stops listening, then closes every connection still open, so that each live
    /// tunnel ends through its handlers and writes its record (a tunnel's record is
    /// written at its close: exiting with tunnels open would lose them silently).
    func close() {
        shared.state.beginStop()
        for ch in channels { try? ch.close().wait() }
        try? group.syncShutdownGracefully()
        try? shared.pool.syncShutdownGracefully()
    }
}
