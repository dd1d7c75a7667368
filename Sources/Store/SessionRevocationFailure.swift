/// `revoke_sessions_sql` failed in an apply: the disables committed without
/// it, and its persons are marked (`users.sessions_revocation_pending_since`)
/// for the directory's next run to retry.
public struct SessionRevocationFailure: Sendable, Hashable {
    /// How many persons' sessions the failed call was to revoke.
    public var persons: Int
    /// The error, as `PostgresError` describes it (no row values).
    public var error: String

    public init(persons: Int, error: String) {
        self.persons = persons
        self.error = error
    }
}
