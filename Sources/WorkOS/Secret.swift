/// A secret value (the WorkOS API key) that never prints itself.
///
/// `description`, `debugDescription` and reflection show `<redacted>`; the
/// value is read only through ``reveal()``, so every use is greppable.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, ExpressibleByStringLiteral
{
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(stringLiteral value: String) {
        self.value = value
    }

    /// The secret itself. Only the transport calls this, to build the `Authorization` header.
    public func reveal() -> String { value }

    /// Whether the secret is empty (a configuration error worth reporting without showing it).
    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
