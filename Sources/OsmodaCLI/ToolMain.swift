import ArgumentParser
import OsmodaSystem
#if canImport(Glibc)
import Glibc
#endif

/// Runs a tool's command, reporting usage errors as `prog: error: …` (CONVENTIONS 9)
/// followed by the usage line, instead of ArgumentParser's full help. Every tool's entry
/// point, the multi-call binary's and osmoda-egress's (a binary of its own) use it.
public enum ToolMain {
    public static func run(_ command: any ParsableCommand.Type, _ arguments: [String]? = nil) -> Never {
        let args = arguments ?? Array(CommandLine.arguments.dropFirst())
        let name = command.configuration.commandName ?? "osmoda"
        // A parent may have left SIGTERM blocked (inherited through exec): every tool, and
        // every step or probe it starts, must stop when asked.
        Sys.unblockStopSignals()
        do {
            var parsed = try command.parseAsRoot(args)
            try parsed.run()
            exit(0)
        } catch {
            let code = command.exitCode(for: error)
            if let e = error as? ExitCode {
                exit(e.rawValue)
            }
            if code == .success {
                // --help, --version, completion scripts: the message is the output.
                write(1, command.fullMessage(for: error) + "\n")
                exit(0)
            }
            var message = command.message(for: error)
            if let first = message.first, first.isUppercase, !(message.dropFirst().first?.isUppercase ?? false) {
                message = first.lowercased() + message.dropFirst()
            }
            if message.hasPrefix("error: ") { message.removeFirst("error: ".count) }
            write(2, "\(name): error: \(message)\nusage: \(command.usageString())\nSee '\(name) --help'.\n")
            exit(code.rawValue == ExitCode.validationFailure.rawValue ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }

    private static func write(_ fd: Int32, _ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { try? Sys.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
