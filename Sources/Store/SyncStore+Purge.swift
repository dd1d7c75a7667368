public import Foundation

/// One person a purge anonymises (or, in a dry run, would anonymise).
public struct PurgeCandidate: Sendable, Hashable {
    /// `users.id`: kept.
    public var personID: UUID
    /// The email before anonymisation (for the dry run's list; gone afterwards).
    public var email: String?
    /// When the person was disabled (every account disabled).
    public var disabledAt: Date
    /// How many accounts (`directory_users` rows) the person has.
    public var accounts: Int
}

/// What a purge did, or would do with `dryRun`.
public struct PurgeResult: Sendable, Hashable {
    public var dryRun: Bool
    /// The persons anonymised, oldest disable first.
    public var persons: [PurgeCandidate]
    /// `directory_users` rows scrubbed.
    public var accountsScrubbed = 0
    /// `email_history` rows scrubbed.
    public var emailHistoryScrubbed = 0
    /// `events` rows whose payload lost personal fields.
    public var eventsScrubbed = 0
    /// `user.anonymized` events written (one per person, one per unlinked account).
    public var anonymizedEvents = 0
    /// Persons that qualified but are under legal hold: left untouched.
    public var legalHolds = 0
    /// Accounts never linked to a person (their link conflict never resolved),
    /// disabled long enough: scrubbed like a person's accounts.
    public var unlinkedAccounts = 0
}

/// `purge` was asked for a period shorter than the cooling-off period; nothing was touched.
public struct PurgeRefused: Error, Sendable, Hashable, CustomStringConvertible {
    public var olderThan: Duration
    public var coolingOff: Duration

    public var description: String {
        "refusing to purge: --older-than \(Self.days(olderThan)) days is shorter than purge.cooling_off "
            + "(\(Self.days(coolingOff)) days); persons disabled more recently may still come back"
    }

    static func days(_ duration: Duration) -> String {
        let days = Double(duration.components.seconds) / 86_400
        return days == days.rounded() ? String(Int(days)) : String(format: "%.2f", days)
    }
}

extension SyncStore {
    /// The personal fields scrubbed from `events` payloads (top level and inside `changed`).
    static let personalPayloadKeys = ["email", "old_email", "new_email", "first_name", "last_name", "username", "job_title", "custom_attributes"]

