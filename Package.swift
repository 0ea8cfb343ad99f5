// swift-tools-version:6.2
//
// The module layers follow DESIGN §8: a pure core, thin system wrappers, feature
// modules, CLI plumbing, command definitions, and one ≤10-line entry point per tool.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

/// Every tool, by its installed name and the folder of its entry point.
let tools = ["osmoda-health", "osmoda-query", "osmoda-check", "osmoda-where", "osmoda-fmt", "osmoda-ledger", "osmoda-watch", "osmodad", "osmoda-cron", "osmoda-routines", "osmoda-gen", "osmoda-switch", "osmoda-keys"]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "osmoda",
    products: tools.map { .executable(name: $0, targets: [$0]) } + [
        .executable(name: "osmoda-tools", targets: ["osmoda-tools"]),
        .executable(name: "osmoda-egress", targets: ["osmoda-egress"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The egress proxy's server only (DESIGN §7, ADR 0033); never linked into osmoda-tools.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        // struct ucred, accept4 and friends, which Swift's Glibc module does not show.
        .target(name: "CShim"),
        .target(name: "OsmodaCore", swiftSettings: strict),
        .target(name: "OsmodaLedger", dependencies: ["OsmodaCore", "COpenSSL", "CSQLite", "CSodium"], swiftSettings: strict),
        .target(name: "OsmodaIPC", dependencies: ["OsmodaCore", "OsmodaSystem", "CShim"], swiftSettings: strict),
        .target(name: "OsmodaDaemon", dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaIPC", "OsmodaLedger", "CShim"], swiftSettings: strict),
        .target(name: "OsmodaSystem", dependencies: ["OsmodaCore", "COpenSSL"], swiftSettings: strict),
        .target(name: "OsmodaCLI", dependencies: ["OsmodaCore", "OsmodaSystem", argumentParser], swiftSettings: strict),
        .target(name: "OsmodaHealth", dependencies: ["OsmodaCore", "OsmodaSystem"], swiftSettings: strict),
        .target(name: "OsmodaQuery", dependencies: ["OsmodaCore", "OsmodaSystem"], swiftSettings: strict),
        .target(name: "OsmodaCheck", dependencies: ["OsmodaCore", "OsmodaSystem"], swiftSettings: strict),
        .target(name: "OsmodaCron", dependencies: ["OsmodaCore", "OsmodaSystem"], swiftSettings: strict),
        .target(name: "OsmodaRoutines", dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaCron"], swiftSettings: strict),
        .target(name: "OsmodaWatch", dependencies: ["OsmodaCore", "OsmodaSystem"], swiftSettings: strict),
        .target(name: "OsmodaVault", dependencies: ["OsmodaCore", "COpenSSL", "CSodium", "CSecp256k1"], swiftSettings: strict),
        // The vault's service in osmodad: key files, lifecycle, spend policy, signing methods.
        .target(name: "OsmodaKeys", dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaIPC", "OsmodaDaemon", "OsmodaLedger", "OsmodaVault"],
                swiftSettings: strict),
        // The egress proxy's policy: address classification, host names, rules. No networking.
        .target(name: "OsmodaEgress", dependencies: ["OsmodaCore", "COpenSSL"], swiftSettings: strict),
        // The egress proxy's server (SwiftNIO) and its command. Its own binary: NIO stays out
        // of OsmodaCommands and of every other tool's start-up (ADR 0033).
        .target(name: "OsmodaEgressServer",
                dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaCLI", "OsmodaIPC", "OsmodaEgress", argumentParser,
                               .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
                swiftSettings: strict),
        .target(name: "OsmodaSwitch", dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaCheck"], swiftSettings: strict),
        .target(
            name: "OsmodaCommands",
            dependencies: ["OsmodaCore", "OsmodaSystem", "OsmodaCLI", "OsmodaHealth", "OsmodaQuery", "OsmodaCheck", "OsmodaWatch",
                           "OsmodaIPC", "OsmodaDaemon", "OsmodaLedger", "OsmodaCron", "OsmodaRoutines", "OsmodaSwitch", "OsmodaKeys",
                           "OsmodaVault", argumentParser],
            swiftSettings: strict
        ),
        .target(
            name: "OsmodaDocs",
            dependencies: ["OsmodaCommands", "OsmodaEgressServer", argumentParser],
            swiftSettings: strict
        ),
        .executableTarget(name: "osmoda-tools", dependencies: ["OsmodaCommands"], swiftSettings: strict),
        .executableTarget(name: "osmoda-egress", dependencies: ["OsmodaEgressServer", "OsmodaCLI"], swiftSettings: strict),
        .executableTarget(name: "osmoda-gendocs", dependencies: ["OsmodaDocs"], swiftSettings: strict),
        .target(name: "OsmodaTestSupport", dependencies: ["OsmodaCore", "OsmodaSystem"], path: "Tests/OsmodaTestSupport", swiftSettings: strict),
        .testTarget(name: "OsmodaCoreTests", dependencies: ["OsmodaCore", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaSystemTests", dependencies: ["OsmodaSystem", "OsmodaHealth", "OsmodaQuery", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaCheckTests", dependencies: ["OsmodaCheck", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaWatchTests", dependencies: ["OsmodaWatch", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaDocsTests", dependencies: ["OsmodaDocs", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaLedgerTests", dependencies: ["OsmodaLedger", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaIPCTests", dependencies: ["OsmodaIPC", "OsmodaDaemon", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaCronTests", dependencies: ["OsmodaCron", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaRoutinesTests", dependencies: ["OsmodaRoutines", "OsmodaCron", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaVaultTests", dependencies: ["OsmodaVault", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaKeysTests", dependencies: ["OsmodaKeys", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaEgressTests", dependencies: ["OsmodaEgress", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "OsmodaEgressServerTests", dependencies: ["OsmodaEgressServer", "OsmodaEgress", "OsmodaCore", "OsmodaTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "OsmodaSwitchTests", dependencies: ["OsmodaSwitch", "OsmodaCheck", "OsmodaTestSupport"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["OsmodaCore", "OsmodaVault", "OsmodaTestSupport"], swiftSettings: strict),
    ] + tools.map { .executableTarget(name: $0, dependencies: ["OsmodaCommands", "OsmodaCLI"], swiftSettings: strict) }
)
