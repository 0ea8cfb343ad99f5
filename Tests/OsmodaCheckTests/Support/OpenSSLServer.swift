#if canImport(Glibc)
import Glibc
#endif
import OsmodaSystem

/// A self-signed certificate for `localhost` (and 127.0.0.1), valid for 30 days,
/// made once per test run with the `openssl` command.
enum TestCertificate {
    struct Files: Sendable {
        let cert: String
        let key: String
    }

    static let shared: Result<Files, TestFailure> = {
        do {
            let dir = try TempDirectory()
            let files = Files(cert: dir.file("cert.pem"), key: dir.file("key.pem"))
            let r = try Spawn.run(SpawnOptions(argv: [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", files.key, "-out", files.cert,
            ], timeoutMs: 60_000))
            guard r.exitStatus == 0 else {
                return .failure(TestFailure("openssl req: \(r.statusDescription): \(String(decoding: r.stderrTail, as: UTF8.self))"))
            }
            return .success(files)
        } catch {
            return .failure(TestFailure("openssl req: \(error)"))
        }
    }()
}

/// `openssl s_server -www` on 127.0.0.1, as a child process in its own group.
final class OpenSSLServer {
    let port: Int
    private let child: SpawnedChild

    init() throws {
        let files = try TestCertificate.shared.get()
        port = try TestSockets.closedPort()
        child = try Spawn.start(SpawnOptions(argv: [
            "openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:\(port)",
            "-cert", files.cert, "-key", files.key,
        ]))
        // Ready once it accepts a connection.
        let ready = ProcFacts.eventually(within: 10_000) {
            (try? TCPConnection.connect(host: "127.0.0.1", port: port, deadline: MonotonicDeadline(milliseconds: 200))) != nil
        }
        guard ready else {
            stop()
            throw TestFailure("openssl s_server did not start on port \(port)")
        }
    }

    func stop() {
        child.signalGroup(SIGTERM)
        _ = child.wait()
    }

    deinit { stop() }
}
