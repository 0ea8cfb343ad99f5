#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import OsmodaCore
import OsmodaQuery
import OsmodaSystem
import Testing

/// Hand-written /proc, /sys and /etc trees for the query tables.
enum QueryFixture {
    static let btime: Int64 = 1_700_000_000  // 2023-11-14T22:13:20Z

    static func options(_ f: Fixture) -> QueryOptions {
        var o = QueryOptions(procRoot: f.path("proc"), sysRoot: f.path("sys"), etcRoot: f.path("etc"), runRoot: f.path("run"),
                             now: Timestamp(millisecondsSinceEpoch: 1_800_000_000_000))
        o.clockTicksPerSecond = 100
        o.pageSize = 4096
        return o
    }

    static func etc(_ f: Fixture) throws {
        try f.write("etc/passwd", """
            root:x:0:0:root:/root:/bin/bash
            # a comment
            alice:x:1000:1000:Alice Example,,,:/home/alice:/bin/zsh
            +nisuser::::::

            bob:x:1001:100::/home/bob:/usr/sbin/nologin
            broken line

            """)
        try f.write("etc/group", """
            root:x:0:
            users:x:100:alice
            alice:x:1000:
            wheel:x:10:alice,bob
            docker:x:999:bob,

            """)
    }

    static func processes(_ f: Fixture) throws {
        try f.write("proc/stat", "cpu  1 2 3 4 5 6 7 8 0 0\nbtime \(btime)\nprocesses 99\n")
        try f.write("proc/uptime", "1100.00 500.00\n")
        try f.write("proc/1/stat", "1 (systemd) S 0 1 1 0 -1 4194560 1000 2000 10 20 24000 1000 0 0 20 0 1 0 10000 170000000 3000 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 0 0 0 0 0 0\n")
        try f.write("proc/1/status", "Name:\tsystemd\nUmask:\t0000\nState:\tS (sleeping)\nPid:\t1\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
        try f.write("proc/1/cmdline", bytes: Array("/sbin/init\u{0}splash\u{0}".utf8))
        try f.symlink("proc/1/exe", to: "/usr/lib/systemd/systemd")
        // A name with spaces and parentheses; setuid so real and effective uid differ.
        try f.write("proc/200/stat", "200 (my (weird) proc) R 1 200 200 0 -1 0 0 0 0 0 1000 1000 -5 0 20 -2 4 0 50000 0 256 18446744073709551615\n")
        try f.write("proc/200/status", "Name:\tmy (weird) proc\nUid:\t1001\t1000\t1000\t1000\n")
        try f.write("proc/200/cmdline", bytes: Array("python3\u{0}-c\u{0}print('a b')".utf8))
        // Gone between the directory listing and the read.
        try f.mkdir("proc/300")
        try f.write("proc/400/stat", "400 (defunct) Z 200 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100000 0 0 0\n")
        try f.write("proc/400/status", "Name:\tdefunct\nUid:\t4242\t4242\t4242\t4242\n")
        try f.write("proc/400/cmdline", "")
        try f.mkdir("proc/self")
        try etc(f)
    }

    static func ports(_ f: Fixture) throws {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        try f.write("proc/net/tcp", header + """
               0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1461 1 0000000000000000 100 0 0 10 0
               1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 20 4 30 10 -1
               2: 0200000A:0016 0100000A:D431 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000

            """)
        try f.write("proc/net/tcp6", header + """
               0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1462 1 0000000000000000 100 0 0 10 0
               1: B80D0120000000000000000001000000:01BB 0000000000000000FFFF00000100007F:A000 01 00000000:00000000 00:00000000 00000000    33        0 7777 1 0000000000000000 20 4 30 10 -1

            """)
        try f.write("proc/net/udp", header + """
             100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 8888 2 0000000000000000 0

            """)
        try f.symlink("proc/77/fd/0", to: "/dev/null")
        try f.symlink("proc/77/fd/3", to: "socket:[1461]")
        try f.symlink("proc/77/fd/4", to: "socket:[1462]")
        try f.write("proc/77/comm", "sshd\n")
        try f.symlink("proc/99/fd/7", to: "socket:[7777]")
        try f.write("proc/99/comm", "nginx-worker\n")
        try f.symlink("proc/88/fd/5", to: "socket:[7777]")
        try f.write("proc/88/comm", "nginx\n")
    }
}

/// `rows` of a table as objects, checking each has `type`, `ts` and then exactly
/// the columns `--list` announces, in that order.
func objects(_ table: String, _ options: QueryOptions) throws -> [JSONObject] {
    let info = try #require(QueryTables.table(named: table))
    return try QueryTables.rows(table: table, options: options).map { v in
        guard case .object(let o) = v else { throw Fixture.Failure(description: "\(table): row is not an object") }
        #expect(o.keys == ["type", "ts"] + info.columns.map(\.name), "\(table)")
        #expect(o["type"] == .string(info.recordType))
        #expect(o["ts"] == .string("2027-01-15T08:00:00.000Z"))
        return o
    }
}

@Suite struct QueryFixtureTests {
    @Test func processes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try QueryFixture.processes(f)
        let rows = try objects("processes", QueryFixture.options(f))
        #expect(rows.map { $0["pid"] } == [.int(1), .int(200), .int(400)])

