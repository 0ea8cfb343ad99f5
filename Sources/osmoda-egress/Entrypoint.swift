import OsmodaCLI
import OsmodaEgressServer

@main
enum Entrypoint {
    static func main() { ToolMain.run(EgressCommand.self) }
}
