import Foundation
import Reconciler
import WorkOSModel

/// Writes one plan inside the apply transaction, set-wise: each kind of
/// change is COPYed into a temporary staging table and applied with one
/// statement. Events are collected in `pending_events` and appended to
/// `workos_dsync.events` at the end, under the events lock.
///
/// Each changed row is written once and each change explained by one event:
/// an account that turns inactive is updated and disabled in the same UPDATE
/// and gets one `user.disabled` event carrying the other changed fields; an
/// email change gets one `user.email_changed` event carrying them; a new
/// account's groups are listed in its `user.created` event instead of one
/// `membership.added` event per group.
struct PlanWriter {
    let plan: Plan
    /// The run (`sync_runs.id`) of a full reconcile; nil for a change applied from a WorkOS event.
    let runID: Int64?
    /// When the directory's previous complete listing was taken, and its run:
    /// an account missing now for the first time was last seen then.
    let previousCompleteListing: Date?
    let previousCompleteRunID: Int64?
    let connection: PostgresConnection
    /// The WorkOS event the plan came from (events mode), recorded on each `events` row.
    var workosEventID: String? = nil

    var directoryID: String { plan.directory.id }
    var organizationID: String? { plan.directory.organizationID }

    /// Every step of applying the plan, in order: staging, groups, accounts,
    /// conflict links, absences, disables, memberships, persons, roles, then the `events` rows. Returns
    /// the persons whose last active account was disabled and the rows written.
    func writeAll() async throws -> (personsDisabled: [UUID], eventsWritten: Int) {
        try await createStagingTables()
        try await writeGroups()
        try await stageDisables()
        try await writeAccounts()
        try await writeConflictLinks()
        try await recordAbsences()
        try await writeDisables()
        try await writeMemberships()
        let disabled = try await recomputePersons()
        try await recordRoleChanges()
        return (disabled, try await flushEvents())
    }

    func createStagingTables() async throws {
        try await connection.execute(PostgresQuery(unsafeSQL: """
            CREATE TEMPORARY TABLE pending_events (
                seq bigserial, type text NOT NULL, directory_user_id uuid, user_id uuid,
                directory_group_id uuid, reason text, payload jsonb NOT NULL DEFAULT '{}'
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE stage_accounts (
                kind text NOT NULL, account_id uuid NOT NULL, person_id uuid, link text, candidates uuid[], conflict_reason text,
                workos_id text NOT NULL, previous_workos_id text, idp_id text, email text,
                first_name text, last_name text, username text, job_title text, state text NOT NULL,
                status text NOT NULL, custom_attributes jsonb, role_slug text, fingerprint text NOT NULL,
                workos_updated_at timestamptz, email_changed boolean NOT NULL, old_email text, group_ids text[] NOT NULL
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE released_idp_ids (account_id uuid NOT NULL, idp_id text NOT NULL) ON COMMIT DROP;
            CREATE TEMPORARY TABLE account_changes (
                account_id uuid NOT NULL, kind text NOT NULL, changed jsonb NOT NULL, disabled boolean NOT NULL
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE stage_disables (account_id uuid NOT NULL, reason text NOT NULL) ON COMMIT DROP;
            CREATE TEMPORARY TABLE stage_groups (
                kind text NOT NULL, group_id uuid NOT NULL, workos_id text NOT NULL, idp_id text NOT NULL,
                name text NOT NULL, fingerprint text NOT NULL, workos_updated_at timestamptz
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE stage_memberships (op text NOT NULL, group_workos_id text NOT NULL, user_workos_id text NOT NULL) ON COMMIT DROP;
            CREATE TEMPORARY TABLE person_changes (user_id uuid NOT NULL, status text NOT NULL, reason text) ON COMMIT DROP;
            CREATE TEMPORARY TABLE stage_links (
                account_id uuid NOT NULL, person_id uuid NOT NULL, new_person boolean NOT NULL, resolution text NOT NULL,
                resolved_by text
            ) ON COMMIT DROP;
            """))
    }

    // MARK: groups

