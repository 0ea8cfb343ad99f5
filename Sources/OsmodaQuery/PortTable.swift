import OsmodaSystem

/// One line of /proc/net/{tcp,tcp6,udp,udp6}, before the owner is looked up.
package struct SocketEntry: Sendable, Equatable {
    package var localAddress: String
    package var localPort: Int
    package var remoteAddress: String
    package var remotePort: Int
    package var state: UInt8
    package var uid: Int
    package var inode: Int64
}

extension QueryTables {
    /// Parses a /proc/net/tcp-style table (`sl local_address rem_address st
    /// tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …`).
    package static func parseSocketTable(_ b: UnsafeBufferPointer<UInt8>) -> [SocketEntry] {
        var out: [SocketEntry] = []
        var s = ProcfsScanner(b)
        s.skipLine()
        while !s.atEnd {
            if s.skipWords(1), let local = s.word(), let remote = s.word(),
               let (la, lp) = parseEndpoint(local), let (ra, rp) = parseEndpoint(remote),
               let st = s.hex(), s.skipWords(3), let uid = s.unsigned(), s.skipWords(1), let inode = s.unsigned() {
                out.append(SocketEntry(localAddress: la, localPort: lp, remoteAddress: ra, remotePort: rp,
                                       state: UInt8(truncatingIfNeeded: st), uid: Int(clamping: uid), inode: Int64(clamping: inode)))
            }
            s.skipLine()
        }
        return out
    }

    /// `0100007F:1F90` → ("127.0.0.1", 8080).
    ///
    /// The kernel prints the address as 32-bit words, each with `%08X` of the word as
    /// it sits in memory. So each word's bytes are the address bytes in the host's
    /// own order (reversed on little-endian machines); putting the parsed word back
    /// into memory in host order recovers them on any machine. IPv6 has four such
    /// words, each reversed separately, not the 16 bytes as a whole.
    package static func parseEndpoint(_ w: UnsafeBufferPointer<UInt8>) -> (String, Int)? {
        guard let colon = w.firstIndex(of: UInt8(ascii: ":")), colon == 8 || colon == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(colon / 2)
        var i = 0
        while i < colon {
            var word: UInt32 = 0
            for j in i..<(i + 8) {
                guard let d = ProcfsScanner.hexValue(w[j]) else { return nil }
                word = word << 4 | UInt32(d)
            }
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
            i += 8
        }
        var ps = ProcfsScanner(UnsafeBufferPointer(rebasing: w[(colon + 1)...]))
        guard let port = ps.hex(), port <= 0xFFFF, ps.atEnd, let text = Procfs.formatAddress(bytes) else { return nil }
        return (text, Int(port))
    }

    /// The name of a socket state number (include/net/tcp_states.h). UDP uses the
    /// same numbers: 1 for a connected socket, 7 for an unconnected one, which is
    /// shown as `UNCONN`, as ss(8) does.
    package static func socketStateName(_ st: UInt8, udp: Bool) -> String {
        switch st {
        case 0x01: return "ESTABLISHED"
        case 0x02: return "SYN_SENT"
        case 0x03: return "SYN_RECV"
        case 0x04: return "FIN_WAIT1"
        case 0x05: return "FIN_WAIT2"
        case 0x06: return "TIME_WAIT"
        case 0x07: return udp ? "UNCONN" : "CLOSE"
        case 0x08: return "CLOSE_WAIT"
        case 0x09: return "LAST_ACK"
        case 0x0A: return "LISTEN"
        case 0x0B: return "CLOSING"
        case 0x0C: return "NEW_SYN_RECV"
        default: return "UNKNOWN_\(st)"
        }
    }

    /// Which process holds each socket inode: every /proc/PID/fd/* link that reads
    /// `socket:[INODE]`. Pids are scanned in ascending order and the first holder
    /// wins, so a socket shared after `fork` goes to the parent. Processes whose fd
    /// directory we may not read (other users', when not root) are passed over.
    package static func socketOwners(procRoot: String) -> [Int64: Int] {
        var owners: [Int64: Int] = [:]
        guard let pids = try? Procfs.numericEntries(procRoot) else { return owners }
        for pid in pids {
            let fdDir = procRoot + "/" + String(pid) + "/fd"
            guard let fds = try? Procfs.listDirectory(fdDir) else { continue }
            for fd in fds {
                guard let target = try? Procfs.readLink(fdDir + "/" + fd.name), let inode = socketInode(target) else { continue }
                if owners[inode] == nil { owners[inode] = Int(pid) }
            }
        }
        return owners
    }

    /// `socket:[12345]` → 12345.
    package static func socketInode(_ link: String) -> Int64? {
        guard link.hasPrefix("socket:["), link.hasSuffix("]") else { return nil }
        return Int64(link.dropFirst(8).dropLast())
    }

    /// The ports table: TCP, then UDP; IPv4, then IPv6; in the kernel's order within
    /// each file. A missing tcp6/udp6 (IPv6 disabled) is not an error; a missing
    /// /proc/net/tcp is.
    package static func ports(_ o: QueryOptions) throws(QueryError) -> [PortRecord] {
        let reader = ProcfsReader(capacity: 64 << 10)
        let files: [(name: String, proto: String, family: String)] = [
            ("tcp", "tcp", "ipv4"), ("tcp6", "tcp", "ipv6"), ("udp", "udp", "ipv4"), ("udp6", "udp", "ipv6"),
        ]
        var rows: [(proto: String, family: String, entry: SocketEntry)] = []
        for f in files {
            let path = o.procRoot + "/net/" + f.name
            let entries: [SocketEntry]
            if f.name == "tcp" {
                do throws(SystemError) {
                    entries = try reader.withContentsOrThrow(of: path) { parseSocketTable($0) }
                } catch {
                    throw .io(error)
                }
            } else {
                entries = reader.withContents(of: path) { parseSocketTable($0) } ?? []
            }
            for e in entries { rows.append((f.proto, f.family, e)) }
        }
        let owners = rows.contains { $0.entry.inode != 0 } ? socketOwners(procRoot: o.procRoot) : [:]
        var programs: [Int: String] = [:]
        return rows.map { r in
            let pid = r.entry.inode != 0 ? owners[r.entry.inode] : nil
            var program: String?
            if let pid {
                if let p = programs[pid] {
                    program = p
                } else {
                    program = reader.text(of: o.procRoot + "/" + String(pid) + "/comm")
                    programs[pid] = program
                }
            }
            return PortRecord(
                proto: r.proto, family: r.family,
                localAddress: r.entry.localAddress, localPort: r.entry.localPort,
                remoteAddress: r.entry.remoteAddress, remotePort: r.entry.remotePort,
                state: socketStateName(r.entry.state, udp: r.proto == "udp"),
                uid: r.entry.uid, inode: r.entry.inode, pid: pid, program: program
            )
        }
    }
}
