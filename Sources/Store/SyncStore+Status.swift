public import Foundation

/// One directory as `status` shows it.
public struct DirectoryStatus: Sendable, Hashable {
    public var id: String
    public var name: String
    public var state: String
    public var removedAt: Date?
    public var lastCompleteSyncAt: Date?
    public var activeAccounts: Int
    public var disabledAccounts: Int
    public var lastRunID: Int64?
    public var lastOutcome: String?
    public var lastRunAt: Date?
    public var lastError: String?
    public var lastCounts: String?
    /// The last run's `missing` accounts the event feed does not explain (hybrid mode's cross-check).
    public var lastUnexplainedDisappearances: Int? {
        guard let lastCounts, let data = lastCounts.data(using: .utf8),
              let counts = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return counts["unexplained"] as? Int
    }
    /// Ids and sizes of plans waiting for `approve`.
    public var heldPlans: [HeldPlanSummary]
}

/// A held plan as `status` lists it.
public struct HeldPlanSummary: Sendable, Hashable {
    public var id: Int64
    public var accounts: Int
    public var createdAt: Date
}

extension SyncStore {
    /// Last run, counts, held plans and freshness of every known directory.
    public func status() async throws -> [DirectoryStatus] {
        let rows = try await connection.query("""
            SELECT d.id, d.name, d.state, d.removed_at, d.last_complete_sync_at,
                   (SELECT count(*) FROM workos_dsync.directory_users u WHERE u.directory_id = d.id AND u.status = 'active') AS active,
                   (SELECT count(*) FROM workos_dsync.directory_users u WHERE u.directory_id = d.id AND u.status = 'disabled') AS disabled,
                   r.id AS run_id, r.outcome, r.started_at, r.error, r.counts::text AS counts
            FROM workos_dsync.directories d
            LEFT JOIN LATERAL (SELECT * FROM workos_dsync.sync_runs s WHERE s.directory_id = d.id ORDER BY s.id DESC LIMIT 1) r ON true
            ORDER BY d.id
            """)
        var held: [String: [HeldPlanSummary]] = [:]
        for row in try await connection.query("""
            SELECT id, directory_id, jsonb_array_length(accounts) AS accounts, created_at FROM workos_dsync.held_plans
            WHERE status = 'held' ORDER BY id
            """)
        {
            held[try row.decode(String.self, "directory_id"), default: []].append(HeldPlanSummary(
                id: try row.decode(Int64.self, "id"), accounts: try row.decode(Int.self, "accounts"),
                createdAt: try row.decode(Date.self, "created_at")))
        }
        return try rows.map { row in
            let id = try row.decode(String.self, "id")
            return DirectoryStatus(
                id: id, name: try row.decode(String?.self, "name") ?? "", state: try row.decode(String?.self, "state") ?? "",
                removedAt: try row.decode(Date?.self, "removed_at"),
                lastCompleteSyncAt: try row.decode(Date?.self, "last_complete_sync_at"),
                activeAccounts: try row.decode(Int.self, "active"), disabledAccounts: try row.decode(Int.self, "disabled"),
                lastRunID: try row.decode(Int64?.self, "run_id"), lastOutcome: try row.decode(String?.self, "outcome"),
                lastRunAt: try row.decode(Date?.self, "started_at"), lastError: try row.decode(String?.self, "error"),
                lastCounts: try row.decode(String?.self, "counts"), heldPlans: held[id] ?? [])
        }
    }

    /// The id of the directory's newest run that took a complete listing.
    public func lastCompleteRunID(directoryID: String) async throws -> Int64? {
        try await connection.query("""
            SELECT max(id) AS id FROM workos_dsync.sync_runs
            WHERE directory_id = \(directoryID) AND outcome IN ('applied', 'unchanged', 'held')
            """).first?.decode(Int64?.self, "id") ?? nil
    }
}
