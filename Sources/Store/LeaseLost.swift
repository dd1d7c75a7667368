/// An apply refused because its session no longer holds the directory's
/// lease: the session was lost and re-established since the lease was
/// taken. Nothing was applied; a later run reconciles the directory.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var directoryID: String

    public var description: String {
        "the lease of directory \(directoryID) was lost (the PostgreSQL session was re-established since it was taken); nothing applied"
    }
}