    func writeGroups() async throws {
        guard !plan.groupWrites.isEmpty || !plan.groupRemovals.isEmpty else { return }
        try await connection.copy(
            into: "stage_groups", columns: ["kind", "group_id", "workos_id", "idp_id", "name", "fingerprint", "workos_updated_at"],
            rows: plan.groupWrites.map { write in
                [write.kind == .create ? "create" : "update", (write.groupID ?? UUID()).uuidString, write.group.id,
                 Storable.text(write.group.idpID), Storable.text(write.group.name), write.fingerprint.hex,
                 write.group.updatedAt.map(Timestamp.format)]
            })
        try await connection.execute("""
            WITH created AS (
                INSERT INTO workos_dsync.directory_groups (id, workos_id, directory_id, organization_id, idp_id, name, fingerprint,
                    workos_updated_at)
                SELECT group_id, workos_id, \(directoryID), \(organizationID), idp_id, name, fingerprint, workos_updated_at
                FROM stage_groups WHERE kind = 'create'
                RETURNING id, workos_id, name
            )
            INSERT INTO pending_events (type, directory_group_id, payload)
            SELECT 'group.created', id, jsonb_build_object('workos_id', workos_id, 'name', name) FROM created ORDER BY workos_id
            """)
        try await connection.execute("""
            WITH old AS (
                SELECT g.id, g.name, g.idp_id, g.removed_at FROM workos_dsync.directory_groups g
                JOIN stage_groups s ON s.group_id = g.id WHERE s.kind = 'update'
            ), updated AS (
                UPDATE workos_dsync.directory_groups g SET workos_id = s.workos_id, idp_id = s.idp_id, name = s.name,
                    fingerprint = s.fingerprint, workos_updated_at = s.workos_updated_at, removed_at = NULL, updated_at = now()
                FROM stage_groups s WHERE s.group_id = g.id AND s.kind = 'update'
                RETURNING g.id
            )
            INSERT INTO pending_events (type, directory_group_id, payload)
            SELECT CASE WHEN o.removed_at IS NOT NULL THEN 'group.restored' ELSE 'group.updated' END, o.id,
                   jsonb_build_object('workos_id', s.workos_id, 'old_name', o.name, 'name', s.name)
            FROM old o JOIN stage_groups s ON s.group_id = o.id ORDER BY s.workos_id
            """)
        let removed = plan.groupRemovals.map(\.id)
        if !removed.isEmpty {
            try await connection.execute("""
                WITH removed AS (
                    UPDATE workos_dsync.directory_groups SET removed_at = now(), updated_at = now()
                    WHERE id = ANY(\(removed)::uuid[]) AND removed_at IS NULL
                    RETURNING id, workos_id, name
                )
                INSERT INTO pending_events (type, directory_group_id, payload)
                SELECT 'group.removed', id, jsonb_build_object('workos_id', workos_id, 'name', name) FROM removed ORDER BY workos_id
                """)
        }
    }

    // MARK: accounts

    func writeAccounts() async throws {
        guard !plan.accountWrites.isEmpty else { return }
        try await connection.copy(
            into: "stage_accounts",
            columns: [
                "kind", "account_id", "person_id", "link", "candidates", "conflict_reason", "workos_id", "previous_workos_id", "idp_id",
                "email", "first_name", "last_name", "username", "job_title", "state", "status", "custom_attributes",
                "role_slug", "fingerprint", "workos_updated_at", "email_changed", "old_email", "group_ids",
            ],
            rows: plan.accountWrites.lazy.map(stageRow))
        try await releaseReusedIdpIDs()
        // A statement runs only when the plan has rows of its kind: each one
        // scans the whole staging table (1 s at 100k accounts for nothing).
        let writes = writeKinds
        if writes.creates { try await writeNewAccounts(newPersons: writes.newPersons, conflicts: writes.conflicts) }
        guard writes.changes else { return }
        try await writeChangedAccounts(emailChanges: writes.emailChanges)
    }

    /// Which kinds of account write the plan has.
    private var writeKinds: WriteKinds { WriteKinds(plan.accountWrites) }

    private struct WriteKinds {
        var creates = false, newPersons = false, existingPersons = false, conflicts = false
        var changes = false, emailChanges = false
        init(_ writes: [AccountWrite]) {
            for write in writes {
                switch write.kind {
                case .create(let link):
                    creates = true
                    switch link {
                    case .newPerson: newPersons = true
                    case .existingPerson: existingPersons = true
                    case .conflict: conflicts = true
                    }
                case .update, .reactivate:
                    changes = true
                    if write.emailChange != nil { emailChanges = true }
                }
            }
        }
    }

    private func writeNewAccounts(newPersons: Bool, conflicts: Bool) async throws {
        try await releasePurgedWorkOSIDs()
        // New persons first, then the accounts that point at them.
        if newPersons {
            try await connection.execute("""
                INSERT INTO workos_dsync.users (id, email, first_name, last_name, status, disabled_at)
                SELECT person_id, email, first_name, last_name, status, CASE WHEN status = 'disabled' THEN now() END
                FROM stage_accounts WHERE kind = 'create' AND link = 'new'
                """)
        }
        try await connection.execute("""
            INSERT INTO workos_dsync.directory_users (
                id, workos_id, directory_id, organization_id, idp_id, user_id, email, first_name, last_name, username,
                job_title, state, status, disabled_at, disabled_reason, custom_attributes, role_slug, fingerprint,
                first_seen_at, last_seen_at, workos_updated_at)
            SELECT account_id, workos_id, \(directoryID), \(organizationID), idp_id, person_id, email, first_name,
                   last_name, username, job_title, state, status,
                   CASE WHEN status = 'disabled' THEN now() END, CASE WHEN status = 'disabled' THEN 'inactive' END,
                   coalesce(custom_attributes, '{}'::jsonb), role_slug, fingerprint, now(), now(), workos_updated_at
            FROM stage_accounts WHERE kind = 'create'
            """)
        if conflicts {
            try await connection.execute("""
                INSERT INTO workos_dsync.link_conflicts (directory_user_id, email, candidate_user_ids, reason)
                SELECT account_id, email, candidates, conflict_reason FROM stage_accounts WHERE kind = 'create' AND link = 'conflict'
                """)
        }
        try await connection.execute("""
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT 'user.created', account_id, person_id, CASE WHEN link = 'conflict' THEN conflict_reason END,
                   jsonb_build_object('workos_id', workos_id, 'idp_id', idp_id, 'email', email, 'status', status, 'link', link,
                                      'groups', to_jsonb(group_ids))
            FROM stage_accounts WHERE kind = 'create' ORDER BY workos_id
            """)
    }

