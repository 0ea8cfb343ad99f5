import OsmodaCore
import OsmodaTestSupport
import Testing

/// Seeded, reproducible fuzzing of the reader and round trips through the writer.
/// A failure names the seed and case index, so it can be replayed.
@Suite("JSON fuzzing")
struct JSONFuzzTests {
    /// Bytes that make up JSON, so random input gets past the first byte often.
    static let alphabet: [UInt8] = Array(#"{}[]:,"\/ 0123456789-+.eEtrufalsn"#.utf8) + [0x0A, 0x09, 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xA9, 0xED, 0xEF, 0xF0, 0xF4, 0xFF]

    /// Runs every entry point on `input` and returns what breaks the invariants that hold
    /// for any input: offsets within the input, and the record reader agreeing with the
    /// plain reader whatever the projection (skipped members are validated in full).
    /// A crash fails the whole run, which is the other thing being tested.
    static func problems(_ input: [UInt8]) -> [String] {
        var out: [String] = []
        let whole = parseResult(input)
        if let e = whole.error, !(0...input.count).contains(e.offset) {
            out.append("parse offset \(e.offset) outside 0...\(input.count)")
        }
        let blank = input.allSatisfy { [0x20, 0x0A, 0x0D, 0x09].contains($0) }
        let projections: [(KeyProjection?, Set<String>?)] = [
            (nil, nil), (KeyProjection.none, []), (KeyProjection(["type", "a", ""]), ["type", "a", ""]),
        ]
        for (projection, wanted) in projections {
            let name = wanted.map { "projection \($0.sorted())" } ?? "no projection"
            let record = recordResult(input, projecting: projection)
            switch (whole, record) {
            case (.failure(let expected), .failure(let e)):
                if !(0...input.count).contains(e.offset) {
                    out.append("\(name): parseRecord offset \(e.offset) outside 0...\(input.count)")
                }
                if !blank && e != expected {
                    out.append("\(name): parseRecord error '\(e)' differs from parse error '\(expected)'")
                }
            case (.success(.object(let o)), .success(let r)):
                let expected = wanted.map { w in JSONObject(o.members.filter { w.contains($0.key) }) } ?? o
                if !identical(r, expected) { out.append("\(name): projected record \(r) is not \(expected)") }
            case (.success(.object), .failure(let e)):
                out.append("\(name): parse accepted an object, parseRecord refused it: \(e)")
            case (.success(let v), .failure(let e)):
                if e != JSONError("record is a JSON \(v.typeName), not an object", at: 0) {
                    out.append("\(name): non-object \(v) gave \(e)")
                }
            case (.failure(let e), .success(let r)):
                out.append("\(name): parse refused (\(e)) but parseRecord accepted \(r)")
            case (.success(let v), .success(let r)):
                out.append("\(name): parseRecord accepted non-object \(v) as \(r)")
            }
        }
        return out
    }

    /// Records the first few failing cases in full, then only how many failed.
    struct Failures {
        var count = 0
        mutating func check(_ input: [UInt8], _ label: @autoclosure () -> String) {
            let found = JSONFuzzTests.problems(input)
            guard !found.isEmpty else { return }
            count += 1
            if count <= 8 {
                let text = String(decoding: input, as: UTF8.self).debugDescription
                Issue.record("\(label()): \(text)\n\(found.joined(separator: "\n"))")
            }
        }
        func summarise(of total: Int) {
            if count > 8 { Issue.record("\(count) of \(total) cases failed; the first 8 are above") }
        }
    }

    @Test("random bytes never crash the reader and errors point inside the input")
    func randomBytes() {
        var rng = SplitMix64(seed: 0xF022_0001)
        var failures = Failures()
        for i in 0..<4000 {
            let n = rng.int(in: 0...48)
            let jsonish = rng.bool()
            let input: [UInt8] = (0..<n).map { _ in jsonish ? rng.pick(Self.alphabet) : UInt8(truncatingIfNeeded: rng.next()) }
            // Most random text fails early; start a third of the cases with '{'.
            let line = rng.chance(1, in: 3) ? [UInt8(ascii: "{")] + input : input
            failures.check(line, "random case \(i)")
        }
        failures.summarise(of: 4000)
    }

    /// One random edit of a valid line.
    static func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard !bytes.isEmpty else { bytes.append(rng.pick(alphabet)); return }
        let i = rng.below(bytes.count)
        switch rng.below(7) {
        case 0: bytes[i] = rng.pick(alphabet)
        case 1: bytes[i] ^= UInt8(1) << UInt8(rng.below(8))
        case 2: bytes.insert(rng.pick(alphabet), at: i)
        case 3: bytes.remove(at: i)
        case 4: bytes.removeSubrange(i...)
        case 5:
            let j = min(bytes.count, i + rng.int(in: 1...8))
            bytes.insert(contentsOf: bytes[i..<j], at: rng.below(bytes.count))
        default: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
        }
    }

