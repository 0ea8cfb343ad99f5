import OsmodaIPC
import OsmodaSystem

/// Listening sockets handed over by systemd (`sd_listen_fds(3)`): `LISTEN_PID` must be
/// this process and `LISTEN_FDS` says how many descriptors start at 3.
public struct SocketActivation: Sendable, Equatable {
    public var descriptors: [Int32]

    public init(descriptors: [Int32]) { self.descriptors = descriptors }

    /// The descriptors systemd passed, or `nil` when the environment passes none to
    /// `pid`. `firstDescriptor` is 3 (`SD_LISTEN_FDS_START`) except in tests.
    public static func fromEnvironment(_ env: [String: String], pid: Int32, firstDescriptor: Int32 = 3) -> SocketActivation? {
        guard let listenPID = env["LISTEN_PID"].flatMap({ Int32($0) }), listenPID == pid,
              let count = env["LISTEN_FDS"].flatMap({ Int32($0) }), count > 0, count < 1024 else { return nil }
        return SocketActivation(descriptors: (0..<count).map { firstDescriptor + $0 })
    }

    /// Removes `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from this process's
    /// environment, so that the programs it starts do not take them for their own.
    public static func clearEnvironment() {
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { ThisProcess.unsetEnvironment(name) }
    }
}

/// Readiness and state messages to the service manager (`sd_notify(3)`): one datagram
/// to the `AF_UNIX` socket named by `$NOTIFY_SOCKET` (a path, or `@name` for an
/// abstract socket). Without a socket nothing is sent.
public struct ServiceNotifier: Sendable, Equatable {
    public var socket: String?

    public init(socket: String?) { self.socket = socket }

    /// From `$NOTIFY_SOCKET` in `env`.
    public static func fromEnvironment(_ env: [String: String]) -> ServiceNotifier {
        ServiceNotifier(socket: env["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Sends `fields` (`READY=1`, `STATUS=…`) as one message, newline-separated.
    /// Without a socket it does nothing; `vsock:` addresses are not supported.
    public func notify(_ fields: [String]) throws(SystemError) {
        guard let socket else { return }
        guard socket.hasPrefix("/") || socket.hasPrefix("@") else {
            throw SystemError("sd_notify", code: Errno.notSupported, subject: socket)
        }
        let fd = try UnixSocket.datagram()
        defer { Sys.close(fd) }
        try UnixSocket.sendDatagram(fd, Array(fields.joined(separator: "\n").utf8), to: socket)
    }
}
