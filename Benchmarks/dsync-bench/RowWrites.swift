import Store

/// Row writes (inserts + updates + deletes) of the `workos_dsync` tables, from `pg_stat_user_tables`.
///
/// Read on the writing session itself after `pg_stat_force_next_flush()`:
/// the backend reports its pending counters when it goes idle after that
/// statement, so the next statement sees them.
struct RowWrites: Codable, Sendable {
    /// Every table but `sync_runs` and `directories`.
    var data = 0
    /// `directories` (the run's `last_complete_sync_at`): bookkeeping.
    var directories = 0
    /// `sync_runs`, excluded from both.
    var syncRuns = 0
    var byTable: [String: Int] = [:]

    static func read(on connection: PostgresConnection) async throws -> [String: Int] {
        _ = try await connection.query("SELECT pg_stat_force_next_flush()")
        _ = try await connection.query("SELECT pg_stat_clear_snapshot()")
        var counts: [String: Int] = [:]
        for row in try await connection.query("""
            SELECT relname::text AS name, (n_tup_ins + n_tup_upd + n_tup_del)::bigint AS writes
            FROM pg_stat_user_tables WHERE schemaname = 'workos_dsync'
            """)
        {
            counts[try row.decode(String.self, "name")] = try row.decode(Int.self, "writes")
        }
        return counts
    }

    static func delta(from before: [String: Int], to after: [String: Int]) -> RowWrites {
        var writes = RowWrites()
        for (table, count) in after {
            let delta = count - (before[table] ?? 0)
            guard delta != 0 else { continue }
            writes.byTable[table] = delta
            switch table {
            case "sync_runs": writes.syncRuns += delta
            case "directories": writes.directories += delta
            case "schema_migrations": break
            default: writes.data += delta
            }
        }
        return writes
    }
}
