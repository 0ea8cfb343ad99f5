import Foundation
@testable import OsmodaKeys
import OsmodaCore
@testable import OsmodaDaemon
import OsmodaIPC
import OsmodaLedger
import OsmodaSystem
import Synchronization
import OsmodaTestSupport
import OsmodaVault
import Testing

/// The vault's files and lifecycle in-process, on real files in a temporary directory.
@Suite struct VaultTests {
    final class Dir {
        let url: URL
        init() throws { url = try ToolRunner.temporaryDirectory("osmoda-vault") }
        deinit { ToolRunner.removeTemporaryDirectory(url) }
        var state: String { url.appendingPathComponent("state").path }
        func file(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws -> String {
            let p = url.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            chmod(p, mode_t(mode))
            return p
        }
    }

    static func pass(_ s: String) -> SecretBytes { SecretBytes(copying: Array(s.utf8)) }

    static func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as VaultError { return e.code } catch { return "\(error)" }
        return nil
    }

    @Test func passphraseLifecycle() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        #expect(try v.status().initialized == false)
        #expect(Self.code { _ = try v.create(chain: .ethereum, label: "x") } == "vault.not_initialized")
        let header = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        #expect(header.kekSource == .passphrase && header.argon2id != nil)
        let key = try v.create(chain: .ethereum, label: "hot")
        #expect(Self.code { _ = try v.create(chain: .solana, label: "hot") } == "key.label_taken")
        #expect(Self.code { _ = try v.create(chain: .solana, label: "bad label") } == "key.invalid_label")
        #expect(try v.resolve("hot") == key && v.resolve(key.address.lowercased()) == key && v.resolve(key.id) == key)
        let sig = try v.withEthereumKey(key) { k in k.personalSign(Array("m".utf8)) }
        #expect(try Ethereum.recoverPersonalSigner(message: Array("m".utf8), signature: sig).checksummed == key.address)

