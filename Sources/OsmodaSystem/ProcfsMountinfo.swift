/// One line of /proc/PID/mountinfo (proc(5)):
///
///     36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
///
/// Paths come unescaped (the kernel writes space, tab, newline and backslash as
/// `\040`, `\011`, `\012`, `\134`).
package struct MountinfoEntry: Sendable, Equatable {
    package var mountID: Int
    package var parentID: Int
    package var major: Int
    package var minor: Int
    /// The directory of the filesystem that is mounted here (`/` unless a bind mount
    /// of a subdirectory).
    package var root: String
    package var mountPoint: String
    package var options: String
    /// Optional fields such as `shared:1` or `master:2`.
    package var optionalFields: [String]
    package var fstype: String
    package var source: String
    package var superOptions: String

    package init(mountID: Int, parentID: Int, major: Int, minor: Int, root: String, mountPoint: String, options: String,
                 optionalFields: [String], fstype: String, source: String, superOptions: String) {
        self.mountID = mountID
        self.parentID = parentID
        self.major = major
        self.minor = minor
        self.root = root
        self.mountPoint = mountPoint
        self.options = options
        self.optionalFields = optionalFields
        self.fstype = fstype
        self.source = source
        self.superOptions = superOptions
    }

    /// `major:minor`, as the kernel writes the device.
    package var device: String { "\(major):\(minor)" }
}

extension Procfs {
    /// Parses mountinfo text; malformed lines are skipped.
    package static func parseMountinfo(_ bytes: UnsafeBufferPointer<UInt8>) -> [MountinfoEntry] {
        var s = ProcfsScanner(bytes)
        var out: [MountinfoEntry] = []
        while !s.atEnd {
            if let e = parseMountinfoLine(&s) { out.append(e) }
            s.skipLine()
        }
        return out
    }

    private static func parseMountinfoLine(_ s: inout ProcfsScanner) -> MountinfoEntry? {
        guard let id = s.unsigned(), let parent = s.unsigned(),
              let major = s.unsigned(), s.skip(byte: UInt8(ascii: ":")), let minor = s.unsigned(),
              let root = s.word(), let mountPoint = s.word(), let options = s.word()
        else { return nil }
        var optional: [String] = []
        while true {
            guard let w = s.word() else { return nil }
            if w.count == 1, w[0] == UInt8(ascii: "-") { break }
            optional.append(String(decoding: w, as: UTF8.self))
        }
        guard let fstype = s.word() else { return nil }
        let source = s.word()
        let superOptions = s.word()
        return MountinfoEntry(
            mountID: Int(clamping: id), parentID: Int(clamping: parent),
            major: Int(clamping: major), minor: Int(clamping: minor),
            root: unescapeOctal(root), mountPoint: unescapeOctal(mountPoint),
            options: String(decoding: options, as: UTF8.self), optionalFields: optional,
            fstype: String(decoding: fstype, as: UTF8.self),
            source: source.map(unescapeOctal) ?? "",
            superOptions: superOptions.map { String(decoding: $0, as: UTF8.self) } ?? ""
        )
    }

    /// Undoes the kernel's `\ooo` escapes in mount table fields.
    package static func unescapeOctal(_ w: UnsafeBufferPointer<UInt8>) -> String {
        guard w.contains(UInt8(ascii: "\\")) else { return String(decoding: w, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(w.count)
        var i = 0
        while i < w.count {
            if w[i] == UInt8(ascii: "\\"), i + 3 < w.count,
               let a = octal(w[i + 1]), let b = octal(w[i + 2]), let c = octal(w[i + 3]), a < 4 {
                out.append(a << 6 | b << 3 | c)
                i += 4
            } else {
                out.append(w[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func octal(_ b: UInt8) -> UInt8? {
        b >= 0x30 && b <= 0x37 ? b - 0x30 : nil
    }
}
