import OsmodaDocs

/// Regenerates man/ and completions/ from the command definitions.
@main
enum Entrypoint {
    static func main() throws { try DocsWriter.writeAll(to: CommandLine.arguments.dropFirst().first ?? ".") }
}