        let initRow = rows[0]
        #expect(initRow["ppid"] == .int(0) && initRow["name"] == .string("systemd"))
        #expect(initRow["user"] == .string("root") && initRow["uid"] == .int(0))
        #expect(initRow["state"] == .string("sleeping") && initRow["threads"] == .int(1))
        // 250 s of CPU over the 1000 s since it started at 100 s after boot.
        #expect(initRow["cpu_pct"] == .double(25))
        #expect(initRow["rss_bytes"] == .int(3000 * 4096))
        #expect(initRow["start_time"] == .string("2023-11-14T22:15:00.000Z"))
        #expect(initRow["argv"] == .array([.string("/sbin/init"), .string("splash")]))
        #expect(initRow["exe"] == .string("/usr/lib/systemd/systemd"))

        let weird = rows[1]
        #expect(weird["name"] == .string("my (weird) proc"))
        #expect(weird["ppid"] == .int(1) && weird["state"] == .string("running") && weird["threads"] == .int(4))
        #expect(weird["uid"] == .int(1000) && weird["user"] == .string("alice"), "the effective uid")
        #expect(weird["cpu_pct"] == .double(3.33))
        #expect(weird["start_time"] == .string("2023-11-14T22:21:40.000Z"))
        #expect(weird["argv"] == .array([.string("python3"), .string("-c"), .string("print('a b')")]))
        #expect(weird["exe"] == .null)

        let zombie = rows[2]
        #expect(zombie["state"] == .string("zombie") && zombie["argv"] == .array([]))
        #expect(zombie["uid"] == .int(4242) && zombie["user"] == .null)
        #expect(zombie["cpu_pct"] == .double(0))
    }

