#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore
import OsmodaQuery
import OsmodaSystem
import Testing

/// The tables on the machine the tests run on: only facts the test itself can
/// establish (its own pid, a socket it opened, the boot id file).
@Suite struct QueryRealTests {
    func rows(_ table: String, _ options: QueryOptions = QueryOptions()) throws -> [JSONObject] {
        try QueryTables.rows(table: table, options: options).compactMap { v in
            if case .object(let o) = v { return o }
            Issue.record("\(table): row is not an object")
            return nil
        }
    }

    @Test func processesIncludeThisOne() throws {
        let me = try #require(try rows("processes").first { $0["pid"] == .int(Int64(getpid())) })
        #expect(me["ppid"] == .int(Int64(getppid())))
        #expect(me["uid"] == .int(Int64(geteuid())))
        guard case .array(let argv)? = me["argv"] else { Issue.record("argv is not an array"); return }
        #expect(!argv.isEmpty)
        guard case .string(let exe)? = me["exe"] else { Issue.record("exe unreadable for our own process"); return }
        #expect(exe == (try Procfs.readLink("/proc/self/exe")))
        guard case .string(let start)? = me["start_time"], let started = Timestamp(rfc3339: start) else {
            Issue.record("start_time missing"); return
        }
        let now = Sys.now()
        // btime is whole seconds, so allow a second either way.
        #expect(started.millisecondsSinceEpoch <= now.millisecondsSinceEpoch + 1000)
        #expect(started.millisecondsSinceEpoch > now.millisecondsSinceEpoch - 86_400_000)
        if case .double(let pct)? = me["cpu_pct"] { #expect(pct >= 0) }
        #expect(me["state"] == .string("running") || me["state"] == .string("sleeping"))
    }

    @Test func portsSeeAListenerThisTestOpens() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        try #require(listen(fd, 4) == 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let port = Int64(UInt16(bigEndian: addr.sin_port))

        let mine = try rows("ports").filter { $0["local_port"] == .int(port) && $0["proto"] == .string("tcp") }
        try #require(mine.count == 1)
        let row = mine[0]
        #expect(row["family"] == .string("ipv4"))
        #expect(row["local_address"] == .string("127.0.0.1"))
        #expect(row["state"] == .string("LISTEN"))
        #expect(row["pid"] == .int(Int64(getpid())))
        let comm = ProcfsReader().text(of: "/proc/self/comm")
        #expect(row["program"] == comm.map { .string($0) })
    }

    @Test func usersIncludeRoot() throws {
        let root = try #require(try rows("users").first { $0["name"] == .string("root") })
        #expect(root["uid"] == .int(0) && root["gid"] == .int(0))
    }

    @Test func kernelBootIDMatchesTheFile() throws {
        let k = try rows("kernel")
        try #require(k.count == 1)
        let bootID = try #require(ProcfsReader().text(of: "/proc/sys/kernel/random/boot_id"))
        #expect(k[0]["boot_id"] == .string(bootID))
        #expect(k[0]["sysname"] == .string("Linux"))
        #expect(k[0]["release"] == .string(Procfs.kernelName().release))
    }

    @Test func mountsDisksInterfacesAndSysctl() throws {
        #expect(try rows("mounts").contains { $0["mount"] == .string("/") })
        for d in try rows("disks") {
            if case .int(let size)? = d["size_bytes"] { #expect(size > 0) }
        }
        let lo = try #require(try rows("interfaces").first { $0["name"] == .string("lo") })
        #expect(lo["up"] == .bool(true))
        guard case .array(let addrs)? = lo["addresses"] else { Issue.record("addresses is not an array"); return }
        #expect(addrs.contains(.object(JSONObject(["family": .string("ipv4"), "address": .string("127.0.0.1"), "prefix_len": .int(8)]))))
        var o = QueryOptions()
        o.sysctlPrefix = "kernel.ostype"
        #expect(try rows("sysctl", o).map { $0["value"] } == [.string("Linux")])
        o.sysctlPrefix = "kernel"
        let kernel = try rows("sysctl", o)
        #expect(kernel.count > 10)
        for r in kernel {
            guard case .string(let key)? = r["key"] else { Issue.record("key is not a string"); continue }
            #expect(key.hasPrefix("kernel."))
        }
    }

    @Test func servicesNeedSystemd() throws {
        if Procfs.isDirectory("/run/systemd/system") {
            #expect(try !rows("services").isEmpty)
        } else {
            #expect(throws: QueryError.unavailable("systemd is not running on this host (no /run/systemd/system)")) {
                try QueryTables.rows(table: "services")
            }
        }
    }
}


@Suite struct ProcfsTests {
    @Test func readerGrowsForLargeFilesAndReadsKeptFilesAfresh() throws {
        let f = try Fixture()
        defer { f.remove() }
        let big = (0..<5000).map { "line \($0)\n" }.joined()
        try f.write("big", big)
        let reader = ProcfsReader(capacity: 256)
        #expect(reader.text(of: f.path("big"), keepOpen: true) == String(big.dropLast()))
        try f.write("big", "short\n")
        #expect(reader.text(of: f.path("big"), keepOpen: true) == "short")
        #expect(reader.text(of: f.path("missing")) == nil)
        reader.closeAll()
    }

    @Test func mountTableChangesAreSeenByPoll() throws {
        let reader = ProcfsReader()
        #expect(reader.mountTableChanged("/proc/self/mountinfo"), "not read yet")
        #expect(reader.withContents(of: "/proc/self/mountinfo", keepOpen: true) { $0.count } != nil)
        #expect(!reader.mountTableChanged("/proc/self/mountinfo"), "no mount since the read")
        let f = try Fixture()
        defer { f.remove() }
        try f.write("mountinfo", "27 1 254:0 / / rw - ext4 /dev/vda rw\n")
        _ = reader.withContents(of: f.path("mountinfo"), keepOpen: true) { $0.count }
        #expect(reader.mountTableChanged(f.path("mountinfo")), "a plain file can never be trusted")
    }

    @Test func mountinfoEscapes() {
        let e = parse(#"36 35 98:0 /a\134b /mnt/x\040y\011z rw master:1 - ext3 /dev/my\040disk rw,errors=continue"#) { Procfs.parseMountinfo($0) }
        #expect(e == [MountinfoEntry(mountID: 36, parentID: 35, major: 98, minor: 0, root: #"/a\b"#, mountPoint: "/mnt/x y\tz",
                                     options: "rw", optionalFields: ["master:1"], fstype: "ext3", source: "/dev/my disk",
                                     superOptions: "rw,errors=continue")])
    }

    @Test func numericEntriesAndAddresses() throws {
        let f = try Fixture()
        defer { f.remove() }
        for d in ["10", "9", "self", "1x", "123"] { try f.mkdir(d) }
        #expect(try Procfs.numericEntries(f.root) == [9, 10, 123])
        #expect(try Procfs.countNumericEntries(f.root) == 3)
        #expect(Procfs.formatAddress([10, 0, 0, 1]) == "10.0.0.1")
        #expect(Procfs.formatAddress([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]) == "2001:db8::1")
        #expect(Procfs.formatAddress([1, 2, 3]) == nil)
    }
}
