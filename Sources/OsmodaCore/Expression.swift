/// A compiled `osmoda-expr(7)` expression: jq-flavoured, evaluated once per record.
///
/// Missing fields are not errors: a path that does not resolve yields *missing*, every
/// comparison with missing is false, and arithmetic with it stays missing. A record
/// matches when the result is truthy (not `false`, `null` or missing).
public struct Expression: Sendable {
    public let source: String
    let root: Node
    @usableFromInline let evaluator: Evaluator

    /// Top-level record keys the expression reads, or `nil` when it needs the whole
    /// record (it uses `.` itself, `has(…)` on the record, or `keys`).
    public let requiredKeys: [String]?

    public init(_ source: String) throws(ExpressionError) {
        self.source = source
        var p = ExprParser(source)
        let node = try p.parseAll()
        self.root = node
        self.evaluator = try Compiler.compile(node)
        var keys: Set<String> = []
        self.requiredKeys = node.topLevelKeys(into: &keys) ? Array(keys).sorted() : nil
    }

    /// Top-level fields that must equal a string literal for a record to match: the
    /// `.key == "value"` terms of the expression's top-level `and` chain. A caller
    /// holding many expressions can index them by these and evaluate only candidates;
    /// `matches` still decides. Empty when there are none.
    public var requiredStringEqualities: [(key: String, value: String)] { root.requiredStringEqualities() }

    /// Evaluates against a record (or any value); `nil` is *missing*.
    @inlinable
    public func evaluate(_ input: JSONValue) -> JSONValue? { evaluator.run(input) }

    /// Whether the record matches.
    @inlinable
    public func matches(_ record: JSONObject) -> Bool {
        evaluator.run(.object(record))?.isTruthy ?? false
    }
}

/// Why an expression did not compile, with the 1-based column it points at.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var column: Int
    public init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }
    public var description: String { "column \(column): \(message)" }

    /// The expression with a caret under the offending column, for terminals.
    public func caret(in source: String) -> String {
        "  \(source)\n  \(String(repeating: " ", count: max(0, column - 1)))^"
    }
}

// MARK: - Syntax tree

enum BinaryOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
    case and, or
}

enum PathStep: Sendable, Equatable {
    case key(String)
    case index(Int)
}

indirect enum Node: Sendable {
    case identity
    case path(base: Node, steps: [PathStep])
    case literal(JSONValue)
    case array([Node])
    case binary(BinaryOp, Node, Node, column: Int)
    case not(Node)
    case negate(Node)
    case inList(Node, [Node])
    case pipe(Node, Node)
    case call(String, [Node], column: Int)

    /// `.k == "v"` terms joined by `and` (either operand order).
    func requiredStringEqualities() -> [(key: String, value: String)] {
        switch self {
        case .binary(.and, let a, let b, _):
            return a.requiredStringEqualities() + b.requiredStringEqualities()
        case .binary(.eq, let a, let b, _):
            for (p, l) in [(a, b), (b, a)] {
                if case .path(.identity, let steps) = p, steps.count == 1, case .key(let k) = steps[0],
                   case .literal(.string(let v)) = l {
                    return [(k, v)]
                }
            }
            return []
        default:
            return []
        }
    }

    /// Collects the first-level keys read from the record; false when the whole record
    /// is needed.
    func topLevelKeys(into keys: inout Set<String>) -> Bool {
        switch self {
        case .identity: return false
        case .path(let base, let steps):
            if case .identity = base, case .key(let k)? = steps.first { keys.insert(k); return true }
            return base.topLevelKeys(into: &keys)
        case .literal: return true
        case .array(let items): return items.allSatisfy { $0.topLevelKeys(into: &keys) }
        case .binary(_, let a, let b, _): return a.topLevelKeys(into: &keys) && b.topLevelKeys(into: &keys)
        case .not(let a), .negate(let a): return a.topLevelKeys(into: &keys)
        case .inList(let a, let items): return a.topLevelKeys(into: &keys) && items.allSatisfy { $0.topLevelKeys(into: &keys) }
        case .pipe(let a, _):
            // The right-hand side reads the left's value, not the record.
            return a.topLevelKeys(into: &keys)
        case .call(let name, let args, _):
            if name == "has", case .literal(.string(let k))? = args.first { keys.insert(k); return true }
            if name == "exists" { return args.allSatisfy { $0.topLevelKeys(into: &keys) } }
            // Every other function reads `.` itself: the whole record.
            return false
        }
    }
}

