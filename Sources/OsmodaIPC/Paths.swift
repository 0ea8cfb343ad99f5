/// Where the daemon's socket, state and configuration live (DESIGN §4).
///
/// | | system mode | user mode |
/// |---|---|---|
/// | socket | `/run/osmoda/osmodad.sock` | `$XDG_RUNTIME_DIR/osmoda/osmodad.sock` |
/// | state | `/var/lib/osmoda` | `$XDG_STATE_HOME/osmoda` (`~/.local/state/osmoda`) |
/// | config | `/etc/osmoda` | `$XDG_CONFIG_HOME/osmoda` (`~/.config/osmoda`) |
///
/// `OSMODA_SOCKET`, `OSMODA_STATE_DIR` and `OSMODA_CONFIG_DIR` override each in either
/// mode. Every path is absolute: relative overrides are taken from the working
/// directory; relative `XDG_*` values are ignored, as the XDG spec says.
public struct Paths: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// One daemon for the machine, run by systemd as root.
        case system
        /// One daemon per user, started on first use.
        case user
    }

    public var mode: Mode
    public var socket: String
    public var stateDirectory: String
    public var configDirectory: String

    public init(mode: Mode, socket: String, stateDirectory: String, configDirectory: String) {
        self.mode = mode
        self.socket = socket
        self.stateDirectory = stateDirectory
        self.configDirectory = configDirectory
    }

    /// The lock that keeps one daemon per state directory.
    public var lockFile: String { stateDirectory + "/osmodad.lock" }
    /// The roles config (`roles.json`).
    public var rolesFile: String { configDirectory + "/roles.json" }

    public static let systemSocket = "/run/osmoda/osmodad.sock"
    public static let systemStateDirectory = "/var/lib/osmoda"
    public static let systemConfigDirectory = "/etc/osmoda"

    /// The environment variables that override the paths.
    public static let socketVariable = "OSMODA_SOCKET"
    public static let stateVariable = "OSMODA_STATE_DIR"
    public static let configVariable = "OSMODA_CONFIG_DIR"

    /// The paths for `mode` from an environment.
    ///
    /// - Parameters:
    ///   - workingDirectory: what relative overrides are relative to.
    ///   - home: the home directory when `$HOME` is unset (the password database's).
    /// - Throws: `PathsError` in user mode when a path cannot be made: no absolute
    ///   `$XDG_RUNTIME_DIR` and no `OSMODA_SOCKET`; no home directory for a default.
    public static func resolve(mode: Mode, environment env: [String: String], workingDirectory: String,
                               home fallbackHome: String? = nil) throws(PathsError) -> Paths {
        func value(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : (workingDirectory.hasSuffix("/") ? workingDirectory : workingDirectory + "/") + path
        }
        func xdg(_ name: String) -> String? { value(name).flatMap { $0.hasPrefix("/") ? $0 : nil } }
        let home = value("HOME").flatMap { $0.hasPrefix("/") ? $0 : nil } ?? fallbackHome

        let socket: String
        let state: String
        let config: String
        switch mode {
        case .system:
            socket = value(socketVariable).map(absolute) ?? systemSocket
            state = value(stateVariable).map(absolute) ?? systemStateDirectory
            config = value(configVariable).map(absolute) ?? systemConfigDirectory
        case .user:
            if let s = value(socketVariable) {
                socket = absolute(s)
            } else if let runtime = xdg("XDG_RUNTIME_DIR") {
                socket = trimmed(runtime) + "/osmoda/osmodad.sock"
            } else {
                throw PathsError("XDG_RUNTIME_DIR is not set to an absolute path; set \(socketVariable) to the socket's path")
            }
            if let s = value(stateVariable) {
                state = absolute(s)
            } else if let base = xdg("XDG_STATE_HOME") ?? home.map({ trimmed($0) + "/.local/state" }) {
                state = trimmed(base) + "/osmoda"
            } else {
                throw PathsError("no home directory for the state directory; set \(stateVariable)")
            }
            if let c = value(configVariable) {
                config = absolute(c)
            } else if let base = xdg("XDG_CONFIG_HOME") ?? home.map({ trimmed($0) + "/.config" }) {
                config = trimmed(base) + "/osmoda"
            } else {
                throw PathsError("no home directory for the config directory; set \(configVariable)")
            }
        }
        return Paths(mode: mode, socket: socket, stateDirectory: trimmed(state), configDirectory: trimmed(config))
    }

    /// The paths for `mode` from this process's environment; with no mode, the mode
    /// `defaultMode` picks.
    public static func current(mode: Mode? = nil) throws(PathsError) -> Paths {
        let env = ThisProcess.environment()
        let uid = ThisProcess.uid
        let chosen = mode ?? defaultMode(uid: uid, systemSocketExists: (try? PathCalls.status(systemSocket))??.kind == .socket)
        return try resolve(mode: chosen, environment: env, workingDirectory: PathCalls.workingDirectory(),
                           home: ThisProcess.homeDirectory(uid: uid))
    }

    /// The mode a tool uses when not told: system mode for root, or when a system daemon's
    /// socket exists (an agent's uid on a managed machine); user mode otherwise.
    public static func defaultMode(uid: UInt32, systemSocketExists: Bool) -> Mode {
        uid == 0 || systemSocketExists ? .system : .user
    }

    private static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}

/// Why the paths could not be worked out: a configuration problem (exit 78).
public struct PathsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
