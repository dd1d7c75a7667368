/// A complete listing of one directory, taken in one run.
///
/// Only the WorkOS client's snapshot fetch builds one in production, and only
/// after every page of users, groups and per-group memberships arrived. A
/// failure anywhere yields an error instead, never a smaller snapshot: this
/// type is the planner's proof that it may disable accounts. Records that
/// arrived but cannot be used are not a failure: they are carried in
/// `quarantined`, and the planner leaves their accounts alone.
public struct DirectorySnapshot: Sendable, Hashable {
    public var directory: Directory
    public var users: [DirectoryUser]
    public var groups: [DirectoryGroup]
    /// Group WorkOS id → WorkOS ids of its member users (from `/directory_users?group=`).
    public var memberships: [String: [String]]
    /// Pages fetched to build this snapshot (for `sync_runs` and metrics).
    public var pagesFetched: Int
    /// User records of the listing that could not be used, left out of `users`:
    /// the accounts with their ids are neither updated nor disabled.
    public var quarantined: [QuarantinedRecord]
    /// Ids listed as a group's members but not in the user listing (a hire
    /// while the listing ran), left out of `memberships` for this run: an
    /// account with such an id was seen, so it is not disabled as missing.
    public var unlistedMemberIDs: Set<String>

    /// `package`: only the client's complete listing (and tests) make one.
    package init(
        directory: Directory, users: [DirectoryUser], groups: [DirectoryGroup],
        memberships: [String: [String]], pagesFetched: Int = 0, quarantined: [QuarantinedRecord] = [],
        unlistedMemberIDs: Set<String> = []
    ) {
        self.directory = directory
        self.users = users
        self.groups = groups
        self.memberships = memberships
        self.pagesFetched = pagesFetched
        self.quarantined = quarantined
        self.unlistedMemberIDs = unlistedMemberIDs
    }
}
