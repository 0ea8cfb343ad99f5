/// A compiled expression: a tree of closures built once, run per record.
public struct Evaluator: Sendable {
    @usableFromInline let run: @Sendable (JSONValue) -> JSONValue?
}

/// A compiled regular expression (Swift Regex syntax, which is PCRE-like).
struct CompiledRegex: @unchecked Sendable {
    // Regex is immutable once built; it is not marked Sendable on every toolchain.
    let regex: Regex<AnyRegexOutput>
}

enum Compiler {
    typealias Fn = @Sendable (JSONValue) -> JSONValue?

    static func compile(_ node: Node) throws(ExpressionError) -> Evaluator {
        Evaluator(run: try fn(node))
    }

    static func fn(_ node: Node) throws(ExpressionError) -> Fn {
        switch node {
        case .identity:
            return { $0 }
        case .literal(let v):
            return { _ in v }
        case .path(let base, let steps):
            let b = try fn(base)
            if case .identity = base, steps.count == 1, case .key(let k) = steps[0] {
                return { input in
                    if case .object(let o) = input { return o[k] }
                    return nil
                }
            }
            return { input in
                guard var v = b(input) else { return nil }
                for s in steps {
                    switch (s, v) {
                    case (.key(let k), .object(let o)):
                        guard let next = o[k] else { return nil }
                        v = next
                    case (.index(let i), .array(let a)):
                        let j = i < 0 ? a.count + i : i
                        guard j >= 0 && j < a.count else { return nil }
                        v = a[j]
                    default: return nil
                    }
                }
                return v
            }
        case .array(let items):
            let fs = try items.map { (n) throws(ExpressionError) -> Fn in try fn(n) }
            return { input in
                var out: [JSONValue] = []
                for f in fs {
                    guard let v = f(input) else { return nil }
                    out.append(v)
                }
                return .array(out)
            }
        case .not(let a):
            let f = try fn(a)
            return { .bool(!(f($0)?.isTruthy ?? false)) }
        case .negate(let a):
            let f = try fn(a)
            return { input in
                switch f(input) {
                case .int(let i)? where i != Int64.min: return .int(-i)
                case let v?: return v.number.map { .double(-$0) }
                case nil: return nil
                }
            }
        case .pipe(let a, let b):
            // `x | not` means `not x`, so a missing `x` gives true, as jq's null does.
            if case .not(.identity) = b { return try fn(.not(a)) }
            if case .call("not", let args, _) = b, args.isEmpty { return try fn(.not(a)) }
            let fa = try fn(a), fb = try fn(b)
            return { input in
                guard let v = fa(input) else { return nil }
                return fb(v)
            }
        case .inList(let a, let items):
            let fa = try fn(a)
            let fs = try items.map { (n) throws(ExpressionError) -> Fn in try fn(n) }
            return { input in
                guard let v = fa(input) else { return .bool(false) }
                for f in fs {
                    if let w = f(input), w == v { return .bool(true) }
                }
                return .bool(false)
            }
        case .binary(let op, let a, let b, _):
            return try binary(op, try fn(a), try fn(b))
        case .call(let name, let args, let column):
            return try call(name, args, column: column)
        }
    }

    static func binary(_ op: BinaryOp, _ fa: @escaping Fn, _ fb: @escaping Fn) throws(ExpressionError) -> Fn {
        switch op {
        case .and:
            return { input in .bool((fa(input)?.isTruthy ?? false) && (fb(input)?.isTruthy ?? false)) }
        case .or:
            return { input in .bool((fa(input)?.isTruthy ?? false) || (fb(input)?.isTruthy ?? false)) }
        case .eq:
            return { input in
                guard let x = fa(input), let y = fb(input) else { return .bool(false) }
                return .bool(x == y)
            }
        case .ne:
            return { input in
                guard let x = fa(input), let y = fb(input) else { return .bool(false) }
                return .bool(x != y)
            }
        case .lt, .le, .gt, .ge:
            return { input in
                guard let x = fa(input), let y = fb(input), let c = order(x, y) else { return .bool(false) }
                switch op {
                case .lt: return .bool(c < 0)
                case .le: return .bool(c <= 0)
                case .gt: return .bool(c > 0)
                default: return .bool(c >= 0)
                }
            }
        case .add, .sub, .mul, .div, .mod:
            return { input in
                guard let x = fa(input), let y = fb(input) else { return nil }
                return arithmetic(op, x, y)
            }
        }
    }

