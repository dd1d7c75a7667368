/// A JSON value with ordered object keys, serialized byte-for-byte deterministically.
indirect enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    /// Milliseconds since 1970, written in the `TimestampStyle` chosen at serialization.
    case timestamp(Int64)
    case array([JSON])
    case object([(String, JSON)])
    /// Bytes written as they are, valid JSON or not (a hostile record).
    case raw([UInt8])

    /// `.string` or `.null`.
    static func optional(_ text: String?) -> JSON { text.map(JSON.string) ?? .null }

    /// An object of string values with keys in sorted order.
    static func sortedObject(_ values: [String: String]) -> JSON {
        .object(values.keys.sorted().map { ($0, .string(values[$0]!)) })
    }

    func serialized(timestamps style: TimestampStyle = .iso8601) -> [UInt8] {
        var output: [UInt8] = []
        write(to: &output, style)
        return output
    }

    private func write(to output: inout [UInt8], _ style: TimestampStyle) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): output.append(contentsOf: String(value).utf8)
        case .string(let value): JSON.writeString(value, to: &output)
        case .timestamp(let milliseconds): JSON.writeString(Timestamp.format(milliseconds: milliseconds, style), to: &output)
        case .array(let values):
            output.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                value.write(to: &output, style)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSON.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                value.write(to: &output, style)
            }
            output.append(UInt8(ascii: "}"))
        case .raw(let bytes): output.append(contentsOf: bytes)
        }
    }

    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case 0x0A: output.append(contentsOf: "\\n".utf8)
            case 0x0D: output.append(contentsOf: "\\r".utf8)
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
