import Foundation
import WorkOSModel

/// A validator for the subset of JSON Schema (draft 2020-12) that `docs/event-schemas/` uses:
/// `type` (a name or a list of names), `required`, `properties`, `additionalProperties` (a
/// boolean or a schema), `enum`, `items`, `minItems`, `maxItems`, `oneOf` and `format: "date-time"`.
/// A schema using any other keyword is reported, so a schema never promises more than is checked.
struct JSONSchemaSubset {
    /// The keywords understood (annotations included).
    static let keywords: Set<String> = [
        "$schema", "$id", "title", "description", "type", "required", "properties", "additionalProperties", "enum",
        "items", "minItems", "maxItems", "format", "oneOf",
    ]

    let schema: [String: JSONValue]

    init(_ schema: [String: JSONValue]) { self.schema = schema }

    /// Every violation of the schema by `value`, as "path: what" lines (empty: valid).
    func violations(of value: JSONValue) -> [String] {
        var found: [String] = []
        Self.check(value, against: schema, path: "$", into: &found)
        return found
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number(let number): number == number.rounded() ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func check(_ value: JSONValue, against schema: [String: JSONValue], path: String, into found: inout [String]) {
        for key in schema.keys where !keywords.contains(key) { found.append("\(path): schema keyword \(key) is outside the subset") }
        let actual = typeName(value)
        switch schema["type"] {
        case .string(let name)?:
            if !(name == actual || (name == "number" && actual == "integer")) { found.append("\(path): \(actual), expected \(name)") }
        case .array(let names)?:
            let allowed = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
            if !(allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))) {
                found.append("\(path): \(actual), expected one of \(allowed)")
            }
        default: break
        }
        if case .array(let options)? = schema["enum"], !options.contains(value) {
            found.append("\(path): \(value) is not in the enum")
        }
        if case .string("date-time")? = schema["format"], case .string(let text) = value {
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if fractional.date(from: text) == nil && ISO8601DateFormatter().date(from: text) == nil {
                found.append("\(path): \(text) is not an RFC 3339 date-time")
            }
        }
        if case .array(let variants)? = schema["oneOf"] {
            let matching = variants.filter { variant in
                guard case .object(let variant) = variant else { return false }
                var inner: [String] = []
                check(value, against: variant, path: path, into: &inner)
                return inner.isEmpty
            }
            if matching.count != 1 { found.append("\(path): matches \(matching.count) of the oneOf variants, not exactly one") }
        }
        if case .object(let object) = value {
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where object[key] == nil { found.append("\(path): required \(key) missing") }
            }
            var properties: [String: JSONValue] = [:]
            if case .object(let declared)? = schema["properties"] { properties = declared }
            for (key, member) in object {
                if case .object(let property)? = properties[key] {
                    check(member, against: property, path: "\(path).\(key)", into: &found)
                } else if case .bool(false)? = schema["additionalProperties"] {
                    found.append("\(path): property \(key) is not allowed")
                } else if case .object(let additional)? = schema["additionalProperties"] {
                    check(member, against: additional, path: "\(path).\(key)", into: &found)
                }
            }
        }
        if case .array(let array) = value {
            if case .number(let minimum)? = schema["minItems"], Double(array.count) < minimum {
                found.append("\(path): fewer than \(Int(minimum)) items")
            }
            if case .number(let maximum)? = schema["maxItems"], Double(array.count) > maximum {
                found.append("\(path): more than \(Int(maximum)) items")
            }
            if case .object(let items)? = schema["items"] {
                for (index, item) in array.enumerated() { check(item, against: items, path: "\(path)[\(index)]", into: &found) }
            }
        }
    }
}
