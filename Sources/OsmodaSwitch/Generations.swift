import OsmodaCore
import OsmodaSystem

/// Why a generation operation could not be done; `kind` picks the exit status.
public struct GenError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The profile, a generation or a file it needs does not exist.
        case notFound
        /// A config file or a command's output is malformed.
        case badData
        /// A program the operation needs is not installed (nix).
        case unavailable
        /// A file could not be read or written.
        case io
        /// Asked for something that does not make sense (the generation already current).
        case usage
        /// Another switch is in probation.
        case busy
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// One generation of a NixOS system profile: a `gen.generation` record.
///
/// Every field is always written (`null` when it cannot be known), so rows line up.
public struct Generation: Record, Equatable {
    public static let type = "gen.generation"
    public static var writesAbsentAsNull: Bool { true }

    public var number: Int
    /// The store path the `system-N-link` points to.
    public var storePath: String
    /// When the link was made (its mtime), RFC 3339.
    public var created: String?
    /// The `nixos-version` file of the generation.
    public var nixosVersion: String?
    /// The kernel: the version under `kernel-modules/lib/modules`, else the target of
    /// the `kernel` link, else a short text `kernel` file.
    public var kernel: String?
    /// The profile link points to it.
    public var current: Bool
    /// `/run/booted-system` is this generation.
    public var booted: Bool
    /// The boot loader starts it by default (systemd-boot's loader.conf when there is
    /// one; otherwise the profile's current generation, which NixOS installs as default).
    public var bootDefault: Bool

    /// The command backend's current state as a generation record: its number when the
    /// state is an integer (else 0), the state text as the store path.
    public static func commandState(_ ref: GenRef) -> Generation {
        Generation(number: ref.number ?? 0, storePath: ref.path, created: nil, nixosVersion: nil, kernel: nil,
                   current: true, booted: false, bootDefault: true)
    }

    enum CodingKeys: String, CodingKey {
        case number
        case storePath = "store_path"
        case created
        case nixosVersion = "nixos_version"
        case kernel, current, booted
        case bootDefault = "boot_default"
    }
}

/// A NixOS profile: the link `…/profiles/system` and its `system-N-link` siblings.
public struct NixProfile: Sendable {
    public static let defaultPath = "/nix/var/nix/profiles/system"
    public static let defaultBooted = "/run/booted-system"
    public static let defaultLoaderConf = "/boot/loader/loader.conf"

    /// The profile link itself.
    public let path: String
    public let directory: String
    public let name: String
    public var bootedPath: String
    public var loaderConf: String

    public init(path: String, bootedPath: String = NixProfile.defaultBooted, loaderConf: String = NixProfile.defaultLoaderConf) {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        self.path = p
        if let slash = p.lastIndex(of: "/") {
            directory = slash == p.startIndex ? "/" : String(p[..<slash])
            name = String(p[p.index(after: slash)...])
        } else {
            directory = "."
            name = p
        }
        self.bootedPath = bootedPath
        self.loaderConf = loaderConf
    }

    /// The path of generation `n`'s link.
    public func linkPath(_ n: Int) -> String { "\(directory)/\(name)-\(n)-link" }

    /// The generation numbers present, ascending.
    public func numbers() throws(GenError) -> [Int] {
        let names: [String]
        do { names = try Sys.listDirectory(directory) } catch {
            throw GenError(.notFound, "cannot list the profile directory '\(directory)': \(error.message)")
        }
        let prefix = name + "-"
        var out: [Int] = []
        for n in names where n.hasPrefix(prefix) && n.hasSuffix("-link") {
            let middle = n.dropFirst(prefix.count).dropLast(5)
            if !middle.isEmpty, middle.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(middle) { out.append(v) }
        }
        return out.sorted()
    }

    /// The generation the profile link points to, or `nil` when it points elsewhere.
    public func currentNumber() throws(GenError) -> Int {
        let target: String
        do { target = try Sys.readLink(path) } catch {
            throw GenError(.notFound, "cannot read the profile link '\(path)': \(error.message)")
        }
        let base = target.split(separator: "/").last.map(String.init) ?? target
        let prefix = name + "-"
        if base.hasPrefix(prefix), base.hasSuffix("-link"), let n = Int(base.dropFirst(prefix.count).dropLast(5)) { return n }
        throw GenError(.badData, "the profile link '\(path)' points to '\(target)', not to a \(name)-N-link")
    }

