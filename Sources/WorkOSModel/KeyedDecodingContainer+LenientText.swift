extension KeyedDecodingContainer {
    /// A string field that may arrive as a JSON number (`"idp_id": 12345`):
    /// the number's text. Nil when absent or null; any other type throws.
    func decodeLenientTextIfPresent(forKey key: Key) throws -> String? {
        do {
            return try decodeIfPresent(String.self, forKey: key)
        } catch DecodingError.typeMismatch {
            if let integer = try? decode(Int64.self, forKey: key) { return String(integer) }
            if let integer = try? decode(UInt64.self, forKey: key) { return String(integer) }
            if let number = try? decode(Double.self, forKey: key), number.isFinite { return String(number) }
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: codingPath + [key], debugDescription: "expected a string or a number"))
        }
    }

    /// The same for a required field.
    func decodeLenientText(forKey key: Key) throws -> String {
        guard let text = try decodeLenientTextIfPresent(forKey: key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "\(key.stringValue) is missing"))
        }
        return text
    }
}
