#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CShim
import OsmodaSystem

// The one file of OsmodaIPC (and of OsmodaDaemon, which uses these through `package`
// access) that touches the C library for Unix sockets, files and the process itself.
// Every wrapper retries EINTR, throws `SystemError`, and names the C function it wraps.

/// Thin wrappers over the `AF_UNIX` stream-socket calls. Every descriptor made here is
/// close-on-exec and non-blocking; every wait is a `poll(2)` with a timeout.
package enum UnixSocket {
    /// The longest socket path `sockaddr_un` holds (107 bytes and a NUL).
    package static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Wraps `socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)`.
    package static func stream() throws(SystemError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        return fd
    }

    /// Wraps `socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)`.
    package static func datagram() throws(SystemError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        return fd
    }

    /// Calls `body` with a `sockaddr_un` for `path` and its length. A path that starts
    /// with `@` names an abstract socket (a leading NUL, no file).
    package static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) throws(SystemError) -> R {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count <= maxPathBytes, abstract || !bytes.contains(0) else {
            throw SystemError("socket address", code: bytes.isEmpty || bytes.contains(0) ? EINVAL : ENAMETOOLONG, subject: path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        // Abstract names are exactly their bytes long; file paths carry their NUL.
        let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Connects a new stream socket to `path` with `connect(2)`.
    ///
    /// A Unix socket whose backlog is full answers `EAGAIN` to a non-blocking connect;
    /// that is retried until `timeoutMs` has passed (then `ETIMEDOUT`). Every other
    /// failure (`ENOENT`, `ECONNREFUSED`, `EACCES`, …) is thrown at once.
    package static func connect(path: String, timeoutMs: Int64) throws(SystemError) -> Int32 {
        let fd = try stream()
        let deadline = MonotonicDeadline(milliseconds: timeoutMs)
        var pause: Int64 = 1
        while true {
            let rc = try withAddress(path) { sa, len in Glibc.connect(fd, sa, len) }
            if rc == 0 { return fd }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN && !deadline.hasPassed {
                Sys.sleep(milliseconds: min(pause, Int64(deadline.remainingMs)))
                pause = min(pause * 2, 50)
                continue
            }
            Sys.close(fd)
            throw SystemError("connect", code: e == EAGAIN ? ETIMEDOUT : e, subject: path)
        }
    }

    /// Binds `fd` to the file `path` with `bind(2)`; the socket file gets `mode`
    /// (set on the socket with `fchmod(2)` first, which Linux applies at bind, so the
    /// file is never reachable with wider permissions, then again with `chmod(2)`).
    /// An abstract name (`@name`) has no file and no mode.
    package static func bind(_ fd: Int32, path: String, mode: UInt32) throws(SystemError) {
        let abstract = path.hasPrefix("@")
        if !abstract && fchmod(fd, mode_t(mode)) != 0 { throw SystemError("fchmod", subject: path) }
        let rc = try withAddress(path) { sa, len in Glibc.bind(fd, sa, len) }
        if rc != 0 { throw SystemError("bind", subject: path) }
        if !abstract && chmod(path, mode_t(mode)) != 0 { throw SystemError("chmod", subject: path) }
    }

    /// Wraps `listen(2)` with the largest backlog the kernel allows.
    package static func listen(_ fd: Int32) throws(SystemError) {
        if Glibc.listen(fd, SOMAXCONN) != 0 { throw SystemError("listen", subject: "fd \(fd)") }
    }

    /// Wraps `accept4(2)` (close-on-exec, non-blocking); `nil` when no connection waits.
    package static func accept(_ fd: Int32) throws(SystemError) -> Int32? {
        let c = osmoda_accept4(fd, 1, 1)
        if c >= 0 { return c }
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK || e == ECONNABORTED { return nil }
        throw SystemError("accept4", code: e, subject: "fd \(fd)")
    }

    /// Sends every byte with `send(2)` and `MSG_NOSIGNAL` (a closed peer is `EPIPE`,
    /// never `SIGPIPE`), waiting in `poll(2)` while the socket buffer is full; the whole
    /// write must be done within `timeoutMs` (then `ETIMEDOUT`).
    ///
    /// With `onReadable`, a wait for room also watches for input and calls it when some
    /// is waiting, so that a peer blocked on writing its answers to us (pipelined
    /// requests) cannot deadlock with us blocked on writing to it.
    package static func sendAll(_ fd: Int32, _ bytes: [UInt8], timeoutMs: Int64, onReadable: (() -> Void)? = nil) throws(SystemError) {
        let deadline = MonotonicDeadline(milliseconds: timeoutMs)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                let remaining = deadline.remainingMs
                if remaining == 0 { throw SystemError("send", code: ETIMEDOUT, subject: "fd \(fd)") }
                guard let onReadable else {
                    _ = try waitWritable(fd, timeoutMs: remaining)
                    continue
                }
                var entry = pollfd(fd: fd, events: Int16(POLLOUT | POLLIN), revents: 0)
                if poll(&entry, 1, remaining) < 0 && errno != EINTR { throw SystemError("poll") }
                if entry.revents & Int16(POLLIN) != 0 { onReadable() }
                continue
            }
            throw SystemError("send", code: n == 0 ? EPIPE : e, subject: "fd \(fd)")
        }
    }

    /// Wraps `recv(2)`: the bytes read (0 at end of stream), or `nil` when nothing is
    /// waiting. A reset connection (`ECONNRESET`) reads as end of stream.
    package static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return nil }
            if e == ECONNRESET { return 0 }
            throw SystemError("recv", code: e, subject: "fd \(fd)")
        }
    }

    /// Waits with `poll(2)` until one of `fds` is readable (or hung up, or in error, which
    /// a read then reports), for at most `timeoutMs` (negative: forever). Returns which
    /// are ready; all false on timeout.
    package static func waitReadable(_ fds: [Int32], timeoutMs: Int32) throws(SystemError) -> [Bool] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            let n = entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMs) }
            if n >= 0 { return entries.map { $0.revents != 0 } }
            if errno != EINTR { throw SystemError("poll") }
        }
    }

    /// Waits with `poll(2)` until `fd` is writable (or in error); false on timeout.
    package static func waitWritable(_ fd: Int32, timeoutMs: Int32) throws(SystemError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let n = poll(&entry, 1, timeoutMs)
            if n >= 0 { return n > 0 }
            if errno != EINTR { throw SystemError("poll") }
        }
    }

    /// Wraps `shutdown(fd, SHUT_WR)`: the peer reads end of stream, replies still arrive.
    package static func shutdownWrite(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// The connecting process's pid, uid and gid, from `SO_PEERCRED` (fixed when it
    /// called `connect(2)`).
    package static func peerCredentials(_ fd: Int32) throws(SystemError) -> (pid: Int32, uid: UInt32, gid: UInt32) {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        guard osmoda_peer_credentials(fd, &pid, &uid, &gid) == 0 else { throw SystemError("getsockopt SO_PEERCRED", subject: "fd \(fd)") }
        return (pid, uid, gid)
    }

    /// The connecting process's supplementary groups, from `SO_PEERGROUPS`; empty where
    /// the kernel does not have it.
    package static func peerGroups(_ fd: Int32) -> [UInt32] {
        var groups = [gid_t](repeating: 0, count: 64)
        while true {
            let n = groups.withUnsafeMutableBufferPointer { osmoda_peer_groups(fd, $0.baseAddress, Int32($0.count)) }
            if n < 0 { return [] }
            if Int(n) <= groups.count { return Array(groups[0..<Int(n)]) }
            groups = [gid_t](repeating: 0, count: Int(n))
        }
    }

    /// Reads `getsockopt(SOL_SOCKET, option)` as an integer.
    package static func intOption(_ fd: Int32, _ option: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { throw SystemError("getsockopt", subject: "fd \(fd)") }
        return value
    }

    /// Whether `fd` is a listening `AF_UNIX` stream socket (`SO_DOMAIN`, `SO_TYPE`,
    /// `SO_ACCEPTCONN`), as a socket-activated daemon must check what it was handed.
    package static func isListeningUnixStream(_ fd: Int32) -> Bool {
        guard let domain = try? intOption(fd, SO_DOMAIN), let type = try? intOption(fd, SO_TYPE),
              let accepting = try? intOption(fd, SO_ACCEPTCONN) else { return false }
        return domain == AF_UNIX && type == Int32(SOCK_STREAM.rawValue) && accepting != 0
    }

    /// Wraps `sendto(2)` of one datagram to the socket `path` (`@name` for an abstract
    /// one), with `MSG_NOSIGNAL`.
    package static func sendDatagram(_ fd: Int32, _ bytes: [UInt8], to path: String) throws(SystemError) {
        while true {
            let n = try withAddress(path) { sa, len in
                bytes.withUnsafeBytes { raw in sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), sa, len) }
            }
            if n >= 0 { return }
            if errno != EINTR { throw SystemError("sendto", subject: path) }
        }
    }
}

