import Foundation
import WorkOSModel

/// PostgreSQL text cannot hold U+0000. The project's rule for directory data:
/// a NUL sent by WorkOS is stored as U+FFFD (the replacement character), so
/// one odd attribute never blocks a whole directory, and the sync logs the
/// account it replaced it in. Everything else is stored exactly.
enum Storable {
    static let replacement = "\u{FFFD}"

    static func text(_ value: String?) -> String? {
        guard let value, value.utf8.contains(0) else { return value }
        return value.replacingOccurrences(of: "\u{0}", with: replacement)
    }

    static func json(_ value: JSONValue) -> JSONValue {
        guard value.containsNUL else { return value }
        return switch value {
        case .string(let string): .string(text(string) ?? "")
        case .array(let items): .array(items.map(json))
        case .object(let fields):
            .object(Dictionary(fields.map { (text($0.key) ?? "", json($0.value)) }, uniquingKeysWith: { first, _ in first }))
        default: value
        }
    }

    static func containsNUL(_ user: DirectoryUser) -> Bool {
        [user.email, user.firstName, user.lastName, user.username, user.jobTitle, user.idpID]
            .contains { $0?.utf8.contains(0) == true } || customAttributesContainNUL(user)
    }

    /// A NUL inside a JSON string is written `\u0000` in the canonical text;
    /// only then is the value parsed to tell it from an escaped backslash.
    static func customAttributesContainNUL(_ user: DirectoryUser) -> Bool {
        user.customAttributesText.contains("\\u0000") && user.customAttributes.containsNUL
    }
}