    /// Anonymises the personal data of persons whose accounts are ALL disabled,
    /// and were all disabled more than `olderThan` ago, in ONE transaction.
    ///
    /// Nulls `email`, names, `username`, `job_title` and empties
    /// `custom_attributes` on `users` and `directory_users`; nulls the emails
    /// of `email_history`, `link_conflicts` and of held-plan entries; replaces
    /// the personal fields of those accounts' `events` payloads with JSON
    /// `null` (keys kept, under `workos_dsync.allow_event_rewrite`); sets
    /// `users.anonymized_at`; writes one `user.anonymized` event per person.
    /// Rows, ids, statuses, timestamps and fingerprints stay (an unchanged
    /// fingerprint keeps a still-listed inactive user from being re-imported).
    /// An active person, a person with any active account, a person without
    /// accounts (not managed by Directory Sync) and one disabled more recently
    /// are never touched.
    ///
    /// - Throws: `PurgeRefused` when `olderThan` is shorter than `coolingOff`.
    /// A person under legal hold (`users.legal_hold_at`) is never touched
    /// (counted in `legalHolds`). With `directoryID`, only persons with an
    /// account in that directory. Accounts never linked to a person (an open
    /// link conflict) that were disabled longer ago than `olderThan` are
    /// scrubbed too, their conflict closed (`purged`).
    public func purge(
        olderThan: Duration, coolingOff: Duration, dryRun: Bool, directoryID: String? = nil
    ) async throws -> PurgeResult {
        guard olderThan >= coolingOff, olderThan > .zero else {
            throw PurgeRefused(olderThan: olderThan, coolingOff: coolingOff)
        }
        let seconds = Double(olderThan.components.seconds)
        return try await connection.withTransaction { tx in
            // Lock the candidates and their accounts so a concurrent sync
            // cannot reactivate one between the check and the scrub.
            try await tx.execute("""
                SELECT 1 FROM workos_dsync.users p WHERE p.status = 'disabled' AND p.anonymized_at IS NULL
                ORDER BY p.id FOR UPDATE
                """)
            try await tx.execute("""
                SELECT 1 FROM workos_dsync.directory_users d JOIN workos_dsync.users p ON p.id = d.user_id
                WHERE p.status = 'disabled' AND p.anonymized_at IS NULL ORDER BY d.id FOR UPDATE OF d
                """)
            let rows = try await tx.query("""
                SELECT p.id, p.email, greatest(p.disabled_at, max(d.disabled_at)) AS disabled_at, count(d.id) AS accounts,
                       p.legal_hold_at IS NOT NULL AS legal_hold
                FROM workos_dsync.users p JOIN workos_dsync.directory_users d ON d.user_id = p.id
                WHERE p.status = 'disabled' AND p.anonymized_at IS NULL AND p.disabled_at IS NOT NULL
                GROUP BY p.id
                HAVING bool_and(d.status = 'disabled')
                   AND greatest(p.disabled_at, max(d.disabled_at)) < now() - \(seconds) * interval '1 second'
                   AND (\(directoryID)::text IS NULL OR bool_or(d.directory_id = \(directoryID)))
                ORDER BY 3, p.id
                """)
            var result = PurgeResult(dryRun: dryRun, persons: [])
            for row in rows {
                if try row.decode(Bool.self, "legal_hold") {
                    result.legalHolds += 1
                    continue
                }
                result.persons.append(PurgeCandidate(
                    personID: try row.decode(UUID.self, "id"), email: try row.decode(String?.self, "email"),
                    disabledAt: try row.decode(Date.self, "disabled_at"), accounts: try row.decode(Int.self, "accounts")))
            }
            let persons = result.persons.map(\.personID)
            // Accounts never linked to a person, disabled long enough (they wait in an open link conflict).
            let unlinked = try await tx.query("""
                SELECT id FROM workos_dsync.directory_users
                WHERE user_id IS NULL AND status = 'disabled' AND disabled_at < now() - \(seconds) * interval '1 second'
                  AND (\(directoryID)::text IS NULL OR directory_id = \(directoryID))
                  AND (email IS NOT NULL OR first_name IS NOT NULL OR last_name IS NOT NULL OR username IS NOT NULL
                       OR job_title IS NOT NULL OR custom_attributes <> '{}'::jsonb)
                ORDER BY id FOR UPDATE
                """).map { try $0.decode(UUID.self, "id") }
            result.unlinkedAccounts = unlinked.count
            guard !persons.isEmpty || !unlinked.isEmpty else { return result }
            let accounts = try await tx.query("""
                SELECT id FROM workos_dsync.directory_users WHERE user_id = ANY(\(persons)::uuid[])
                """).map { try $0.decode(UUID.self, "id") } + unlinked
            if dryRun {
                result.accountsScrubbed = accounts.count
                result.emailHistoryScrubbed = try await tx.query("""
                    SELECT count(*) FROM workos_dsync.email_history WHERE directory_user_id = ANY(\(accounts)::uuid[])
                    """)[0].decode(Int.self, "count")
                result.eventsScrubbed = try await tx.query(PostgresQuery(
                    sql: """
                        SELECT count(*) FROM workos_dsync.events
                        WHERE (directory_user_id = ANY($1::uuid[]) OR user_id = ANY($2::uuid[]))
                          AND \(Self.scrubbedPayloadSQL) IS DISTINCT FROM payload
                        """,
                    binds: [accounts, persons, Self.personalPayloadKeys]))[0].decode(Int.self, "count")
                result.anonymizedEvents = persons.count + unlinked.count
                return result
            }
            try await tx.execute("""
                UPDATE workos_dsync.users SET email = NULL, first_name = NULL, last_name = NULL,
                    anonymized_at = now(), updated_at = now()
                WHERE id = ANY(\(persons)::uuid[])
                """)
            result.accountsScrubbed = try await tx.execute("""
                UPDATE workos_dsync.directory_users SET email = NULL, first_name = NULL, last_name = NULL, username = NULL,
                    job_title = NULL, custom_attributes = '{}'::jsonb, updated_at = now()
                WHERE id = ANY(\(accounts)::uuid[])
                """)
            result.emailHistoryScrubbed = try await tx.execute("""
                UPDATE workos_dsync.email_history SET old_email = NULL, new_email = NULL
                WHERE directory_user_id = ANY(\(accounts)::uuid[])
                """)
            try await tx.execute("""
                UPDATE workos_dsync.link_conflicts SET email = NULL WHERE directory_user_id = ANY(\(accounts)::uuid[])
                """)
            try await tx.execute("""
                UPDATE workos_dsync.link_conflicts SET resolved_at = now(), resolution = 'purged', resolved_by = 'purge'
                WHERE directory_user_id = ANY(\(unlinked)::uuid[]) AND resolved_at IS NULL
                """)
            try await tx.execute("""
                UPDATE workos_dsync.held_plans h SET accounts = (
                    SELECT jsonb_agg(CASE WHEN (a ->> 'directory_user_id')::uuid = ANY(\(accounts)::uuid[]) AND a ? 'email'
                                          THEN jsonb_set(a, '{email}', 'null'::jsonb) ELSE a END ORDER BY n)
                    FROM jsonb_array_elements(h.accounts) WITH ORDINALITY AS x(a, n))
                WHERE jsonb_typeof(h.accounts) = 'array' AND jsonb_array_length(h.accounts) > 0
                  AND EXISTS (SELECT 1 FROM jsonb_array_elements(h.accounts) a
                              WHERE (a ->> 'directory_user_id')::uuid = ANY(\(accounts)::uuid[]))
                """)
            // The audit trail keeps its rows and keys; only the values of personal fields go.
            try await tx.execute("SET LOCAL workos_dsync.allow_event_rewrite = 'on'")
            result.eventsScrubbed = try await tx.execute(PostgresQuery(
                sql: """
                    UPDATE workos_dsync.events SET payload = \(Self.scrubbedPayloadSQL)
                    WHERE (directory_user_id = ANY($1::uuid[]) OR user_id = ANY($2::uuid[]))
                      AND \(Self.scrubbedPayloadSQL) IS DISTINCT FROM payload
                    """,
                binds: [accounts, persons, Self.personalPayloadKeys]))
            try await tx.execute("SET LOCAL workos_dsync.allow_event_rewrite = 'off'")
            let days = Int(seconds / 86_400)
            try await EventLog.lockForAppend(on: tx)
            result.anonymizedEvents = try await tx.execute("""
                INSERT INTO workos_dsync.events (type, user_id, reason, payload)
                SELECT 'user.anonymized', p.id, 'purge',
                       jsonb_build_object('accounts', (SELECT count(*) FROM workos_dsync.directory_users d WHERE d.user_id = p.id),
                                          'older_than_days', \(days)::int, 'disabled_at', p.disabled_at)
                FROM workos_dsync.users p WHERE p.id = ANY(\(persons)::uuid[]) ORDER BY p.disabled_at, p.id
                """)
            result.anonymizedEvents += try await tx.execute("""
                INSERT INTO workos_dsync.events (type, directory_id, directory_user_id, reason, payload)
                SELECT 'user.anonymized', d.directory_id, d.id, 'purge',
                       jsonb_build_object('scope', 'account', 'workos_id', d.workos_id, 'older_than_days', \(days)::int,
                                          'disabled_at', d.disabled_at)
                FROM workos_dsync.directory_users d WHERE d.id = ANY(\(unlinked)::uuid[]) ORDER BY d.disabled_at, d.id
                """)
            return result
        }
    }

