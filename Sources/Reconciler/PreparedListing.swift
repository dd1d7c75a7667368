public import WorkOS
import Foundation

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
        let groupIDs = Self.sortedGroupIDs(snapshot)
        self.init(snapshot: snapshot, groupIDs: groupIDs, fingerprints: Self.fingerprintsOf(snapshot.users, groupIDs, 0..<groupIDs.count))
    }

    /// The same, with the fingerprints of large listings computed on every core.
    public static func prepare(_ snapshot: DirectorySnapshot) async -> PreparedListing {
        let groupIDs = sortedGroupIDs(snapshot)
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = max(5_000, (groupIDs.count + cores - 1) / cores)
        let fingerprints = await withTaskGroup(of: (Int, [String]).self) { group in
            for start in stride(from: 0, to: groupIDs.count, by: chunk) {
                let range = start..<min(start + chunk, groupIDs.count)
                group.addTask { (start, fingerprintsOf(snapshot.users, groupIDs, range)) }
            }
            var parts: [(Int, [String])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        return PreparedListing(snapshot: snapshot, groupIDs: groupIDs, fingerprints: fingerprints)
    }

    private init(snapshot: DirectorySnapshot, groupIDs: [[String]], fingerprints: [String]) {
        self.snapshot = snapshot
        self.groupIDs = groupIDs
        self.fingerprints = fingerprints
    }

    private static func sortedGroupIDs(_ snapshot: DirectorySnapshot) -> [[String]] {
        var groupIDsByUser: [String: [String]] = [:]
        groupIDsByUser.reserveCapacity(snapshot.users.count)
        for (groupID, userIDs) in snapshot.memberships {
            for userID in userIDs { groupIDsByUser[userID, default: []].append(groupID) }
        }
        // Sorted, each group once even if a hand-built snapshot lists a member twice.
        return snapshot.users.map { user in
            var unique: [String] = []
            for groupID in (groupIDsByUser[user.id] ?? []).sorted() where groupID != unique.last { unique.append(groupID) }
            return unique
        }
    }

    private static func fingerprintsOf(_ users: [DirectoryUser], _ groupIDs: [[String]], _ range: Range<Int>) -> [String] {
        range.map { Fingerprint.of(user: users[$0], sortedGroupIDs: groupIDs[$0]) }
    }
}
