/// One numbered migration file (`sql/0001_initial_schema.sql`).
public struct Migration: Sendable, Hashable {
    /// The number in front of the file name.
    public let version: Int
    /// The rest of the file name (`initial_schema`).
    public let name: String
    /// The file's exact text.
    public let sql: String

    /// A migration from its file name `NNNN_name.sql` and text.
    public init(file: String, sql: String) {
        let stem = file.hasSuffix(".sql") ? String(file.dropLast(4)) : file
        let digits = stem.prefix { $0.isNumber }
        self.version = Int(digits) ?? 0
        self.name = String(stem.dropFirst(digits.count).drop { $0 == "_" })
        self.sql = sql
    }
}
