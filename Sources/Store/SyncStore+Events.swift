public import Foundation
public import Reconciler
public import WorkOSModel

/// Where the events poller of one API key stands (`workos_dsync.event_cursor`).
public struct EventCursor: Sendable, Hashable {
    /// The last WorkOS event applied; nil while resuming from `rangeStart`.
    public var eventID: String?
    /// Where to resume when `eventID` is nil: the start of the full reconcile that replaced a lost cursor.
    public var rangeStart: Date?
    /// `created_at` of the last applied event.
    public var lastEventAt: Date?
    public var eventsApplied: Int64
    public var updatedAt: Date
    /// When a poll last reached the end of the feed from this cursor (written at most once a minute).
    public var caughtUpAt: Date?

    /// The newest moment up to which the feed is known to have been read: a
    /// cursor older than the retention (less a margin) may have missed events.
    public var readUpTo: Date? {
        [rangeStart, lastEventAt, caughtUpAt].compactMap { $0 }.max()
    }
}

/// What applying one event did.
public struct AppliedEvent: Sendable, Hashable {
    public var decision: EventDecision
    /// `events` rows written.
    public var eventsWritten = 0
    /// Accounts disabled by it.
    public var disabled = 0
    /// The held plan the event's disables went to, when the guard held them.
    public var heldPlanID: Int64?
    public var sessionRevocationFailure: SessionRevocationFailure?
}

/// The cursor moved under this poller (another replica applied events): nothing was applied.
public struct EventCursorMoved: Error, Sendable, Hashable, CustomStringConvertible {
    public var expected: String?
    public var found: String?
    public var description: String {
        "the events cursor moved (expected \(expected ?? "none"), found \(found ?? "none")): another poller applied events"
    }
}

extension AdvisoryLockKey {
    /// The transaction-level lock every write into a directory takes (a full
    /// apply and an event apply), so each sees the other's committed rows.
    static func directoryWrites(_ directoryID: String) -> Int64 {
        fnv1a64("workos_dsync.directory-writes:" + directoryID)
    }

    /// The session-level lock of the one events poller of an API key.
    public static func eventPoller(keyID: String) -> Int64 {
        fnv1a64("workos_dsync.event-poller:" + keyID)
    }
}

extension SyncStore {
    /// The cursor row's key for an API key: a hash, never the key itself.
    public static func eventKeyID(apiKey: String) -> String {
        String(UInt64(bitPattern: AdvisoryLockKey.fnv1a64("workos_dsync.events:" + apiKey)), radix: 16)
    }

    /// The cursor of an API key, nil when none was ever stored.
    public func eventCursor(keyID: String) async throws -> EventCursor? {
        try await connection.query("""
            SELECT event_id, range_start, last_event_at, events_applied, updated_at, caught_up_at FROM workos_dsync.event_cursor
            WHERE key_id = \(keyID)
            """).first.map { row in
            EventCursor(
                eventID: try row.decode(String?.self, "event_id"), rangeStart: try row.decode(Date?.self, "range_start"),
                lastEventAt: try row.decode(Date?.self, "last_event_at"), eventsApplied: try row.decode(Int64.self, "events_applied"),
                updatedAt: try row.decode(Date.self, "updated_at"), caughtUpAt: try row.decode(Date?.self, "caught_up_at"))
        }
    }

    /// Records that a poll reached the end of the feed (at most one write a minute).
    public func markEventsCaughtUp(keyID: String) async throws {
        try await connection.execute("""
            UPDATE workos_dsync.event_cursor SET caught_up_at = now()
            WHERE key_id = \(keyID) AND (caught_up_at IS NULL OR caught_up_at < now() - interval '1 minute')
            """)
    }

    /// Every stored cursor (for `status`).
    public func eventCursors() async throws -> [(keyID: String, cursor: EventCursor)] {
        try await connection.query("""
            SELECT key_id, event_id, range_start, last_event_at, events_applied, updated_at, caught_up_at
            FROM workos_dsync.event_cursor ORDER BY key_id
            """).map { row in
            (try row.decode(String.self, "key_id"), EventCursor(
                eventID: try row.decode(String?.self, "event_id"), rangeStart: try row.decode(Date?.self, "range_start"),
                lastEventAt: try row.decode(Date?.self, "last_event_at"), eventsApplied: try row.decode(Int64.self, "events_applied"),
                updatedAt: try row.decode(Date.self, "updated_at"), caughtUpAt: try row.decode(Date?.self, "caught_up_at")))
        }
    }