        // Files: 0700 directories, 0600 files, no KEK and no plaintext key in them.
        let attrs = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int) ?? -1 }
        #expect(try attrs(v.directory.path) == 0o700 && attrs(v.directory.keysPath) == 0o700)
        #expect(try attrs(v.directory.headerPath) == 0o600 && attrs(v.directory.keyPath(key.id)) == 0o600)

        v.lock()
        #expect(Self.code { _ = try v.withEthereumKey(key) { _ in 0 } } == "vault.sealed")
        let before = try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath))
        #expect(Self.code { _ = try v.unlock(.passphrase(Self.pass("a wrong passphrase"))) } == "vault.bad_passphrase")
        #expect(Self.code { _ = try v.unlock(.keyFile("/nonexistent")) } == "vault.bad_passphrase", "a passphrase vault takes a passphrase")
        #expect(!v.isUnlocked)
        #expect(try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath)) == before)
        #expect(try v.unlock(.passphrase(Self.pass("a good passphrase"))) == .passphrase)
        #expect(Self.code { _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum()) } == "vault.exists")
    }

    @Test func keyFileRules() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        let kek = [UInt8](repeating: 7, count: 32)
        #expect(Self.code { _ = try v.initialize(.keyFile("relative.key")) } == "kek.keyfile")
        #expect(Self.code { _ = try v.initialize(.keyFile(try d.file("loose.key", kek, mode: 0o640))) } == "kek.keyfile")
        #expect(Self.code { _ = try v.initialize(.keyFile(try d.file("short.key", Array(kek[0..<31])))) } == "kek.keyfile")
        try FileManager.default.createDirectory(atPath: d.state, withIntermediateDirectories: true)
        let inside = d.state + "/vault.key"
        try Data(kek).write(to: URL(fileURLWithPath: inside))
        chmod(inside, 0o600)
        #expect(Self.code { _ = try v.initialize(.keyFile(inside)) } == "kek.keyfile", "not beside the keys")
        #expect(Self.code { _ = try v.initialize(.keyFile(d.state + "/../state/vault.key")) } == "kek.keyfile")
        #expect(try v.status().initialized == false, "a refused init writes nothing")
        // Raw and hex forms of the same 32 bytes are the same KEK.
        let raw = try d.file("raw.key", kek)
        let hex = try d.file("hex.key", Array((String(repeating: "07", count: 32) + "\n").utf8))
        _ = try v.initialize(.keyFile(raw))
        v.lock()
        #expect(try v.unlock(.keyFile(hex)) == .keyfile)
        v.lock()
        #expect(try v.unlock(nil) == .keyfile, "the header names the key file")
        // A credential with the same bytes opens it too.
        let creds = d.url.appendingPathComponent("creds").path
        try FileManager.default.createDirectory(atPath: creds, withIntermediateDirectories: true)
        try Data(kek).write(to: URL(fileURLWithPath: creds + "/kek"))
        let v2 = Vault(stateDirectory: d.state, environment: { $0 == "CREDENTIALS_DIRECTORY" ? creds : nil })
        #expect(try v2.unlock(.credential("kek")) == .credential)
        #expect(Self.code { _ = try v2.unlock(.credential("../kek")) } == "kek.credential")
        let v3 = Vault(stateDirectory: d.state, environment: { _ in nil })
        #expect(Self.code { _ = try v3.unlock(.credential("kek")) } == "kek.credential")
    }

    @Test func damageIsConfined() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        let a = try v.create(chain: .solana, label: "a")
        let b = try v.create(chain: .solana, label: "b")
        // A sealed key moved under another id does not open (AEAD bound to the id).
        var moved = try v.directory.readKey(a.id)
        moved.sealed = try v.directory.readKey(b.id).sealed
        try v.directory.writeKey(moved)
        #expect(Self.code { _ = try v.withSolanaKey(try v.resolve("a")) { _ in 0 } } == "vault.key_corrupt")
        #expect(try v.withSolanaKey(try v.resolve("b")) { k in k.address } == b.address)
        // Garbage: listed with its error, the other key listed and usable.
        try Data("{".utf8).write(to: URL(fileURLWithPath: v.directory.keyPath(a.id)))
        let list = try v.list()
        #expect(list.count == 2)
        #expect(list.first { $0.id == a.id }?.error?.code == "vault.key_corrupt")
        #expect(list.first { $0.id == b.id }?.address == b.address)
        // A damaged header: every operation says so; nothing is rewritten.
        try Data("[]".utf8).write(to: URL(fileURLWithPath: v.directory.headerPath))
        #expect(Self.code { _ = try v.status() } == "vault.header_corrupt")
        #expect(Self.code { _ = try v.unlock(.passphrase(Self.pass("a good passphrase"))) } == "vault.header_corrupt")
        #expect(Self.code { _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum()) } == "vault.header_corrupt")
        #expect(try Data(contentsOf: URL(fileURLWithPath: v.directory.headerPath)) == Data("[]".utf8))
    }

    @Test func exportImportAndSolanaCLI() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        let numbers = [174, 47, 154, 16, 202, 193, 206, 113, 199, 190, 53, 133, 169, 175, 31, 56,
                       222, 53, 138, 189, 224, 216, 117, 173, 10, 149, 53, 45, 73, 251, 237, 246,
                       15, 185, 186, 82, 177, 240, 148, 69, 241, 227, 167, 80, 141, 89, 240, 121,
                       121, 35, 172, 247, 68, 251, 226, 218, 48, 63, 176, 109, 168, 89, 238, 135]
        let cli = SecretBytes(copying: Array(("[" + numbers.map(String.init).joined(separator: ",") + "]").utf8))
        let k = try v.importSolanaCLI(cli, label: "cookbook")
        #expect(k.address == "24PNhTaNtomHhoy3fTRaMhAFCRj4uHqhZEEoWrKDbR5p" && k.origin == "imported")
        #expect(Self.code { _ = try v.importSolanaCLI(cli, label: "again") } == "key.exists")
        #expect(Self.code { _ = try v.export(k, password: Self.pass("short"), scrypt: .light) } == "vault.weak_passphrase")
        let file = try v.export(k, password: Self.pass("export password"), scrypt: .light)
        #expect(!String(decoding: file, as: UTF8.self).contains("ae2f9a10"), "the seed is not in the export")
        _ = try v.delete("cookbook")
        #expect(try v.importKeystore(file, password: Self.pass("export password"), label: "back").address == k.address)
    }

    @Test func exitTableMatchesTheContract() {
        for code in ["vault.sealed", "policy.denied", "auth.denied", "vault.bad_passphrase"] { #expect(VaultExit.status(forCode: code) == 77) }
        for code in ["rpc.invalid_params", "tx.invalid", "policy.invalid", "keystore.invalid"] { #expect(VaultExit.status(forCode: code) == 65) }
        for code in ["ledger.storage", "ledger.unavailable", "vault.key_corrupt", "vault.header_corrupt"] { #expect(VaultExit.status(forCode: code) == 74) }
        #expect(VaultExit.status(forCode: "something.else") == nil)
        // Not "bad input" by the policy.* prefix: an unreadable policy file is I/O, an
        // insecure one (or a KEK of the wrong size) configuration.
        #expect(VaultExit.status(forCode: "policy.io") == 74)
        #expect(VaultExit.status(forCode: "policy.insecure") == 78)
        #expect(VaultExit.status(forCode: "kek.invalid") == 78)
    }

    /// Keys are named by id, label or address: a label shaped like one of those could
    /// make `--key <address of B>` sign with key A.
    @Test func labelsCannotLookLikeIdsOrAddresses() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        let b = try v.create(chain: .ethereum, label: "b")
        let s = try v.create(chain: .solana, label: "s")
        for label in [b.address, b.address.lowercased(), s.address, "0123456789abcdef", b.id] {
            #expect(Self.code { _ = try v.create(chain: .ethereum, label: label) } == "key.invalid_label", "\(label)")
        }
        #expect(try v.resolve(b.address).id == b.id)
        _ = try v.create(chain: .ethereum, label: "treasury-2026")
        _ = try v.create(chain: .solana, label: "0x1234")
    }

    /// A secret read from a descriptor is never copied by the array growing (each growth
    /// frees the old copy unwiped): the buffer has its full room before the first byte.
    @Test func secretReadsDoNotLeaveCopiesBehind() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let secret = [UInt8](repeating: 0x61, count: 600)
        #expect(secret.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == 600)
        close(fds[1])
        defer { close(fds[0]) }
        var buffer: [UInt8] = []
        try Sys.readSecret(fd: fds[0], into: &buffer)
        #expect(buffer == secret)
        #expect(buffer.capacity >= 4096, "reserved up front, not grown (capacity \(buffer.capacity))")
        Scrub.wipe(&buffer)
    }

    /// The addresses in this process's writable memory where `needle` occurs, outside
    /// the ranges given (the needle's own buffers and the scan's).
    static func occurrences(of needle: UnsafeRawBufferPointer, excluding: [UnsafeRawBufferPointer]) throws -> [UInt] {
        // Read the map into an mmap-sized allocation, parsed in place: a heap allocation
        // here could reuse (and overwrite) the very freed chunk the scan looks for.
        let mapsBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 16)
        defer { mapsBuffer.deallocate() }
        let mfd = open("/proc/self/maps", O_RDONLY)
        guard mfd >= 0 else { throw RunnerError("cannot open /proc/self/maps") }
        var mapsCount = 0
        while mapsCount < mapsBuffer.count {
            let n = read(mfd, mapsBuffer.baseAddress! + mapsCount, mapsBuffer.count - mapsCount)
            if n <= 0 { break }
            mapsCount += n
        }
        close(mfd)
        var regions: [(UInt, UInt)] = []
        regions.reserveCapacity(16_384)
        var i = 0
        while i < mapsCount {
            var lineEnd = i
            while lineEnd < mapsCount && mapsBuffer[lineEnd] != 0x0a { lineEnd += 1 }
            func hexNumber(_ from: inout Int, until stop: UInt8) -> UInt? {
                var v: UInt = 0
                var any = false
                while from < lineEnd, mapsBuffer[from] != stop {
                    let c = mapsBuffer[from]
                    let d: UInt
                    switch c {
                    case 0x30...0x39: d = UInt(c - 0x30)
                    case 0x61...0x66: d = UInt(c - 0x61 + 10)
                    default: return nil
                    }
                    v = v << 4 | d
                    any = true
                    from += 1
                }
                from += 1
                return any ? v : nil
            }
            var j = i
            if let start = hexNumber(&j, until: 0x2d), let end = hexNumber(&j, until: 0x20),
               j + 1 < lineEnd, mapsBuffer[j] == 0x72, mapsBuffer[j + 1] == 0x77 {
                regions.append((start, end))
            }
            i = lineEnd + 1
        }
        let fd = open("/proc/self/mem", O_RDONLY)
        guard fd >= 0 else { throw RunnerError("cannot open /proc/self/mem") }
        defer { close(fd) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        let skip = excluding + [UnsafeRawBufferPointer(buffer)]
        func excluded(_ a: UInt) -> Bool {
            skip.contains { r in
                let base = UInt(bitPattern: r.baseAddress)
                return a + UInt(needle.count) > base && a < base + UInt(r.count)
            }
        }
        var hits: [UInt] = []
        hits.reserveCapacity(64)
        for (start, end) in regions {
            var at = start
            while at < end {
                let want = Int(min(UInt(chunk), end - at))
                let n = pread(fd, buffer.baseAddress, want, off_t(Int64(bitPattern: UInt64(at))))
                if n < needle.count { at += UInt(want); continue }
                var from = 0
                let first = Int32(needle[0])
                while from + needle.count <= n, let p = memchr(buffer.baseAddress! + from, first, n - from - needle.count + 1) {
                    let offset = UnsafeRawPointer(p) - UnsafeRawPointer(buffer.baseAddress!)
                    if memcmp(p, needle.baseAddress!, needle.count) == 0 {
                        let address = at + UInt(offset)
                        if !excluded(address) { hits.append(address) }
                    }
                    from = offset + 1
                }
                at += UInt(max(want - (needle.count - 1), 1))
            }
        }
        return hits
    }

    /// A KEK read from a key file (raw or hex) is, once the vault is locked, nowhere in
    /// the process's memory: not in a freed read buffer, not in a String of its hex.
    @Test(.enabled(if: FileManager.default.isReadableFile(atPath: "/proc/self/mem")))
    func aKeyFileKEKLeavesNoCopyBehind() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        // The KEK exists in this process only in buffers the scan leaves out.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 16)
        let hex = UnsafeMutableRawBufferPointer.allocate(byteCount: 65, alignment: 16)
        defer { raw.deallocate(); hex.deallocate() }
        let digits = Array("0123456789abcdef".utf8)
        for i in 0..<32 {
            raw[i] = UInt8(truncatingIfNeeded: 0xC3 &+ i &* 29) ^ 0x5A
            hex[2 * i] = digits[Int(raw[i] >> 4)]
            hex[2 * i + 1] = digits[Int(raw[i] & 15)]
        }
        hex[64] = 0x0a
        func write(_ name: String, _ b: UnsafeMutableRawBufferPointer) -> String {
            let path = d.url.appendingPathComponent(name).path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #expect(fd >= 0 && Glibc.write(fd, b.baseAddress, b.count) == b.count)
            close(fd)
            return path
        }
        let rawFile = write("raw.key", raw), hexFile = write("hex.key", hex)
        _ = try v.initialize(.keyFile(rawFile))
        v.lock()
        #expect(try v.unlock(.keyFile(hexFile)) == .keyfile)
        v.lock()
        let skip = [UnsafeRawBufferPointer(raw), UnsafeRawBufferPointer(hex)]
        #expect(try Self.occurrences(of: UnsafeRawBufferPointer(raw), excluding: skip) == [], "the raw KEK is still in memory")
        #expect(try Self.occurrences(of: UnsafeRawBufferPointer(rebasing: hex[0..<64]), excluding: skip) == [], "the hex KEK is still in memory")
    }

    /// Concurrent creates under one label: one key, the others key.label_taken.
    @Test func concurrentCreatesKeepLabelsUnique() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        _ = try v.initialize(.passphrase(Self.pass("a good passphrase")), parameters: .minimum())
        for round in 0..<10 {
            let results = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 6) { i in
                let c = Self.code { _ = try v.create(chain: i % 2 == 0 ? .ethereum : .solana, label: "same-\(round)") } ?? "ok"
                results.withLock { $0.append(c) }
            }
            let r = results.withLock { $0 }
            #expect(r.filter { $0 == "ok" }.count == 1 && r.filter { $0 != "ok" }.allSatisfy { $0 == "key.label_taken" }, "round \(round): \(r)")
        }
        #expect(try v.list().count == 10)
    }

    /// A link outside the state directory that points into it is still "beside the keys".
    @Test func keyFileLinkIntoTheStateDirectoryIsRefused() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        try FileManager.default.createDirectory(atPath: d.state, withIntermediateDirectories: true)
        let inside = d.state + "/vault.key"
        try Data([UInt8](repeating: 9, count: 32)).write(to: URL(fileURLWithPath: inside))
        chmod(inside, 0o600)
        let link = d.url.appendingPathComponent("elsewhere.key").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: inside)
        #expect(Self.code { _ = try v.initialize(.keyFile(link)) } == "kek.keyfile")
        #expect(try v.status().initialized == false)
    }

    /// Mode 0600 means nothing when the owner is someone else (the agent's uid, say).
    @Test(.enabled(if: getuid() == 0, "needs root to chown"))
    func keyFileOwnedByAnotherUserIsRefused() throws {
        let d = try Dir()
        let v = Vault(stateDirectory: d.state)
        let file = try d.file("theirs.key", [UInt8](repeating: 5, count: 32))
        #expect(chown(file, 65534, 65534) == 0)
        #expect(Self.code { _ = try v.initialize(.keyFile(file)) } == "kek.keyfile")
        #expect(try v.status().initialized == false)
        #expect(chown(file, 0, 0) == 0)
        _ = try v.initialize(.keyFile(file))
    }

    /// Concurrent inits with different KEKs: exactly one makes the vault, and the header
    /// on disk is that one's (the others get vault.exists).
    @Test func concurrentInitsMakeOneVault() throws {
        for round in 0..<12 {
            let d = try Dir()
            let v = Vault(stateDirectory: d.state)
            let files = try (0..<6).map { i in try d.file("k\(i).key", [UInt8](repeating: UInt8(round * 8 + i + 1), count: 32)) }
            let results = Mutex<[Int: String]>([:])
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                let c = Self.code { _ = try v.initialize(.keyFile(files[i])) } ?? "ok"
                results.withLock { $0[i] = c }
            }
            let r = results.withLock { $0 }
            let winners = r.filter { $0.value == "ok" }.map(\.key)
            #expect(winners.count == 1, "round \(round): \(r)")
            #expect(r.values.filter { $0 != "ok" }.allSatisfy { $0 == "vault.exists" }, "\(r)")
            if let w = winners.first {
                v.lock()
                #expect(try v.unlock(.keyFile(files[w])) == .keyfile, "the header is the winner's")
            }
        }
    }

    @Test func paramsAreStrictAndSecretsStayOutOfMessages() throws {
        let p = try Params(.object(JSONObject(["key": .string("k"), "passphrase_hex": .string("zz-secret-zz")])))
        #expect(Self.code { try p.only(["key"]) } == "rpc.invalid_params")
        do { _ = try p.secret("passphrase_hex"); Issue.record("accepted") } catch {
            #expect(!error.message.contains("zz-secret-zz"))
        }
        let ok = try Params(.object(JSONObject(["passphrase_hex": .string("0x6869")])))
        #expect(try ok.secret("passphrase_hex")?.withUnsafeBytes { Array($0) } == [0x68, 0x69])
        var scratch: [UInt8] = [1, 2, 3]
        Scrub.wipe(&scratch)
        #expect(scratch == [0, 0, 0])
    }
}