    /// The store path of generation `n`.
    public func storePath(_ n: Int) throws(GenError) -> String {
        let link = linkPath(n)
        do { return try Sys.readLink(link) } catch {
            throw GenError(.notFound, "generation \(n) does not exist: \(error.description)")
        }
    }

    /// The generation whose link points to `storePath`, if any.
    public func number(forStorePath storePath: String) throws(GenError) -> Int? {
        let wanted = Sys.realPath(storePath) ?? storePath
        for n in try numbers().reversed() {
            let p = try self.storePath(n)
            if p == storePath || Sys.realPath(linkPath(n)) == wanted { return n }
        }
        return nil
    }

    /// Adds `system-(max+1)-link` → `storePath` without touching the profile link, as
    /// `nix-env --set` would before switching; returns its number.
    public func addGeneration(_ storePath: String) throws(GenError) -> Int {
        // Never replace a link: nix (or another osmoda) may have taken the number meanwhile.
        var attempt = 0
        while true {
            let n = (try numbers().last ?? 0) + 1
            do {
                try Sys.makeSymlink(linkPath(n), target: storePath)
                return n
            } catch {
                attempt += 1
                if error.code == 17 /* EEXIST */ && attempt < 10 { continue }
                throw GenError(.io, "cannot add generation \(n): \(error.description)")
            }
        }
    }

    /// Points the profile link at generation `n` atomically (symlink to a temporary
    /// name, `rename(2)`, directory `fsync`). The target is the relative name, as nix writes it.
    public func setCurrent(_ n: Int) throws(GenError) {
        _ = try storePath(n)
        do { try Sys.replaceSymlink(path, target: "\(name)-\(n)-link") } catch {
            throw GenError(.io, "cannot point the profile '\(path)' at generation \(n): \(error.description)")
        }
    }

    /// The generation record of `n`.
    public func generation(_ n: Int, current: Int?, bootDefault: Int?, booted: String?) throws(GenError) -> Generation {
        let link = linkPath(n)
        let store = try storePath(n)
        let created = (try? Sys.linkModifiedMillis(link)).map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 }
        let resolved = Sys.realPath(link)
        return Generation(
            number: n, storePath: store, created: created,
            nixosVersion: Sys.readText("\(link)/nixos-version").map(trimmed).flatMap { $0.isEmpty ? nil : $0 },
            kernel: kernelVersion(link),
            current: current == n,
            booted: booted != nil && resolved != nil && booted == resolved,
            bootDefault: bootDefault == n)
    }

    /// Every generation, ascending.
    public func list() throws(GenError) -> [Generation] {
        let current = try? currentNumber()
        let bootDefault = loaderDefault() ?? current
        let booted = Sys.realPath(bootedPath)
        var out: [Generation] = []
        for n in try numbers() { out.append(try generation(n, current: current, bootDefault: bootDefault, booted: booted)) }
        return out
    }

    /// The current generation's record.
    public func current() throws(GenError) -> Generation {
        let n = try currentNumber()
        return try generation(n, current: n, bootDefault: loaderDefault() ?? n, booted: Sys.realPath(bootedPath))
    }

    /// The generation systemd-boot starts by default (`default nixos-generation-N.conf`).
    func loaderDefault() -> Int? {
        guard let text = Sys.readText(loaderConf) else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 2, words[0] == "default" else { continue }
            let entry = words[1]
            guard let dash = entry.lastIndex(of: "-") else { return nil }
            let digits = entry[entry.index(after: dash)...].prefix { $0.isNumber }
            return Int(digits)
        }
        return nil
    }

    private func kernelVersion(_ link: String) -> String? {
        if let versions = try? Sys.listDirectory("\(link)/kernel-modules/lib/modules"), versions.count == 1 { return versions[0] }
        if let target = try? Sys.readLink("\(link)/kernel") { return target }
        guard let bytes = try? Sys.readFile("\(link)/kernel", limit: 256) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("\0") else { return nil }
        let t = trimmed(text)
        return t.isEmpty ? nil : t
    }
}

func trimmed(_ s: String) -> String {
    var sub = Substring(s)
    while let f = sub.first, f.isWhitespace { sub.removeFirst() }
    while let l = sub.last, l.isWhitespace { sub.removeLast() }
    return String(sub)
}
