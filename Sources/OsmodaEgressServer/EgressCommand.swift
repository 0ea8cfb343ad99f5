import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaEgress
import OsmodaIPC
import OsmodaSystem
#if canImport(Glibc)
import Glibc
#endif

/// The version every tool reports: keep it equal to OsmodaCommands' osmodaVersion (a test compares them).
let egressVersion = "0.1.0"

/// `osmoda-egress`: the allow-list proxy between sandboxed tools and the network.
public struct EgressCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-egress",
        abstract: "The egress proxy: HTTP CONNECT and plain HTTP, on an allow-list, to global addresses only.",
        discussion: """
            osmoda-egress is the only way sandboxed tools reach the network. It serves HTTP/1.1 \
            CONNECT tunnels and plain-HTTP requests in absolute form (http://host/path), on \
            loopback TCP and on Unix sockets (one per trust ring), as the config file says \
            (docs/egress.md). A client is known by the listener it came in on, or by a token in \
            Proxy-Authorization (Bearer TOKEN, or Basic with the token as the password).

            Each request is checked against its client's policy (allow and deny lists of hosts \
            and *.suffix wildcards with their ports; deny beats allow; 443 only by default). \
            A name is resolved once; every address it resolves to must be global unicast, or \
            the request is refused (one internal address in the answer refuses it all); the \
            proxy then connects to an address it checked, and never resolves again. IP \
            literals are checked the same way, in any notation. The proxy's own listening \
            addresses are refused too. In report mode a policy allows what its host rules \
            would refuse and records it; the address checks hold in both modes.

            Answers: 403 refused by the policy or the address check (the X-Osmoda-Egress-Rule \
            header names the rule), 407 unknown token, 400 a malformed request, 408 the head \
            was not complete within the header timeout, 431 the head is over the size cap, \
            429 the client's tunnel cap is reached, 503 the proxy's tunnel cap is reached, \
            502 the name does not resolve or the connection is refused, 504 resolving or \
            connecting timed out. A forwarded plain-HTTP request is sent with Connection: \
            close (one request per connection) and the Proxy-* and hop-by-hop headers removed; \
            a request body must have a Content-Length (Transfer-Encoding is refused with 501).

            A tunnel that carries no bytes either way for the idle timeout is closed; one that \
            is merely long-lived is not. Tunnels are capped in total and per client (the \
            policy and, on TCP, the peer's address); so, apart, are connections still sending \
            their head or waiting for their decision (by listener and peer).

            One egress.decision record per request goes to standard output (osmoda-records(5)): \
            at once for a refusal, at the close for a tunnel, with the bytes each way and the \
            duration; and to the audit ledger through osmodad when it is reachable (--ledger). \
            SIGHUP reloads the config for new requests; live tunnels stay. SIGTERM or SIGINT \
            stops the proxy; the tunnels still open are closed and recorded first.

            --allow-internal-for-testing and --hosts-file exist for tests only: the first \
            admits internal addresses the proxy must never reach in production (the cloud \
            metadata address among them) and is warned about at start; the second answers \
            every name from an /etc/hosts-style file instead of the system resolver.

            Examples:
              osmoda-egress --config /etc/osmoda/egress.json --system
              osmoda-egress --config egress.json --check
              curl -x http://127.0.0.1:3128 https://api.github.com/
              curl -x http://127.0.0.1:3128 --proxy-user ci:TOKEN https://pypi.org/simple/
              kill -HUP "$(pidof osmoda-egress)"    # reload the config
              osmoda-egress --config egress.json | osmoda-where '.decision != "allow"'
            """,
        version: "osmoda-egress (osmoda) \(egressVersion)"
    )

    public enum LedgerChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
        case auto, on, off
    }

    @Option(name: .long, help: ArgumentHelp("The config file (JSON; docs/egress.md).", valueName: "path"), completion: .file())
    var config: String

    @Flag(name: .long, help: "Check the config file and exit.")
    var check = false

    @Option(name: .customLong("allow-internal-for-testing"),
            help: ArgumentHelp("DANGEROUS, for tests only: admit addresses in this internal range (repeatable), e.g. 127.0.0.0/8.", valueName: "cidr"))
    var allowInternal: [String] = []

    @Option(name: .customLong("hosts-file"),
            help: ArgumentHelp("For tests only: resolve names from this /etc/hosts-style file instead of the system resolver; names it does not list do not resolve.",
                               valueName: "path"), completion: .file())
    var hostsFile: String?

    @Option(name: .long, help: ArgumentHelp("Event loop threads.", valueName: "n"))
    var threads: Int = 2

    @Option(name: .long, help: ArgumentHelp("Record decisions in the audit ledger: auto (when osmodad is reachable), on (required at start) or off.", valueName: "when"))
    var ledger: LedgerChoice = .auto

    @Flag(name: .long, help: "User mode: the daemon's socket under $XDG_RUNTIME_DIR/osmoda.")
    var user = false

    @Flag(name: .long, help: "System mode: the daemon at /run/osmoda/osmodad.sock.")
    var system = false

    public init() {}

    public func validate() throws {
        if user && system { throw ValidationError("--user and --system exclude each other") }
        if threads < 1 || threads > 64 { throw ValidationError("--threads must be between 1 and 64") }
        for c in allowInternal where CIDR(c) == nil {
            throw ValidationError("--allow-internal-for-testing: '\(c)' is not a CIDR range such as 127.0.0.0/8")
        }
    }

    static func loadConfig(_ path: String) throws(EgressSetupError) -> EgressConfig {
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 16 << 20) } catch {
            throw EgressSetupError("cannot read the config: \(error.description)", status: .noInput)
        }
        do { return try EgressConfig.parse(bytes, path: path) } catch {
            throw EgressSetupError(error.message, status: .config)
        }
    }

    public func run() throws {
        let d = Diagnostics(program: "osmoda-egress")
        let status: ExitStatus
        do {
            status = try serve(d)
        } catch {
            d.error(error.message)
            status = error.status
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    private func serve(_ d: Diagnostics) throws(EgressSetupError) -> ExitStatus {
        let config = try Self.loadConfig(config)
        let extra = allowInternal.compactMap { CIDR($0) }
        var resolver = EgressResolver.system
        if let hostsFile {
            let bytes: [UInt8]
            do { bytes = try Sys.readFile(hostsFile, limit: 16 << 20) } catch {
                throw EgressSetupError("cannot read the hosts file: \(error.description)", status: .noInput)
            }
            resolver = try EgressResolver.hostsFile(bytes, path: hostsFile)
        }
        if check {
            d.note("\(self.config): \(config.listeners.count) listeners; the config is valid")
            return .success
        }
        if !extra.isEmpty {
            d.warning("DANGEROUS: --allow-internal-for-testing admits \(extra.map(\.description).joined(separator: ", ")): clients can reach internal addresses there. Never use this outside tests.")
        }
        if hostsFile != nil {
            d.warning("--hosts-file is for tests: names are answered from \(hostsFile!), not the system resolver")
        }
        if config.listeners.isEmpty { throw EgressSetupError("\(self.config): no listeners") }

        // Signals first: every thread started later inherits the blocked mask.
        let control = ServerControl()
        guard Sys.onSignals([SIGHUP, SIGTERM, SIGINT], { sig in control.signal(sig) }) else {
            throw EgressSetupError("cannot set up signal handling", status: .software)
        }
        Sys.raiseOpenFileLimit()

        var paths: Paths?
        if ledger != .off {
            let mode: Paths.Mode? = user ? .user : system ? .system : nil
            do { paths = try Paths.current(mode: mode) } catch {
                if ledger == .on { throw EgressSetupError(error.message, status: .config) }
            }
        }
        let writer = RecordWriter(policy: RecordWriter.LedgerPolicy(rawValue: ledger.rawValue) ?? .auto, paths: paths, diagnostics: d)
        if ledger == .on {
            do { try writer.connectNow() } catch {
                throw EgressSetupError("--ledger on: \(error.description)", status: .unavailable)
            }
        }
        guard writer.start() else { throw EgressSetupError("cannot start the record writer thread", status: .software) }
        let server = try EgressServer(config: config, configPath: self.config, extraAllowed: extra, resolver: resolver,
                                      writer: writer, threads: threads, diagnostics: d)
        for (l, at) in zip(config.listeners, server.listening) { d.note("listening for \(l.name) on \(at)") }
        control.run(server)
        server.close()
        // Records that could not be written by then are counted on stderr and fail the exit.
        return writer.drain(timeoutMs: 5000) > 0 ? .ioError : .success
    }
}

/// The main thread waits here; the signal thread reloads, or asks it to stop.
final class ServerControl: @unchecked Sendable {
    private let monitor = ConditionMonitor()
    // Guarded by `monitor`.
    private var server: EgressServer?
    private var stop = false
    private var reloads = 0

    func signal(_ sig: Int32) {
        monitor.withLock {
            if sig == SIGHUP { reloads += 1 } else { stop = true }
            monitor.broadcast()
        }
    }

    func run(_ server: EgressServer) {
        monitor.withLock { self.server = server }
        while true {
            let (reload, stopping): (Bool, Bool) = monitor.withLock {
                while reloads == 0 && !stop { monitor.wait(untilNanos: nil) }
                let r = reloads > 0
                reloads = 0
                return (r, stop)
            }
            if stopping { return }
            if reload { server.reload() }
        }
    }
}
