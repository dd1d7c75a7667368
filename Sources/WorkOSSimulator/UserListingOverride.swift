/// How one user appears in `GET /directory_users?directory=` instead of its
/// normal object, for tests of hostile records (its group listings are unchanged).
public enum UserListingOverride: Sendable, Hashable {
    /// These bytes in place of the user's object, as they are: invalid UTF-8,
    /// a lone `\ud800`, `"idp_id": 12345`, a missing `id`…
    case raw([UInt8])
    /// Left out of the directory listing, still listed as a member of its
    /// groups: a hire that the user listing passed before it happened.
    case omitted
}
