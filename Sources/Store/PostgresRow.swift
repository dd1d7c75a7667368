/// One row of a query result, values in text format, decoded on demand.
public struct PostgresRow: Sendable {
    /// Column names and types shared by every row of one result.
    final class Columns: Sendable {
        let names: [String]
        let typeOIDs: [UInt32]
        let indexByName: [String: Int]
        init(names: [String], typeOIDs: [UInt32]) {
            self.names = names
            self.typeOIDs = typeOIDs
            var index: [String: Int] = [:]
            for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
            self.indexByName = index
        }
    }

    let columns: Columns
    let values: [String?]

    /// The column names, in order.
    public var columnNames: [String] { columns.names }

    /// The raw text of a column (`nil` for NULL), for logging-free debugging.
    public func text(_ column: String) -> String?? {
        guard let index = columns.indexByName[column] else { return nil }
        return .some(values[index])
    }

    /// Decodes the named column, e.g. `row.decode(String?.self, "email")`.
    /// Throws `PostgresDecodingError` naming the column, the type asked for and what was found.
    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        guard let index = columns.indexByName[column] else {
            throw PostgresDecodingError(
                column: column, expected: "\(T.self)",
                got: "no such column (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try T.decode(postgresText: values[index], typeOID: columns.typeOIDs[index], column: column)
    }

    /// Decodes the column at `index` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type, at index: Int) throws -> T {
        guard columns.names.indices.contains(index) else {
            throw PostgresDecodingError(column: "#\(index)", expected: "\(T.self)", got: "no such column (\(columns.names.count) columns)")
        }
        return try T.decode(postgresText: values[index], typeOID: columns.typeOIDs[index], column: columns.names[index])
    }
}