    @Test("mutated and truncated records never crash the reader; parse and parseRecord agree")
    func mutatedRecords() {
        var gen = JSONGenerator(seed: 0xF022_0002)
        var failures = Failures()
        for i in 0..<6000 {
            var line = serialize(.object(gen.record()))
            for _ in 0..<gen.rng.int(in: 1...4) { Self.mutate(&line, &gen.rng) }
            failures.check(line, "mutation case \(i)")
        }
        failures.summarise(of: 6000)
    }

    @Test("every prefix of a valid record is handled")
    func everyPrefix() {
        var gen = JSONGenerator(seed: 0xF022_0003)
        var failures = Failures()
        var total = 0
        for i in 0..<40 {
            let line = serialize(.object(gen.record()))
            for end in 0..<line.count {
                let prefix = Array(line[..<end])
                let result = parseResult(prefix)
                // No proper prefix of an object is a complete JSON text.
                #expect(result.error != nil, "case \(i): prefix of length \(end) accepted")
                failures.check(prefix, "prefix case \(i) length \(end)")
                total += 1
            }
        }
        failures.summarise(of: total)
    }

    @Test("generated values survive write → parse → write unchanged")
    func roundTrip() throws {
        var gen = JSONGenerator(seed: 0xF022_0004)
        var failures = 0
        let total = 3000
        for i in 0..<total {
            let value = gen.value()
            let text = serialize(value)
            let result = parseResult(text)
            let ok = result.value.map { identical($0, value) && serialize($0) == text } ?? false
            if !ok {
                failures += 1
                if failures <= 5 {
                    Issue.record("case \(i): \(String(decoding: text, as: UTF8.self)) came back as \(result)")
                }
            }
        }
        if failures > 5 { Issue.record("\(failures) of \(total) values did not round-trip; the first 5 are above") }
    }

    @Test("generated records round-trip through parseRecord")
    func recordRoundTrip() throws {
        var gen = JSONGenerator(seed: 0xF022_0005)
        var failures = 0
        let total = 2000
        for i in 0..<total {
            let record = gen.record()
            let line = serialize(.object(record))
            let result = recordResult(line, projecting: nil)
            if !(result.value.map { identical($0, record) } ?? false) {
                failures += 1
                if failures <= 5 {
                    Issue.record("case \(i): \(String(decoding: line, as: UTF8.self)) came back as \(result)")
                }
            }
        }
        if failures > 5 { Issue.record("\(failures) of \(total) records did not round-trip; the first 5 are above") }
    }

    @Test("integers at the Int64 bounds survive a round trip exactly", arguments: JSONGenerator.interestingInts)
    func int64RoundTrip(_ n: Int64) throws {
        let text = serialize(.array([.int(n), object(["n": .int(n)])]))
        let parsed = try #require(parseResult(text).value)
        #expect(identical(parsed, .array([.int(n), object(["n": .int(n)])])), "\(n) came back as \(parsed)")
    }

    @Test("doubles survive a round trip exactly", arguments: JSONGenerator.interestingDoubles)
    func doubleRoundTrip(_ d: Double) throws {
        let parsed = try #require(parseResult(serialize(.double(d))).value)
        // Integral doubles below 1e15 come back as integers, by design of the writer.
        if d == d.rounded() && abs(d) < 1e15 {
            #expect(identical(parsed, .int(Int64(d))))
        } else {
            #expect(identical(parsed, .double(d)), "\(d) came back as \(parsed)")
        }
    }

    @Test("SplitMix64 is the reference generator")
    func splitMixReference() {
        // First output of SplitMix64 seeded with 0 in Vigna's reference implementation.
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
        for _ in 0..<100 { #expect(a.next() == b.next()) }
        for _ in 0..<1000 {
            #expect((3...9).contains(a.int(in: 3...9)))
            #expect((Int64.min...Int64.max).contains(a.int64(in: Int64.min...Int64.max)))
            #expect((0..<1).contains(a.unit()))
        }
    }
}
