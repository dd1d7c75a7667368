/// A complete listing of one directory, taken in one run.
///
/// Only the WorkOS client's snapshot fetch builds one in production, and only
/// after every page of users, groups and per-group memberships arrived. A
/// failure anywhere yields an error instead, never a smaller snapshot: this
/// type is the planner's proof that it may disable accounts.
public struct DirectorySnapshot: Sendable, Hashable {
    public var directory: Directory
    public var users: [DirectoryUser]
    public var groups: [DirectoryGroup]
    /// Group WorkOS id → WorkOS ids of its member users (from `/directory_users?group=`).
    public var memberships: [String: [String]]
    /// Pages fetched to build this snapshot (for `sync_runs` and metrics).
    public var pagesFetched: Int

    public init(
        directory: Directory, users: [DirectoryUser], groups: [DirectoryGroup],
        memberships: [String: [String]], pagesFetched: Int = 0
    ) {
        self.directory = directory
        self.users = users
        self.groups = groups
        self.memberships = memberships
        self.pagesFetched = pagesFetched
    }
}