    /// Updates and reactivations, with their events, email history and persons' profiles.
    private func writeChangedAccounts(emailChanges: Bool) async throws {
        // An account the plan also disables (it turned inactive) is disabled in this same UPDATE.
        try await connection.execute("""
            WITH old AS (
                SELECT d.*, x.reason AS disable_reason FROM workos_dsync.directory_users d
                JOIN stage_accounts s ON s.account_id = d.id
                LEFT JOIN stage_disables x ON x.account_id = d.id AND d.status = 'active' AND s.kind = 'update'
                WHERE s.kind IN ('update', 'reactivate')
            ), updated AS (
                UPDATE workos_dsync.directory_users d SET
                    workos_id = s.workos_id, idp_id = s.idp_id, email = s.email, first_name = s.first_name,
                    last_name = s.last_name, username = s.username, job_title = s.job_title, state = s.state,
                    custom_attributes = coalesce(s.custom_attributes, '{}'::jsonb), role_slug = s.role_slug,
                    fingerprint = s.fingerprint, workos_updated_at = s.workos_updated_at, last_seen_at = now(),
                    last_listed_run_id = NULL, missing_listings = 0, updated_at = now(),
                    status = CASE WHEN s.kind = 'reactivate' THEN 'active'
                                  WHEN o.disable_reason IS NOT NULL THEN 'disabled' ELSE d.status END,
                    disabled_at = CASE WHEN s.kind = 'reactivate' THEN NULL
                                       WHEN o.disable_reason IS NOT NULL THEN now() ELSE d.disabled_at END,
                    disabled_reason = CASE WHEN s.kind = 'reactivate' THEN NULL
                                           WHEN o.disable_reason IS NOT NULL THEN o.disable_reason ELSE d.disabled_reason END
                FROM stage_accounts s JOIN old o ON o.id = s.account_id WHERE s.account_id = d.id
            ), changes AS (
                SELECT s.kind, o.id, o.user_id, s.workos_id, s.email_changed, o.disable_reason IS NOT NULL AS disabled,
                       jsonb_strip_nulls(jsonb_build_object(
                    'workos_id', CASE WHEN o.workos_id IS DISTINCT FROM s.workos_id THEN jsonb_build_array(o.workos_id, s.workos_id) END,
                    'idp_id', CASE WHEN coalesce(r.idp_id, o.idp_id) IS DISTINCT FROM s.idp_id
                        THEN jsonb_build_array(coalesce(r.idp_id, o.idp_id), s.idp_id) END,
                    'first_name', CASE WHEN o.first_name IS DISTINCT FROM s.first_name THEN jsonb_build_array(o.first_name, s.first_name) END,
                    'last_name', CASE WHEN o.last_name IS DISTINCT FROM s.last_name THEN jsonb_build_array(o.last_name, s.last_name) END,
                    'username', CASE WHEN o.username IS DISTINCT FROM s.username THEN jsonb_build_array(o.username, s.username) END,
                    'job_title', CASE WHEN o.job_title IS DISTINCT FROM s.job_title THEN jsonb_build_array(o.job_title, s.job_title) END,
                    'state', CASE WHEN o.state IS DISTINCT FROM s.state THEN jsonb_build_array(o.state, s.state) END,
                    'role_slug', CASE WHEN o.role_slug IS DISTINCT FROM s.role_slug THEN jsonb_build_array(o.role_slug, s.role_slug) END,
                    'custom_attributes', CASE WHEN o.custom_attributes IS DISTINCT FROM coalesce(s.custom_attributes, '{}'::jsonb)
                        THEN jsonb_build_array(o.custom_attributes, s.custom_attributes) END
                )) AS changed
                FROM old o JOIN stage_accounts s ON s.account_id = o.id
                LEFT JOIN released_idp_ids r ON r.account_id = o.id
            ), recorded AS (
                INSERT INTO account_changes (account_id, kind, changed, disabled)
                SELECT id, kind, changed, disabled FROM changes
            )
            -- The email change and the disable have events of their own that carry `changed`.
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT CASE WHEN kind = 'reactivate' THEN 'user.reactivated' ELSE 'user.updated' END, id, user_id,
                   CASE WHEN kind = 'reactivate' THEN 'reactivated' END,
                   jsonb_build_object('workos_id', workos_id, 'changed', changed)
            FROM changes
            WHERE kind = 'reactivate' OR (changed <> '{}'::jsonb AND NOT email_changed AND NOT disabled)
            ORDER BY workos_id
            """)
        if emailChanges { try await recordEmailChanges() }
        // The person follows its active account's profile (also the last one, of an account this run
        // disables), unless the person has an older active account in another organization: the
        // person's own organization keeps the login email and names, and the clash waits in
        // link_conflicts (tenants stay apart).
        try await connection.execute("""
            WITH differing AS (
                SELECT p.id AS person_id, s.account_id, s.email, s.first_name, s.last_name,
                       EXISTS (SELECT 1 FROM workos_dsync.directory_users o WHERE o.user_id = p.id AND o.status = 'active'
                               AND o.organization_id IS DISTINCT FROM \(organizationID) AND o.created_at < d.created_at) AS elsewhere
                FROM stage_accounts s JOIN workos_dsync.directory_users d ON d.id = s.account_id
                JOIN account_changes c ON c.account_id = s.account_id JOIN workos_dsync.users p ON p.id = d.user_id
                WHERE s.kind IN ('update', 'reactivate') AND (d.status = 'active' OR c.disabled) AND p.anonymized_at IS NULL
                  AND (p.email, p.first_name, p.last_name) IS DISTINCT FROM (s.email, s.first_name, s.last_name)
            ), followed AS (
                UPDATE workos_dsync.users p SET email = f.email, first_name = f.first_name, last_name = f.last_name,
                    updated_at = now()
                FROM differing f WHERE p.id = f.person_id AND NOT f.elsewhere
            )
            INSERT INTO workos_dsync.link_conflicts (directory_user_id, email, candidate_user_ids, reason)
            SELECT account_id, email, ARRAY[person_id], 'profile_elsewhere' FROM differing WHERE elsewhere
            ON CONFLICT (directory_user_id) WHERE resolved_at IS NULL DO NOTHING
            """)
    }

