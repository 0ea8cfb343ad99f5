import Foundation
import OsmodaCore
import Testing

/// Nicolas Seriot's JSONTestSuite (`test_parsing`), read in place from
/// `../shared/conformance/jsontestsuite/test_parsing` next to the package root.
@Suite("JSONTestSuite conformance")
struct JSONTestSuiteTests {
    static let directory = packageRoot() + "/../shared/conformance/jsontestsuite/test_parsing"

    /// Every file of the suite, by name; fails the test when the data is not there.
    static func files() throws -> [(name: String, bytes: [UInt8])] {
        var isDir: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) && isDir.boolValue,
            "JSONTestSuite not found at \(directory)"
        )
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        try #require(names.count >= 300, "expected at least 300 JSONTestSuite files in \(directory), found \(names.count)")
        return try names.map { name in
            let data = try #require(FileManager.default.contents(atPath: directory + "/" + name), "cannot read \(name)")
            return (name, [UInt8](data))
        }
    }

    /// What the reader does with each implementation-defined (`i_`) case, from its
    /// documented rules: invalid UTF-8, byte-order marks, lone surrogates, numbers that
    /// overflow a `Double` and nesting deeper than 256 are refused; numbers that
    /// underflow become 0; integers too large for `Int64` become doubles.
    static let implementationDefined: [String: Bool] = [
        // Underflow becomes 0.
        "i_number_double_huge_neg_exp.json": true,
        "i_number_real_underflow.json": true,
        // Overflow of a Double is refused.
        "i_number_huge_exp.json": false,
        "i_number_neg_int_huge_exp.json": false,
        "i_number_pos_double_huge_exp.json": false,
        "i_number_real_neg_overflow.json": false,
        "i_number_real_pos_overflow.json": false,
        // Integers beyond Int64 but within Double range become doubles.
        "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true,
        "i_number_very_big_negative_int.json": true,
        // Lone or mismatched surrogates in \u escapes are refused.
        "i_object_key_lone_2nd_surrogate.json": false,
        "i_string_1st_surrogate_but_2nd_missing.json": false,
        "i_string_1st_valid_surrogate_2nd_invalid.json": false,
        "i_string_incomplete_surrogate_and_escape_valid.json": false,
        "i_string_incomplete_surrogate_pair.json": false,
        "i_string_incomplete_surrogates_escape_valid.json": false,
        "i_string_invalid_lonely_surrogate.json": false,
        "i_string_invalid_surrogate.json": false,
        "i_string_inverted_surrogates_U+1D11E.json": false,
        "i_string_lone_second_surrogate.json": false,
        // Invalid UTF-8 (including encoded surrogates, overlongs and > U+10FFFF) is refused.
        "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false,
        "i_string_invalid_utf-8.json": false,
        "i_string_iso_latin_1.json": false,
        "i_string_lone_utf8_continuation_byte.json": false,
        "i_string_not_in_unicode_range.json": false,
        "i_string_overlong_sequence_2_bytes.json": false,
        "i_string_overlong_sequence_6_bytes.json": false,
        "i_string_overlong_sequence_6_bytes_null.json": false,
        "i_string_truncated-utf-8.json": false,
        // UTF-16 is not UTF-8, with or without a BOM.
        "i_string_UTF-16LE_with_BOM.json": false,
        "i_string_utf16BE_no_BOM.json": false,
        "i_string_utf16LE_no_BOM.json": false,
        // Nesting deeper than 256.
        "i_structure_500_nested_arrays.json": false,
        // A UTF-8 byte-order mark is refused.
        "i_structure_UTF-8_BOM_empty_object.json": false,
    ]

    /// Checks that an error points inside the input (the end counts: "unexpected end").
    static func checkOffset(_ error: JSONError, _ name: String, _ count: Int) {
        #expect((0...count).contains(error.offset), "\(name): offset \(error.offset) outside 0...\(count): \(error)")
        #expect(error.column == error.offset + 1, "\(name): column is not offset + 1")
    }

    @Test("the suite is present and complete")
    func suiteIsPresent() throws {
        let files = try Self.files()
        let prefixes = Dictionary(grouping: files, by: { $0.name.prefix(2) }).mapValues(\.count)
        #expect(prefixes["y_", default: 0] >= 90)
        #expect(prefixes["n_", default: 0] >= 180)
        #expect(prefixes["i_", default: 0] >= 30)
    }

    @Test("every y_ file parses")
    func acceptsEveryY() throws {
        let files = try Self.files().filter { $0.name.hasPrefix("y_") }
        #expect(!files.isEmpty)
        for (name, bytes) in files {
            switch parseResult(bytes) {
            case .success: break
            case .failure(let e): Issue.record("\(name) was refused: \(e)")
            }
        }
    }

    @Test("every n_ file is refused, with an offset inside the input")
    func refusesEveryN() throws {
        let files = try Self.files().filter { $0.name.hasPrefix("n_") }
        #expect(!files.isEmpty)
        for (name, bytes) in files {
            switch parseResult(bytes) {
            case .success(let v): Issue.record("\(name) was accepted as \(v)")
            case .failure(let e): Self.checkOffset(e, name, bytes.count)
            }
        }
    }

    @Test("every i_ file behaves as the table documents")
    func implementationDefinedCases() throws {
        let files = try Self.files().filter { $0.name.hasPrefix("i_") }
        // The table must name exactly the suite's i_ files, so a new case is noticed.
        #expect(Set(files.map(\.name)) == Set(Self.implementationDefined.keys))
        for (name, bytes) in files {
            guard let accepted = Self.implementationDefined[name] else { continue }
            switch parseResult(bytes) {
            case .success(let v):
                #expect(accepted, "\(name) was accepted as \(v), but the table says refused")
            case .failure(let e):
                #expect(!accepted, "\(name) was refused (\(e)), but the table says accepted")
                Self.checkOffset(e, name, bytes.count)
            }
        }
    }

    @Test("accepted i_ numbers take the documented values")
    func implementationDefinedValues() throws {
        let files = Dictionary(uniqueKeysWithValues: try Self.files().map { ($0.name, $0.bytes) })
        func first(_ name: String) throws -> JSONValue? {
            let bytes = try #require(files[name], "\(name) is missing")
            let value = try #require(parseResult(bytes).value, "\(name) was refused")
            guard case .array(let items) = value else { return nil }
            return items.first
        }
        #expect(try first("i_number_double_huge_neg_exp.json").map { identical($0, .double(0)) } == true)
        #expect(try first("i_number_real_underflow.json").map { identical($0, .double(0)) } == true)
        #expect(try first("i_number_too_big_pos_int.json").map { identical($0, .double(1e20)) } == true)
        #expect(try first("i_number_too_big_neg_int.json").map { identical($0, .double(-1.2312312312312312e29)) } == true)
    }

    @Test("parseRecord agrees with parse on every file")
    func parseRecordAgrees() throws {
        for (name, bytes) in try Self.files() {
            let whole = parseResult(bytes)
            for projection in [nil, KeyProjection.none, KeyProjection(["a", "b"])] {
                let record = recordResult(bytes, projecting: projection)
                switch (whole, record) {
                case (.success(.object), .success): break
                case (.success(let v), .failure(let e)):
                    if case .object = v { Issue.record("\(name): parse accepted an object, parseRecord refused: \(e)") }
                    Self.checkOffset(e, name, bytes.count)
                case (.failure, .success(let o)):
                    Issue.record("\(name): parse refused, parseRecord accepted \(o)")
                case (.failure(let expected), .failure(let e)):
                    Self.checkOffset(e, name, bytes.count)
                    // Skipped members are validated as strictly as parsed ones, so the
                    // error is the same one; only a blank line has its own message.
                    let blank = bytes.allSatisfy { [0x20, 0x0A, 0x0D, 0x09].contains($0) }
                    if !blank { #expect(e == expected, "\(name): parseRecord error differs from parse error") }
                case (.success(let v), .success):
                    Issue.record("\(name): parseRecord accepted a non-object \(v)")
                }
            }
        }
    }
}
