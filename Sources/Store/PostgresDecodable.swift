public import Foundation

/// A Swift type that can be read from a column's text-format value.
public protocol PostgresDecodable: Sendable {
    /// Decodes `text` (`nil` for NULL) of a column of type `typeOID`.
    static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Self
}

/// A column could not be decoded as the requested Swift type. Names the
/// column, the expected type and the column's type; never quotes the value
/// (it may be personal data).
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name (or `#index` when asked by position).
    public var column: String
    /// The Swift type asked for.
    public var expected: String
    /// What was found: the column's PostgreSQL type, `NULL`, or a missing column.
    public var got: String
    public var description: String { "cannot decode column \"\(column)\" as \(expected): got \(got)" }

    static func require<T>(_ text: String?, _: T.Type, column: String, typeOID: UInt32) throws -> String {
        guard let text else {
            throw PostgresDecodingError(column: column, expected: "\(T.self)", got: "NULL (\(PostgresTypeOID.name(of: typeOID)))")
        }
        return text
    }

    static func check<T>(_ typeOID: UInt32, in accepted: [UInt32], _: T.Type, column: String) throws {
        guard accepted.contains(typeOID) else {
            throw PostgresDecodingError(column: column, expected: "\(T.self)", got: "a column of type \(PostgresTypeOID.name(of: typeOID))")
        }
    }

    static func unparseable<T>(_: T.Type, column: String, typeOID: UInt32) -> PostgresDecodingError {
        PostgresDecodingError(column: column, expected: "\(T.self)", got: "an unparseable \(PostgresTypeOID.name(of: typeOID)) value")
    }
}

extension String: PostgresDecodable {
    /// Any column type decodes to its text form.
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> String {
        try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
    }
}

private let integerOIDs = [PostgresTypeOID.int2, PostgresTypeOID.int4, PostgresTypeOID.int8, PostgresTypeOID.oid]

extension Int: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Int {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: integerOIDs, Self.self, column: column)
        guard let value = Int(text) else { throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID) }
        return value
    }
}

extension Int64: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Int64 {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: integerOIDs, Self.self, column: column)
        guard let value = Int64(text) else { throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID) }
        return value
    }
}

extension Int32: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Int32 {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: integerOIDs, Self.self, column: column)
        guard let value = Int32(text) else { throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID) }
        return value
    }
}

extension Bool: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Bool {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: [PostgresTypeOID.bool], Self.self, column: column)
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
        }
    }
}

extension Double: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Double {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(
            typeOID, in: [PostgresTypeOID.float4, PostgresTypeOID.float8, PostgresTypeOID.numeric] + integerOIDs,
            Self.self, column: column)
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID) }
            return value
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> UUID {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: [PostgresTypeOID.uuid], Self.self, column: column)
        guard let value = canonical(text) ?? UUID(uuidString: text) else {
            throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
        }
        return value
    }

    /// PostgreSQL's output form, 8-4-4-4-12 lowercase hex digits, read
    /// directly (anything else is left to Foundation): `UUID(uuidString:)`
    /// goes through `sscanf` and took half the time of reading a directory's
    /// accounts (two UUIDs a row).
    static func canonical(_ text: String) -> UUID? {
        guard text.utf8.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { output -> Bool in
            var nibbles = 0
            for (position, byte) in text.utf8.enumerated() {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard byte == UInt8(ascii: "-") else { return false }
                    continue
                }
                let digit: UInt8 = byte &- 0x30 < 10 ? byte &- 0x30 : byte &- 0x61 < 6 ? byte &- 0x61 &+ 10 : 0xFF
                guard digit != 0xFF else { return false }
                output[nibbles / 2] |= nibbles % 2 == 0 ? digit << 4 : digit
                nibbles += 1
            }
            return true
        }
        return parsed ? UUID(uuid: value) : nil
    }
}

extension Date: PostgresDecodable {
    /// From `timestamptz`, `timestamp` (taken as UTC) or `date` (midnight UTC);
    /// `infinity` is `.distantFuture`, `-infinity` `.distantPast`.
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Date {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(
            typeOID, in: [PostgresTypeOID.timestamptz, PostgresTypeOID.timestamp, PostgresTypeOID.date], Self.self, column: column)
        guard let value = PostgresTimestamp.parse(text) else {
            throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
        }
        return value
    }
}

extension Data: PostgresDecodable {
    /// From `bytea` in hex output format.
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Data {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        try PostgresDecodingError.check(typeOID, in: [PostgresTypeOID.bytea], Self.self, column: column)
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var data = Data(capacity: (utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else {
                throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
            }
            data.append(high << 4 | low)
            index += 2
        }
        return data
    }
}

private let textArrayOIDs = [
    PostgresTypeOID.textArray, PostgresTypeOID.varcharArray, PostgresTypeOID.nameArray, PostgresTypeOID.bpcharArray,
]

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// From a one-dimensional array: `text[]`/`varchar[]` for `[String]`,
    /// `uuid[]` for `[UUID]`, `bigint[]`/`integer[]` for integers. A NULL
    /// element needs an optional element type (`[String?]`).
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> [Element] {
        let text = try PostgresDecodingError.require(text, Self.self, column: column, typeOID: typeOID)
        let elementOID: UInt32
        switch typeOID {
        case _ where textArrayOIDs.contains(typeOID): elementOID = PostgresTypeOID.text
        case PostgresTypeOID.uuidArray: elementOID = PostgresTypeOID.uuid
        case PostgresTypeOID.int8Array: elementOID = PostgresTypeOID.int8
        case PostgresTypeOID.int4Array: elementOID = PostgresTypeOID.int4
        default:
            throw PostgresDecodingError(column: column, expected: "\(Self.self)", got: "a column of type \(PostgresTypeOID.name(of: typeOID))")
        }
        guard let elements = PostgresArrayLiteral.parse(text) else {
            throw PostgresDecodingError.unparseable(Self.self, column: column, typeOID: typeOID)
        }
        return try elements.map { try Element.decode(postgresText: $0, typeOID: elementOID, column: column) }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// NULL is `nil`; anything else decodes as `Wrapped`.
    public static func decode(postgresText text: String?, typeOID: UInt32, column: String) throws -> Wrapped? {
        guard let text else { return nil }
        return try Wrapped.decode(postgresText: text, typeOID: typeOID, column: column)
    }
}
