import Foundation
import OsmodaCore
import OsmodaLedger
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A directory from `mkdtemp(3)` under `$TMPDIR` (or /tmp), removed by `remove()`.
struct TempDir {
    let path: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/osmoda-ledger-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw StoreTestFailure("mkdtemp failed: errno \(errno)") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func sub(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

struct StoreTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A deterministic clock: starts at a fixed instant and moves 1 ms per reading.
final class StepClock: Sendable {
    private let now = Mutex<Int64>(1_790_000_000_000)
    var clock: @Sendable () -> Timestamp {
        { [self] in
            self.now.withLock { v in
                v += 1
                return Timestamp(millisecondsSinceEpoch: v)
            }
        }
    }
}

enum Fixtures {
    static let actor = Actor(uid: 1000, gid: 100, pid: 4242, exe: "/usr/bin/osmoda-test")

    static func options(_ clock: StepClock = StepClock()) -> LedgerStore.Options {
        LedgerStore.Options(name: "test-host", clock: clock.clock)
    }

    /// Payloads with the bytes that tend to break storage: escapes, non-ASCII, spaces,
    /// duplicate keys, nesting.
    static func payload(_ i: Int) -> [UInt8] {
        switch i % 5 {
        case 0: return Array(#"{"i":\#(i),"unit":"nginx.service"}"#.utf8)
        case 1: return Array(#"{ "i" : \#(i) , "note" : "tab\there \"quoted\" \\ back" }"#.utf8)
        case 2: return Array(#"{"i":\#(i),"name":"Ünïcødé ✓ 𝄞","i":\#(i)}"#.utf8)
        case 3: return Array(#"{"i":\#(i),"nested":{"a":[1,2.5e3,null,true,{"b":"\u00e9"}]}}"#.utf8)
        default: return Array(#"{"i":\#(i)}"#.utf8)
        }
    }

    static func request(_ i: Int, type: String = "test.event") -> AppendRequest {
        AppendRequest(type: type, payload: payload(i), actor: actor)
    }

    static func appendMany(_ store: LedgerStore, _ count: Int, batch: Int = 25, from start: Int = 0) throws {
        var i = start
        while i < start + count {
            let n = min(batch, start + count - i)
            _ = try store.append((i..<(i + n)).map { request($0) })
            i += n
        }
    }

    static func readPub(_ dir: String) throws -> NoteVerifierKey {
        let text = try String(contentsOfFile: dir + "/" + CheckpointSigner.publicKeyFileName, encoding: .utf8)
        return try NoteVerifierKey(parsing: text)
    }
}

/// Runs `body(i)` on `count` real threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        let t = Thread {
            body(i)
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }
    group.wait()
}

/// Monotonic nanoseconds, for the benchmark figures.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The code of the `LedgerStoreError` that `body` throws; `nil` when it throws nothing
/// (or something else).
func errorCode(_ body: () throws -> Void) -> LedgerStoreError.Code? {
    do {
        try body()
        return nil
    } catch let e as LedgerStoreError {
        return e.code
    } catch {
        return nil
    }
}
