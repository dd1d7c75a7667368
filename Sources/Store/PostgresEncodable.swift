public import Foundation

/// A Swift value that can be sent to PostgreSQL as a text-format parameter.
public protocol PostgresEncodable: Sendable {
    /// The parameter's type OID (0 lets the server infer it from context).
    static var postgresTypeOID: UInt32 { get }
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
    /// The text, or `nil` for SQL NULL (only an `Optional` is ever NULL).
    var postgresTextOrNull: String? { get }
}

extension PostgresEncodable {
    public var postgresTextOrNull: String? { postgresText }
}

/// JSON text sent as `jsonb` (and decoded from `json`/`jsonb` columns).
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    /// The JSON document as text.
    public var text: String
    public init(_ text: String) { self.text = text }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.jsonb }
    public var postgresText: String { text }
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> PostgresJSON {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: [PostgresTypeOID.json, PostgresTypeOID.jsonb, PostgresTypeOID.text], Self.self, column: column)
        return PostgresJSON(text)
    }
}

/// Well-known type OIDs (from `pg_type`).
public enum PostgresTypeOID {
    public static let unknownOrInferred: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let unknown: UInt32 = 705
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let textArray: UInt32 = 1009
    public static let varcharArray: UInt32 = 1015
    public static let nameArray: UInt32 = 1003
    public static let bpcharArray: UInt32 = 1014
    public static let int8Array: UInt32 = 1016
    public static let int4Array: UInt32 = 1007
    public static let uuidArray: UInt32 = 2951

    /// A readable name for error messages.
    public static func name(of oid: UInt32) -> String {
        switch oid {
        case bool: "boolean"
        case bytea: "bytea"
        case name: "name"
        case int8: "bigint"
        case int2: "smallint"
        case int4: "integer"
        case text: "text"
        case oid: "oid"
        case json: "json"
        case float4: "real"
        case float8: "double precision"
        case unknown: "unknown"
        case bpchar: "character"
        case varchar: "character varying"
        case date: "date"
        case timestamp: "timestamp"
        case timestamptz: "timestamptz"
        case numeric: "numeric"
        case uuid: "uuid"
        case jsonb: "jsonb"
        case textArray: "text[]"
        case varcharArray: "character varying[]"
        case int8Array: "bigint[]"
        case int4Array: "integer[]"
        case uuidArray: "uuid[]"
        default: "type oid \(oid)"
        }
    }
}

extension String: PostgresEncodable {
    /// 0: the server infers the type, so a `String` can be compared with a
    /// `uuid` or `text` column alike.
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.unknownOrInferred }
    public var postgresText: String { self }
}

extension Substring: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.unknownOrInferred }
    public var postgresText: String { String(self) }
}

extension Int: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int8 }
    public var postgresText: String { String(self) }
}

extension Int64: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int8 }
    public var postgresText: String { String(self) }
}

extension Int32: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int4 }
    public var postgresText: String { String(self) }
}

extension Bool: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.bool }
    public var postgresText: String { self ? "true" : "false" }
}

extension Double: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.float8 }
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }
}

extension UUID: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.uuid }
    public var postgresText: String { uuidString.lowercased() }
}

extension Date: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.timestamptz }
    /// ISO form in UTC with microseconds (PostgreSQL's precision).
    public var postgresText: String { PostgresTimestamp.format(self) }
}

extension Data: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.bytea }
    /// bytea hex format (`\x0a1b…`): any byte, NUL included, travels safely.
    public var postgresText: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        bytes.reserveCapacity(2 + count * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// An element type of a PostgreSQL array parameter.
public protocol PostgresArrayElement: PostgresEncodable {
    /// The OID of the array type (`text[]`, `uuid[]`, …).
    static var postgresArrayTypeOID: UInt32 { get }
}

extension String: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.textArray }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.uuidArray }
}

extension Int64: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.int8Array }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.int8Array }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public static var postgresTypeOID: UInt32 { Element.postgresArrayTypeOID }
    /// An array literal with every element double-quoted (`{"a b","c\"d"}`).
    public var postgresText: String { PostgresArrayLiteral.encode(map(\.postgresTextOrNull)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresTypeOID: UInt32 { Wrapped.postgresTypeOID }
    /// The wrapped value's text; see `postgresTextOrNull` for NULL.
    public var postgresText: String { self?.postgresText ?? "" }
    public var postgresTextOrNull: String? { self?.postgresText }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { Wrapped.postgresArrayTypeOID }
}

/// Encoding and parsing of PostgreSQL array literals.
enum PostgresArrayLiteral {
    static func encode(_ elements: [String?]) -> String {
        var out = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { out += "," }
            guard let element else { out += "NULL"; continue }
            out += "\""
            if element.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for scalar in element.unicodeScalars {
                    if scalar == "\"" || scalar == "\\" { out += "\\" }
                    out.unicodeScalars.append(scalar)
                }
            } else {
                out += element  // nothing to escape: copied whole
            }
            out += "\""
        }
        return out + "}"
    }

    /// Parses a one-dimensional array literal; `nil` elements are NULLs.
    static func parse(_ text: String) -> [String?]? {
        var scalars = Array(text.unicodeScalars)[...]
        if scalars.first == "[" {  // dimension decoration: [0:2]={…}
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[(equals + 1)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        var result: [String?] = []
        if scalars.isEmpty { return result }
        var index = scalars.startIndex
        while true {
            var element = String.UnicodeScalarView()
            var quoted = false
            if index < scalars.endIndex, scalars[index] == "\"" {
                quoted = true
                index += 1
                while true {
                    guard index < scalars.endIndex else { return nil }
                    let scalar = scalars[index]
                    if scalar == "\\" {
                        index += 1
                        guard index < scalars.endIndex else { return nil }
                        element.append(scalars[index])
                    } else if scalar == "\"" {
                        index += 1
                        break
                    } else {
                        element.append(scalar)
                    }
                    index += 1
                }
            } else {
                while index < scalars.endIndex, scalars[index] != "," {
                    if scalars[index] == "{" { return nil }  // nested arrays are not supported
                    if scalars[index] == "\\" { index += 1; guard index < scalars.endIndex else { return nil } }
                    element.append(scalars[index])
                    index += 1
                }
            }
            let value = String(element)
            if !quoted, value.uppercased() == "NULL" { result.append(nil) } else { result.append(value) }
            if index == scalars.endIndex { break }
            guard scalars[index] == "," else { return nil }
            index += 1
        }
        return result
    }
}