/// What `lstat(2)` says about a path, as far as sockets and directories need.
package struct PathStatus: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case socket, directory, other }
    package var kind: Kind
    package var device: UInt64
    package var inode: UInt64
    package var owner: UInt32
    package var mode: UInt32
}

/// Thin wrappers over the file calls the socket layer needs.
package enum PathCalls {
    /// Wraps `lstat(2)`; `nil` when nothing is there (`ENOENT`).
    package static func status(_ path: String) throws(SystemError) -> PathStatus? {
        var st = stat()
        while lstat(path, &st) != 0 {
            if errno == EINTR { continue }
            if errno == ENOENT { return nil }
            throw SystemError("lstat", subject: path)
        }
        let type = st.st_mode & S_IFMT
        let kind: PathStatus.Kind = type == S_IFSOCK ? .socket : type == S_IFDIR ? .directory : .other
        return PathStatus(kind: kind, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), owner: st.st_uid,
                          mode: UInt32(st.st_mode & 0o7777))
    }

    /// `Sys.makeDirectories`: parents 0755, the last component exactly `mode`.
    package static func makeDirectories(_ path: String, mode: UInt32) throws(SystemError) {
        try Sys.makeDirectories(path, mode: mode)
    }

    /// Wraps `chmod(2)`.
    package static func chmod(_ path: String, mode: UInt32) throws(SystemError) {
        if Glibc.chmod(path, mode_t(mode)) != 0 { throw SystemError("chmod", subject: path) }
    }

    /// Wraps `unlink(2)`; a path already gone is not an error.
    package static func unlink(_ path: String) throws(SystemError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw SystemError("unlink", subject: path) }
    }

    /// Whether `path` is a regular file this process may execute (`access(2)` with `X_OK`).
    package static func isExecutableFile(_ path: String) -> Bool {
        guard (try? FileStatus.stat(path))?.kind == .regular else { return false }
        return access(path, X_OK) == 0
    }

    /// The working directory, from `getcwd(3)`; `/` when it cannot be read.
    package static func workingDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The target of a symbolic link, from `readlink(2)`; `nil` when it cannot be read
    /// (another user's `/proc/PID/exe`, a process that has gone).
    package static func readLink(_ path: String) -> String? { try? Sys.readLink(path) }
}