    /// Ordering between two numbers or two strings; `nil` for anything else.
    @inline(__always)
    static func order(_ x: JSONValue, _ y: JSONValue) -> Int? {
        switch (x, y) {
        case (.int(let a), .int(let b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.string(let a), .string(let b)):
            // UTF-8 byte order, which is Unicode scalar order.
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : (a.utf8.elementsEqual(b.utf8) ? 0 : 1)
        default:
            guard let a = x.number, let b = y.number else { return nil }
            return a < b ? -1 : (a == b ? 0 : 1)
        }
    }

    static func arithmetic(_ op: BinaryOp, _ x: JSONValue, _ y: JSONValue) -> JSONValue? {
        switch (op, x, y) {
        case (.add, .string(let a), .string(let b)): return .string(a + b)
        case (.add, .array(let a), .array(let b)): return .array(a + b)
        case (_, .int(let a), .int(let b)):
            switch op {
            case .add: let (r, o) = a.addingReportingOverflow(b); return o ? .double(Double(a) + Double(b)) : .int(r)
            case .sub: let (r, o) = a.subtractingReportingOverflow(b); return o ? .double(Double(a) - Double(b)) : .int(r)
            case .mul: let (r, o) = a.multipliedReportingOverflow(by: b); return o ? .double(Double(a) * Double(b)) : .int(r)
            case .div:
                guard b != 0 else { return nil }
                // Int64.min / -1 overflows (and traps in `%`): it is a double.
                if a == Int64.min && b == -1 { return .double(-Double(a)) }
                return a % b == 0 ? .int(a / b) : .double(Double(a) / Double(b))
            case .mod:
                guard b != 0, !(a == Int64.min && b == -1) else { return nil }
                return .int(a % b)
            default: return nil
            }
        default:
            guard let a = x.number, let b = y.number else { return nil }
            switch op {
            case .add: return .double(a + b)
            case .sub: return .double(a - b)
            case .mul: return .double(a * b)
            case .div: return b == 0 ? nil : .double(a / b)
            case .mod:
                guard b != 0 else { return nil }
                return .double(a.truncatingRemainder(dividingBy: b))
            default: return nil
            }
        }
    }

    static let builtins: [String: ClosedRange<Int>] = [
        "test": 1...2, "has": 1...1, "exists": 1...1, "startswith": 1...1, "endswith": 1...1,
        "contains": 1...1, "length": 0...0, "ascii_downcase": 0...0, "ascii_upcase": 0...0,
        "tostring": 0...0, "tonumber": 0...0, "type": 0...0, "not": 0...0, "keys": 0...0,
    ]

    static func call(_ name: String, _ args: [Node], column: Int) throws(ExpressionError) -> Fn {
        guard let arity = builtins[name] else {
            let known = builtins.keys.sorted().joined(separator: ", ")
            throw ExpressionError("unknown function '\(name)'; known: \(known)", column: column)
        }
        guard arity.contains(args.count) else {
            throw ExpressionError("'\(name)' takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) or \(arity.upperBound)") argument(s), not \(args.count)", column: column)
        }
        func stringLiteral(_ i: Int) throws(ExpressionError) -> String {
            guard case .literal(.string(let s)) = args[i] else {
                throw ExpressionError("'\(name)' needs a string literal as argument \(i + 1)", column: column)
            }
            return s
        }
        switch name {
        case "test":
            let pattern = try stringLiteral(0)
            let flags = args.count > 1 ? try stringLiteral(1) : ""
            for f in flags where !"ix".contains(f) {
                throw ExpressionError("unknown regex flag '\(f)'; known: i (ignore case), x (extended)", column: column)
            }
            let compiled: CompiledRegex
            do {
                // Code-point semantics, as PCRE and jq's Oniguruma have, not graphemes.
                var r = try Regex(flags.contains("x") ? "(?x)" + pattern : pattern).matchingSemantics(.unicodeScalar)
                if flags.contains("i") { r = r.ignoresCase() }
                compiled = CompiledRegex(regex: r)
            } catch {
                throw ExpressionError("invalid regex \"\(pattern)\": \(error)", column: column)
            }
            return { input in
                guard case .string(let s) = input else { return .bool(false) }
                let found = (try? compiled.regex.firstMatch(in: s)) != nil
                return .bool(found)
            }
        case "has":
            let key = try stringLiteral(0)
            return { input in
                guard case .object(let o) = input else { return .bool(false) }
                return .bool(o[key] != nil)
            }
        case "exists":
            guard case .path = args[0] else {
                throw ExpressionError("'exists' takes a path such as .a.b", column: column)
            }
            let f = try fn(args[0])
            return { .bool(f($0) != nil) }
        case "startswith", "endswith", "contains":
            let arg = try stringLiteral(0)
            return { input in
                guard case .string(let s) = input else { return .bool(false) }
                // Byte-wise, like equality: no Unicode normalisation or grapheme rules.
                let hay = Array(s.utf8), needle = Array(arg.utf8)
                switch name {
                case "startswith": return .bool(hay.starts(with: needle))
                case "endswith": return .bool(hay.count >= needle.count && hay.suffix(needle.count).elementsEqual(needle))
                default: return .bool(containsBytes(hay, needle))
                }
            }
        case "length":
            return { input in
                switch input {
                case .string(let s): return .int(Int64(s.unicodeScalars.count))
                case .array(let a): return .int(Int64(a.count))
                case .object(let o): return .int(Int64(Set(o.keys.map { Array($0.utf8) }).count))
                case .null: return .int(0)
                case .int(let i): return .int(i.magnitude > UInt64(Int64.max) ? Int64.max : Int64(i.magnitude))
                case .double(let d): return .double(abs(d))
                case .bool: return nil
                }
            }
        case "ascii_downcase", "ascii_upcase":
            let up = name == "ascii_upcase"
            return { input in
                guard case .string(let s) = input else { return nil }
                return .string(String(decoding: s.utf8.map { b in
                    if up, b >= 0x61, b <= 0x7A { return b - 32 }
                    if !up, b >= 0x41, b <= 0x5A { return b + 32 }
                    return b
                }, as: UTF8.self))
            }
        case "tostring":
            return { input in
                if case .string = input { return input }
                return .string(JSONWriter.serialize(input))
            }
        case "tonumber":
            return { input in
                switch input {
                case .int, .double: return input
                case .string(let s):
                    let parsed = Array(s.utf8).withUnsafeBufferPointer { buf in try? JSONReader.parse(buf) }
                    if let parsed, parsed.number != nil { return parsed }
                    return nil
                default: return nil
                }
            }
        case "type":
            return { .string($0.typeName) }
        case "not":
            return { .bool(!$0.isTruthy) }
        case "keys":
            return { input in
                guard case .object(let o) = input else { return nil }
                // Keys compare byte for byte, like lookups: no Unicode normalisation.
                let unique = Set(o.keys.map { Array($0.utf8) }).sorted { $0.lexicographicallyPrecedes($1) }
                return .array(unique.map { .string(String(decoding: $0, as: UTF8.self)) })
            }
        default:
            throw ExpressionError("unknown function '\(name)'", column: column)
        }
    }
}

/// Whether `needle` occurs in `hay`, byte for byte.
func containsBytes(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    if needle.isEmpty { return true }
    guard hay.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    while i <= hay.count - needle.count {
        if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}