    @Test func ports() throws {
        let f = try Fixture()
        defer { f.remove() }
        try QueryFixture.ports(f)
        let rows = try objects("ports", QueryFixture.options(f))
        func row(_ r: JSONObject) -> String {
            let values = ["proto", "family", "local_address", "local_port", "remote_address", "remote_port", "state", "uid", "inode", "pid", "program"]
                .map { r[$0].map { JSONWriter.serialize($0) } ?? "-" }
            return values.joined(separator: " ")
        }
        #expect(rows.map(row) == [
            #""tcp" "ipv4" "0.0.0.0" 22 "0.0.0.0" 0 "LISTEN" 0 1461 77 "sshd""#,
            #""tcp" "ipv4" "127.0.0.1" 8080 "127.0.0.1" 50000 "ESTABLISHED" 1000 5555 null null"#,
            #""tcp" "ipv4" "10.0.0.2" 22 "10.0.0.1" 54321 "TIME_WAIT" 0 0 null null"#,
            #""tcp" "ipv6" "::" 22 "::" 0 "LISTEN" 0 1462 77 "sshd""#,
            #""tcp" "ipv6" "2001:db8::1" 443 "::ffff:127.0.0.1" 40960 "ESTABLISHED" 33 7777 88 "nginx""#,
            #""udp" "ipv4" "127.0.0.53" 53 "0.0.0.0" 0 "UNCONN" 101 8888 null null"#,
        ])
    }

    @Test func portsNeedProcNetTCP() throws {
        let f = try Fixture()
        defer { f.remove() }
        #expect(throws: QueryError.self) { try QueryTables.rows(table: "ports", options: QueryFixture.options(f)) }
        do {
            _ = try QueryTables.rows(table: "ports", options: QueryFixture.options(f))
        } catch {
            #expect(error.code == "query.io")
            #expect(error == .io(SystemError("open", code: ENOENT, subject: f.path("proc/net/tcp"))))
        }
    }

    @Test func endpointsDecodeWordByWord() throws {
        func endpoint(_ s: String) -> String? {
            parse(s) { QueryTables.parseEndpoint($0) }.map { "\($0.0) \($0.1)" }
        }
        #expect(endpoint("0100007F:1F90") == "127.0.0.1 8080")
        #expect(endpoint("00000000000000000000000001000000:0050") == "::1 80")
        #expect(endpoint("B80D0120000000000000000001000000:01BB") == "2001:db8::1 443")
        #expect(endpoint("000080FE00000000FF00FC00010000FE:0016") == "fe80::fc:ff:fe00:1 22")
        #expect(endpoint("0000000000000000FFFF00000100007F:A000") == "::ffff:127.0.0.1 40960")
        #expect(endpoint("0100007F") == nil)
        #expect(endpoint("0100007G:0016") == nil)
        #expect(endpoint("0100007F:10000") == nil)
    }

    @Test func mounts() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.write("proc/self/mountinfo", """
            27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
            40 27 254:0 /srv/data /mnt/my\\040data rw,nosuid master:2 shared:3 - ext4 /dev/vda rw,discard
            55 27 0:45 / /run/user/1000 rw,nosuid,nodev - tmpfs tmpfs rw,size=100k,mode=700,uid=1000
            not a mount line

            """)
        let rows = try objects("mounts", QueryFixture.options(f))
        #expect(rows.count == 3)
        #expect(rows[1] == JSONObject([
            "type": .string("mount.info"), "ts": .string("2027-01-15T08:00:00.000Z"),
            "mount_id": .int(40), "parent_id": .int(27), "device": .string("254:0"), "mount": .string("/mnt/my data"),
            "root": .string("/srv/data"), "fstype": .string("ext4"), "source": .string("/dev/vda"),
            "options": .string("rw,nosuid"), "super_options": .string("rw,discard"),
        ]))
        #expect(rows[2]["source"] == .string("tmpfs") && rows[2]["mount"] == .string("/run/user/1000"))
    }

    @Test func disks() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.write("proc/diskstats", """
               7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
             254       0 vda 9816 4314 4408218 16268 4075 12082 848512 4265 2 6012 21215 636 0 228448 245 544 435
             254       1 vda1 100 0 2048 10 50 0 1024 5 0 20 30
             104       0 cciss/c0d0 1 0 8 0 1 0 8 0 0 1 1

            """)
        try f.write("sys/class/block/loop0/size", "0\n")
        try f.write("sys/class/block/vda/size", "20971520\n")
        try f.write("sys/class/block/vda1/size", "2048\n")
        try f.write("sys/class/block/vda1/partition", "1\n")
        try f.write("sys/class/block/cciss!c0d0/size", "100\n")
        let rows = try objects("disks", QueryFixture.options(f))
        #expect(rows.map { $0["name"] } == [.string("vda"), .string("vda1"), .string("cciss/c0d0")])
        #expect(rows[0] == JSONObject([
            "type": .string("disk.info"), "ts": .string("2027-01-15T08:00:00.000Z"),
            "name": .string("vda"), "major": .int(254), "minor": .int(0), "partition": .bool(false),
            "size_bytes": .int(10_737_418_240), "reads_completed": .int(9816), "writes_completed": .int(4075),
            "read_bytes": .int(4_408_218 * 512), "written_bytes": .int(848_512 * 512), "io_in_progress": .int(2), "io_ms": .int(6012),
        ]))
        #expect(rows[1]["partition"] == .bool(true) && rows[1]["size_bytes"] == .int(1_048_576))
        #expect(rows[2]["size_bytes"] == .int(51_200))
    }

    @Test func users() throws {
        let f = try Fixture()
        defer { f.remove() }
        try QueryFixture.etc(f)
        let rows = try objects("users", QueryFixture.options(f))
        #expect(rows.map { $0["name"] } == [.string("root"), .string("alice"), .string("bob")])
        #expect(rows[1] == JSONObject([
            "type": .string("user.info"), "ts": .string("2027-01-15T08:00:00.000Z"),
            "name": .string("alice"), "uid": .int(1000), "gid": .int(1000), "group": .string("alice"),
            "groups": .array([.string("alice"), .string("users"), .string("wheel")]),
            "gecos": .string("Alice Example,,,"), "home": .string("/home/alice"), "shell": .string("/bin/zsh"),
        ]))
        #expect(rows[2]["group"] == .string("users"))
        #expect(rows[2]["groups"] == .array([.string("users"), .string("wheel"), .string("docker")]))
        #expect(rows[0]["groups"] == .array([.string("root")]))
    }

    @Test func usersNeedPasswd() throws {
        let f = try Fixture()
        defer { f.remove() }
        #expect(throws: QueryError.io(SystemError("open", code: ENOENT, subject: f.path("etc/passwd")))) {
            try QueryTables.rows(table: "users", options: QueryFixture.options(f))
        }
    }

    @Test func interfaces() throws {
        let f = try Fixture()
        defer { f.remove() }
        func sysfs(_ name: String, _ index: Int, _ mtu: Int, _ mac: String, _ oper: String, _ flags: String) throws {
            try f.write("sys/class/net/\(name)/ifindex", "\(index)\n")
            try f.write("sys/class/net/\(name)/mtu", "\(mtu)\n")
            try f.write("sys/class/net/\(name)/address", mac.isEmpty ? "" : mac + "\n")
            try f.write("sys/class/net/\(name)/operstate", oper + "\n")
            try f.write("sys/class/net/\(name)/flags", flags + "\n")
        }
        try sysfs("tun0", 3, 1420, "", "down", "0x1090")
        try sysfs("eth0", 2, 1500, "02:fc:00:00:00:01", "up", "0x1003")
        try sysfs("lo", 1, 65536, "00:00:00:00:00:00", "unknown", "0x9")
        let up = Procfs.interfaceUpFlag
        var o = QueryFixture.options(f)
        o.interfaceAddresses = [
            InterfaceAddressEntry(name: "lo", flags: up, family: .other, address: nil, prefixLength: nil),
            InterfaceAddressEntry(name: "eth0", flags: up, family: .other, address: nil, prefixLength: nil),
            InterfaceAddressEntry(name: "lo", flags: up, family: .ipv4, address: "127.0.0.1", prefixLength: 8),
            InterfaceAddressEntry(name: "eth0", flags: up, family: .ipv4, address: "10.0.0.2", prefixLength: 24),
            InterfaceAddressEntry(name: "lo", flags: up, family: .ipv6, address: "::1", prefixLength: 128),
            InterfaceAddressEntry(name: "eth0", flags: up, family: .ipv6, address: "fe80::fc:ff:fe00:1", prefixLength: 64),
            InterfaceAddressEntry(name: "dummy9", flags: up, family: .ipv4, address: "192.0.2.1", prefixLength: nil),
        ]
        let rows = try objects("interfaces", o)
        #expect(rows.map { $0["name"] } == [.string("lo"), .string("eth0"), .string("tun0"), .string("dummy9")])
        #expect(rows[1] == JSONObject([
            "type": .string("interface.info"), "ts": .string("2027-01-15T08:00:00.000Z"),
            "name": .string("eth0"), "index": .int(2), "mtu": .int(1500), "mac": .string("02:fc:00:00:00:01"),
            "up": .bool(true), "oper_state": .string("up"),
            "addresses": .array([
                .object(JSONObject(["family": .string("ipv4"), "address": .string("10.0.0.2"), "prefix_len": .int(24)])),
                .object(JSONObject(["family": .string("ipv6"), "address": .string("fe80::fc:ff:fe00:1"), "prefix_len": .int(64)])),
            ]),
        ]))
        #expect(rows[0]["addresses"].map { if case .array(let a) = $0 { return a.count } else { return -1 } } == 2)
        #expect(rows[2]["mac"] == .null && rows[2]["up"] == .bool(false) && rows[2]["addresses"] == .array([]))
        #expect(rows[3]["index"] == .null && rows[3]["up"] == .bool(true) && rows[3]["oper_state"] == .null)
        #expect(rows[3]["addresses"] == .array([.object(JSONObject(["family": .string("ipv4"), "address": .string("192.0.2.1"), "prefix_len": .null]))]))
    }

    func sysctlFixture() throws -> Fixture {
        let f = try Fixture()
        try f.write("proc/sys/net/ipv4/ip_forward", "1\n")
        try f.write("proc/sys/net/ipv4/conf/eth0.100/forwarding", "0\n")
        try f.write("proc/sys/net/ipv6/conf/all/disable_ipv6", "0\n")
        try f.write("proc/sys/kernel/hostname", "box\n")
        try f.write("proc/sys/kernel/printk", "4\t4\t1\t7\n")
        try f.write("proc/sys/fs/binfmt_misc/status", "enabled\n")
        return f
    }

    func sysctl(_ f: Fixture, _ prefix: String?) throws -> [String] {
        var o = QueryFixture.options(f)
        o.sysctlPrefix = prefix
        return try objects("sysctl", o).map { r in
            guard case .string(let k)? = r["key"], case .string(let v)? = r["value"] else { return "?" }
            return k + "=" + v
        }
    }

    @Test func sysctlWalksInNameOrder() throws {
        let f = try sysctlFixture()
        defer { f.remove() }
        #expect(try sysctl(f, nil) == [
            "kernel.hostname=box", "kernel.printk=4\t4\t1\t7", "net.ipv4.conf.eth0/100.forwarding=0",
            "net.ipv4.ip_forward=1", "net.ipv6.conf.all.disable_ipv6=0",
        ])
        #expect(try sysctl(f, "net.ipv4") == ["net.ipv4.conf.eth0/100.forwarding=0", "net.ipv4.ip_forward=1"])
        #expect(try sysctl(f, "kernel.hostname") == ["kernel.hostname=box"])
        #expect(try sysctl(f, "net.ipv4.conf.eth0/100") == ["net.ipv4.conf.eth0/100.forwarding=0"])
        #expect(throws: QueryError.io(SystemError("lstat", code: ENOENT, subject: f.path("proc/sys/net/nope")))) {
            try sysctl(f, "net.nope")
        }
    }

    @Test func kernel() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.write("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet\n")
        try f.write("proc/sys/kernel/random/boot_id", "3f1c5d2e-8a4b-4c6d-9e0f-112233445566\n")
        try f.write("proc/stat", "cpu  1 2 3 4\nbtime \(QueryFixture.btime)\n")
        var o = QueryFixture.options(f)
        o.kernelName = KernelName(sysname: "Linux", nodename: "box", release: "6.1.0-18-amd64",
                                  version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", machine: "x86_64")
        let rows = try objects("kernel", o)
        #expect(rows == [JSONObject([
            "type": .string("kernel.info"), "ts": .string("2027-01-15T08:00:00.000Z"),
            "sysname": .string("Linux"), "host": .string("box"), "release": .string("6.1.0-18-amd64"),
            "version": .string("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"), "machine": .string("x86_64"),
            "cmdline": .string("BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet"),
            "boot_id": .string("3f1c5d2e-8a4b-4c6d-9e0f-112233445566"), "boot_time": .string("2023-11-14T22:13:20.000Z"),
        ])])
    }

    @Test func unknownTableListsTheKnownOnes() throws {
        #expect(throws: QueryError.unknownTable(name: "procs", known: QueryTables.tables.map(\.name))) {
            try QueryTables.rows(table: "procs")
        }
        let e = QueryError.unknownTable(name: "procs", known: ["processes", "ports"])
        #expect(e.description == "unknown table 'procs' (known tables: processes, ports)")
        #expect(e.code == "query.unknown_table")
    }

    @Test func everyTableIsListedWithItsColumns() {
        #expect(QueryTables.tables.map(\.name) == ["processes", "ports", "services", "mounts", "disks", "users", "interfaces", "sysctl", "kernel"])
        #expect(QueryTables.tables.map(\.recordType) == ["process.info", "port.info", "service.info", "mount.info", "disk.info",
                                                         "user.info", "interface.info", "sysctl.entry", "kernel.info"])
        for t in QueryTables.tables {
            #expect(!t.columns.isEmpty && !t.summary.isEmpty)
            for c in t.columns { #expect(c.name == c.name.lowercased() && !c.summary.isEmpty, "\(t.name).\(c.name)") }
        }
    }
}

