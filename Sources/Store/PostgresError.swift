/// An error reported by PostgreSQL, libpq or this wrapper.
///
/// Like postgres-nio's `PSQLError`, the `description` is deliberately bland:
/// it names the code, the SQLSTATE and the server's primary message, never the
/// connection string, a password or the `DETAIL` line (which may quote row
/// values such as e-mail addresses). The detail is still available in
/// `detail` for code that knows what it is doing.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, independent of the exact SQLSTATE.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case connectionFailed, connectionLost, serializationFailure, deadlockDetected
            case uniqueViolation, checkViolation, foreignKeyViolation, notNullViolation
            case invalidText, syntaxOrSchema, misuse, other
        }
        let base: Base
        /// Could not connect (or reconnect) to the server.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The connection broke during a call (or inside a transaction); the
        /// next call outside a transaction reconnects.
        public static let connectionLost = Code(base: .connectionLost)
        /// SQLSTATE 40001.
        public static let serializationFailure = Code(base: .serializationFailure)
        /// SQLSTATE 40P01.
        public static let deadlockDetected = Code(base: .deadlockDetected)
        /// SQLSTATE 23505.
        public static let uniqueViolation = Code(base: .uniqueViolation)
        /// SQLSTATE 23514.
        public static let checkViolation = Code(base: .checkViolation)
        /// SQLSTATE 23503.
        public static let foreignKeyViolation = Code(base: .foreignKeyViolation)
        /// SQLSTATE 23502.
        public static let notNullViolation = Code(base: .notNullViolation)
        /// Text PostgreSQL cannot take or parse: a NUL byte (U+0000) in a value
        /// (refused by this wrapper before sending), or SQLSTATE 22P02, 22021, 22P05.
        public static let invalidText = Code(base: .invalidText)
        /// SQLSTATE class 42 (syntax error, undefined table or column, …) and 3F000.
        public static let syntaxOrSchema = Code(base: .syntaxOrSchema)
        /// The API was used in a way it does not allow (e.g. a transaction's
        /// connection used after the transaction ended).
        public static let misuse = Code(base: .misuse)
        /// Anything else; see `sqlState`.
        public static let other = Code(base: .other)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE when the server sent one.
    public var sqlState: String?
    /// The server's (or libpq's) primary message, with secrets redacted.
    public var message: String
    /// The server's DETAIL line; may contain row values, so it is not in `description`.
    public var detail: String?
    /// The constraint named by the server, for constraint violations.
    public var constraint: String?
    /// The table named by the server, when it sent one.
    public var table: String?
    /// The column named by the server or this wrapper, when known.
    public var column: String?

    public init(
        code: Code, sqlState: String? = nil, message: String, detail: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    /// Whether running the same unit of work again may succeed: serialization
    /// failures, deadlocks, and lost or failed connections.
    public var isRetryable: Bool {
        switch code.base {
        case .serializationFailure, .deadlockDetected, .connectionLost, .connectionFailed: true
        default: sqlState == "55P03"  // lock_not_available
        }
    }

    public var description: String {
        var text = "PostgresError(\(code)"
        if let sqlState { text += ", sqlstate \(sqlState)" }
        if let constraint { text += ", constraint \(constraint)" }
        if let column { text += ", column \(column)" }
        return text + "): " + message
    }

    /// Maps a SQLSTATE to a `Code`.
    public static func code(forSQLState state: String) -> Code {
        switch state {
        case "40001": return .serializationFailure
        case "40P01": return .deadlockDetected
        case "23505": return .uniqueViolation
        case "23514": return .checkViolation
        case "23503": return .foreignKeyViolation
        case "23502": return .notNullViolation
        case "22P02", "22021", "22P05": return .invalidText
        case "3F000": return .syntaxOrSchema
        case "57P01", "57P02", "57P03": return .connectionLost
        default:
            if state.hasPrefix("42") { return .syntaxOrSchema }
            if state.hasPrefix("08") { return .connectionLost }
            return .other
        }
    }
}

/// Thrown by `PostgresConnection.withTransaction` when the body failed and the
/// `ROLLBACK` failed too: both errors are kept, the body's first.
public struct PostgresTransactionError: Error, Sendable, CustomStringConvertible {
    /// The error thrown by the transaction's body (or its `COMMIT`).
    public var error: any Error
    /// The error of the `ROLLBACK` that followed.
    public var rollbackError: any Error
    public var description: String {
        "transaction failed (\(error)) and its rollback failed too (\(rollbackError))"
    }
}
