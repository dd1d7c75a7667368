public import Foundation
import Logging
public import Reconciler
import WorkOSModel

/// What one apply wrote.
public struct AppliedRun: Sendable, Hashable {
    public var runID: Int64
    public var outcome: RunOutcome
    /// The held plan waiting for approval, when the guard held disables.
    public var heldPlanID: Int64?
    /// Persons whose last active account was disabled (sessions revoked).
    public var personsDisabled: Int
    public var eventsWritten: Int
    /// Set when `revoke_sessions_sql` failed (the rest committed; retried next run).
    public var sessionRevocationFailure: SessionRevocationFailure?
}

extension SyncStore {
    /// Applies a plan in ONE transaction: the directory ends at this run's
    /// boundary or stays at the previous one. Statements are set-wise (COPY
    /// into temporary staging tables, then one statement per kind of change),
    /// never a round trip per row. Writes the events (with reasons and the run
    /// id), the `sync_runs` row and the held plan, and sends
    /// `NOTIFY workos_dsync` once, at commit. Runs only while this session
    /// holds the directory's lease (`tryLock`): otherwise throws `LeaseLost`
    /// and writes nothing. `revoke_sessions_sql` never blocks the disables
    /// (see `revokeSessions`).
    public func apply(
        _ listedPlan: Plan, pages: Int, startedAt: Date, revokeSessionsSQL: String? = nil, approvedBy: String? = nil
    ) async throws -> AppliedRun {
        let directory = listedPlan.directory
        for write in listedPlan.accountWrites where Storable.containsNUL(write.user) {
            logger.warning("a NUL character in a directory user's fields is stored as U+FFFD",
                           metadata: ["directory.id": "\(directory.id)", "directory_user.workos_id": "\(write.user.id)"])
        }
        return try await connection.withTransaction { tx in
            try await requireLease(directoryID: directory.id, on: tx)
            // Events mode: rows an event wrote after this listing started stay as the event left them.
            try await lockDirectoryWrites(directoryID: directory.id, on: tx)
            let plan = try await withoutEventNewerChanges(listedPlan, listingStartedAt: startedAt, on: tx)
            let outcome: RunOutcome = plan.isEmpty ? .unchanged : (plan.verdict.holdsDisables ? .held : .applied)
            let summaryJSON = String(decoding: try JSONEncoder().encode(plan.summary), as: UTF8.self)
            let previous = try await tx.query("""
                SELECT last_complete_sync_at FROM workos_dsync.directories WHERE id = \(directory.id)
                """).first?.decode(Date?.self, "last_complete_sync_at") ?? nil
            // The last run that took a complete listing (applied, unchanged or held).
            let previousRunID = try await tx.query("""
                SELECT max(id) AS id FROM workos_dsync.sync_runs
                WHERE directory_id = \(directory.id) AND outcome IN ('applied', 'unchanged', 'held')
                """).first?.decode(Int64?.self, "id") ?? nil
            if plan.directoryRemoved {
                // A vanished directory has no complete listing to record; it
                // counts as removed once its accounts are actually disabled.
                try await tx.execute("""
                    UPDATE workos_dsync.directories SET removed_at = coalesce(removed_at, now()), updated_at = now()
                    WHERE id = \(directory.id) AND \(!plan.verdict.holdsDisables)
                    """)
            } else {
                try await tx.execute("""
                    INSERT INTO workos_dsync.directories (id, organization_id, name, domain, type, state, last_complete_sync_at)
                    VALUES (\(directory.id), \(directory.organizationID), \(directory.name), \(directory.domain),
                            \(directory.type), \(directory.state.rawValue), now())
                    ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, name = EXCLUDED.name,
                        domain = EXCLUDED.domain, type = EXCLUDED.type, state = EXCLUDED.state,
                        last_complete_sync_at = now(), removed_at = NULL, updated_at = now()
                    """)
            }
            let runID = try await tx.query("""
                INSERT INTO workos_dsync.sync_runs (directory_id, started_at, outcome, dry_run, pages, users_seen, groups_seen, counts, error)
                VALUES (\(directory.id), \(startedAt), \(outcome.rawValue), false, \(pages), \(plan.listedUsers),
                        \(plan.listedGroups), \(summaryJSON)::jsonb, \(plan.quarantine.detail))
                RETURNING id
                """)[0].decode(Int64.self, "id")
            var applied = AppliedRun(runID: runID, outcome: outcome, heldPlanID: nil, personsDisabled: 0, eventsWritten: 0)
            applied.heldPlanID = try await recordHeldPlan(plan, runID: runID, approvedBy: approvedBy, on: tx)
            var disabled: [UUID] = []
            // Roles are compared even when the listing changed nothing: an admin may have edited role_mappings.
            let rolesChanged = plan.isEmpty ? try await PlanWriter.rolesChanged(directoryID: directory.id, on: tx) : false
            if !plan.isEmpty || rolesChanged {
                let writer = PlanWriter(
                    plan: plan, runID: runID, previousCompleteListing: previous, previousCompleteRunID: previousRunID,
                    connection: tx)
                (disabled, applied.eventsWritten) = try await writer.writeAll()
            }
            applied.personsDisabled = disabled.count
            applied.sessionRevocationFailure = try await revokeSessions(
                revokeSessionsSQL, disabled: disabled, directoryID: directory.id, on: tx)
            try await tx.execute("""
                UPDATE workos_dsync.sync_runs SET finished_at = clock_timestamp() WHERE id = \(runID)
                """)
            return applied
        }
    }

    /// Keeps `held_plans` in step with the verdict: a hold stores the exact
    /// set (or keeps an identical one still waiting), an approval marks its
    /// plan applied, and a plan that needs no approval supersedes old holds.
    func recordHeldPlan(_ plan: Plan, runID: Int64?, approvedBy: String?, on tx: PostgresConnection) async throws -> Int64? {
        let directoryID = plan.directory.id
        switch plan.verdict {
        case .hold:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let accounts = String(decoding: try encoder.encode(plan.heldDisables.map(HeldAccount.init).sorted()), as: UTF8.self)
            let fingerprint = String(UInt64(bitPattern: AdvisoryLockKey.fnv1a64(accounts)), radix: 16)
            if let same = try await tx.query("""
                SELECT id FROM workos_dsync.held_plans
                WHERE directory_id = \(directoryID) AND status = 'held' AND fingerprint = \(fingerprint)
                ORDER BY id DESC LIMIT 1
                """).first
            {
                return try same.decode(Int64.self, "id")
            }
            try await tx.execute("""
                UPDATE workos_dsync.held_plans SET status = 'superseded', decided_at = now()
                WHERE directory_id = \(directoryID) AND status = 'held'
                """)
            return try await tx.query("""
                INSERT INTO workos_dsync.held_plans (directory_id, run_id, accounts, fingerprint, status)
                VALUES (\(directoryID), \(runID)::bigint, \(accounts)::jsonb, \(fingerprint), 'held')
                RETURNING id
                """)[0].decode(Int64.self, "id")
        case .approved(let heldPlanID):
            try await tx.execute("""
                UPDATE workos_dsync.held_plans SET status = 'applied', decided_at = now(),
                    decided_by = coalesce(\(approvedBy), decided_by)
                WHERE id = \(heldPlanID) AND status = 'held'
                """)
            return nil
        case .proceed:
            try await tx.execute("""
                UPDATE workos_dsync.held_plans SET status = 'superseded', decided_at = now()
                WHERE directory_id = \(directoryID) AND status = 'held'
                """)
            return nil
        }
    }
}
