import ArgumentParser
import OsmodaCLI
import OsmodaCore
import OsmodaIPC
import OsmodaSwitch
import OsmodaSystem

/// `osmoda-gen`: NixOS generations (or a command backend's states).
public struct GenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "osmoda-gen",
        abstract: "List, compare and switch between NixOS system generations.",
        discussion: """
            Works on a NixOS system profile: the link /nix/var/nix/profiles/system and its \
            system-N-link siblings (--profile or OSMODA_PROFILE names another). list writes one \
            gen.generation record per generation, current the current one. switch N and \
            rollback --to N always go to that explicit generation, never "one back": the profile \
            link is replaced atomically (a new link under a temporary name, rename(2), fsync of \
            the directory), then <generation>/bin/switch-to-configuration switch runs with a \
            timeout that kills its whole process group. A gen.switch record says how it ended: \
            result ok, pre_switch_failed (exit 1: a pre-switch check or the boot loader failed), \
            activation_failed (exit 2: the activation script failed), units_failed (exit 4: some \
            unit failed), timeout, or failed (anything else). diff runs nix store diff-closures.

            On a host without NixOS, --backend command --config FILE names argv commands instead \
            (JSON; {target} is replaced by the state): "current" prints the current state on its \
            last line, "apply" applies one, "return" returns to a recorded one, and the optional \
            "commit" makes one permanent. switch N runs apply, rollback --to N runs return.

            Examples:
              osmoda-gen list --format table
              osmoda-gen current
              osmoda-gen diff 41 42
              osmoda-gen rollback --to 41 --timeout 10m
              osmoda-gen switch v2 --backend command --config /etc/osmoda/app-backend.json
            """,
        version: "osmoda-gen (osmoda) \(osmodaVersion)",
        subcommands: [GenList.self, GenCurrent.self, GenDiff.self, GenSwitch.self, GenRollback.self]
    )

    public init() {}
}

/// Where the generations are: the profile and the booted system, or a command backend.
struct GenOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).", valueName: "path"),
            completion: .file())
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("The booted system's link.", valueName: "path"), completion: .file())
    var booted: String = NixProfile.defaultBooted

    @Option(name: .long, help: ArgumentHelp("nixos (a system profile) or command (argv commands from --config).", valueName: "kind"))
    var backend: String = "nixos"

    @Option(name: .long, help: ArgumentHelp("The command backend's JSON config.", valueName: "file"), completion: .file(extensions: ["json"]))
    var config: String?

    func validate() throws {
        guard backend == "nixos" || backend == "command" else { throw ValidationError("--backend must be nixos or command") }
        if backend == "command" && config == nil { throw ValidationError("--backend command needs --config FILE") }
    }

    /// The profile as an absolute path: the guardian runs in "/".
    var profilePath: String {
        absolutePath(profile ?? Sys.env("OSMODA_PROFILE").flatMap { $0.isEmpty ? nil : $0 } ?? NixProfile.defaultPath)
    }

    var nixProfile: NixProfile { NixProfile(path: profilePath, bootedPath: absolutePath(booted)) }

    /// The backend as it can be rebuilt by another process.
    func spec() throws(ToolFailure) -> BackendSpec {
        guard backend == "command" else { return BackendSpec(kind: "nixos", profile: profilePath, booted: absolutePath(booted)) }
        let path = config ?? ""
        let bytes: [UInt8]
        do { bytes = try Sys.readFile(path, limit: 1 << 20) } catch {
            throw ToolFailure("cannot read the backend config '\(path)': \(error.message)", status: .noInput)
        }
        do { return BackendSpec(kind: "command", command: try CommandConfig.parse(bytes, source: path)) } catch {
            throw ToolFailure(error.message, status: .config)
        }
    }
}

/// `path` made absolute against the working directory.
func absolutePath(_ path: String) -> String { path.hasPrefix("/") ? path : PathCalls.workingDirectory() + "/" + path }

