import OsmodaSystem

/// Which mounts a health sample reports, and which one stands for a filesystem that
/// is mounted more than once.
///
/// The rule, in order:
/// 1. Pseudo filesystems are skipped by type: they hold no data that can fill up
///    (`proc`, `sysfs`, `devtmpfs`, `devpts`, `cgroup`, `cgroup2`, `securityfs`,
///    `pstore`, `bpf`, `debugfs`, `tracefs`, `configfs`, `fusectl`, `mqueue`,
///    `hugetlbfs`, `autofs`, `binfmt_misc`, `nsfs`, `efivarfs`, `selinuxfs`,
///    `rpc_pipefs`, `nfsd`, `ramfs`), and so are `squashfs` images (snaps, live
///    media), which are read-only and always 100 % full.
/// 2. Mounts at or under /proc and /sys are skipped whatever their type.
/// 3. `tmpfs` and `overlay` are kept: a full /run, /dev/shm or container root is a
///    real problem. Network and FUSE filesystems are kept too; note that, as with
///    `df`, a hung NFS server can make `statvfs(3)` wait.
/// 4. A mount point mounted over again counts once, as its last (topmost, visible)
///    mount: that is the one `statvfs` sees.
/// 5. Mounts of one device (same `major:minor` in mountinfo: bind mounts, btrfs
///    subvolumes) are reported once, at the mount that shows the filesystem's root
///    (`/` in mountinfo's root field) if there is one, else the shortest mount path;
///    ties go to the earlier mount.
/// 6. After `statvfs(3)`: filesystems of size zero, and mounts it fails on
///    (permission, a stale network mount), are skipped.
package enum FilesystemSelection {
    package static let pseudoTypes: Set<String> = [
        "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "pstore", "bpf",
        "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc",
        "nsfs", "efivarfs", "selinuxfs", "rpc_pipefs", "nfsd", "ramfs", "squashfs",
    ]

    /// Rules 1 to 5: the mounts worth a `statvfs`, in mountinfo order.
    package static func select(_ mounts: [MountinfoEntry]) -> [MountinfoEntry] {
        var topmost: [String: Int] = [:]  // mount point → index of its last mount
        for (i, m) in mounts.enumerated() { topmost[m.mountPoint] = i }
        var chosen: [Int: Int] = [:]  // device key → index into `kept`
        var kept: [MountinfoEntry] = []
        for (i, m) in mounts.enumerated() {
            if topmost[m.mountPoint] != i { continue }
            if pseudoTypes.contains(m.fstype) { continue }
            if isUnder(m.mountPoint, "/proc") || isUnder(m.mountPoint, "/sys") { continue }
            let key = m.major << 32 | m.minor
            if let i = chosen[key] {
                if better(m, than: kept[i]) { kept[i] = m }
            } else {
                chosen[key] = kept.count
                kept.append(m)
            }
        }
        return kept
    }

    private static func better(_ a: MountinfoEntry, than b: MountinfoEntry) -> Bool {
        let aRoot = a.root == "/", bRoot = b.root == "/"
        if aRoot != bRoot { return aRoot }
        return a.mountPoint.utf8.count < b.mountPoint.utf8.count
    }

    private static func isUnder(_ path: String, _ dir: String) -> Bool {
        path == dir || path.hasPrefix(dir + "/")
    }
}