    /// One `email_history` row and one `user.email_changed` event per changed email.
    private func recordEmailChanges() async throws {
        try await connection.execute("""
            WITH history AS (
                INSERT INTO workos_dsync.email_history (directory_user_id, old_email, new_email, changed_at, run_id)
                SELECT account_id, old_email, email, now(), \(runID)::bigint FROM stage_accounts
                WHERE email_changed AND kind <> 'create'
                RETURNING directory_user_id, old_email, new_email
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, payload)
            SELECT 'user.email_changed', h.directory_user_id, d.user_id,
                   jsonb_build_object('workos_id', d.workos_id, 'old_email', h.old_email, 'new_email', h.new_email)
                   || CASE WHEN c.changed <> '{}'::jsonb AND c.kind = 'update' AND NOT c.disabled
                           THEN jsonb_build_object('changed', c.changed) ELSE '{}'::jsonb END
            FROM history h JOIN workos_dsync.directory_users d ON d.id = h.directory_user_id
            JOIN account_changes c ON c.account_id = h.directory_user_id ORDER BY d.workos_id
            """)
    }

    /// An `idp_id` is unique within a directory, and PostgreSQL checks that row
    /// by row, so an account may only take an `idp_id` once no other account
    /// holds it. The IdP can reuse one (an employee number given to a new
    /// hire, two ids swapped by a correction): each account that holds an
    /// `idp_id` a written account takes first gets a unique placeholder,
    /// `<idp_id> (released <account id>)`. Accounts written in this run then
    /// get their listed `idp_id` (their `user.updated` event shows the change
    /// from the original); any other (a deleted user's) keeps the placeholder
    /// and gets a `user.updated` event with reason `idp_id_reused`, so a
    /// rehire by that `idp_id` can no longer reach the old account.
    private func releaseReusedIdpIDs() async throws {
        try await connection.execute("""
            WITH released AS (
                UPDATE workos_dsync.directory_users d
                SET idp_id = d.idp_id || ' (released ' || d.id::text || ')', updated_at = now()
                FROM stage_accounts s
                WHERE d.directory_id = \(directoryID) AND s.idp_id <> '' AND d.idp_id = s.idp_id AND d.id <> s.account_id
                RETURNING d.id, d.user_id, d.workos_id, s.idp_id AS original, d.idp_id AS placeholder
            ), recorded AS (
                INSERT INTO released_idp_ids (account_id, idp_id) SELECT id, original FROM released
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT 'user.updated', r.id, r.user_id, 'idp_id_reused',
                   jsonb_build_object('workos_id', r.workos_id, 'changed',
                       jsonb_build_object('idp_id', jsonb_build_array(r.original, r.placeholder)))
            FROM released r WHERE NOT EXISTS (SELECT 1 FROM stage_accounts s WHERE s.account_id = r.id)
            ORDER BY r.workos_id
            """)
    }

