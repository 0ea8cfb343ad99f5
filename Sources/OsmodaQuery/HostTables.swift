import OsmodaCore
import OsmodaSystem

extension QueryTables {
    /// The interfaces table: every interface that sysfs or `getifaddrs(3)` knows,
    /// ordered by interface index, with its IPv4 and IPv6 addresses in the order
    /// `getifaddrs` gives them.
    package static func interfaces(_ o: QueryOptions) throws(QueryError) -> [InterfaceRecord] {
        let entries: [InterfaceAddressEntry]
        if let injected = o.interfaceAddresses {
            entries = injected
        } else {
            do throws(SystemError) { entries = try Procfs.interfaceAddresses() } catch { throw .io(error) }
        }
        let netRoot = o.sysRoot + "/class/net"
        var names: [String] = []
        var seen: Set<String> = []
        for e in (try? Procfs.listDirectory(netRoot)) ?? [] where seen.insert(e.name).inserted { names.append(e.name) }
        for e in entries where seen.insert(e.name).inserted { names.append(e.name) }

        let reader = ProcfsReader()
        func number(_ path: String, hex: Bool = false) -> UInt64? {
            reader.withContents(of: path) { b -> UInt64? in
                var s = ProcfsScanner(b)
                if hex { _ = s.skip("0x") }
                return hex ? s.hex() : s.unsigned()
            } ?? nil
        }
        var out: [InterfaceRecord] = []
        for name in names {
            let dir = netRoot + "/" + name
            let mine = entries.filter { $0.name == name }
            let up: Bool
            if let flags = number(dir + "/flags", hex: true) {
                up = flags & UInt64(Procfs.interfaceUpFlag) != 0
            } else {
                up = mine.contains { $0.isUp }
            }
            let mac = reader.text(of: dir + "/address").flatMap { $0.isEmpty ? nil : $0 }
            out.append(InterfaceRecord(
                name: name,
                index: number(dir + "/ifindex").map { Int(clamping: $0) },
                mtu: number(dir + "/mtu").map { Int(clamping: $0) },
                mac: mac, up: up,
                operState: reader.text(of: dir + "/operstate"),
                addresses: mine.compactMap { e in
                    guard e.family != .other, let a = e.address else { return nil }
                    return InterfaceRecord.Address(family: e.family.rawValue, address: a, prefixLen: e.prefixLength)
                }
            ))
        }
        return out.enumerated().sorted { a, b in
            switch (a.element.index, b.element.index) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
    }

    /// The sysctl table: every readable file under /proc/sys (or under the prefix),
    /// in name order, as `key = value`.
    ///
    /// Keys are written as sysctl(8) writes them: path components joined by `.`,
    /// with a `.` inside a component (a VLAN such as `eth0.100`) shown as `/`; the
    /// prefix is read the same way. Files that cannot be read (write-only ones such
    /// as `vm.drop_caches`, or `EIO` ones such as `stable_secret`) are skipped.
    /// /proc/sys/fs/binfmt_misc is a filesystem of its own, often an automount, and
    /// is not walked.
    package static func sysctl(_ o: QueryOptions) throws(QueryError) -> [SysctlRecord] {
        let base = o.procRoot + "/sys"
        var parts: [String] = []
        if let prefix = o.sysctlPrefix, !prefix.isEmpty {
            parts = prefix.split(separator: ".", omittingEmptySubsequences: true).map { String($0.map { $0 == "/" ? "." : $0 }) }
        }
        let start = parts.reduce(base) { $0 + "/" + $1 }
        let kind: ProcfsEntry.Kind
        do throws(SystemError) { kind = try Procfs.kind(of: start) } catch { throw .io(error) }
        let reader = ProcfsReader()
        var out: [SysctlRecord] = []
        if kind == .directory {
            walkSysctl(start, parts, base: base, reader, &out)
        } else if let value = reader.text(of: start) {
            out.append(SysctlRecord(key: sysctlKey(parts), value: value))
        } else {
            do throws(SystemError) { _ = try Sys.readFile(start) } catch { throw .io(error) }
        }
        return out
    }

    private static func walkSysctl(_ dir: String, _ parts: [String], base: String, _ reader: ProcfsReader, _ out: inout [SysctlRecord]) {
        guard dir != base + "/fs/binfmt_misc", let entries = try? Procfs.listDirectory(dir) else { return }
        for e in entries.sorted(by: { $0.name < $1.name }) {
            let path = dir + "/" + e.name
            var kind = e.kind
            if kind == .unknown { kind = (try? Procfs.kind(of: path)) ?? .other }
            switch kind {
            case .directory:
                walkSysctl(path, parts + [e.name], base: base, reader, &out)
            case .regular:
                if let value = reader.text(of: path) { out.append(SysctlRecord(key: sysctlKey(parts + [e.name]), value: value)) }
            default:
                continue
            }
        }
    }

    private static func sysctlKey(_ parts: [String]) -> String {
        parts.map { String($0.map { $0 == "." ? "/" : $0 }) }.joined(separator: ".")
    }

    /// The kernel table: one row.
    package static func kernel(_ o: QueryOptions) throws(QueryError) -> [KernelRecord] {
        let k = o.kernelName ?? Procfs.kernelName()
        let reader = ProcfsReader()
        let cmdline = reader.text(of: o.procRoot + "/cmdline").map { String($0.reversed().drop { $0 == " " || $0 == "\0" }.reversed()) }
        let bootID = reader.text(of: o.procRoot + "/sys/kernel/random/boot_id")
        let btime = reader.withContents(of: o.procRoot + "/stat") { parseBootTime($0) } ?? nil
        return [KernelRecord(
            sysname: k.sysname, host: k.nodename, release: k.release, version: k.version, machine: k.machine,
            cmdline: cmdline, bootID: bootID,
            bootTime: btime.map { Timestamp(millisecondsSinceEpoch: $0 * 1000).rfc3339 }
        )]
    }

    /// The services table, from `systemctl list-units --all --output=json --no-pager`.
    ///
    /// - Throws: `unavailable` when systemd is not running (no `/run/systemd/system`,
    ///   the test sd_booted(3) uses), when systemctl cannot be run, fails, runs past
    ///   the timeout, or prints something other than a JSON array.
    package static func services(_ o: QueryOptions) throws(QueryError) -> [ServiceRecord] {
        let marker = o.runRoot + "/systemd/system"
        guard Procfs.isDirectory(marker) else {
            throw .unavailable("systemd is not running on this host (no \(marker))")
        }
        let argv = [o.systemctl, "list-units", "--all", "--output=json", "--no-pager"]
        let result: SpawnResult
        do throws(SystemError) {
            result = try Spawn.run(SpawnOptions(argv: argv, timeoutMs: Int64(o.timeoutMilliseconds), outputLimit: 16 << 20))
        } catch {
            throw .unavailable("cannot run '\(o.systemctl)': \(error)")
        }
        guard result.exitStatus == 0, !result.timedOut, !result.stdoutTruncated else {
            let status = result.stdoutTruncated ? "printed more than 16 MiB" : result.statusDescription
            let firstLine = result.stderrTail.split(separator: 0x0A).first.map { String(decoding: $0, as: UTF8.self) }
            throw .unavailable("'\(o.systemctl) list-units' failed: \(status)" + (firstLine.map { ": \($0)" } ?? ""))
        }
        let parsed: JSONValue
        do throws(JSONError) { parsed = try JSONReader.parse(result.stdoutTail) } catch {
            throw .unavailable("'\(o.systemctl) list-units' did not print JSON (\(error))")
        }
        guard case .array(let items) = parsed else {
            throw .unavailable("'\(o.systemctl) list-units' printed JSON \(parsed.typeName), not a list of units")
        }
        return items.compactMap { item in
            func field(_ k: String) -> String {
                if case .string(let s)? = item[k] { return s }
                return ""
            }
            let unit = field("unit")
            guard !unit.isEmpty else { return nil }
            return ServiceRecord(unit: unit, load: field("load"), active: field("active"), sub: field("sub"), description: field("description"))
        }
    }
}