    /// A SQL expression over `payload` that replaces the values of
    /// `personalPayloadKeys` with `null`, at the top level and inside
    /// `changed` (where a change is `[old, new]`, it becomes `[null, null]`).
    /// Fixed text: the keys are its `$3` bind (`personalPayloadKeys`).
    static let scrubbedPayloadSQL: String = {
        let keys = "$3::text[]"
        let top = """
            (payload || coalesce((SELECT jsonb_object_agg(k, 'null'::jsonb) FROM jsonb_object_keys(payload) AS k
                                  WHERE k = ANY(\(keys))), '{}'::jsonb))
            """
        return """
            (CASE WHEN jsonb_typeof(payload -> 'changed') = 'object' THEN jsonb_set(\(top), '{changed}',
                (payload -> 'changed') || coalesce((SELECT jsonb_object_agg(c.k, CASE WHEN jsonb_typeof(c.v) = 'array'
                    THEN (SELECT coalesce(jsonb_agg('null'::jsonb), '[]'::jsonb) FROM jsonb_array_elements(c.v))
                    ELSE 'null'::jsonb END)
                  FROM jsonb_each(payload -> 'changed') AS c(k, v) WHERE c.k = ANY(\(keys))), '{}'::jsonb))
             ELSE \(top) END)
            """
    }()
}
