public import Foundation

/// Any JSON value, kept exactly as WorkOS sent it (custom attributes, raw payloads).
///
/// Encoding is canonical: object keys are written sorted, so equal values
/// always encode to equal bytes (fingerprints rely on that).
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        // The decoder cannot say which type is there, so each wrong guess costs a
        // thrown error: guess in order of frequency in WorkOS payloads (string
        // values inside objects), and keep Bool before Double.
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Canonical JSON text: sorted keys, no insignificant white space —
    /// byte for byte what `JSONEncoder` with `.sortedKeys` and
    /// `.withoutEscapingSlashes` writes (fingerprints stored in PostgreSQL
    /// depend on it), without building an encoder for every value: written
    /// out directly, it is called for every user of every listing.
    public var canonicalText: String {
        var text = ""
        write(to: &text)
        return text
    }

    private func write(to text: inout String) {
        switch self {
        case .null:
            text += "null"
        case .bool(let value):
            text += value ? "true" : "false"
        case .number(let value) where !value.isFinite:
            text += "null"  // JSON has no NaN or infinity (a decoded value never holds one)
        case .number(let value):
            // Swift's shortest round-trip form, without the ".0" of integral values.
            let description = value.description
            text += description.hasSuffix(".0") ? String(description.dropLast(2)) : description
        case .string(let value):
            Self.writeString(value, to: &text)
        case .array(let items):
            text += "["
            for (index, item) in items.enumerated() {
                if index > 0 { text += "," }
                item.write(to: &text)
            }
            text += "]"
        case .object(let fields):
            text += "{"
            // Keys in UTF-8 byte order, as JSONEncoder sorts them (not String's normalising `<`).
            for (index, key) in fields.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { text += "," }
                Self.writeString(key, to: &text)
                text += ":"
                fields[key]!.write(to: &text)
            }
            text += "}"
        }
    }

    private static func writeString(_ value: String, to text: inout String) {
        appendQuoted(value, to: &text) { _ in false }
    }

    /// Appends `value` as a JSON string literal: `\"`, `\\`, `\n`, `\r`, `\t`,
    /// `\b`, `\f`, `\u00XX` for the other control characters, and `\uXXXX`
    /// (a surrogate pair above U+FFFF) for the scalars outside printable ASCII
    /// that `escapingAlso` names; everything else as UTF-8. A value with
    /// nothing to escape is copied whole.
    public static func appendQuoted(
        _ value: String, to text: inout String, escapingAlso: (Unicode.Scalar) -> Bool
    ) {
        text += "\""
        defer { text += "\"" }
        let plain = !value.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 >= 0x7f }
        if plain {
            text += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{8}": text += "\\b"
            case "\u{C}": text += "\\f"
            case _ where scalar.value < 0x20 || escapingAlso(scalar):
                let units = scalar.value > 0xFFFF
                    ? [0xD800 + ((scalar.value - 0x10000) >> 10), 0xDC00 + ((scalar.value - 0x10000) & 0x3FF)] : [scalar.value]
                for unit in units {
                    let hex = String(unit, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            default: text.unicodeScalars.append(scalar)
            }
        }
    }

    /// True when a string anywhere inside (keys included) holds U+0000.
    public var containsNUL: Bool {
        switch self {
        case .null, .bool, .number: false
        case .string(let value): value.utf8.contains(0)
        case .array(let items): items.contains { $0.containsNUL }
        case .object(let fields): fields.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        }
    }

    /// The string inside `.string`, or nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