// MARK: - Lexer

enum Token: Equatable {
    case dot, ident(String), field(String), string(String), number(JSONValue)
    case lbracket, rbracket, lparen, rparen, comma, semicolon, pipe
    case op(String)
    case end
}

struct Lexer {
    let bytes: [UInt8]
    var pos = 0

    init(_ s: String) { bytes = Array(s.utf8) }

    static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
    }
    static func isIdent(_ b: UInt8) -> Bool { isIdentStart(b) || (b >= 0x30 && b <= 0x39) }

    mutating func next() throws(ExpressionError) -> (Token, Int) {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x09 || bytes[pos] == 0x0A || bytes[pos] == 0x0D { pos += 1 }
        let col = pos + 1
        guard pos < bytes.count else { return (.end, col) }
        let b = bytes[pos]
        switch b {
        case UInt8(ascii: "."):
            pos += 1
            if pos < bytes.count, Lexer.isIdentStart(bytes[pos]) {
                let s = pos
                while pos < bytes.count, Lexer.isIdent(bytes[pos]) { pos += 1 }
                return (.field(String(decoding: bytes[s..<pos], as: UTF8.self)), col)
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") {
                return (.field(try string()), col)
            }
            return (.dot, col)
        case UInt8(ascii: "["): pos += 1; return (.lbracket, col)
        case UInt8(ascii: "]"): pos += 1; return (.rbracket, col)
        case UInt8(ascii: "("): pos += 1; return (.lparen, col)
        case UInt8(ascii: ")"): pos += 1; return (.rparen, col)
        case UInt8(ascii: ","): pos += 1; return (.comma, col)
        case UInt8(ascii: ";"): pos += 1; return (.semicolon, col)
        case UInt8(ascii: "|"): pos += 1; return (.pipe, col)
        case UInt8(ascii: "\""): return (.string(try string()), col)
        case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"):
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "=") {
                pos += 1
                return (.op(String(decoding: bytes[(pos - 2)..<pos], as: UTF8.self)), col)
            }
            if b == UInt8(ascii: "<") { return (.op("<"), col) }
            if b == UInt8(ascii: ">") { return (.op(">"), col) }
            if b == UInt8(ascii: "=") { throw ExpressionError("'=' is not an operator; use '==' to compare", column: col) }
            throw ExpressionError("'!' is not an operator; use '!=' or 'not'", column: col)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "%"):
            pos += 1
            return (.op(String(UnicodeScalar(b))), col)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let s = pos
            while pos < bytes.count, (bytes[pos] >= 0x30 && bytes[pos] <= 0x39) || bytes[pos] == UInt8(ascii: ".")
                || bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")
                || ((bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) && (bytes[pos - 1] == UInt8(ascii: "e") || bytes[pos - 1] == UInt8(ascii: "E"))) {
                pos += 1
            }
            let text = Array(bytes[s..<pos])
            let parsed = text.withUnsafeBufferPointer { buf in Result { () throws(JSONError) -> JSONValue in try JSONReader.parse(buf) } }
            guard case .success(let v) = parsed else {
                throw ExpressionError("invalid number '\(String(decoding: text, as: UTF8.self))'", column: col)
            }
            return (.number(v), col)
        default:
            if Lexer.isIdentStart(b) {
                let s = pos
                while pos < bytes.count, Lexer.isIdent(bytes[pos]) { pos += 1 }
                return (.ident(String(decoding: bytes[s..<pos], as: UTF8.self)), col)
            }
            // Show the whole character, not its first byte.
            var end = pos + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
            let scalarText = String(decoding: bytes[pos..<end], as: UTF8.self)
            throw ExpressionError("unexpected character '\(scalarText)'", column: col)
        }
    }

    /// A JSON string literal starting at `pos`.
    mutating func string() throws(ExpressionError) -> String {
        let start = pos
        var i = pos + 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\") { i += 1 }
            i += 1
        }
        guard i < bytes.count else { throw ExpressionError("unterminated string", column: start + 1) }
        let slice = Array(bytes[start...i])
        pos = i + 1
        let parsed = slice.withUnsafeBufferPointer { buf in Result { () throws(JSONError) -> JSONValue in try JSONReader.parse(buf) } }
        switch parsed {
        case .success(.string(let s)): return s
        case .failure(let e): throw ExpressionError("invalid string: \(e.message)", column: start + 1 + e.offset)
        default: throw ExpressionError("invalid string", column: start + 1)
        }
    }
}