    /// A purged (anonymised) account whose WorkOS user comes back active stays
    /// anonymous: its WorkOS id goes to the new account of a new person and it
    /// keeps a placeholder, `<workos_id> (released <account id>)`.
    private func releasePurgedWorkOSIDs() async throws {
        guard !plan.purgedAccountsReturning.isEmpty else { return }
        try await connection.execute("""
            WITH released AS (
                UPDATE workos_dsync.directory_users d
                SET workos_id = d.workos_id || ' (released ' || d.id::text || ')', updated_at = now()
                WHERE d.id = ANY(\(plan.purgedAccountsReturning)::uuid[])
                RETURNING d.id, d.user_id, d.workos_id
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT 'user.updated', id, user_id, 'rehired_after_purge', jsonb_build_object('workos_id', workos_id)
            FROM released ORDER BY workos_id
            """)
    }

    private func stageRow(_ write: AccountWrite) -> [String?] {
        let user = write.user
        let kind: String
        var personID: UUID?
        var link: String?
        var candidates: String?
        var conflictReason: String?
        switch write.kind {
        case .create(.newPerson):
            (kind, personID, link) = ("create", UUID(), "new")
        case .create(.existingPerson(let id)):
            (kind, personID, link) = ("create", id, "existing")
        case .create(.conflict(let ids, let reason)):
            (kind, link, conflictReason) = ("create", "conflict", reason.rawValue)
            candidates = "{" + ids.map(\.uuidString).joined(separator: ",") + "}"
        case .update: kind = "update"
        case .reactivate: kind = "reactivate"
        }
        return [
            kind, (write.accountID ?? UUID()).uuidString, personID?.uuidString, link, candidates, conflictReason, user.id,
            write.previousWorkOSID, user.idpID.isEmpty ? nil : Storable.text(user.idpID), Storable.text(user.email),
            Storable.text(user.firstName),
            Storable.text(user.lastName), Storable.text(user.username), Storable.text(user.jobTitle),
            Storable.text(user.state.rawValue), write.initialStatus.rawValue,
            user.customAttributesText == "null" ? nil
                : Storable.customAttributesContainNUL(user) ? Storable.json(user.customAttributes).canonicalText : user.customAttributesText,
            Storable.text(user.roleSlug), write.fingerprint.hex, user.updatedAt.map(Timestamp.format),
            write.emailChange == nil ? "f" : "t", write.emailChange?.old, Array(write.groupIDs).postgresText,
        ]
    }

    // MARK: disables

    /// Stages the disables the verdict lets through; `writeAccounts` (which
    /// folds some of them into its UPDATE) and `writeDisables` read them.
    func stageDisables() async throws {
        let disables = plan.disablesToApply
        guard !disables.isEmpty else { return }
        try await connection.copy(
            into: "stage_disables", columns: ["account_id", "reason"],
            rows: disables.map { [$0.accountID.uuidString, $0.reason.rawValue] })
    }

    /// Disables the staged accounts `writeAccounts` did not already disable,
    /// and writes one `user.disabled` event per disabled account.
    func writeDisables() async throws {
        guard !plan.disablesToApply.isEmpty else { return }
        let approvedPlan: Int64? = if case .approved(let id) = plan.verdict { id } else { nil }
        try await connection.execute("""
            WITH disabled AS (
                UPDATE workos_dsync.directory_users d SET status = 'disabled', disabled_at = now(),
                    disabled_reason = s.reason, updated_at = now(), missing_listings = 0,
                    -- A missing account's trail, in the same write (see recordAbsences).
                    last_listed_run_id = CASE WHEN s.reason = 'missing'
                        THEN coalesce(d.last_listed_run_id, \(previousCompleteRunID)::bigint) ELSE d.last_listed_run_id END,
                    last_seen_at = CASE WHEN s.reason = 'missing' AND d.last_listed_run_id IS NULL
                        THEN coalesce(\(previousCompleteListing)::timestamptz, d.last_seen_at) ELSE d.last_seen_at END
                FROM stage_disables s WHERE d.id = s.account_id AND d.status = 'active'
                RETURNING d.id, d.user_id, d.workos_id, d.email, s.reason, '{}'::jsonb AS changed, d.last_seen_at,
                          d.last_listed_run_id
            ), folded AS (
                SELECT d.id, d.user_id, d.workos_id, d.email, s.reason, c.changed, d.last_seen_at, d.last_listed_run_id
                FROM account_changes c JOIN stage_disables s ON s.account_id = c.account_id
                JOIN workos_dsync.directory_users d ON d.id = c.account_id WHERE c.disabled
            ), every_disable AS (
                SELECT * FROM disabled UNION ALL SELECT * FROM folded
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT 'user.disabled', id, user_id, CASE WHEN \(approvedPlan)::bigint IS NULL THEN reason ELSE 'approved' END,
                   jsonb_build_object('workos_id', workos_id, 'email', email, 'cause', reason,
                       'held_plan_id', \(approvedPlan)::bigint,
                       'last_seen_at', CASE WHEN reason = 'missing' THEN last_seen_at ELSE now() END,
                       'last_listed_run_id', last_listed_run_id)
                   || CASE WHEN changed <> '{}'::jsonb THEN jsonb_build_object('changed', changed) ELSE '{}'::jsonb END
            FROM every_disable ORDER BY workos_id
            """)
    }

