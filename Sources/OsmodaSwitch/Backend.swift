import OsmodaCore
import OsmodaSystem

/// A state a backend can return to: a NixOS generation (number and store path), or
/// whatever the `command` backend's `current` command printed.
public struct GenRef: Codable, Sendable, Equatable {
    /// The generation number, when there is one.
    public var number: Int?
    /// The store path, or the command backend's state text.
    public var path: String

    public init(number: Int?, path: String) {
        self.number = number
        self.path = path
    }

    /// `42`, or the state text.
    public var label: String { number.map(String.init) ?? path }

    enum CodingKeys: String, CodingKey { case number, path }
}

/// How `switch-to-configuration` (or a command backend's command) ended.
public enum ActivationResult: String, Codable, Sendable {
    case ok
    /// Exit 1: a pre-switch check or the boot loader installation failed.
    case preSwitchFailed = "pre_switch_failed"
    /// Exit 2: the activation script failed.
    case activationFailed = "activation_failed"
    /// Exit 4: some unit failed to start.
    case unitsFailed = "units_failed"
    /// It ran out of time; its process group was killed.
    case timeout
    /// Anything else: another status, a signal, or it could not be started.
    case failed

    /// The meaning of `switch-to-configuration`'s exit status.
    public static func nixos(exitStatus: Int32?, timedOut: Bool) -> ActivationResult {
        if timedOut { return .timeout }
        switch exitStatus {
        case 0: return .ok
        case 1: return .preSwitchFailed
        case 2: return .activationFailed
        case 4: return .unitsFailed
        default: return .failed
        }
    }
}

/// The outcome of one activation.
public struct Activation: Sendable, Equatable {
    public var action: String
    public var exitStatus: Int?
    public var signal: Int?
    public var result: ActivationResult
    /// Why it failed, for people: the tail of its standard error, or the error that kept it from starting.
    public var detail: String
    public var startedMs: Int64
    public var durationMs: Double

    public var ok: Bool { result == .ok }
}

