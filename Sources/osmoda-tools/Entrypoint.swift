import OsmodaCommands

/// The multi-call binary: `osmoda-health` and friends are links to it (ADR 0001).
@main
enum Entrypoint {
    static func main() { MultiCall.main(CommandLine.arguments) }
}
