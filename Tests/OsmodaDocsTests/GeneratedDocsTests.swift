import Foundation
import OsmodaCommands
import OsmodaDocs
import OsmodaTestSupport
import Testing

/// The man pages and completions are generated from the command definitions and
/// checked in; this fails when they drift. Regenerate with `swift run osmoda-gendocs`.
struct GeneratedDocsTests {
    static let files: [DocsGenerator.File] = (try? DocsGenerator.allFiles()) ?? []

    @Test func everyToolHasPagesAndCompletions() throws {
        let files = try DocsGenerator.allFiles()
        #expect(files.count == documentedTools.count * 4)
    }

    @Test(arguments: files.map(\.path))
    func checkedInCopyMatches(_ path: String) throws {
        let generated = try #require(Self.files.first { $0.path == path })
        let onDisk = try? String(contentsOf: ToolRunner.packageRoot.appendingPathComponent(path), encoding: .utf8)
        #expect(onDisk == generated.contents, "\(path) is stale: run `swift run osmoda-gendocs` and commit the result")
    }

    @Test func manPagesHaveTheRequiredSections() throws {
        for f in Self.files where f.path.hasPrefix("man/") {
            for section in [".Sh NAME", ".Sh SYNOPSIS", ".Sh DESCRIPTION", ".Sh EXIT STATUS", ".Sh SEE ALSO"] {
                #expect(f.contents.contains(section + "\n"), "\(f.path) lacks \(section)")
            }
            // No line may start a macro by accident: text lines never begin with a dot
            // unless they are macros the generator wrote.
            for line in f.contents.split(separator: "\n") where line.hasPrefix(".") {
                let macro = line.dropFirst().prefix { $0 != " " }
                #expect(["\\\"", "Dd", "Dt", "Os", "Sh", "Nm", "Nd", "Op", "Ar", "Fl", "Pp", "Bd", "Ed", "Bl", "El", "It", "Xr", "Cm"].contains(String(macro)),
                        "\(f.path): unexpected macro line \(line)")
            }
        }
    }

    /// mandoc, where installed, must accept every page without warnings.
    @Test func mandocLintsCleanWhenAvailable() throws {
        let mandoc = ["/usr/bin/mandoc", "/usr/local/bin/mandoc"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let mandoc else { return }
        for file in Self.files where file.path.hasPrefix("man/") {
            let page = file.path
            let path = ToolRunner.packageRoot.appendingPathComponent(page).path
            let r = try ToolRunner.run(mandoc, ["-T", "lint", "-W", "warning", path])
            #expect(r.status == 0, "mandoc -T lint \(page): \(r.stdoutText)\(r.stderrText)")
        }
    }
}
