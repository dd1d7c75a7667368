/// Encodes rows in `COPY … FROM STDIN` text format.
struct CopyTextEncoder {
    static let chunkSize = 1 << 20
    let columns: [String]
    private(set) var buffer: [UInt8] = []
    private(set) var rowNumber = 0

    init(columns: [String]) {
        self.columns = columns
        buffer.reserveCapacity(Self.chunkSize + 64 * 1024)
    }

    mutating func takeBuffer() -> [UInt8] {
        defer { buffer.removeAll(keepingCapacity: true) }
        return buffer
    }

    /// Appends one row: tab-separated, newline-terminated; `\N` for NULL.
    mutating func append(_ row: [String?]) throws {
        rowNumber += 1
        guard row.count == columns.count else {
            throw PostgresError(
                code: .misuse, message: "COPY row \(rowNumber) has \(row.count) values for \(columns.count) columns")
        }
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(0x09) }
            guard let value else {
                buffer.append(0x5C)
                buffer.append(UInt8(ascii: "N"))
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case 0x5C: buffer.append(0x5C); buffer.append(0x5C)
                case 0x09: buffer.append(0x5C); buffer.append(UInt8(ascii: "t"))
                case 0x0A: buffer.append(0x5C); buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(0x5C); buffer.append(UInt8(ascii: "r"))
                case 0x00:
                    throw PostgresError(
                        code: .invalidText,
                        message: "column \"\(columns[index])\" of COPY row \(rowNumber) contains a NUL byte (U+0000), which PostgreSQL text cannot store; the COPY was aborted",
                        column: columns[index])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(0x0A)
    }
}