    /// Replaces the cursor by "resume from `rangeStart`" (after a full reconcile that started then).
    public func resetEventCursor(keyID: String, rangeStart: Date) async throws {
        try await connection.execute("""
            INSERT INTO workos_dsync.event_cursor (key_id, event_id, range_start) VALUES (\(keyID), NULL, \(rangeStart))
            ON CONFLICT (key_id) DO UPDATE SET event_id = NULL, range_start = EXCLUDED.range_start, caught_up_at = NULL,
                updated_at = now()
            """)
    }

    /// The cross-check's input (hybrid mode): of the `missing` accounts, those
    /// whose deletion or deactivation the event feed reported within its
    /// retention and that were not reactivated since (a later
    /// `user.reactivated` row), applied (an `events` row from a WorkOS event) or held by the
    /// guard (a held plan of events). `retention` is `events.retention`: an
    /// event older than it cannot be in the feed WorkOS replays either. Nil
    /// while no events cursor exists: the poller never ran, so the feed
    /// explains nothing and is not asked.
    public func loadEventFeedHistory(directoryID: String, missing: [UUID], retention: Duration) async throws -> EventFeedHistory? {
        guard try await connection.query("SELECT EXISTS (SELECT 1 FROM workos_dsync.event_cursor) AS cursor")[0]
            .decode(Bool.self, "cursor")
        else { return nil }
        let confirmed = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM workos_dsync.directories WHERE id = \(directoryID) AND deletion_event_id IS NOT NULL) AS confirmed
            """)[0].decode(Bool.self, "confirmed")
        guard !missing.isEmpty else { return EventFeedHistory(directoryDeletionConfirmed: confirmed) }
        let seconds = Double(retention.components.seconds)
        let explained = try await connection.query("""
            SELECT DISTINCT e.directory_user_id AS id FROM workos_dsync.events e
            WHERE e.directory_id = \(directoryID) AND e.workos_event_id IS NOT NULL AND e.type = 'user.disabled'
              AND e.directory_user_id = ANY(\(missing)::uuid[]) AND e.occurred_at > now() - make_interval(secs => \(seconds))
              AND NOT EXISTS (
                SELECT 1 FROM workos_dsync.events later
                WHERE later.directory_user_id = e.directory_user_id AND later.type = 'user.reactivated' AND later.id > e.id)
            UNION
            SELECT (a->>'directory_user_id')::uuid FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a
            WHERE h.directory_id = \(directoryID) AND h.status = 'held' AND h.run_id IS NULL
              AND (a->>'directory_user_id')::uuid = ANY(\(missing)::uuid[])
            """).map { try $0.decode(UUID.self, "id") }
        return EventFeedHistory(explainedAccounts: Set(explained), directoryDeletionConfirmed: confirmed)
    }

    /// Takes the session-level lock of the API key's one events poller; false when another replica has it.
    public func tryLockEventPoller(keyID: String) async throws -> Bool {
        try await connection.tryAdvisoryLock(AdvisoryLockKey.eventPoller(keyID: keyID))
    }

    /// When the newest complete listing (applied, unchanged or held) of each directory started.
    public func latestCompleteListingStarts() async throws -> [String: Date] {
        var starts: [String: Date] = [:]
        for row in try await connection.query("""
            SELECT directory_id, max(started_at) AS started_at FROM workos_dsync.sync_runs
            WHERE outcome IN ('applied', 'unchanged', 'held') AND NOT dry_run GROUP BY directory_id
            """)
        {
            starts[try row.decode(String.self, "directory_id")] = try row.decode(Date.self, "started_at")
        }
        return starts
    }

    /// Applies one WorkOS event in ONE transaction with the cursor: the rows
    /// it changes, their `events` rows (with `workos_event_id`, no run) and
    /// NOTIFY, and `event_cursor` moved to it. The cursor must still be
    /// `previous` (else `EventCursorMoved`, nothing written). The stored rows
    /// are read inside the transaction, under the directory's write lock, and
    /// `planner` decides (pure). A `.reconcileDirectory` decision writes
    /// nothing: the caller reconciles, then calls `advanceEventCursor`.
    public func applyEvent(
        _ event: Event, typed: DirectoryEvent?, keyID: String, previous: String?, guardWindow: Duration,
        revokeSessionsSQL: String?, planner: (DirectoryEvent, EventSlice) -> EventDecision
    ) async throws -> AppliedEvent {
        try await connection.withTransaction { tx in
            try await checkCursor(keyID: keyID, previous: previous, on: tx)
            guard let typed else {
                try await moveCursor(keyID: keyID, to: event, on: tx)
                return AppliedEvent(decision: .skip("unreadable event"))
            }
            try await lockDirectoryWrites(directoryID: typed.directoryID, on: tx)
            let slice = try await loadEventSlice(typed, guardWindow: guardWindow, on: tx)
            let decision = planner(typed, slice)
            var applied = AppliedEvent(decision: decision)
            switch decision {
            case .reconcileDirectory:
                // Whether the feed confirms the directory's deletion (`guard.on_directory_removed: disable`).
                let deletionEventID: String? = if case .directoryDeleted = typed { event.id } else { nil }
                try await tx.execute("""
                    UPDATE workos_dsync.directories SET deletion_event_id = \(deletionEventID), updated_at = now()
                    WHERE id = \(typed.directoryID) AND deletion_event_id IS DISTINCT FROM \(deletionEventID)
                    """)
                return applied
            case .skip:
                break
            case .apply(let plan):
                let previousRunID = try await tx.query("""
                    SELECT max(id) AS id FROM workos_dsync.sync_runs
                    WHERE directory_id = \(plan.directory.id) AND outcome IN ('applied', 'unchanged', 'held')
                    """).first?.decode(Int64?.self, "id") ?? nil
                applied.heldPlanID = plan.verdict.holdsDisables ? try await recordHeldPlan(plan, runID: nil, approvedBy: nil, on: tx) : nil
                var writer = PlanWriter(
                    plan: plan, runID: nil, previousCompleteListing: nil, previousCompleteRunID: previousRunID, connection: tx)
                writer.workosEventID = event.id
                let disabled: [UUID]
                (disabled, applied.eventsWritten) = try await writer.writeAll()
                applied.disabled = plan.disablesToApply.count
                try await markEventApplied(plan, on: tx)
                applied.sessionRevocationFailure = try await revokeSessions(
                    revokeSessionsSQL, disabled: disabled, directoryID: plan.directory.id, on: tx)
            }
            try await moveCursor(keyID: keyID, to: event, on: tx)
            return applied
        }
    }

    /// Moves the cursor past an event that changed nothing here (after a directory reconcile).
    public func advanceEventCursor(keyID: String, previous: String?, to event: Event) async throws {
        try await connection.withTransaction { tx in
            try await checkCursor(keyID: keyID, previous: previous, on: tx)
            try await moveCursor(keyID: keyID, to: event, on: tx)
        }
    }

    private func checkCursor(keyID: String, previous: String?, on tx: PostgresConnection) async throws {
        let row = try await tx.query("""
            SELECT event_id FROM workos_dsync.event_cursor WHERE key_id = \(keyID) FOR UPDATE
            """).first
        let found = try row?.decode(String?.self, "event_id") ?? nil
        guard found == previous else { throw EventCursorMoved(expected: previous, found: found) }
    }

    private func moveCursor(keyID: String, to event: Event, on tx: PostgresConnection) async throws {
        try await tx.execute("""
            INSERT INTO workos_dsync.event_cursor (key_id, event_id, range_start, last_event_at, events_applied)
            VALUES (\(keyID), \(event.id), NULL, \(event.createdAt), 1)
            ON CONFLICT (key_id) DO UPDATE SET event_id = EXCLUDED.event_id, range_start = NULL,
                last_event_at = coalesce(EXCLUDED.last_event_at, event_cursor.last_event_at),
                events_applied = event_cursor.events_applied + 1, updated_at = now()
            """)
    }

    /// Stamps the rows an event wrote, so a full reconcile whose listing started earlier leaves them alone.
    /// Accounts whose groups it changed get a fingerprint no listing matches.
    private func markEventApplied(_ plan: Plan, on tx: PostgresConnection) async throws {
        let userIDs = Array(Set(plan.accountWrites.map(\.user.id) + plan.disables.map(\.workosID)
            + plan.existingAccountMembershipAdds.map(\.userWorkOSID) + plan.membershipRemovals.map(\.userWorkOSID)))
        let groupIDs = Array(Set(plan.groupWrites.map(\.group.id) + plan.groupRemovals.map(\.workosID)))
        if !userIDs.isEmpty {
            try await tx.execute("""
                UPDATE workos_dsync.directory_users SET event_applied_at = clock_timestamp()
                WHERE directory_id = \(plan.directory.id) AND workos_id = ANY(\(userIDs)::text[])
                """)
        }
        // A user's fingerprint covers its groups: an event that changed them
        // without rewriting the account leaves one that no listing matches, so
        // the next full reconcile compares this account's groups again (else a
        // listing equal to the one before the event would leave them as the event put them).
        let written = Set(plan.accountWrites.map(\.user.id))
        let regrouped = Array(Set(plan.existingAccountMembershipAdds.map(\.userWorkOSID) + plan.membershipRemovals.map(\.userWorkOSID))
            .subtracting(written))
        if !regrouped.isEmpty {
            try await tx.execute("""
                UPDATE workos_dsync.directory_users SET fingerprint = 'groups changed by an event'
                WHERE directory_id = \(plan.directory.id) AND workos_id = ANY(\(regrouped)::text[])
                """)
        }
        if !groupIDs.isEmpty {
            try await tx.execute("""
                UPDATE workos_dsync.directory_groups SET event_applied_at = clock_timestamp()
                WHERE directory_id = \(plan.directory.id) AND workos_id = ANY(\(groupIDs)::text[])
                """)
        }
    }

    /// Takes the directory's write lock until the transaction ends.
    func lockDirectoryWrites(directoryID: String, on tx: PostgresConnection) async throws {
        _ = try await tx.query("SELECT pg_advisory_xact_lock(\(AdvisoryLockKey.directoryWrites(directoryID))) IS NULL AS locked")
    }

    /// The ids and WorkOS ids of a directory's rows in `table` (accounts or
    /// groups) that an event wrote at or after `since`.
    private func rowsWrittenByEvents(
        in table: String, directoryID: String, since: Date, on tx: PostgresConnection
    ) async throws -> (ids: Set<UUID>, workosIDs: Set<String>) {
        var ids = Set<UUID>()
        var workosIDs = Set<String>()
        for row in try await tx.query("""
            SELECT id, workos_id FROM \(identifier: table)
            WHERE directory_id = \(directoryID) AND event_applied_at >= \(since)
            """)
        {
            ids.insert(try row.decode(UUID.self, "id"))
            workosIDs.insert(try row.decode(String.self, "workos_id"))
        }
        return (ids, workosIDs)
    }

    /// The plan of a complete listing without the changes to rows that an
    /// event wrote after the listing started: the event's data is newer, and
    /// an account an event created meanwhile is not `missing`. The next
    /// listing converges on them.
    func withoutEventNewerChanges(_ plan: Plan, listingStartedAt: Date, on tx: PostgresConnection) async throws -> Plan {
        let directoryID = plan.directory.id
        let (accountIDs, userIDs) = try await rowsWrittenByEvents(
            in: "workos_dsync.directory_users", directoryID: directoryID, since: listingStartedAt, on: tx)
        let (groupIDs, groupWorkOSIDs) = try await rowsWrittenByEvents(
            in: "workos_dsync.directory_groups", directoryID: directoryID, since: listingStartedAt, on: tx)
        guard !accountIDs.isEmpty || !groupIDs.isEmpty else { return plan }
        var kept = plan
        kept.accountWrites.removeAll { write in
            write.accountID.map(accountIDs.contains) ?? false || userIDs.contains(write.user.id)
        }
        kept.disables.removeAll { accountIDs.contains($0.accountID) }
        kept.existingAccountMembershipAdds.removeAll { userIDs.contains($0.userWorkOSID) || groupWorkOSIDs.contains($0.groupWorkOSID) }
        kept.membershipRemovals.removeAll { userIDs.contains($0.userWorkOSID) || groupWorkOSIDs.contains($0.groupWorkOSID) }
        kept.groupWrites.removeAll { write in write.groupID.map(groupIDs.contains) ?? false || groupWorkOSIDs.contains(write.group.id) }
        kept.groupRemovals.removeAll { groupIDs.contains($0.id) }
        if kept.disables.isEmpty, kept.verdict.holdsDisables { kept.verdict = .proceed }
        return kept
    }

    /// The stored rows one event can touch, read on the apply transaction.
    func loadEventSlice(_ event: DirectoryEvent, guardWindow: Duration, on tx: PostgresConnection) async throws -> EventSlice {
        let directoryID = event.directoryID
        let directory = try await tx.query("""
            SELECT id, organization_id, name, domain, type, state FROM workos_dsync.directories
            WHERE id = \(directoryID) AND removed_at IS NULL
            """).first.map(Self.storedDirectory)
        var slice = EventSlice(directory: directory)
        guard directory != nil else { return slice }
        if let user = event.user {
            for row in try await tx.query("""
                SELECT d.id, d.workos_id, d.idp_id, d.user_id, d.email, d.status, d.disabled_reason, d.fingerprint,
                       d.last_listed_run_id, d.missing_listings, d.first_name, d.last_name, d.workos_updated_at,
                       p.anonymized_at IS NOT NULL AS anonymized,
                       CASE WHEN d.status = 'disabled' AND d.disabled_reason = 'missing' THEN (
                           SELECT r.started_at FROM workos_dsync.events e JOIN workos_dsync.sync_runs r ON r.id = e.run_id
                           WHERE e.directory_user_id = d.id AND e.type = 'user.disabled'
                           ORDER BY e.id DESC LIMIT 1) END AS missing_since
                FROM workos_dsync.directory_users d LEFT JOIN workos_dsync.users p ON p.id = d.user_id
                WHERE d.directory_id = \(directoryID)
                  AND (d.workos_id = \(user.id) OR (\(user.idpID) <> '' AND d.idp_id = \(user.idpID)))
                ORDER BY d.created_at
                """)
            {
                let account = try Self.storedAccount(
                    row, workosID: try row.decode(String.self, "workos_id"), idpID: try row.decode(String?.self, "idp_id") ?? "",
                    email: try row.decode(String?.self, "email"))
                slice.accounts.append(account)
                // An account a complete listing disabled as missing is as new as that listing's start:
                // an older event (replayed by a poller behind the listing) must not reactivate it.
                let updatedAt = try row.decode(Date?.self, "workos_updated_at")
                let missingSince = try row.decode(Date?.self, "missing_since")
                slice.accountUpdatedAt[account.id] = [updatedAt, missingSince].compactMap { $0 }.max()
            }
            let accountIDs = slice.accounts.map(\.id)
            if !accountIDs.isEmpty {
                for row in try await tx.query("""
                    SELECT u.workos_id AS user_workos_id, g.workos_id AS group_workos_id
                    FROM workos_dsync.group_memberships m
                    JOIN workos_dsync.directory_users u ON u.id = m.directory_user_id
                    JOIN workos_dsync.directory_groups g ON g.id = m.directory_group_id
                    WHERE m.directory_user_id = ANY(\(accountIDs)::uuid[]) AND g.removed_at IS NULL
                    """)
                {
                    slice.memberships[try row.decode(String.self, "user_workos_id"), default: []]
                        .insert(try row.decode(String.self, "group_workos_id"))
                }
            }
            if !slice.accounts.contains(where: { $0.workosID == user.id || (!user.idpID.isEmpty && $0.idpID == user.idpID) }),
                let email = user.email?.lowercased(), !email.isEmpty
            {
                (slice.linkCandidates, slice.organizationDomains) = try await Self.linkCandidates(
                    emails: [email], directoryID: directoryID, organizationID: directory?.organizationID, on: tx)
            }
        }
        let groupIDs = Array(Set(slice.memberships.values.flatMap { $0 } + (event.group.map { [$0.id] } ?? [])))
        if !groupIDs.isEmpty {
            for row in try await tx.query("""
                SELECT id, workos_id, idp_id, name, fingerprint, removed_at IS NOT NULL AS removed, workos_updated_at
                FROM workos_dsync.directory_groups WHERE directory_id = \(directoryID) AND workos_id = ANY(\(groupIDs)::text[])
                """)
            {
                let group = try Self.storedGroup(row)
                slice.groups.append(group)
                if let updatedAt = try row.decode(Date?.self, "workos_updated_at") { slice.groupUpdatedAt[group.id] = updatedAt }
            }
        }
        if case .groupDeleted(let group) = event {
            slice.groupMembers = try await tx.query("""
                SELECT u.workos_id FROM workos_dsync.group_memberships m
                JOIN workos_dsync.directory_users u ON u.id = m.directory_user_id
                JOIN workos_dsync.directory_groups g ON g.id = m.directory_group_id
                WHERE g.directory_id = \(directoryID) AND g.workos_id = \(group.id)
                """).map { try $0.decode(String.self, "workos_id") }
        }
        let windowSeconds = Double(guardWindow.components.seconds)
        let counts = try await tx.query("""
            SELECT (SELECT count(*) FROM workos_dsync.directory_users WHERE directory_id = \(directoryID) AND status = 'active') AS active,
                   (SELECT count(*) FROM workos_dsync.events WHERE directory_id = \(directoryID) AND workos_event_id IS NOT NULL
                      AND type = 'user.disabled' AND directory_user_id IS NOT NULL
                      AND occurred_at > now() - make_interval(secs => \(windowSeconds))) AS recent
            """)[0]
        slice.activeAccounts = try counts.decode(Int.self, "active")
        slice.recentEventDisables = try counts.decode(Int.self, "recent")
        if let held = try await tx.query("""
            SELECT accounts::text AS accounts FROM workos_dsync.held_plans
            WHERE directory_id = \(directoryID) AND status = 'held' ORDER BY id DESC LIMIT 1
            """).first
        {
            slice.heldAccounts = try JSONDecoder().decode([HeldAccount].self, from: Data(try held.decode(String.self, "accounts").utf8))
        }
        return slice
    }
}
