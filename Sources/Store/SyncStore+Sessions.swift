import Foundation

extension SyncStore {
    /// Runs the configured `revoke_sessions_sql` (`$1`: the `uuid[]` of
    /// persons) inside the apply transaction, for the persons this apply
    /// disabled and for the directory's disabled persons whose revocation
    /// failed before. It runs in a savepoint: a failure rolls back only the
    /// revocation, so nothing blocks the disables; its persons are marked
    /// `sessions_revocation_pending_since` and retried by the next run, and
    /// the failure is returned. A success clears their marks, and a person
    /// active again is not revoked (its mark is cleared).
    func revokeSessions(
        _ revokeSessionsSQL: String?, disabled: [UUID], directoryID: String, on tx: PostgresConnection
    ) async throws -> SessionRevocationFailure? {
        guard let revokeSessionsSQL else { return nil }
        var retried: [UUID] = []
        var reactivated: [UUID] = []
        for row in try await tx.query("""
            SELECT p.id, p.status FROM workos_dsync.users p
            WHERE p.sessions_revocation_pending_since IS NOT NULL
              AND EXISTS (SELECT 1 FROM workos_dsync.directory_users d WHERE d.user_id = p.id AND d.directory_id = \(directoryID))
            """)
        {
            let id = try row.decode(UUID.self, "id")
            if try row.decode(String.self, "status") == "disabled" { retried.append(id) } else { reactivated.append(id) }
        }
        if !reactivated.isEmpty { try await markRevocationPending(reactivated, false, on: tx) }
        let disabledNow = Set(disabled)
        let persons = disabled + retried.filter { !disabledNow.contains($0) }
        guard !persons.isEmpty else { return nil }
        do {
            try await tx.withTransaction { savepoint in
                // The operator's SQL from the config file, not built from input: its one value is a bind.
                try await savepoint.execute(PostgresQuery(sql: revokeSessionsSQL, binds: [persons]))
            }
        } catch {
            try await markRevocationPending(persons, true, on: tx)
            return SessionRevocationFailure(persons: persons.count, error: "\(error)")
        }
        if !retried.isEmpty { try await markRevocationPending(retried, false, on: tx) }
        return nil
    }

    /// Sets (keeping the first failure's time) or clears the persons' pending revocation mark.
    private func markRevocationPending(_ persons: [UUID], _ pending: Bool, on tx: PostgresConnection) async throws {
        try await tx.execute("""
            UPDATE workos_dsync.users
            SET sessions_revocation_pending_since = CASE WHEN \(pending) THEN coalesce(sessions_revocation_pending_since, now()) END
            WHERE id = ANY(\(persons)::uuid[])
            """)
    }
}
