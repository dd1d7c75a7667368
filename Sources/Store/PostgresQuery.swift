import Foundation

/// A SQL statement whose interpolated values travel as `$n` binds, never as SQL text.
///
/// ```swift
/// let rows = try await connection.query("SELECT id FROM workos_dsync.users WHERE lower(email) = lower(\(email))")
/// ```
/// Every interpolated value (`String`, `Int`, `Int64`, `Bool`, `Double`,
/// `Date` as timestamptz, `UUID`, `[String]`/`[UUID]`/`[Int64]` as arrays,
/// `PostgresJSON` as jsonb, `Data` as bytea, and optionals of these, `nil`
/// meaning NULL) becomes a parameter of `PQexecParams` in text format.
/// Raw SQL that cannot be parameterised (migrations) goes through the
/// separately named, greppable `PostgresQuery(unsafeSQL:)`.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    /// The SQL text with `$1`, `$2`, … placeholders.
    public private(set) var sql: String
    /// The parameters, in text format (`nil` is NULL).
    public private(set) var binds: [String?]
    /// The type OIDs of the parameters (0 lets the server infer, used for `String`).
    public private(set) var bindTypes: [UInt32]
    /// True for `unsafeSQL` text: sent with the simple query protocol, which
    /// allows several statements in one string.
    let isUnsafeSQL: Bool

    /// Raw SQL, not parameterised; may hold several statements. Only for
    /// migrations and fixed statements: never build this from input.
    public init(unsafeSQL sql: String) {
        self.sql = sql
        self.binds = []
        self.bindTypes = []
        self.isUnsafeSQL = true
    }

    /// SQL text that already holds the `$1`…`$n` placeholders, and their
    /// values (for statements built in pieces). A `nil` optional is NULL.
    public init(sql: String, binds: [any PostgresEncodable]) {
        self.sql = sql
        self.binds = binds.map(\.postgresTextOrNull)
        self.bindTypes = binds.map { type(of: $0).postgresTypeOID }
        self.isUnsafeSQL = false
    }

    /// The same statement behind a fixed SQL prefix (`DECLARE … CURSOR FOR `); the binds are kept.
    func prefixed(by prefix: String) -> PostgresQuery {
        var query = self
        query.sql = prefix + sql
        return query
    }

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
        self.bindTypes = []
        self.isUnsafeSQL = false
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
        self.bindTypes = stringInterpolation.bindTypes
        self.isUnsafeSQL = false
    }

    /// Builds the SQL text and the binds of a `PostgresQuery`.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        public typealias StringLiteralType = String
        var sql: String
        var binds: [String?] = []
        var bindTypes: [UInt32] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A value, sent as the next `$n` bind.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            appendBind(value)
        }

        /// An optional value; `nil` is sent as NULL.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            if let value {
                appendBind(value)
            } else {
                binds.append(nil)
                bindTypes.append(Value.postgresTypeOID)
                sql += "$\(binds.count)"
            }
        }

        /// A quoted identifier (table, column or schema name), e.g.
        /// `"SELECT * FROM \(identifier: "workos_dsync.users")"`; dots separate parts.
        public mutating func appendInterpolation(identifier: String) {
            sql += quoteQualifiedIdentifier(identifier)
        }

        mutating func appendBind(_ value: any PostgresEncodable) {
            binds.append(value.postgresTextOrNull)
            bindTypes.append(type(of: value).postgresTypeOID)
            sql += "$\(binds.count)"
        }
    }
}

/// Quotes one identifier: `a"b` → `"a""b"`.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Quotes a possibly schema-qualified identifier (`schema.table`), each part on its own.
public func quoteQualifiedIdentifier(_ name: String) -> String {
    name.split(separator: ".", omittingEmptySubsequences: false).map { quoteIdentifier(String($0)) }.joined(separator: ".")
}
