/// What `applyRetention` deleted (or would delete, in a dry run).
public struct RetentionResult: Sendable, Hashable {
    public var syncRunsDeleted = 0
    public var eventsDeleted = 0

    public init() {}
}

extension SyncStore {
    /// Deletes `sync_runs` older than `syncRuns` (`retention.sync_runs`) and,
    /// only when the operator set one, `events` older than `events`
    /// (`retention.events`; default nil: the audit trail is kept), in one
    /// transaction. Kept whatever their age: each directory's newest run and
    /// newest run that took a complete listing (the trail of the next
    /// `missing` account starts there), and runs that `email_history` or
    /// `held_plans` still reference. Deleting events needs the schema owner
    /// (the events table is append-only for every other role).
    public func applyRetention(syncRuns: Duration, events: Duration?, dryRun: Bool) async throws -> RetentionResult {
        try await connection.withTransaction { tx in
            var result = RetentionResult()
            let runSeconds = Double(syncRuns.components.seconds)
            let oldRuns = """
                FROM workos_dsync.sync_runs s
                WHERE s.started_at < now() - $1 * interval '1 second'
                  AND s.id NOT IN (SELECT max(id) FROM workos_dsync.sync_runs GROUP BY directory_id)
                  AND s.id NOT IN (SELECT max(id) FROM workos_dsync.sync_runs
                                   WHERE outcome IN ('applied', 'unchanged', 'held') GROUP BY directory_id)
                  AND NOT EXISTS (SELECT 1 FROM workos_dsync.email_history h WHERE h.run_id = s.id)
                  AND NOT EXISTS (SELECT 1 FROM workos_dsync.held_plans p WHERE p.run_id = s.id)
                """
            result.syncRunsDeleted = dryRun
                ? try await tx.query(PostgresQuery(sql: "SELECT count(*) AS n \(oldRuns)", binds: [runSeconds]))[0].decode(Int.self, "n")
                : try await tx.execute(PostgresQuery(
                    sql: "DELETE FROM workos_dsync.sync_runs WHERE id IN (SELECT s.id \(oldRuns))", binds: [runSeconds]))
            guard let events else { return result }
            let eventSeconds = Double(events.components.seconds)
            if dryRun {
                result.eventsDeleted = try await tx.query("""
                    SELECT count(*) AS n FROM workos_dsync.events WHERE occurred_at < now() - \(eventSeconds) * interval '1 second'
                    """)[0].decode(Int.self, "n")
                return result
            }
            try await tx.execute("SET LOCAL workos_dsync.allow_event_rewrite = 'on'")
            result.eventsDeleted = try await tx.execute("""
                DELETE FROM workos_dsync.events WHERE occurred_at < now() - \(eventSeconds) * interval '1 second'
                """)
            try await tx.execute("SET LOCAL workos_dsync.allow_event_rewrite = 'off'")
            return result
        }
    }
}
