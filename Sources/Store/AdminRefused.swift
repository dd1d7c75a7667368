/// An admin command refused what it was asked; nothing was changed. The
/// description says why, in words fit for the terminal.
public struct AdminRefused: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
