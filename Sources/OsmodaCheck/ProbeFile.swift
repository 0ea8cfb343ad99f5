import OsmodaCore

/// Why a probe definition was refused, with everything a message needs:
/// `probes[2]: probe 'web': field 'port': expected an integer in 1...65535`.
public struct ProbeSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the definition sits: `probes[2]` or `[2]` in a file, `--tcp 'x'` for a
    /// flag; empty for a lone object.
    public var location: String
    /// The probe's name, when the definition has a usable one.
    public var probe: String?
    /// The field at fault, relative to the probe (`port`, `argv`); empty when the
    /// whole definition is.
    public var field: String
    public var message: String
    /// For JSON syntax errors: the 1-based line and column (in bytes) in the file.
    public var line: Int?
    public var column: Int?

    public init(location: String = "", probe: String? = nil, field: String = "", message: String, line: Int? = nil, column: Int? = nil) {
        self.location = location
        self.probe = probe
        self.field = field
        self.message = message
        self.line = line
        self.column = column
    }

    /// The path of the field from the top of the file: `probes[2].port`.
    public var fieldPath: String {
        if location.isEmpty || location.hasPrefix("-") { return field }
        if field.isEmpty { return location }
        return field.hasPrefix("[") ? location + field : "\(location).\(field)"
    }

    public var description: String {
        var parts: [String] = []
        if let line, let column { parts.append("line \(line), column \(column)") }
        if !location.isEmpty { parts.append(location) }
        if let probe { parts.append("probe '\(probe)'") }
        if !field.isEmpty { parts.append("field '\(field)'") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// A probe file: a JSON array of probe objects, or an object `{"probes": [...]}`.
///
/// Probe names must be unique within a file, since results are told apart by name.
public struct ProbeFile: Sendable, Equatable {
    public var probes: [ProbeSpec]

    public init(probes: [ProbeSpec]) { self.probes = probes }

    /// Parses a whole file. A syntax error carries its line and column; a bad probe
    /// carries its path (`probes[2]`) and name.
    public static func parse(_ bytes: [UInt8]) throws(ProbeSpecError) -> ProbeFile {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            let (line, column) = error.lineAndColumn(in: bytes)
            throw ProbeSpecError(message: error.message, line: line, column: column)
        }
        return try ProbeFile(value)
    }

    /// Reads probes from a parsed file.
    public init(_ value: JSONValue) throws(ProbeSpecError) {
        let items: [JSONValue]
        let prefix: String
        switch value {
        case .array(let a):
            items = a
            prefix = ""
        case .object(let o):
            for key in o.keys where key != "probes" {
                throw ProbeSpecError(field: key, message: "unknown field (a probe file has only 'probes')")
            }
            guard let list = o["probes"] else { throw ProbeSpecError(field: "probes", message: "missing required field") }
            guard case .array(let a) = list else {
                throw ProbeSpecError(field: "probes", message: "expected an array of probes, found \(list.typeName)")
            }
            items = a
            prefix = "probes"
        default:
            throw ProbeSpecError(message: "expected an array of probes or an object with 'probes', found \(value.typeName)")
        }
        var probes: [ProbeSpec] = []
        var seen: [String: String] = [:]
        for (i, item) in items.enumerated() {
            let location = "\(prefix)[\(i)]"
            let spec = try ProbeSpec.decode(item, location: location)
            if let first = seen[spec.name] {
                throw ProbeSpecError(location: location, probe: spec.name, field: "name", message: "duplicate name (also at \(first))")
            }
            seen[spec.name] = location
            probes.append(spec)
        }
        self.probes = probes
    }
}
