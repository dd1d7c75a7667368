import Foundation
public import WorkOSModel

/// A complete listing with what planning derives from each user, computed
/// once per run: its sorted group ids and its fingerprint. The store asks
/// `Planner.storedRowsNeeded` which memberships and link candidates to load, then
/// `Planner.plan` plans; both read the same prepared values.
public struct PreparedListing: Sendable {
    /// The listing, its `memberships` emptied: they live on as `groupIDs(ofUser:)`,
    /// so the largest part of a listing is not held twice while planning.
    let snapshot: DirectorySnapshot
    /// Every user's groups.
    private let groups: GroupsOfUsers
    /// Each user's fingerprint (same order as `snapshot.users`).
    let fingerprints: [Fingerprint]
    /// Position in `snapshot.users` by WorkOS id.
    private let userIndexByID: [String: Int]

    public init(_ snapshot: consuming DirectorySnapshot) {
        let userIndexByID = Self.userIndexByID(snapshot.users)
        let groups = Self.groupsOfUsers(snapshot, userIndexByID)
        snapshot.memberships = [:]
        self.init(
            snapshot: snapshot, userIndexByID: userIndexByID, groups: groups,
            fingerprints: Self.fingerprintsOf(snapshot.users, groups, snapshot.users.indices))
    }

    /// The same, with the fingerprints of large listings computed on every core.
    public static func prepare(_ snapshot: consuming DirectorySnapshot) async -> PreparedListing {
        let userIndexByID = userIndexByID(snapshot.users)
        let groups = groupsOfUsers(snapshot, userIndexByID)
        snapshot.memberships = [:]
        let users = snapshot.users
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = max(5_000, (users.count + cores - 1) / cores)
        let fingerprints = await withTaskGroup(of: (Int, [Fingerprint]).self) { group in
            for start in stride(from: 0, to: users.count, by: chunk) {
                let range = start..<min(start + chunk, users.count)
                group.addTask { (start, fingerprintsOf(users, groups, range)) }
            }
            var parts: [(Int, [Fingerprint])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        return PreparedListing(snapshot: snapshot, userIndexByID: userIndexByID, groups: groups, fingerprints: fingerprints)
    }

    private init(snapshot: DirectorySnapshot, userIndexByID: [String: Int], groups: GroupsOfUsers, fingerprints: [Fingerprint]) {
        self.snapshot = snapshot
        self.userIndexByID = userIndexByID
        self.groups = groups
        self.fingerprints = fingerprints
    }

    /// The sorted group ids of the user at `index` in `snapshot.users`.
    func groupIDs(ofUser index: Int) -> SortedGroupIDs { groups.ofUser(index) }

    /// The listed directory.
    public var directory: Directory { snapshot.directory }

    /// The listed user with this WorkOS id, if any.
    public func listedUser(id: String) -> DirectoryUser? {
        userIndex(id: id).map { snapshot.users[$0] }
    }

    /// Position in `snapshot.users` of the user with this WorkOS id.
    func userIndex(id: String) -> Int? { userIndexByID[id] }

    private static func userIndexByID(_ users: [DirectoryUser]) -> [String: Int] {
        var userIndexByID: [String: Int] = [:]
        userIndexByID.reserveCapacity(users.count)
        for (index, user) in users.enumerated() { userIndexByID[user.id] = index }
        return userIndexByID
    }

    /// All users' groups end to end, ascending within each user, and where each user's start.
    private static func groupsOfUsers(_ snapshot: DirectorySnapshot, _ userIndexByID: [String: Int]) -> GroupsOfUsers {
        let sortedGroupIDs = snapshot.memberships.keys.sorted()
        // Each member is looked up once (a string hash per membership, 5M at 1M users): its
        // user's position, group by group in rank order, -1 for an id that is not a listed user;
        // each user's memberships are counted on the way, then placed: no per-user arrays.
        var memberIndices: [Int32] = []
        memberIndices.reserveCapacity(snapshot.memberships.values.reduce(0) { $0 + $1.count })
        var starts = [Int](repeating: 0, count: snapshot.users.count + 1)
        for groupID in sortedGroupIDs {
            for userID in snapshot.memberships[groupID] ?? [] {
                guard let index = userIndexByID[userID] else {
                    memberIndices.append(-1)
                    continue
                }
                memberIndices.append(Int32(index))
                starts[index + 1] += 1
            }
        }
        for index in snapshot.users.indices { starts[index + 1] += starts[index] }
        var ranks = [Int32](repeating: 0, count: starts[snapshot.users.count])
        var next = starts
        var position = 0
        for (rank, groupID) in sortedGroupIDs.enumerated() {
            let members = snapshot.memberships[groupID]?.count ?? 0
            for memberIndex in memberIndices[position..<position + members] where memberIndex >= 0 {
                let index = Int(memberIndex)
                ranks[next[index]] = Int32(rank)
                next[index] += 1
            }
            position += members
        }
        memberIndices = []
        // Groups are placed in ascending order, so each user's are sorted; a
        // hand-built snapshot may list a member twice: kept once, compacted in
        // place (a user's groups only ever move towards the front).
        var kept = 0
        var keptStarts = [Int](repeating: 0, count: snapshot.users.count + 1)
        for index in snapshot.users.indices {
            for position in starts[index]..<starts[index + 1]
            where kept == keptStarts[index] || ranks[position] != ranks[kept - 1] {
                ranks[kept] = ranks[position]
                kept += 1
            }
            keptStarts[index + 1] = kept
        }
        ranks.removeSubrange(kept...)
        return GroupsOfUsers(sortedGroupIDs: sortedGroupIDs, ranks: ranks, starts: keptStarts)
    }

    private static func fingerprintsOf(_ users: [DirectoryUser], _ groups: GroupsOfUsers, _ range: Range<Int>) -> [Fingerprint] {
        range.map { Fingerprint.of(user: users[$0], sortedGroupIDs: groups.ofUser($0)) }
    }
}

/// A listing's group memberships: the sorted group ids once, and every
/// user's groups as positions in them, ascending within each user, end to end
/// (one array for the whole listing, 4 bytes per membership).
final class GroupsOfUsers: Sendable {
    let sortedGroupIDs: [String]
    let ranks: [Int32]
    /// Where each user's groups start in `ranks`; one more entry than users.
    let starts: [Int]

    init(sortedGroupIDs: [String], ranks: [Int32], starts: [Int]) {
        self.sortedGroupIDs = sortedGroupIDs
        self.ranks = ranks
        self.starts = starts
    }

    func ofUser(_ index: Int) -> SortedGroupIDs { SortedGroupIDs(self, starts[index]..<starts[index + 1]) }
}

/// One user's group ids, sorted: a range of a listing's `GroupsOfUsers`
/// (16 bytes in an account write, whatever the number of groups).
public struct SortedGroupIDs: RandomAccessCollection, Sendable, Hashable {
    private let groups: GroupsOfUsers
    private let start: Int32
    private let end: Int32

    init(_ groups: GroupsOfUsers, _ range: Range<Int>) {
        self.groups = groups
        start = Int32(range.lowerBound)
        end = Int32(range.upperBound)
    }

    public var startIndex: Int { Int(start) }
    public var endIndex: Int { Int(end) }
    public subscript(position: Int) -> String { groups.sortedGroupIDs[Int(groups.ranks[position])] }

    public static func == (lhs: SortedGroupIDs, rhs: SortedGroupIDs) -> Bool { lhs.elementsEqual(rhs) }

    public func hash(into hasher: inout Hasher) {
        for groupID in self { hasher.combine(groupID) }
    }
}