    /// Records, for each account missing from this listing for the first time
    /// whose disable is held or not due yet (the absence debounce), the last
    /// complete listing that contained it: the previous one. Its `last_seen_at`
    /// becomes that listing's time, so the trail says when the person was
    /// really last seen, however many held or debounced runs follow. (An
    /// applied disable records the same in its own UPDATE.) Then counts this
    /// absence of each debounced account (`missing_listings`).
    func recordAbsences() async throws {
        let missing = plan.heldDisables.filter { $0.reason == .missing && $0.lastListedRunID == nil }.map(\.accountID)
            + plan.pendingAbsences.filter { $0.lastListedRunID == nil }.map(\.accountID)
        if !missing.isEmpty, let previousCompleteRunID {
            try await connection.execute("""
                UPDATE workos_dsync.directory_users SET last_listed_run_id = \(previousCompleteRunID),
                    last_seen_at = coalesce(\(previousCompleteListing)::timestamptz, last_seen_at)
                WHERE id = ANY(\(missing)::uuid[]) AND last_listed_run_id IS NULL
                """)
        }
        let pending = plan.pendingAbsences.map(\.accountID)
        guard !pending.isEmpty else { return }
        try await connection.execute("""
            UPDATE workos_dsync.directory_users SET missing_listings = missing_listings + 1
            WHERE id = ANY(\(pending)::uuid[]) AND status = 'active'
            """)
    }

    // MARK: link conflicts

    /// Points the accounts of `plan.conflictLinks` at their person (a new one
    /// made from the account's email and names for `.newPerson`), closes their
    /// open `link_conflicts` row (`resolved_at`, `resolution`,
    /// `resolved_user_id`, `resolved_by`) and writes one `user.linked` event
    /// each. A run's own link (`self_resolved`) never moves an account an
    /// admin linked meanwhile. `recomputePersons` then derives the persons'
    /// status, and `recordRoleChanges` their roles.
    func writeConflictLinks() async throws {
        guard !plan.conflictLinks.isEmpty else { return }
        try await connection.copy(
            into: "stage_links", columns: ["account_id", "person_id", "new_person", "resolution", "resolved_by"],
            rows: plan.conflictLinks.map { link in
                let person: UUID
                let isNew: Bool
                switch link.target {
                case .existingPerson(let id): (person, isNew) = (id, false)
                case .newPerson: (person, isNew) = (UUID(), true)
                }
                return [link.accountID.uuidString, person.uuidString, isNew ? "t" : "f", link.resolution.rawValue, link.resolvedBy]
            })
        try await connection.execute("""
            INSERT INTO workos_dsync.users (id, email, first_name, last_name, status, disabled_at)
            SELECT s.person_id, d.email, d.first_name, d.last_name, d.status, CASE WHEN d.status = 'disabled' THEN now() END
            FROM stage_links s JOIN workos_dsync.directory_users d ON d.id = s.account_id WHERE s.new_person
            """)
        try await connection.execute("""
            WITH linked AS (
                UPDATE workos_dsync.directory_users d SET user_id = s.person_id, updated_at = now()
                FROM stage_links s
                WHERE d.id = s.account_id AND (d.user_id IS NULL OR s.resolution <> 'self_resolved')
                RETURNING d.id, d.workos_id, s.person_id, s.resolution, s.resolved_by, s.new_person
            ), closed AS (
                UPDATE workos_dsync.link_conflicts c SET resolved_at = now(), resolution = l.resolution,
                    resolved_user_id = l.person_id, resolved_by = l.resolved_by
                FROM linked l WHERE c.directory_user_id = l.id AND c.resolved_at IS NULL
                RETURNING c.id, c.directory_user_id, c.reason
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, reason, payload)
            SELECT 'user.linked', l.id, l.person_id, l.resolution,
                   jsonb_build_object('workos_id', l.workos_id, 'link_conflict_id', c.id, 'conflict_reason', c.reason,
                                      'new_person', l.new_person, 'resolved_by', l.resolved_by)
            FROM linked l LEFT JOIN closed c ON c.directory_user_id = l.id ORDER BY l.workos_id
            """)
    }

