/// Checks for text that comes from bytes (files, HTTP bodies) before it goes to PostgreSQL.
///
/// A Swift `String` is always valid Unicode, so only bytes need validating;
/// U+0000 is refused everywhere (PostgreSQL text cannot store it), see
/// `PostgresConnection.copy(into:columns:rows:)`.
public enum PostgresText {
    /// The bytes as a `String`, or a `PostgresError` of code `.invalidText`
    /// naming `column` when they are not valid UTF-8 or contain a NUL byte.
    /// Never repairs (no U+FFFD substitution) and never strips.
    public static func validated(utf8 bytes: some Collection<UInt8>, column: String) throws -> String {
        if bytes.contains(0) {
            throw PostgresError(
                code: .invalidText, message: "value for column \"\(column)\" contains a NUL byte (U+0000), which PostgreSQL text cannot store",
                column: column)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PostgresError(code: .invalidText, message: "value for column \"\(column)\" is not valid UTF-8", column: column)
        }
        return text
    }
}
