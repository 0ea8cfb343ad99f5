import OsmodaCore
import OsmodaSystem

/// The fields of /proc/PID/stat that the tables use.
package struct ProcessStat: Sendable, Equatable {
    package var pid: Int
    package var comm: String
    package var state: UInt8
    package var ppid: Int
    package var utime: UInt64
    package var stime: UInt64
    package var threads: Int
    package var startTicks: UInt64
    package var rssPages: Int64
}

extension QueryTables {
    /// Parses /proc/PID/stat. The command name sits in parentheses and may itself
    /// contain spaces and parentheses, so fields are counted from the last `)`.
    package static func parseProcessStat(_ b: UnsafeBufferPointer<UInt8>) -> ProcessStat? {
        guard let open = b.firstIndex(of: UInt8(ascii: "(")), let close = b.lastIndex(of: UInt8(ascii: ")")), close > open else { return nil }
        var head = ProcfsScanner(UnsafeBufferPointer(rebasing: b[0..<open]))
        guard let pid = head.unsigned() else { return nil }
        let comm = String(decoding: UnsafeBufferPointer(rebasing: b[(open + 1)..<close]), as: UTF8.self)
        var s = ProcfsScanner(UnsafeBufferPointer(rebasing: b[(close + 1)...]))
        // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss
        guard let state = s.word(), state.count == 1, let ppid = s.signed(), s.skipWords(9),
              let utime = s.unsigned(), let stime = s.unsigned(), s.skipWords(4),
              let threads = s.signed(), s.skipWords(1), let start = s.unsigned(), s.skipWords(1),
              let rss = s.signed()
        else { return nil }
        return ProcessStat(pid: Int(clamping: pid), comm: comm, state: state[0], ppid: Int(ppid), utime: utime, stime: stime,
                           threads: Int(threads), startTicks: start, rssPages: rss)
    }

    /// The word for a state letter of /proc/PID/stat (proc(5)); other letters are
    /// returned as they are.
    package static func stateName(_ letter: UInt8) -> String {
        switch letter {
        case UInt8(ascii: "R"): return "running"
        case UInt8(ascii: "S"): return "sleeping"
        case UInt8(ascii: "D"): return "disk_sleep"
        case UInt8(ascii: "Z"): return "zombie"
        case UInt8(ascii: "T"): return "stopped"
        case UInt8(ascii: "t"): return "tracing_stop"
        case UInt8(ascii: "X"), UInt8(ascii: "x"): return "dead"
        case UInt8(ascii: "I"): return "idle"
        case UInt8(ascii: "P"): return "parked"
        case UInt8(ascii: "K"): return "wakekill"
        case UInt8(ascii: "W"): return "waking"
        default: return String(decoding: [letter], as: UTF8.self)
        }
    }

    /// The effective uid from the `Uid:` line of /proc/PID/status (real, effective,
    /// saved, filesystem).
    package static func parseStatusUID(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var s = ProcfsScanner(b)
        while !s.atEnd {
            if s.skip("Uid:") {
                guard s.unsigned() != nil, let euid = s.unsigned() else { return nil }
                return Int(clamping: euid)
            }
            s.skipLine()
        }
        return nil
    }

    /// The arguments in /proc/PID/cmdline: NUL-separated, with a final NUL.
    package static func parseCmdline(_ b: UnsafeBufferPointer<UInt8>) -> [String] {
        var out: [String] = []
        var start = 0
        for i in 0..<b.count where b[i] == 0 {
            out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
            start = i + 1
        }
        if start < b.count { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start...]), as: UTF8.self)) }
        return out
    }

    /// `btime` (the boot time, in seconds since the epoch) from /proc/stat.
    package static func parseBootTime(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var s = ProcfsScanner(b)
        while !s.atEnd {
            if s.skip("btime") { return s.unsigned().map { Int64(clamping: $0) } }
            s.skipLine()
        }
        return nil
    }

    /// The processes table.
    ///
    /// `cpu_pct` is `ps`'s %CPU: (utime + stime) over the time since the process
    /// started, as a percentage of one core, so it can pass 100 for a process with
    /// busy threads and says nothing about the last few seconds (use `osmoda-health`
    /// for that). `start_time` is `btime` + `starttime` / `_SC_CLK_TCK`.
    package static func processes(_ o: QueryOptions) throws(QueryError) -> [ProcessRecord] {
        let reader = ProcfsReader()
        let pids: [Int32]
        do throws(SystemError) { pids = try Procfs.numericEntries(o.procRoot) } catch { throw .io(error) }
        let tick = o.clockTicksPerSecond ?? Procfs.clockTicksPerSecond
        let page = o.pageSize ?? Procfs.pageSize
        let bootTime = reader.withContents(of: o.procRoot + "/stat") { parseBootTime($0) } ?? nil
        let uptime = reader.withContents(of: o.procRoot + "/uptime") { b -> Double? in
            var s = ProcfsScanner(b)
            return s.decimal()
        } ?? nil
        let users = UserDatabase(etcRoot: o.etcRoot)

        var out: [ProcessRecord] = []
        out.reserveCapacity(pids.count)
        for pid in pids {
            let dir = o.procRoot + "/" + String(pid)
            // A process that exits mid-scan loses its files; skip it without a word.
            guard let st = reader.withContents(of: dir + "/stat", { parseProcessStat($0) }) ?? nil,
                  let argv = reader.withContents(of: dir + "/cmdline", { parseCmdline($0) })
            else { continue }
            let uid = reader.withContents(of: dir + "/status") { parseStatusUID($0) } ?? nil
            let cpuSeconds = Double(st.utime + st.stime) / Double(tick)
            var cpuPct = 0.0
            if let uptime {
                let elapsed = uptime - Double(st.startTicks) / Double(tick)
                if elapsed > 0 { cpuPct = (cpuSeconds / elapsed * 100 * 100).rounded() / 100 }
            }
            var start: String?
            if let bootTime {
                let ms = bootTime * 1000 + Int64(clamping: st.startTicks) * 1000 / tick
                start = Timestamp(millisecondsSinceEpoch: ms).rfc3339
            }
            out.append(ProcessRecord(
                pid: st.pid, ppid: st.ppid, name: st.comm,
                user: uid.flatMap { users.userName($0) }, uid: uid,
                state: stateName(st.state), threads: st.threads, cpuPct: cpuPct,
                rssBytes: st.rssPages * page, startTime: start, argv: argv,
                exe: try? Procfs.readLink(dir + "/exe")
            ))
        }
        return out
    }
}
