import OsmodaSystem
#if canImport(Glibc)
import Glibc
#endif

/// Writes the generated docs under a package root.
public enum DocsWriter {
    public static func writeAll(to root: String) throws {
        for f in try DocsGenerator.allFiles() {
            let path = root + "/" + f.path
            let dir = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            mkdir(dir, 0o755)
            let fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC)
            defer { Sys.close(fd) }
            try Sys.writeAll(fd, Array(f.contents.utf8))
            print("wrote \(f.path)")
        }
    }
}
