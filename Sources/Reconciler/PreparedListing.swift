public import WorkOS

/// A complete listing with what planning derives from each user, computed
/// once per run: its sorted group ids and its fingerprint. The store asks
/// `Planner.accountsNeedingMemberships` which memberships to load, then
/// `Planner.plan` plans; both read the same prepared values.
public struct PreparedListing: Sendable {
    public let snapshot: DirectorySnapshot
    /// Each user's group ids, sorted (same order as `snapshot.users`).
    let groupIDs: [[String]]
    /// Each user's fingerprint (same order as `snapshot.users`).
    let fingerprints: [String]

    public init(_ snapshot: DirectorySnapshot) {
        var groupIDsByUser: [String: [String]] = [:]
        groupIDsByUser.reserveCapacity(snapshot.users.count)
        for (groupID, userIDs) in snapshot.memberships {
            for userID in userIDs { groupIDsByUser[userID, default: []].append(groupID) }
        }
        let groupIDs = snapshot.users.map { (groupIDsByUser[$0.id] ?? []).sorted() }
        self.snapshot = snapshot
        self.groupIDs = groupIDs
        self.fingerprints = zip(snapshot.users, groupIDs).map { Fingerprint.of(user: $0, sortedGroupIDs: $1) }
    }
}