/// Facts about this process.
package enum ThisProcess {
    /// Wraps `getpid(2)`.
    package static var pid: Int32 { getpid() }
    /// Wraps `getuid(2)`.
    package static var uid: UInt32 { getuid() }
    /// Wraps `getgid(2)`.
    package static var gid: UInt32 { getgid() }
    /// Wraps `getsid(2)` for `pid` (0: this process); -1 when it has gone.
    package static func sessionID(of pid: Int32 = 0) -> Int32 { getsid(pid) }

    /// The whole environment (`Sys.environment`).
    package static func environment() -> [String: String] { Sys.environment() }

    /// Wraps `unsetenv(3)`.
    package static func unsetEnvironment(_ name: String) { unsetenv(name) }

    /// The home directory of `uid` from `getpwuid_r(3)`, for when `$HOME` is unset.
    package static func homeDirectory(uid: UInt32) -> String? {
        var pw = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &pw, &buf, buf.count, &result) == 0, result != nil, let dir = pw.pw_dir else { return nil }
        let home = String(cString: dir)
        return home.isEmpty ? nil : home
    }

    /// Starts `path` as a daemon in its own session (see `osmoda_spawn_detached`):
    /// not this process's child, stdio on /dev/null. Returns its pid.
    package static func spawnDetached(path: String, arguments: [String], environment: [String: String]) throws(SystemError) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        var envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in
                osmoda_spawn_detached(path, a.baseAddress, e.baseAddress, &pid)
            }
        }
        guard rc == 0 else { throw SystemError("exec", code: rc, subject: path) }
        return pid
    }

    /// Whether `pid` is alive, and not a zombie waiting to be reaped.
    package static func isRunning(_ pid: Int32) -> Bool {
        guard Processes.exists(pid) else { return false }
        guard let stat = Sys.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
}

/// The `errno` values the socket layer tells apart.
package enum Errno {
    package static let noEntry = ENOENT
    package static let connectionRefused = ECONNREFUSED
    package static let accessDenied = EACCES
    package static let notPermitted = EPERM
    package static let timedOut = ETIMEDOUT
    package static let wouldBlock = EWOULDBLOCK
    package static let tooLong = ENAMETOOLONG
    package static let busy = EBUSY
}

extension Errno {
    package static let notSupported = EAFNOSUPPORT
}
