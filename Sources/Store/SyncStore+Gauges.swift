public import Foundation

/// What the daemon's gauges show about one directory.
public struct DirectoryGauges: Sendable, Hashable {
    public var activeAccounts: Int
    public var disabledAccounts: Int
    public var heldPlans: Int
    public var lastCompleteSyncAt: Date?
    /// Open link conflicts of the directory's accounts, and when the oldest was recorded.
    public var openLinkConflicts = 0
    public var oldestLinkConflictAt: Date?
}

/// A directory's last complete listing, for `/readyz`.
public struct ListingFreshness: Sendable, Hashable {
    public var directoryID: String
    public var lastCompleteSyncAt: Date?
}

extension SyncStore {
    /// Account counts by status, held plans waiting, and the last complete listing of one directory.
    public func gauges(directoryID: String) async throws -> DirectoryGauges {
        let row = try await connection.query("""
            SELECT (SELECT count(*) FROM workos_dsync.directory_users WHERE directory_id = \(directoryID) AND status = 'active') AS active,
                   (SELECT count(*) FROM workos_dsync.directory_users WHERE directory_id = \(directoryID) AND status = 'disabled') AS disabled,
                   (SELECT count(*) FROM workos_dsync.held_plans WHERE directory_id = \(directoryID) AND status = 'held') AS held,
                   (SELECT last_complete_sync_at FROM workos_dsync.directories WHERE id = \(directoryID)) AS last_complete,
                   c.open_conflicts, c.oldest_conflict
            FROM (SELECT count(*) AS open_conflicts, min(l.created_at) AS oldest_conflict
                  FROM workos_dsync.link_conflicts l JOIN workos_dsync.directory_users d ON d.id = l.directory_user_id
                  WHERE l.resolved_at IS NULL AND d.directory_id = \(directoryID)) c
            """)[0]
        return DirectoryGauges(
            activeAccounts: try row.decode(Int.self, "active"), disabledAccounts: try row.decode(Int.self, "disabled"),
            heldPlans: try row.decode(Int.self, "held"), lastCompleteSyncAt: try row.decode(Date?.self, "last_complete"),
            openLinkConflicts: try row.decode(Int.self, "open_conflicts"), oldestLinkConflictAt: try row.decode(Date?.self, "oldest_conflict"))
    }

    /// The last complete listing of every directory not marked removed.
    public func listingFreshness() async throws -> [ListingFreshness] {
        try await connection.query("""
            SELECT id, last_complete_sync_at FROM workos_dsync.directories WHERE removed_at IS NULL ORDER BY id
            """).map { row in
            ListingFreshness(
                directoryID: try row.decode(String.self, "id"), lastCompleteSyncAt: try row.decode(Date?.self, "last_complete_sync_at"))
        }
    }
}
