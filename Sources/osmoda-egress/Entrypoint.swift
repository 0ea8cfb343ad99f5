import OsmodaEgressServer

@main
enum Entrypoint {
    static func main() { EgressMain.run() }
}
