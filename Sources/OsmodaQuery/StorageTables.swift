import OsmodaSystem

/// One line of /proc/diskstats that the disks table uses.
package struct DiskStatsEntry: Sendable, Equatable {
    package var major: Int
    package var minor: Int
    package var name: String
    package var readsCompleted: UInt64
    package var sectorsRead: UInt64
    package var writesCompleted: UInt64
    package var sectorsWritten: UInt64
    package var ioInProgress: UInt64
    package var ioMilliseconds: UInt64
}

extension QueryTables {
    /// The mounts table: /proc/self/mountinfo, one row per line, in the kernel's order.
    package static func mounts(_ o: QueryOptions) throws(QueryError) -> [MountRecord] {
        let reader = ProcfsReader(capacity: 64 << 10)
        let entries: [MountinfoEntry]
        do throws(SystemError) {
            entries = try reader.withContentsOrThrow(of: o.procRoot + "/self/mountinfo") { Procfs.parseMountinfo($0) }
        } catch {
            throw .io(error)
        }
        return entries.map { m in
            MountRecord(mountID: m.mountID, parentID: m.parentID, device: m.device, mount: m.mountPoint, root: m.root,
                        fstype: m.fstype, source: m.source, options: m.options, superOptions: m.superOptions)
        }
    }

    /// Parses /proc/diskstats: `major minor name reads merged sectors ms writes
    /// merged sectors ms in_flight io_ms weighted_ms …` (sectors are always 512 bytes
    /// here, whatever the device's own sector size).
    package static func parseDiskstats(_ b: UnsafeBufferPointer<UInt8>) -> [DiskStatsEntry] {
        var out: [DiskStatsEntry] = []
        var s = ProcfsScanner(b)
        while !s.atEnd {
            if let major = s.unsigned(), let minor = s.unsigned(), let name = s.string(),
               let reads = s.unsigned(), s.skipWords(1), let sectorsRead = s.unsigned(), s.skipWords(1),
               let writes = s.unsigned(), s.skipWords(1), let sectorsWritten = s.unsigned(), s.skipWords(1),
               let inFlight = s.unsigned(), let ioMs = s.unsigned() {
                out.append(DiskStatsEntry(major: Int(clamping: major), minor: Int(clamping: minor), name: name,
                                          readsCompleted: reads, sectorsRead: sectorsRead, writesCompleted: writes,
                                          sectorsWritten: sectorsWritten, ioInProgress: inFlight, ioMilliseconds: ioMs))
            }
            s.skipLine()
        }
        return out
    }

    /// The disks table: every device in /proc/diskstats, whole disks and partitions,
    /// with its size from `/sys/class/block/NAME/size` (512-byte sectors). Devices
    /// whose size is known to be 0 (unattached loop devices, empty zram) are left out.
    package static func disks(_ o: QueryOptions) throws(QueryError) -> [DiskRecord] {
        let reader = ProcfsReader()
        let entries: [DiskStatsEntry]
        do throws(SystemError) {
            entries = try reader.withContentsOrThrow(of: o.procRoot + "/diskstats") { parseDiskstats($0) }
        } catch {
            throw .io(error)
        }
        var out: [DiskRecord] = []
        for e in entries {
            // sysfs writes a / in a device name as ! (cciss/c0d0 → cciss!c0d0).
            let dir = o.sysRoot + "/class/block/" + String(e.name.map { $0 == "/" ? "!" : $0 })
            let sectors = reader.withContents(of: dir + "/size") { b -> UInt64? in
                var s = ProcfsScanner(b)
                return s.unsigned()
            } ?? nil
            if sectors == 0 { continue }
            let partition = reader.withContents(of: dir + "/partition") { _ in true } ?? false
            out.append(DiskRecord(
                name: e.name, major: e.major, minor: e.minor, partition: partition,
                sizeBytes: sectors.map { Int64(clamping: $0 &* 512) },
                readsCompleted: Int64(clamping: e.readsCompleted), writesCompleted: Int64(clamping: e.writesCompleted),
                readBytes: Int64(clamping: e.sectorsRead &* 512), writtenBytes: Int64(clamping: e.sectorsWritten &* 512),
                ioInProgress: Int64(clamping: e.ioInProgress), ioMilliseconds: Int64(clamping: e.ioMilliseconds)
            ))
        }
        return out
    }
}