/// The service in-process, on a real ledger store: what the router and the gate see.
@Suite struct VaultServiceTests {
    static let agent = Peer(pid: 200, uid: 1000, gid: 1000, role: .agent)

    final class Clock: Sendable {
        let now = Mutex<UInt64>(5_000_000_000)
        func advance(seconds: UInt64) { now.withLock { $0 += seconds * 1_000_000_000 } }
    }

    static func service(_ w: GateWorld, clock: Clock = Clock()) -> (VaultServiceCore, Vault) {
        let vault = Vault(stateDirectory: w.statePath)
        let svc = VaultServiceCore(vault: vault, gate: w.gate, committer: GroupCommitter(store: w.store), log: { _ in },
                                   monotonicNanos: { clock.now.withLock { $0 } })
        return (svc, vault)
    }

    static func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as RPCError { return e.code.rawValue } catch { return "\(error)" }
        return nil
    }

    /// Sealed means sealed: a malformed request or an unknown key is vault.sealed too, not
    /// a data error that would tell the caller what the vault holds while it is sealed.
    @Test func aSealedVaultAnswersEverySigningRequestSealed() throws {
        let w = try GateWorld()
        let (svc, vault) = Self.service(w)
        _ = try vault.initialize(.passphrase(VaultTests.pass("a good passphrase")), parameters: .minimum())
        _ = try vault.create(chain: .ethereum, label: "hot")
        vault.lock()
        let requests: [JSONObject] = [
            JSONObject(["key": .string("hot"), "transaction": .object(JSONObject(["nonsense": .int(1)]))]),
            JSONObject(["key": .string("no-such-key"), "transaction": .object(JSONObject())]),
            JSONObject(["unknown": .bool(true)]),
        ]
        for params in requests {
            let c = Self.code { _ = try svc.runSign(VaultMethod.signTransaction, Self.agent, .object(params)) { p throws(VaultError) in try svc.planTransaction(p) } }
            #expect(c == "vault.sealed", "\(params): \(c ?? "signed")")
        }
        #expect(try w.payloads().filter { $0["error"]?["code"] == .string("vault.sealed") }.count == requests.count)
    }

    /// A request padded past the ledger's payload limit (a 100 KB key reference, a 100 KB
    /// member name) is still recorded, with the caller's text clipped — not left out.
    @Test func aPaddedRequestIsStillRecorded() throws {
        let w = try GateWorld()
        let (svc, vault) = Self.service(w)
        _ = try vault.initialize(.passphrase(VaultTests.pass("a good passphrase")), parameters: .minimum())
        let huge = String(repeating: "k", count: 100_000)
        let c = Self.code {
            _ = try svc.runSign(VaultMethod.signMessage, Self.agent, .object(JSONObject(["key": .string(huge), "message": .string("x")]))) { p throws(VaultError) in
                try svc.planMessage(p)
            }
        }
        #expect(c == "key.not_found")
        let signs = try w.entries(type: "vault.sign")
        #expect(signs.count == 1)
        #expect((signs.last?.payload.count ?? .max) < 4096)
        let payload = try JSONReader.parse(try #require(signs.last).payload)
        #expect(payload["error"]?["code"] == .string("key.not_found"))
        #expect(payload["key_ref"] == .string(String(repeating: "k", count: VaultServiceCore.maxKeyRef) + "…"))

        let c2 = Self.code {
            _ = try svc.run(VaultMethod.status, Self.agent, .object(JSONObject([huge: .int(1)]))) { (_, p) throws(VaultError) -> VaultServiceCore.Outcome in
                try p.only([])
                return VaultServiceCore.Outcome(reply: JSONObject())
            }
        }
        #expect(c2 == "rpc.invalid_params")
        #expect(try w.entries(type: VaultMethod.status).count == 1)
        #expect(VaultServiceCore.clip("ééé", 3) == "é…", "never cuts a character in two")

        // A policy check with a padded destination: answered, and recorded.
        _ = try vault.create(chain: .ethereum, label: "hot")
        let check = JSONObject(["key": .string("hot"), "kind": .string("transaction"), "destination": .string(huge)])
        var router = Router()
        svc.register(on: &router)
        let reply = try #require(router.route(VaultMethod.policyCheck)).handler(Self.agent, .object(check))
        #expect(reply["seq"] != nil)
        #expect(try w.entries(type: VaultMethod.policyCheck).count == 1)
    }

    /// A request resolves its key, then waits for the policy's transaction (behind other
    /// signers' fsyncs) before it signs: a key deleted or replaced meanwhile does not sign.
    @Test func aKeyDeletedWhileARequestWaitsDoesNotSign() throws {
        let w = try GateWorld()
        let (svc, vault) = Self.service(w)
        _ = try vault.initialize(.passphrase(VaultTests.pass("a good passphrase")), parameters: .minimum())
        for chain in [Chain.ethereum, .solana] {
            let key = try vault.create(chain: chain, label: "hot-\(chain.rawValue)")
            let plan = try svc.planMessage(try Params(.object(JSONObject(["key": .string(key.id), "message": .string("x")]))))
            _ = try vault.delete(key.id)
            do {
                _ = try plan.sign()
                Issue.record("\(chain): signed with a deleted key")
            } catch {
                #expect(error.code == "key.not_found", "\(chain): \(error)")
            }
            // Replaced under the same id (relabelled on disk): refused too.
            let other = try vault.create(chain: chain, label: "other-\(chain.rawValue)")
            let plan2 = try svc.planMessage(try Params(.object(JSONObject(["key": .string(other.id), "message": .string("x")]))))
            var changed = other
            changed.label = "changed-\(chain.rawValue)"
            try vault.directory.writeKey(changed)
            do {
                _ = try plan2.sign()
                Issue.record("\(chain): signed with a key changed in flight")
            } catch {
                #expect(error.code == "vault.key_corrupt", "\(chain): \(error)")
            }
        }
    }

    /// A stranger knocking in a loop: refusals are recorded up to the budget per uid and
    /// window, then counted; the count reaches the ledger with the next recorded one.
    @Test func roleRefusalsCannotFloodTheLedger() throws {
        let w = try GateWorld()
        let clock = Clock()
        let (svc, _) = Self.service(w, clock: clock)
        func knock(_ uid: UInt32) {
            svc.recordDenial(DeniedRequest(method: VaultMethod.status, pid: 9, uid: uid, gid: uid, exe: nil, role: nil, requiredRole: .reader,
                                           error: RPCError(.denied, "uid \(uid) has no role in this daemon")), type: VaultMethod.status)
        }
        for _ in 0..<500 { knock(4242) }
        knock(4343)
        func entries(_ uid: UInt32) throws -> [LedgerEntry] { try w.entries(type: VaultMethod.status).filter { $0.actor.uid == uid } }
        #expect(try entries(4242).count == DenialBudget.perWindow)
        #expect(try entries(4343).count == 1, "another uid has its own budget")
        clock.advance(seconds: 61)
        knock(4242)
        let all = try entries(4242)
        #expect(all.count == DenialBudget.perWindow + 1)
        let last = try JSONReader.parse(try #require(all.last).payload)
        #expect(last["suppressed_before"] == .int(Int64(500 - DenialBudget.perWindow)))
    }
}
