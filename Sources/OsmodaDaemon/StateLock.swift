import OsmodaIPC
import OsmodaSystem

/// Why the daemon could not start: a stable code, a message for the log, and the exit
/// status the daemon ends with.
public struct DaemonError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `daemon.locked` (another daemon has the state directory), `daemon.socket_in_use`
    /// (another daemon answers on the socket), `daemon.socket` (the socket could not be
    /// made or adopted), `daemon.state` (the state directory or lock file could not be
    /// made), `daemon.config` (a bad `roles.json`).
    public var code: RPCErrorCode
    public var message: String
    /// The pid written in the lock file by the daemon that holds it, for `daemon.locked`.
    public var holderPID: Int32?

    public init(_ code: RPCErrorCode, _ message: String, holderPID: Int32? = nil) {
        self.code = code
        self.message = message
        self.holderPID = holderPID
    }

    public static let lockedCode: RPCErrorCode = "daemon.locked"
    public static let socketInUseCode: RPCErrorCode = "daemon.socket_in_use"
    public static let socketCode: RPCErrorCode = "daemon.socket"
    public static let stateCode: RPCErrorCode = "daemon.state"
    public static let configCode: RPCErrorCode = "daemon.config"

    /// 75 (try again) while another daemon runs; 78 for configuration; 74 for the rest.
    public var exitStatus: Int32 {
        switch code {
        case Self.lockedCode, Self.socketInUseCode: return 75
        case Self.configCode: return 78
        default: return 74
        }
    }

    public var description: String { message }
}

/// The exclusive lock that keeps one daemon per state directory: `flock(2)` on
/// `<state>/osmodad.lock`, held until `release()` or the end of the process, with the
/// holder's pid written in the file for the next daemon's message.
///
/// Take it before anything else in the state directory is opened (the ledger), and
/// before the socket is touched, so that a second daemon changes nothing.
public final class StateDirectoryLock: @unchecked Sendable {
    public let path: String
    // Guarded by `monitor`.
    private let monitor = ConditionMonitor()
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { if fd >= 0 { Sys.close(fd) } }

    /// Creates the state directory (mode 0700) if it is missing and takes the lock.
    ///
    /// - Throws: `daemon.locked` naming the holder's pid when another daemon has it;
    ///   `daemon.state` when the directory or file cannot be made.
    public static func acquire(stateDirectory: String) throws(DaemonError) -> StateDirectoryLock {
        let path = stateDirectory + "/osmodad.lock"
        let fd: Int32
        do {
            try PathCalls.makeDirectories(stateDirectory, mode: 0o700)
            fd = try DaemonCalls.openLockFile(path)
        } catch {
            throw DaemonError(DaemonError.stateCode, "cannot open the state directory: \(error)")
        }
        let locked: Bool
        do {
            locked = try DaemonCalls.tryLockExclusive(fd, path: path)
        } catch {
            Sys.close(fd)
            throw DaemonError(DaemonError.stateCode, "cannot lock the state directory: \(error)")
        }
        guard locked else {
            let text = String(decoding: DaemonCalls.readSmall(fd), as: UTF8.self)
            Sys.close(fd)
            let holder = Int32(text.split(separator: "\n").first.map(String.init) ?? "")
            let who = holder.map { "another osmodad (pid \($0))" } ?? "another osmodad"
            throw DaemonError(DaemonError.lockedCode, "\(who) holds the lock '\(path)'; one daemon per state directory",
                              holderPID: holder)
        }
        do {
            try DaemonCalls.replaceContents(fd, "\(ThisProcess.pid)\n", path: path)
        } catch {
            Sys.close(fd)
            throw DaemonError(DaemonError.stateCode, "cannot write the lock file: \(error)")
        }
        return StateDirectoryLock(path: path, fd: fd)
    }

    /// Whether the lock is still held.
    public var isHeld: Bool { monitor.withLock { fd >= 0 } }

    /// Gives the lock up. The file stays (removing it would let two daemons lock two
    /// different files); its pid is stale until the next daemon writes its own.
    public func release() {
        monitor.withLock {
            if fd >= 0 { Sys.close(fd) }
            fd = -1
        }
    }
}
