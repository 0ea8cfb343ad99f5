#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Reading a passphrase: from a descriptor, a file, or the terminal without echo.
extension Sys {
    /// Reads all of `fd` (up to `limit` bytes) into `buffer`, which the caller wipes.
    /// Wraps `read(2)`.
    public static func readSecret(fd: Int32, into buffer: inout [UInt8], limit: Int = 4096) throws(SystemError) {
        var chunk = [UInt8](repeating: 0, count: 512)
        defer { chunk.withUnsafeMutableBytes { b in if let p = b.baseAddress { memset(p, 0, b.count) } } }
        // Room for all of it up front: an array that grows copies its bytes to a new
        // allocation and frees the old one unwiped, leaving pieces of the secret behind.
        buffer.reserveCapacity(limit + chunk.count)
        while buffer.count <= limit {
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { b in try read(fd, into: b) } } catch let e as SystemError { throw e } catch {
                throw SystemError("read", code: EIO, subject: "fd \(fd)")
            }
            if n == 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
        }
        throw SystemError("read", code: EFBIG, subject: "fd \(fd)")
    }

    /// Reads a small file that holds a secret (a key file, a passphrase file) into
    /// `buffer`, which the caller wipes. Unlike `readFile`, its scratch buffer is wiped and
    /// `buffer` is never reallocated, so no copy of the secret is left in freed memory.
    public static func readSecretFile(_ path: String, into buffer: inout [UInt8], limit: Int = 4096) throws(SystemError) {
        let fd = try open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        do { try readSecret(fd: fd, into: &buffer, limit: limit) } catch {
            throw SystemError(error.call, code: error.code, subject: path)
        }
    }

    /// Prints `prompt` on `/dev/tty` and reads one line from it with echo off (termios),
    /// into `buffer` without the newline; echo is restored even when reading fails.
    /// `ENXIO` when the process has no controlling terminal.
    public static func readSecretFromTerminal(prompt: String, into buffer: inout [UInt8], limit: Int = 4096) throws(SystemError) {
        let fd = Glibc.open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", subject: "/dev/tty") }
        defer { _ = Glibc.close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { throw SystemError("tcgetattr", subject: "/dev/tty") }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ECHONL)
        try writeAll(fd, Array(prompt.utf8))
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else { throw SystemError("tcsetattr", subject: "/dev/tty") }
        defer { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
        var byte: UInt8 = 0
        buffer.reserveCapacity(limit + 1)  // never reallocated: no unwiped copies (see readSecret)
        while buffer.count <= limit {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", subject: "/dev/tty")
            }
            if n == 0 || byte == 0x0a { byte = 0; return }
            buffer.append(byte)
        }
        byte = 0
        throw SystemError("read", code: EFBIG, subject: "/dev/tty")
    }
}
