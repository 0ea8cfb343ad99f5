import OsmodaCLI
import OsmodaCommands

@main
enum Entrypoint {
    static func main() { ToolMain.run(SwitchCommand.self) }
}