// MARK: - Parser

struct ExprParser {
    var lexer: Lexer
    var tok: Token = .end
    var col = 1
    var pending: ExpressionError?

    init(_ s: String) { lexer = Lexer(s) }

    mutating func advance() throws(ExpressionError) { (tok, col) = try lexer.next() }

    mutating func parseAll() throws(ExpressionError) -> Node {
        try advance()
        if tok == .end { throw ExpressionError("empty expression", column: 1) }
        let n = try parsePipe()
        guard tok == .end else { throw ExpressionError("unexpected \(describe(tok))", column: col) }
        return n
    }

    func describe(_ t: Token) -> String {
        switch t {
        case .dot: return "'.'"
        case .ident(let s): return "'\(s)'"
        case .field(let s): return "'.\(s)'"
        case .string: return "string"
        case .number: return "number"
        case .lbracket: return "'['"
        case .rbracket: return "']'"
        case .lparen: return "'('"
        case .rparen: return "')'"
        case .comma: return "','"
        case .semicolon: return "';'"
        case .pipe: return "'|'"
        case .op(let o): return "'\(o)'"
        case .end: return "end of expression"
        }
    }

    mutating func expect(_ t: Token) throws(ExpressionError) {
        guard tok == t else { throw ExpressionError("expected \(describe(t)), found \(describe(tok))", column: col) }
        try advance()
    }

    mutating func parsePipe() throws(ExpressionError) -> Node {
        var lhs = try parseOr()
        while tok == .pipe {
            try advance()
            lhs = .pipe(lhs, try parseOr())
        }
        return lhs
    }

    mutating func parseOr() throws(ExpressionError) -> Node {
        var lhs = try parseAnd()
        while tok == .ident("or") {
            let c = col
            try advance()
            lhs = .binary(.or, lhs, try parseAnd(), column: c)
        }
        return lhs
    }

    mutating func parseAnd() throws(ExpressionError) -> Node {
        var lhs = try parseNot()
        while tok == .ident("and") {
            let c = col
            try advance()
            lhs = .binary(.and, lhs, try parseNot(), column: c)
        }
        return lhs
    }