    // MARK: memberships

    func writeMemberships() async throws {
        guard plan.membershipAddCount > 0 || !plan.membershipRemovals.isEmpty else { return }
        // Rows are encoded as COPY streams them: a full sync's memberships are
        // never all staged in memory (a new account's come from its write's groups).
        func stage(_ op: String, _ memberships: some Sequence<Membership>) async throws {
            try await connection.copy(
                into: "stage_memberships", columns: ["op", "group_workos_id", "user_workos_id"],
                rows: memberships.lazy.map { [op, $0.groupWorkOSID, $0.userWorkOSID] })
        }
        if !plan.newAccountWrites.isEmpty { try await stage("create", plan.newAccountMembershipAdds) }
        if !plan.existingAccountMembershipAdds.isEmpty { try await stage("add", plan.existingAccountMembershipAdds) }
        if !plan.membershipRemovals.isEmpty { try await stage("remove", plan.membershipRemovals) }
        // A new account has no memberships yet (it was created by this
        // transaction), so its groups are inserted unchecked; they are listed
        // in its user.created event. No statement here reads group_memberships
        // while inserting into it: PostgreSQL plans such a check against the
        // table as it was, and a vacuumed empty table is planned as a
        // sequential scan that then rereads every row the statement inserts
        // (quadratic: 35k memberships took 8.6 s instead of 0.3 s).
        try await connection.execute("""
            INSERT INTO workos_dsync.group_memberships (directory_group_id, directory_user_id)
            SELECT g.id, u.id FROM stage_memberships s
            JOIN workos_dsync.directory_groups g ON g.workos_id = s.group_workos_id
            JOIN workos_dsync.directory_users u ON u.workos_id = s.user_workos_id
            WHERE s.op = 'create'
            """)
        // An existing account's new groups: the unique key skips any the table already has.
        try await connection.execute("""
            WITH added AS (
                INSERT INTO workos_dsync.group_memberships (directory_group_id, directory_user_id)
                SELECT g.id, u.id FROM stage_memberships s
                JOIN workos_dsync.directory_groups g ON g.workos_id = s.group_workos_id
                JOIN workos_dsync.directory_users u ON u.workos_id = s.user_workos_id
                WHERE s.op = 'add'
                ON CONFLICT DO NOTHING
                RETURNING directory_group_id, directory_user_id
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, directory_group_id, payload)
            SELECT 'membership.added', a.directory_user_id, u.user_id, a.directory_group_id,
                   jsonb_build_object('user_workos_id', u.workos_id, 'group_workos_id', g.workos_id, 'group', g.name)
            FROM added a JOIN workos_dsync.directory_users u ON u.id = a.directory_user_id
            JOIN workos_dsync.directory_groups g ON g.id = a.directory_group_id
            ORDER BY g.workos_id, u.workos_id
            """)
        try await connection.execute("""
            WITH removed AS (
                DELETE FROM workos_dsync.group_memberships m
                USING stage_memberships s, workos_dsync.directory_groups g, workos_dsync.directory_users u
                WHERE s.op = 'remove' AND g.workos_id = s.group_workos_id AND u.workos_id = s.user_workos_id
                  AND m.directory_group_id = g.id AND m.directory_user_id = u.id
                RETURNING m.directory_group_id, m.directory_user_id, g.workos_id AS group_workos_id, g.name,
                          u.workos_id AS user_workos_id, u.user_id
            )
            INSERT INTO pending_events (type, directory_user_id, user_id, directory_group_id, payload)
            SELECT 'membership.removed', directory_user_id, user_id, directory_group_id,
                   jsonb_build_object('user_workos_id', user_workos_id, 'group_workos_id', group_workos_id, 'group', name)
            FROM removed ORDER BY group_workos_id, user_workos_id
            """)
    }

    // MARK: persons, sessions, roles

