public import WorkOS
import Foundation

/// A complete listing with what planning derives from each user, computed
/// once per run: its sorted group ids and its fingerprint. The store asks
/// `Planner.storedRowsNeeded` which memberships and link candidates to load, then
/// `Planner.plan` plans; both read the same prepared values.
public struct PreparedListing: Sendable {
    /// The listing, its `memberships` emptied: they live on as `groupIDs(ofUser:)`,
    /// so the largest part of a listing is not held twice while planning.
    let snapshot: DirectorySnapshot
    /// Every user's group ids, sorted within each user, end to end (one array
    /// for the whole listing instead of one per user).
    private let groupIDStore: [String]
    /// Where each user's group ids start in `groupIDStore`; one more entry than users.
    private let groupIDStarts: [Int]
    /// Each user's fingerprint (same order as `snapshot.users`).
    let fingerprints: [Fingerprint]
    /// Position in `snapshot.users` by WorkOS id.
    private let userIndexByID: [String: Int]

    public init(_ snapshot: consuming DirectorySnapshot) {
        let userIndexByID = Self.userIndexByID(snapshot.users)
        let (store, starts) = Self.sortedGroupIDs(snapshot, userIndexByID)
        snapshot.memberships = [:]
        let groupIDs = { (user: Int) in store[starts[user]..<starts[user + 1]] }
        self.init(
            snapshot: snapshot, userIndexByID: userIndexByID, groupIDStore: store, groupIDStarts: starts,
            fingerprints: Self.fingerprintsOf(snapshot.users, groupIDs, snapshot.users.indices))
    }

    /// The same, with the fingerprints of large listings computed on every core.
    public static func prepare(_ snapshot: consuming DirectorySnapshot) async -> PreparedListing {
        let userIndexByID = userIndexByID(snapshot.users)
        let (store, starts) = sortedGroupIDs(snapshot, userIndexByID)
        snapshot.memberships = [:]
        let groupIDs = { @Sendable (user: Int) in store[starts[user]..<starts[user + 1]] }
        let users = snapshot.users
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = max(5_000, (users.count + cores - 1) / cores)
        let fingerprints = await withTaskGroup(of: (Int, [Fingerprint]).self) { group in
            for start in stride(from: 0, to: users.count, by: chunk) {
                let range = start..<min(start + chunk, users.count)
                group.addTask { (start, fingerprintsOf(users, groupIDs, range)) }
            }
            var parts: [(Int, [Fingerprint])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        return PreparedListing(
            snapshot: snapshot, userIndexByID: userIndexByID, groupIDStore: store, groupIDStarts: starts, fingerprints: fingerprints)
    }

    private init(
        snapshot: DirectorySnapshot, userIndexByID: [String: Int], groupIDStore: [String], groupIDStarts: [Int],
        fingerprints: [Fingerprint]
    ) {
        self.snapshot = snapshot
        self.userIndexByID = userIndexByID
        self.groupIDStore = groupIDStore
        self.groupIDStarts = groupIDStarts
        self.fingerprints = fingerprints
    }

    /// The sorted group ids of the user at `index` in `snapshot.users`.
    func groupIDs(ofUser index: Int) -> ArraySlice<String> {
        groupIDStore[groupIDStarts[index]..<groupIDStarts[index + 1]]
    }

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

    /// All users' sorted group ids end to end, and where each user's start.
    private static func sortedGroupIDs(
        _ snapshot: DirectorySnapshot, _ userIndexByID: [String: Int]
    ) -> (store: [String], starts: [Int]) {
        // Count each user's memberships, then place them: two passes, no per-user arrays.
        var starts = [Int](repeating: 0, count: snapshot.users.count + 1)
        for userIDs in snapshot.memberships.values {
            for userID in userIDs { if let index = userIndexByID[userID] { starts[index + 1] += 1 } }
        }
        for index in snapshot.users.indices { starts[index + 1] += starts[index] }
        var store = [String](repeating: "", count: starts[snapshot.users.count])
        var next = starts
        for (groupID, userIDs) in snapshot.memberships {
            for userID in userIDs {
                guard let index = userIndexByID[userID] else { continue }
                store[next[index]] = groupID
                next[index] += 1
            }
        }
        // Sorted, each group once even if a hand-built snapshot lists a member twice:
        // compacted in place (a user's groups only ever move towards the front).
        var kept = 0
        var keptStarts = [Int](repeating: 0, count: snapshot.users.count + 1)
        for index in snapshot.users.indices {
            store[starts[index]..<starts[index + 1]].sort()
            for position in starts[index]..<starts[index + 1]
            where kept == keptStarts[index] || store[position] != store[kept - 1] {
                store.swapAt(kept, position)
                kept += 1
            }
            keptStarts[index + 1] = kept
        }
        store.removeSubrange(kept...)
        return (store, keptStarts)
    }

    private static func fingerprintsOf(
        _ users: [DirectoryUser], _ groupIDs: (Int) -> ArraySlice<String>, _ range: Range<Int>
    ) -> [Fingerprint] {
        range.map { Fingerprint.of(user: users[$0], sortedGroupIDs: groupIDs($0)) }
    }
}