@Suite struct ServiceTableTests {
    /// Runs the services table, retrying the rare `ETXTBSY` of executing a script
    /// that another test thread's fork still held open for writing.
    func services(_ o: QueryOptions) throws -> [JSONObject] {
        var attempt = 0
        while true {
            do {
                return try objects("services", o)
            } catch let e as QueryError where attempt < 3 && e.description.contains("Text file busy") {
                attempt += 1
                Sys.sleep(milliseconds: 20)
            }
        }
    }

    func fakeSystemctl(_ f: Fixture, _ body: String) throws -> QueryOptions {
        try f.mkdir("run/systemd/system")
        try f.write("bin/systemctl", "#!/bin/sh\n" + body + "\n")
        f.chmod("bin/systemctl", 0o755)
        var o = QueryFixture.options(f)
        o.systemctl = f.path("bin/systemctl")
        return o
    }

    @Test func unavailableWithoutSystemd() throws {
        let f = try Fixture()
        defer { f.remove() }
        let o = QueryFixture.options(f)
        #expect(throws: QueryError.unavailable("systemd is not running on this host (no \(f.path("run"))/systemd/system)")) {
            try QueryTables.rows(table: "services", options: o)
        }
        #expect(QueryError.unavailable("x").code == "query.unavailable")
    }

    @Test func listsUnitsFromSystemctlJSON() throws {
        let f = try Fixture()
        defer { f.remove() }
        let o = try fakeSystemctl(f, #"""
            [ "$*" = "list-units --all --output=json --no-pager" ] || { echo "bad arguments: $*" >&2; exit 2; }
            echo '[{"unit":"ssh.service","load":"loaded","active":"active","sub":"running","description":"OpenBSD Secure Shell server"},'
            echo ' {"unit":"x.mount","load":"not-found","active":"inactive","sub":"dead","description":"x.mount"},{"load":"loaded"}]'
            """#)
        let rows = try services(o)
        #expect(rows == [
            JSONObject(["type": .string("service.info"), "ts": .string("2027-01-15T08:00:00.000Z"), "unit": .string("ssh.service"),
                        "load": .string("loaded"), "active": .string("active"), "sub": .string("running"),
                        "description": .string("OpenBSD Secure Shell server")]),
            JSONObject(["type": .string("service.info"), "ts": .string("2027-01-15T08:00:00.000Z"), "unit": .string("x.mount"),
                        "load": .string("not-found"), "active": .string("inactive"), "sub": .string("dead"),
                        "description": .string("x.mount")]),
        ])
    }

    @Test func systemctlFailureIsUnavailable() throws {
        let f = try Fixture()
        defer { f.remove() }
        let o = try fakeSystemctl(f, "echo 'Failed to connect to bus: No such file or directory' >&2\nexit 1")
        #expect(throws: QueryError.unavailable("'\(o.systemctl) list-units' failed: exit status 1: Failed to connect to bus: No such file or directory")) {
            try services(o)
        }
    }

    @Test func tableOutputIsUnavailable() throws {
        let f = try Fixture()
        defer { f.remove() }
        let o = try fakeSystemctl(f, "echo '  UNIT            LOAD   ACTIVE SUB     DESCRIPTION'")
        do {
            _ = try services(o)
            Issue.record("expected an error")
        } catch let e as QueryError {
            guard case .unavailable(let why) = e else { Issue.record("\(e)"); return }
            #expect(why.hasPrefix("'\(o.systemctl) list-units' did not print JSON"))
        }
    }

    @Test func missingSystemctlIsUnavailable() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.mkdir("run/systemd/system")
        var o = QueryFixture.options(f)
        o.systemctl = f.path("bin/no-such-systemctl")
        #expect(throws: QueryError.unavailable("cannot run '\(o.systemctl)': posix_spawnp '\(o.systemctl)': No such file or directory")) {
            try QueryTables.rows(table: "services", options: o)
        }
    }
}