    /// Derives each touched person's status from all its accounts: disabled
    /// only when every linked account is disabled (then `sessions_revoked_at`
    /// is set). Returns the persons disabled, whose sessions the apply revokes.
    func recomputePersons() async throws -> [UUID] {
        // A new person was inserted with its only account's status, and a conflicting
        // account is linked to none: nothing to derive for them.
        let writes = writeKinds
        guard writes.changes || writes.existingPersons || !plan.disablesToApply.isEmpty || !plan.conflictLinks.isEmpty else {
            return []
        }
        try await connection.execute("""
            WITH affected AS (
                SELECT DISTINCT d.user_id FROM workos_dsync.directory_users d
                WHERE d.user_id IS NOT NULL
                  AND d.id IN (SELECT account_id FROM stage_accounts WHERE link IS DISTINCT FROM 'new'
                               UNION ALL SELECT account_id FROM stage_disables UNION ALL SELECT account_id FROM stage_links)
            ), wanted AS (
                SELECT a.user_id, bool_or(d.status = 'active') AS any_active,
                       min(d.disabled_reason) FILTER (WHERE d.status = 'disabled') AS reason
                FROM affected a JOIN workos_dsync.directory_users d ON d.user_id = a.user_id GROUP BY a.user_id
            ), changed AS (
                UPDATE workos_dsync.users p SET
                    status = CASE WHEN w.any_active THEN 'active' ELSE 'disabled' END,
                    disabled_at = CASE WHEN w.any_active THEN NULL ELSE now() END,
                    sessions_revoked_at = CASE WHEN w.any_active THEN p.sessions_revoked_at ELSE now() END,
                    updated_at = now()
                FROM wanted w
                WHERE p.id = w.user_id AND p.status <> CASE WHEN w.any_active THEN 'active' ELSE 'disabled' END
                RETURNING p.id, p.status, w.reason
            )
            INSERT INTO person_changes (user_id, status, reason) SELECT id, status, reason FROM changed
            """)
        try await connection.execute("""
            INSERT INTO pending_events (type, user_id, reason, payload)
            SELECT CASE WHEN c.status = 'disabled' THEN 'user.disabled' ELSE 'user.reactivated' END, c.user_id,
                   CASE WHEN c.status = 'disabled' THEN c.reason ELSE 'reactivated' END,
                   jsonb_build_object('scope', 'person', 'status', c.status, 'sessions_revoked_at', p.sessions_revoked_at)
            FROM person_changes c JOIN workos_dsync.users p ON p.id = c.user_id ORDER BY c.user_id
            """)
        return try await connection.query("""
            SELECT user_id FROM person_changes WHERE status = 'disabled' ORDER BY user_id
            """).map { try $0.decode(UUID.self, "user_id") }
    }

    /// The persons of the directory `$1` whose effective roles differ from the
    /// ones they were last told about (`evented_roles`): what changed since,
    /// through this run or through an admin's edit of `role_mappings`. Fixed
    /// text; the directory id is its only bind.
    static let roleChangesSQL = """
        SELECT coalesce(a.user_id, b.user_id) AS user_id, b.roles AS before, a.roles AS after
        FROM (SELECT user_id, array_agg(DISTINCT role ORDER BY role) AS roles FROM workos_dsync.effective_roles
              WHERE directory_id = $1 AND user_id IS NOT NULL GROUP BY user_id) a
        FULL JOIN (SELECT user_id, roles FROM workos_dsync.evented_roles WHERE directory_id = $1) b
          ON a.user_id = b.user_id
        WHERE a.roles IS DISTINCT FROM b.roles
        """

    /// Whether any person's roles in the directory changed since they were last evented.
    static func rolesChanged(directoryID: String, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query(PostgresQuery(sql: "SELECT EXISTS (\(roleChangesSQL)) AS changed", binds: [directoryID]))
            .first?.decode(Bool.self, "changed") ?? false
    }

    /// A `user.roles_changed` event for each person whose effective roles in
    /// this directory differ from the ones last evented, which then become these.
    func recordRoleChanges() async throws {
        try await connection.execute(PostgresQuery(
            sql: """
                WITH changed AS (\(Self.roleChangesSQL)), upserted AS (
                    INSERT INTO workos_dsync.evented_roles (directory_id, user_id, roles)
                    SELECT $1, user_id, after FROM changed WHERE after IS NOT NULL
                    ON CONFLICT (directory_id, user_id) DO UPDATE SET roles = EXCLUDED.roles
                ), removed AS (
                    DELETE FROM workos_dsync.evented_roles e USING changed c
                    WHERE e.directory_id = $1 AND e.user_id = c.user_id AND c.after IS NULL
                )
                INSERT INTO pending_events (type, user_id, payload)
                SELECT 'user.roles_changed', user_id,
                       jsonb_build_object('directory_id', $1::text,
                                          'before', coalesce(to_jsonb(before), '[]'::jsonb),
                                          'after', coalesce(to_jsonb(after), '[]'::jsonb))
                FROM changed ORDER BY user_id
                """,
            binds: [directoryID]))
    }

    /// Appends the collected events in order under the events lock (the
    /// schema's statement trigger on `events` also takes it, and sends
    /// `NOTIFY workos_dsync`, delivered once at commit). Returns how many.
    func flushEvents() async throws -> Int {
        try await connection.execute("""
            INSERT INTO workos_dsync.events (occurred_at, type, directory_id, directory_user_id, user_id,
                                             directory_group_id, reason, run_id, workos_event_id, payload)
            SELECT now(), type, \(directoryID), directory_user_id, user_id, directory_group_id, reason, \(runID)::bigint,
                   \(workosEventID)::text, payload
            FROM pending_events ORDER BY seq
            """)
    }
}