extension GenError {
    var failure: ToolFailure {
        let status: ExitStatus
        switch kind {
        case .notFound: status = .noInput
        case .badData: status = .dataError
        case .unavailable: status = .unavailable
        case .io: status = .ioError
        case .usage: status = .usage
        case .busy: status = .tempFail
        }
        return ToolFailure(message, status: status)
    }
}

func gen<T>(_ body: () throws(GenError) -> T) throws(ToolFailure) -> T {
    do { return try body() } catch { throw error.failure }
}

/// Parses `--timeout`.
func timeoutMs(_ text: String, flag: String = "--timeout") throws -> Int64 {
    do {
        let ms = try DurationParser.milliseconds(text)
        guard ms > 0 else { throw ValidationError("\(flag) must be more than 0") }
        return ms
    } catch let e as DurationParser.Failure {
        throw ValidationError("\(flag): \(e.description)")
    }
}

struct GenList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Write one gen.generation record per generation, oldest first.")

    @OptionGroup var where_: GenOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-gen") { _ in
            let sink = RecordSink(format: output.format, columns: ["number", "current", "booted", "boot_default", "created", "nixos_version", "kernel"])
            let now = Sys.now()
            if where_.backend == "command" {
                let b = try where_.spec().make()
                let c = try gen { () throws(GenError) in try b.current() }
                try sink.emit(Generation.commandState(c), at: now)
            } else {
                for g in try gen({ () throws(GenError) in try where_.nixProfile.list() }) { try sink.emit(g, at: now) }
            }
            try sink.flush()
            return .success
        }
    }
}

struct GenCurrent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "current", abstract: "Write the gen.generation record of the current generation.")

    @OptionGroup var where_: GenOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-gen") { _ in
            let sink = RecordSink(format: output.format)
            if where_.backend == "command" {
                let b = try where_.spec().make()
                let c = try gen { () throws(GenError) in try b.current() }
                try sink.emit(Generation.commandState(c), at: Sys.now())
            } else {
                try sink.emit(try gen { () throws(GenError) in try where_.nixProfile.current() }, at: Sys.now())
            }
            try sink.flush()
            return .success
        }
    }
}

struct GenDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Write one gen.diff record per package that differs between generations A and B (nix store diff-closures).")

    @Argument(help: ArgumentHelp("The older generation.", valueName: "A")) var a: Int
    @Argument(help: ArgumentHelp("The newer generation.", valueName: "B")) var b: Int
    @OptionGroup var where_: GenOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        try runTool("osmoda-gen") { _ in
            let profile = where_.nixProfile
            let pa = try gen { () throws(GenError) in try profile.storePath(a) }
            let pb = try gen { () throws(GenError) in try profile.storePath(b) }
            guard let nix = ProgramLocator.locate("nix", selfExecutable: nil, searchPath: Sys.env("PATH") ?? "/usr/bin:/bin") else {
                throw ToolFailure("nix is not installed (no 'nix' on PATH): diff needs 'nix store diff-closures'", status: .unavailable)
            }
            let r: SpawnResult
            do {
                r = try Spawn.run(SpawnOptions(argv: [nix, "--extra-experimental-features", "nix-command", "store", "diff-closures", pa, pb],
                                               timeoutMs: 300_000, outputLimit: 8 << 20))
            } catch {
                throw ToolFailure("cannot run nix: \(error)", status: .unavailable)
            }
            guard r.exitStatus == 0 else {
                let err = String(decoding: r.stderrTail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
                throw ToolFailure("nix store diff-closures failed (\(r.statusDescription)): \(err)", status: .unavailable)
            }
            let sink = RecordSink(format: output.format)
            let now = Sys.now()
            for line in DiffClosures.parse(String(decoding: r.stdoutTail, as: UTF8.self)) {
                try sink.emit(GenDiffRecord(from: a, to: b, package: line.package, change: line.change), at: now)
            }
            try sink.flush()
            return .success
        }
    }
}