/// What SafeSwitch and `osmoda-gen` act through: NixOS generations, or commands.
public protocol SwitchBackend: Sendable {
    /// `nixos` or `command`.
    var kind: String { get }
    /// The state the system is in now.
    func current() throws(GenError) -> GenRef
    /// The state named by `text`: a generation number or a store path for NixOS.
    func resolve(_ text: String) throws(GenError) -> GenRef
    /// Activates `target` without making it the boot default (`switch-to-configuration test`).
    /// `onStart` gets the process group id of the activation as soon as it runs, so
    /// that it can be recorded and killed by whoever takes over if this process dies.
    func tryOut(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation
    /// Makes `target` the default (profile link + `switch-to-configuration boot`).
    func makeDefault(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation
    /// Goes to `target` for good (profile link + `switch-to-configuration switch`), to
    /// switch to it or to return to it.
    func returnTo(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation
}

extension SwitchBackend {
    public func tryOut(_ target: GenRef, timeoutMs: Int64) -> Activation { tryOut(target, timeoutMs: timeoutMs, onStart: { _ in }) }
    public func makeDefault(_ target: GenRef, timeoutMs: Int64) -> Activation { makeDefault(target, timeoutMs: timeoutMs, onStart: { _ in }) }
    public func returnTo(_ target: GenRef, timeoutMs: Int64) -> Activation { returnTo(target, timeoutMs: timeoutMs, onStart: { _ in }) }
}

/// Runs argv with a timeout (the whole process group is killed at it) and interprets the result.
func runActivation(_ argv: [String], action: String, timeoutMs: Int64, nixos: Bool, onStart: (Int32) -> Void = { _ in }) -> Activation {
    let start = Sys.now().millisecondsSinceEpoch
    let mono = Sys.monotonicNanos()
    let r: SpawnResult
    do {
        let child = try Spawn.start(SpawnOptions(argv: argv, timeoutMs: timeoutMs, outputLimit: 4096, killGraceMs: 2000))
        onStart(child.pid)
        r = child.wait()
    } catch {
        return Activation(action: action, exitStatus: nil, signal: nil, result: .failed, detail: "cannot run '\(argv.first ?? "")': \(error.description)",
                          startedMs: start, durationMs: Double(Sys.monotonicNanos() &- mono) / 1e6)
    }
    let result: ActivationResult = nixos ? .nixos(exitStatus: r.exitStatus, timedOut: r.timedOut)
        : (r.timedOut ? .timeout : (r.exitStatus == 0 ? .ok : .failed))
    var detail = ""
    if result == .timeout {
        detail = "no exit after \(timeoutMs) ms: its process group was killed"
    } else if result != .ok {
        let tail = trimmed(String(decoding: r.stderrTail.isEmpty ? r.stdoutTail : r.stderrTail, as: UTF8.self))
        let lastLines = tail.split(separator: "\n").suffix(3).joined(separator: " | ")
        detail = r.statusDescription + (lastLines.isEmpty ? "" : ": " + String(lastLines.prefix(500)))
    }
    return Activation(action: action, exitStatus: r.exitStatus.map(Int.init), signal: r.signal.map(Int.init), result: result,
                      detail: detail, startedMs: start, durationMs: (Double(r.durationNanos) / 1000).rounded() / 1000)
}

/// NixOS: a system profile and `switch-to-configuration`.
public struct NixOSBackend: SwitchBackend {
    public let profile: NixProfile
    public var kind: String { "nixos" }

    public init(profile: NixProfile) { self.profile = profile }

    public func current() throws(GenError) -> GenRef {
        let n = try profile.currentNumber()
        return GenRef(number: n, path: try profile.storePath(n))
    }

    public func resolve(_ text: String) throws(GenError) -> GenRef {
        let t = trimmed(text)
        if let n = Int(t), n > 0 { return GenRef(number: n, path: try profile.storePath(n)) }
        guard t.hasPrefix("/") else { throw GenError(.badData, "'\(t)' is neither a generation number nor a store path") }
        guard FileStatus.exists(t) else { throw GenError(.notFound, "store path '\(t)' does not exist") }
        if let n = try profile.number(forStorePath: t) { return GenRef(number: n, path: try profile.storePath(n)) }
        let n = try profile.addGeneration(t)
        return GenRef(number: n, path: t)
    }

    func program(_ target: GenRef) throws(GenError) -> String {
        guard let n = target.number else { throw GenError(.badData, "a NixOS state needs a generation number") }
        let p = "\(profile.linkPath(n))/bin/switch-to-configuration"
        guard Sys.isExecutable(p) else { throw GenError(.notFound, "generation \(n) has no executable bin/switch-to-configuration") }
        return p
    }

    func activate(_ target: GenRef, action: String, setLink: Bool, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        let start = Sys.now().millisecondsSinceEpoch
        do {
            let program = try program(target)
            if setLink, let n = target.number { try profile.setCurrent(n) }
            return runActivation([program, action], action: action, timeoutMs: timeoutMs, nixos: true, onStart: onStart)
        } catch {
            return Activation(action: action, exitStatus: nil, signal: nil, result: .failed, detail: error.message, startedMs: start, durationMs: 0)
        }
    }

    public func tryOut(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        activate(target, action: "test", setLink: false, timeoutMs: timeoutMs, onStart: onStart)
    }

    public func makeDefault(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        activate(target, action: "boot", setLink: true, timeoutMs: timeoutMs, onStart: onStart)
    }

    public func returnTo(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        activate(target, action: "switch", setLink: true, timeoutMs: timeoutMs, onStart: onStart)
    }
}

/// The `command` backend's configuration: argv commands, `{target}` replaced by the state.
///
///     {"current": ["/usr/local/bin/app-version"],
///      "apply": ["/usr/local/bin/app-deploy", "{target}"],
///      "return": ["/usr/local/bin/app-deploy", "--restore", "{target}"],
///      "commit": ["/usr/local/bin/app-pin", "{target}"]}
public struct CommandConfig: Codable, Sendable, Equatable {
    /// Prints the current state on its last non-empty line of standard output.
    public var current: [String]
    /// Applies `{target}` on probation.
    public var apply: [String]
    /// Returns to the recorded state `{target}`.
    public var returnTo: [String]
    /// Makes `{target}` permanent; optional.
    public var commit: [String]?

    enum CodingKeys: String, CodingKey {
        case current, apply
        case returnTo = "return"
        case commit
    }

    /// Parses and checks a config file's bytes.
    public static func parse(_ bytes: [UInt8], source: String) throws(GenError) -> CommandConfig {
        let value: JSONValue
        do { value = try JSONReader.parse(bytes) } catch {
            throw GenError(.badData, "\(source): \(error)")
        }
        let c: CommandConfig
        do { c = try ValueDecoder.decode(CommandConfig.self, from: value) } catch {
            throw GenError(.badData, "\(source): \(error)")
        }
        for (field, argv) in [("current", c.current), ("apply", c.apply), ("return", c.returnTo), ("commit", c.commit ?? ["x"])] where argv.isEmpty || argv[0].isEmpty {
            throw GenError(.badData, "\(source): field '\(field)': expected a non-empty array of strings (argv)")
        }
        return c
    }
}

/// Hosts without NixOS: commands report the state, apply one, and return to one.
public struct CommandBackend: SwitchBackend {
    public let config: CommandConfig
    public var kind: String { "command" }

    public init(config: CommandConfig) { self.config = config }

    public func current() throws(GenError) -> GenRef {
        let r: SpawnResult
        do { r = try Spawn.run(SpawnOptions(argv: config.current, timeoutMs: 60_000, outputLimit: 65536)) } catch {
            throw GenError(.unavailable, "cannot run the current command: \(error.description)")
        }
        guard r.exitStatus == 0 else { throw GenError(.badData, "the current command failed: \(r.statusDescription)") }
        let lines = String(decoding: r.stdoutTail, as: UTF8.self).split(separator: "\n").map { trimmed(String($0)) }.filter { !$0.isEmpty }
        guard let last = lines.last else { throw GenError(.badData, "the current command printed no state") }
        return resolve(last)
    }

    public func resolve(_ text: String) -> GenRef {
        let t = trimmed(text)
        return GenRef(number: Int(t), path: t)
    }

    func argv(_ template: [String], _ target: GenRef) -> [String] {
        template.map { $0.replacing("{target}", with: target.path) }
    }

    public func tryOut(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        runActivation(argv(config.apply, target), action: "apply", timeoutMs: timeoutMs, nixos: false, onStart: onStart)
    }

    public func makeDefault(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        guard let commit = config.commit else {
            return Activation(action: "commit", exitStatus: nil, signal: nil, result: .ok, detail: "", startedMs: Sys.now().millisecondsSinceEpoch, durationMs: 0)
        }
        return runActivation(argv(commit, target), action: "commit", timeoutMs: timeoutMs, nixos: false, onStart: onStart)
    }

    public func returnTo(_ target: GenRef, timeoutMs: Int64, onStart: (Int32) -> Void) -> Activation {
        runActivation(argv(config.returnTo, target), action: "return", timeoutMs: timeoutMs, nixos: false, onStart: onStart)
    }

    /// `osmoda-gen switch N` on this backend applies N for good.
    public func apply(_ target: GenRef, timeoutMs: Int64) -> Activation {
        runActivation(argv(config.apply, target), action: "apply", timeoutMs: timeoutMs, nixos: false)
    }
}

