import OsmodaIPC
import OsmodaSystem

/// Makes or adopts the listening socket. Only `AF_UNIX` sockets are ever made: the
/// daemon has no network access and needs none.
enum Listener {
    /// The socket systemd passed: the first descriptor that is a listening Unix stream
    /// socket. Any others are closed.
    static func adopt(_ activation: SocketActivation) throws(DaemonError) -> Int32 {
        var chosen: Int32?
        for fd in activation.descriptors {
            if chosen == nil && UnixSocket.isListeningUnixStream(fd) {
                chosen = fd
            } else {
                Sys.close(fd)
            }
        }
        guard let fd = chosen else {
            throw DaemonError(DaemonError.socketCode, "LISTEN_FDS passed no listening Unix stream socket")
        }
        do {
            try DaemonCalls.makeNonBlockingCloseOnExec(fd)
        } catch {
            throw DaemonError(DaemonError.socketCode, "cannot use the socket systemd passed: \(error)")
        }
        return fd
    }

    /// Binds and listens on `path`: creates its directory (`directoryMode`) when it is
    /// missing, removes a stale socket file that no daemon answers on, and refuses to
    /// touch a live socket or a file that is not a socket.
    ///
    /// - Returns: the descriptor and what `lstat` says of the socket file, to know it
    ///   again before removing it at shutdown.
    static func bind(path: String, mode: UInt32, directoryMode: UInt32, log: @Sendable (String) -> Void) throws(DaemonError) -> (fd: Int32, file: PathStatus?) {
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        do {
            if !parent.isEmpty { try PathCalls.makeDirectories(parent, mode: directoryMode) }
        } catch {
            throw DaemonError(DaemonError.socketCode, "cannot make the socket's directory: \(error)")
        }
        try removeStale(path, log: log)
        let fd: Int32
        do {
            fd = try UnixSocket.stream()
        } catch {
            throw DaemonError(DaemonError.socketCode, "\(error)")
        }
        do {
            try UnixSocket.bind(fd, path: path, mode: mode)
            try UnixSocket.listen(fd)
        } catch {
            Sys.close(fd)
            throw DaemonError(DaemonError.socketCode, "cannot listen on '\(path)': \(error)")
        }
        return (fd, try? PathCalls.status(path))
    }

    /// Removes `path` when it is a socket file nobody listens on (a daemon that died);
    /// a live one, or anything that is not a socket, is an error.
    static func removeStale(_ path: String, log: @Sendable (String) -> Void) throws(DaemonError) {
        let existing: PathStatus?
        do {
            existing = try PathCalls.status(path)
        } catch {
            throw DaemonError(DaemonError.socketCode, "\(error)")
        }
        guard let existing else { return }
        guard existing.kind == .socket else {
            throw DaemonError(DaemonError.socketCode, "'\(path)' exists and is not a socket")
        }
        do {
            let probe = try UnixSocket.connect(path: path, timeoutMs: 1000)
            Sys.close(probe)
            throw DaemonError(DaemonError.socketInUseCode, "another daemon answers on '\(path)'")
        } catch let e as DaemonError {
            throw e
        } catch let e as SystemError where DaemonCalls.isNobodyListening(e) {
            do {
                try PathCalls.unlink(path)
            } catch {
                throw DaemonError(DaemonError.socketCode, "cannot remove the stale socket: \(error)")
            }
            log("removed the stale socket '\(path)'")
        } catch {
            throw DaemonError(DaemonError.socketCode, "cannot check the existing socket '\(path)': \(error)")
        }
    }
}