/// The lines of `nix store diff-closures`: `name: 1.0 → 1.1, +12.3 KiB`.
enum DiffClosures {
    static func parse(_ text: String) -> [(package: String, change: String)] {
        var out: [(String, String)] = []
        for raw in text.split(separator: "\n") {
            let line = stripEscapes(String(raw))
            guard let colon = line.firstRange(of: ": ") else { continue }
            let name = String(line[..<colon.lowerBound])
            let change = String(line[colon.upperBound...])
            if !name.isEmpty && !change.isEmpty { out.append((name, change)) }
        }
        return out
    }

    /// Drops ANSI colour sequences (`ESC [ … m`).
    static func stripEscapes(_ s: String) -> String {
        var out = ""
        var inEscape = false
        for ch in s {
            if inEscape { if ch.isLetter { inEscape = false }; continue }
            if ch == "\u{1B}" { inEscape = true; continue }
            out.append(ch)
        }
        return out
    }
}

/// `switch N` and `rollback --to N`: go to an explicit generation for good.
func goTo(_ target: String, rollback: Bool, options: GenOptions, timeout: String, ledger: LedgerOptions, diagnostics: Diagnostics) throws -> ExitStatus {
    let spec = try options.spec()
    let backend = spec.make()
    let from = try? backend.current()
    let to = try gen { () throws(GenError) in
        if let nix = backend as? NixOSBackend { return try nix.resolve(target) }
        return try backend.resolve(target)
    }
    let ms = try timeoutMs(timeout)
    let act: Activation
    if let command = backend as? CommandBackend, !rollback {
        act = command.apply(to, timeoutMs: ms)
    } else {
        act = backend.returnTo(to, timeoutMs: ms)
    }
    let record = GenSwitchRecord(from: from?.number, to: to, activation: act)
    let now = Sys.now()
    let out = RecordOutput()
    try out.write(record, at: now)
    do { try out.flush() } catch { throw ToolFailure.output(error) }
    if case .object(let payload)? = try? record.jsonValue(at: now) {
        let rec = ledger.recorder("osmoda-gen", diagnostics: diagnostics)
        try rec.record(GenSwitchRecord.type, payload)
    }
    if !act.ok { diagnostics.error("\(rollback ? "rollback" : "switch") to \(to.label): \(act.result.rawValue)\(act.detail.isEmpty ? "" : ": " + act.detail)") }
    return act.ok ? .success : .no
}

struct GenSwitch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Make generation N current: replace the profile link atomically, then switch-to-configuration switch.")

    @Argument(help: ArgumentHelp("The generation number (or, with --backend command, the state).", valueName: "N")) var generation: String
    @Option(name: .long, help: ArgumentHelp("How long switch-to-configuration may run before its process group is killed.", valueName: "duration"))
    var timeout: String = "5m"
    @OptionGroup var where_: GenOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws { _ = try timeoutMs(timeout) }

    func run() throws {
        try runTool("osmoda-gen") { d in try goTo(generation, rollback: false, options: where_, timeout: timeout, ledger: ledger, diagnostics: d) }
    }
}

struct GenRollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Return to the explicit generation given by --to (never \"one back\").")

    @Option(name: .long, help: ArgumentHelp("The generation to return to.", valueName: "N")) var to: String
    @Option(name: .long, help: ArgumentHelp("How long switch-to-configuration may run before its process group is killed.", valueName: "duration"))
    var timeout: String = "5m"
    @OptionGroup var where_: GenOptions
    @OptionGroup var ledger: LedgerOptions

    func validate() throws { _ = try timeoutMs(timeout) }

    func run() throws {
        try runTool("osmoda-gen") { d in try goTo(to, rollback: true, options: where_, timeout: timeout, ledger: ledger, diagnostics: d) }
    }
}