    mutating func parseNot() throws(ExpressionError) -> Node {
        if tok == .ident("not") {
            try advance()
            // `not` alone (as in `… | not`) negates its input.
            if tok == .end || tok == .pipe || tok == .rparen || tok == .comma || tok == .semicolon || tok == .rbracket
                || tok == .ident("and") || tok == .ident("or") {
                return .not(.identity)
            }
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(ExpressionError) -> Node {
        let lhs = try parseAdditive()
        if case .op(let o) = tok, let op = BinaryOp(rawValue: o), [.eq, .ne, .lt, .le, .gt, .ge].contains(op) {
            let c = col
            try advance()
            let rhs = try parseAdditive()
            if case .op(let o2) = tok, let op2 = BinaryOp(rawValue: o2), [.eq, .ne, .lt, .le, .gt, .ge].contains(op2) {
                throw ExpressionError("comparisons do not chain; combine them with 'and'", column: col)
            }
            return .binary(op, lhs, rhs, column: c)
        }
        if tok == .ident("in") {
            try advance()
            guard tok == .lbracket else { throw ExpressionError("expected '[' after 'in', found \(describe(tok))", column: col) }
            try advance()
            var items: [Node] = []
            if tok != .rbracket {
                while true {
                    items.append(try parseOr())
                    if tok == .comma { try advance(); continue }
                    break
                }
            }
            try expect(.rbracket)
            return .inList(lhs, items)
        }
        return lhs
    }

    mutating func parseAdditive() throws(ExpressionError) -> Node {
        var lhs = try parseMultiplicative()
        while case .op(let o) = tok, o == "+" || o == "-" {
            let c = col
            try advance()
            lhs = .binary(o == "+" ? .add : .sub, lhs, try parseMultiplicative(), column: c)
        }
        return lhs
    }

    mutating func parseMultiplicative() throws(ExpressionError) -> Node {
        var lhs = try parseUnary()
        while case .op(let o) = tok, o == "*" || o == "/" || o == "%" {
            let c = col
            try advance()
            lhs = .binary(BinaryOp(rawValue: o) ?? .mul, lhs, try parseUnary(), column: c)
        }
        return lhs
    }

    mutating func parseUnary() throws(ExpressionError) -> Node {
        if tok == .op("-") {
            try advance()
            return .negate(try parseUnary())
        }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws(ExpressionError) -> Node {
        var base = try parsePrimary()
        var steps: [PathStep] = []
        if case .path(let b, let s) = base { base = b; steps = s }
        while true {
            if case .field(let name) = tok {
                steps.append(.key(name))
                try advance()
            } else if tok == .lbracket {
                try advance()
                switch tok {
                case .string(let k): steps.append(.key(k))
                case .number(.int(let i)) where i >= Int64(Int32.min) && i <= Int64(Int32.max): steps.append(.index(Int(i)))
                case .op("-"):
                    try advance()
                    guard case .number(.int(let i)) = tok, i <= Int64(Int32.max) else {
                        throw ExpressionError("expected an integer index", column: col)
                    }
                    steps.append(.index(-Int(i)))
                default: throw ExpressionError("expected a string key or integer index in '[…]'", column: col)
                }
                try advance()
                try expect(.rbracket)
            } else {
                break
            }
        }
        if steps.isEmpty { return base }
        return .path(base: base, steps: steps)
    }

    mutating func parsePrimary() throws(ExpressionError) -> Node {
        let c = col
        switch tok {
        case .dot:
            try advance()
            if tok == .lbracket { return .path(base: .identity, steps: []) }
            return .identity
        case .field(let name):
            try advance()
            return .path(base: .identity, steps: [.key(name)])
        case .string(let s):
            try advance()
            return .literal(.string(s))
        case .number(let v):
            try advance()
            return .literal(v)
        case .lparen:
            try advance()
            let inner = try parsePipe()
            try expect(.rparen)
            return inner
        case .lbracket:
            try advance()
            var items: [Node] = []
            if tok != .rbracket {
                while true {
                    items.append(try parseOr())
                    if tok == .comma { try advance(); continue }
                    break
                }
            }
            try expect(.rbracket)
            if let lits = literalValues(items) { return .literal(.array(lits)) }
            return .array(items)
        case .ident(let name):
            try advance()
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            case "and", "or", "in": throw ExpressionError("unexpected '\(name)'", column: c)
            default: break
            }
            var args: [Node] = []
            if tok == .lparen {
                try advance()
                while true {
                    args.append(try parsePipe())
                    if tok == .semicolon { try advance(); continue }
                    break
                }
                try expect(.rparen)
            }
            return .call(name, args, column: c)
        default:
            throw ExpressionError("expected a value, found \(describe(tok))", column: c)
        }
    }

    func literalValues(_ nodes: [Node]) -> [JSONValue]? {
        var out: [JSONValue] = []
        for n in nodes {
            guard case .literal(let v) = n else { return nil }
            out.append(v)
        }
        return out
    }
}
