import OsmodaCore

/// Renders records as aligned text tables for people, one table per record type.
///
/// It streams: `add` collects records and `render` prints what was collected. A type's
/// header is printed the first time it appears and again whenever its columns widen,
/// so a live stream stays aligned without waiting for its end. Nested values are shown
/// as compact JSON, cut at `maxCellWidth` with an ellipsis.
public final class TableRenderer {
    struct Group {
        var columns: [String]
        var widths: [Int]
        var numeric: [Bool]
        var headerPrinted = false
        var pending: [[String]] = []
    }

    let selected: [String]?
    let maxCellWidth: Int
    var groups: [String: Group] = [:]
    var order: [String] = []
    var lastPrintedType: String?
    var sawSeveralTypes = false

    /// - Parameter columns: the columns to show (dotted paths allowed), or `nil` for every
    ///   top-level key in order of first appearance.
    public init(columns: [String]?, maxCellWidth: Int = 48) {
        self.selected = columns
        self.maxCellWidth = maxCellWidth
    }

    public func add(_ record: JSONObject) {
        let type: String
        if case .string(let t)? = record["type"] { type = t } else { type = "" }
        if groups[type] == nil {
            if !order.isEmpty { sawSeveralTypes = true }
            order.append(type)
            groups[type] = Group(columns: [], widths: [], numeric: [])
        }
        guard var g = groups[type] else { return }
        let cols: [String]
        if let selected {
            cols = selected
        } else {
            cols = record.members.map(\.key).filter { $0 != "type" }
        }
        for c in cols where !g.columns.contains(c) {
            g.columns.append(c)
            g.widths.append(c.count)
            g.numeric.append(true)
        }
        var row: [String] = []
        for (i, c) in g.columns.enumerated() {
            let v = TableRenderer.lookup(record, c)
            let text = cell(v)
            if let v, v.number == nil, v != .null { g.numeric[i] = false }
            row.append(text)
        }
        g.pending.append(row)
        groups[type] = g
    }

    static func lookup(_ record: JSONObject, _ path: String) -> JSONValue? {
        if record[path] != nil || !path.contains(".") { return record[path] }
        var v: JSONValue = .object(record)
        for part in path.split(separator: ".", omittingEmptySubsequences: true) {
            if case .array(let a) = v, let i = Int(part), i >= 0, i < a.count { v = a[i]; continue }
            guard let next = v[String(part)] else { return nil }
            v = next
        }
        return v
    }

    func cell(_ v: JSONValue?) -> String {
        let s: String
        switch v {
        case nil: s = "-"
        case .string(let t)?: s = Diagnostics.escape(t).replacing("\n", with: "\\n").replacing("\t", with: " ")
        case let other?: s = JSONWriter.serialize(other)
        }
        if s.count > maxCellWidth { return String(s.prefix(maxCellWidth - 1)) + "…" }
        return s
    }

    /// Renders everything collected since the last call.
    public func render() -> String {
        var out = ""
        for type in order {
            guard var g = groups[type], !g.pending.isEmpty else { continue }
            var widened = false
            for row in g.pending {
                for (i, c) in row.enumerated() where c.count > g.widths[i] {
                    g.widths[i] = c.count
                    widened = true
                }
            }
            let switched = lastPrintedType != nil && lastPrintedType != type
            if !g.headerPrinted || widened || switched {
                if lastPrintedType != nil { out += "\n" }
                if sawSeveralTypes || !type.isEmpty && order.count > 1 { out += "# \(type.isEmpty ? "(no type)" : type)\n" }
                out += line(g.columns.map { $0.uppercased() }, g, header: true)
                g.headerPrinted = true
            }
            for row in g.pending { out += line(row, g, header: false) }
            g.pending.removeAll()
            groups[type] = g
            lastPrintedType = type
        }
        return out
    }

    func line(_ cells: [String], _ g: Group, header: Bool) -> String {
        var s = ""
        for (i, c) in cells.enumerated() {
            let pad = String(repeating: " ", count: max(0, g.widths[i] - c.count))
            let last = i == cells.count - 1
            if g.numeric[i] {
                s += pad + c
            } else {
                s += c + (last ? "" : pad)
            }
            if !last { s += "  " }
        }
        while s.hasSuffix(" ") { s.removeLast() }
        return s + "\n"
    }
}
