package import Foundation

/// Short, safe descriptions of response bodies for error reports.
///
/// WorkOS error bodies may be an object with `message`/`code`/`error`, a bare
/// JSON string (`"Ratelimited"`), a proxy's HTML, or nothing. Only the
/// server's own message is kept, capped, on one line; HTML and other text are
/// reduced to their kind and size.
package enum ErrorBodySummary {
    package static let maxLength = 160

    package static func summarize(_ body: Data) -> String {
        let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = trimmed.first else { return "empty body" }
        if first == UInt8(ascii: "<") { return "HTML body (\(body.count) bytes)" }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "\"") || first == UInt8(ascii: "["),
            let value = try? JSONDecoder().decode(JSONValue.self, from: body)
        {
            switch value {
            case .string(let text):
                return cap(text)
            case .object(let object):
                let message = object["message"]?.stringValue ?? object["error_description"]?.stringValue
                let code = object["code"]?.stringValue ?? object["error"]?.stringValue
                switch (code, message) {
                case let (code?, message?): return cap("\(code): \(message)")
                case let (nil, message?): return cap(message)
                case let (code?, nil): return cap(code)
                case (nil, nil): return "JSON object without message (\(body.count) bytes)"
                }
            default:
                return "JSON \(kind(of: value)) (\(body.count) bytes)"
            }
        }
        return "non-JSON body (\(body.count) bytes)"
    }

    /// Whether a body that failed to decode looks cut off: it opens a JSON
    /// object or array but does not close it.
    package static func looksTruncated(_ body: Data) -> Bool {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = body.first(where: { !isSpace($0) }) else { return false }
        let last = body.last(where: { !isSpace($0) })
        switch first {
        case UInt8(ascii: "{"): return last != UInt8(ascii: "}")
        case UInt8(ascii: "["): return last != UInt8(ascii: "]")
        default: return false
        }
    }

    /// A decoding error as a path and a reason, without any value from the body.
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "undecodable JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "(root)" : path
        }
        switch error {
        case .keyNotFound(let key, let context): return cap("missing key \(key.stringValue) at \(path(context))")
        case .typeMismatch(_, let context): return cap("unexpected type at \(path(context))")
        case .valueNotFound(_, let context): return cap("unexpected null at \(path(context))")
        case .dataCorrupted(let context): return cap(context.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(path(context))")
        @unknown default: return "undecodable JSON"
        }
    }

    package static func cap(_ text: String) -> String {
        let flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 }.filter { !$0.unicodeScalars.contains { $0.properties.generalCategory == .control } })
        return flat.count > maxLength ? String(flat.prefix(maxLength)) + "…" : flat
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
