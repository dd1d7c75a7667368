public import Foundation
public import Logging
public import Reconciler
public import WorkOSModel

/// The sync engine's view of PostgreSQL: loads one directory's state
/// compactly, applies plans set-wise in one transaction, records runs and
/// held plans. All SQL of the reconciliation lives here and in its extensions.
public final class SyncStore: Sendable {
    public let connection: PostgresConnection
    let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Loads what the planner needs about one directory: accounts (ids,
    /// fingerprints, statuses, emails, links), groups, the memberships (by
    /// WorkOS ids) of the accounts the listing changes, and the persons that
    /// the listing's new accounts could link to by email.
    public func loadState(directoryID: String, for listing: PreparedListing?) async throws -> StoredState {
        let accounts = try await loadAccounts(directoryID: directoryID, sharingStringsWith: listing)
        var state = StoredState(directoryID: directoryID, accounts: accounts)
        for row in try await connection.query("""
            SELECT id, workos_id, idp_id, name, fingerprint, removed_at IS NOT NULL AS removed
            FROM workos_dsync.directory_groups WHERE directory_id = \(directoryID)
            """)
        {
            state.groups.append(try Self.storedGroup(row))
        }
        // Memberships only of the accounts the plan will write: an unchanged directory loads none.
        let needed = listing.map { Planner.storedRowsNeeded($0, accounts: state.accounts) } ?? StoredRowsNeeded()
        let changedAccounts = needed.membershipsOf
        if !changedAccounts.isEmpty {
            try await connection.forEachBatch(of: """
                SELECT u.workos_id AS user_workos_id, g.workos_id AS group_workos_id
                FROM workos_dsync.group_memberships m
                JOIN workos_dsync.directory_users u ON u.id = m.directory_user_id
                JOIN workos_dsync.directory_groups g ON g.id = m.directory_group_id
                WHERE m.directory_user_id = ANY(\(changedAccounts)::uuid[])
                """) { rows in
                for row in rows {
                    state.memberships[try row.decode(String.self, "user_workos_id"), default: []]
                        .insert(try row.decode(String.self, "group_workos_id"))
                }
            }
        }
        let emails = Array(Set(needed.linkEmails.map { $0.lowercased() }))
        let organizationID = listing?.directory.organizationID
        if !emails.isEmpty {
            (state.linkCandidates, state.organizationDomains) = try await Self.linkCandidates(
                emails: emails, directoryID: directoryID, organizationID: organizationID, on: connection)
        }
        return state
    }

    /// Persons without an account in the directory whose email (lower-cased)
    /// is one of `emails`, for 1:1 linking, and the organization's email domains.
    static func linkCandidates(
        emails: [String], directoryID: String, organizationID: String?, on connection: PostgresConnection
    ) async throws -> (candidates: [LinkCandidate], domains: Set<String>) {
        let candidates = try await connection.query("""
            SELECT p.id, lower(p.email) AS email,
                   EXISTS (SELECT 1 FROM workos_dsync.directory_users o WHERE o.user_id = p.id
                           AND o.organization_id IS DISTINCT FROM \(organizationID)) AS other_organization
            FROM workos_dsync.users p
            WHERE lower(p.email) = ANY(\(emails)::text[]) AND p.anonymized_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM workos_dsync.directory_users d
                              WHERE d.user_id = p.id AND d.directory_id = \(directoryID))
            """).map { row in
            LinkCandidate(
                userID: try row.decode(UUID.self, "id"), email: try row.decode(String.self, "email"),
                belongsToOtherOrganization: try row.decode(Bool.self, "other_organization"))
        }
        guard let organizationID else { return (candidates, []) }
        let domains = Set(try await connection.query("""
            SELECT DISTINCT lower(domain) AS domain FROM workos_dsync.directories
            WHERE organization_id = \(organizationID) AND coalesce(domain, '') <> ''
            """).map { try $0.decode(String.self, "domain") })
        return (candidates, domains)
    }

    /// One `directory_groups` row (`id, workos_id, idp_id, name, fingerprint, removed`).
    static func storedGroup(_ row: PostgresRow) throws -> StoredGroup {
        StoredGroup(
            id: try row.decode(UUID.self, "id"), workosID: try row.decode(String.self, "workos_id"),
            idpID: try row.decode(String.self, "idp_id"), name: try row.decode(String.self, "name"),
            fingerprint: Fingerprint(hex: try row.decode(String.self, "fingerprint")), isRemoved: try row.decode(Bool.self, "removed"))
    }

    /// One `directory_users` row as the planner needs it; `workosID`, `idpID`
    /// and `email` are passed in (a listing may share their strings).
    static func storedAccount(_ row: PostgresRow, workosID: String, idpID: String, email: String?) throws -> StoredAccount {
        StoredAccount(
            id: try row.decode(UUID.self, "id"), workosID: workosID, idpID: idpID,
            userID: try row.decode(UUID?.self, "user_id"), email: email,
            status: AccountStatus(rawValue: try row.decode(String.self, "status")) ?? .disabled,
            disabledReason: try row.decode(String?.self, "disabled_reason").flatMap(DisableReason.init(rawValue:)),
            fingerprint: Fingerprint(hex: try row.decode(String.self, "fingerprint")),
            firstName: try row.decode(String?.self, "first_name"), lastName: try row.decode(String?.self, "last_name"),
            isAnonymized: try row.decode(Bool.self, "anonymized"),
            lastListedRunID: try row.decode(Int64?.self, "last_listed_run_id"),
            missingListings: try row.decode(Int.self, "missing_listings"))
    }

    /// The directory's accounts, compact. An account's WorkOS id, `idp_id` and
    /// email are usually equal to its listed user's: those share the listing's
    /// strings instead of holding copies (at 1M accounts, ~200 MiB).
    private func loadAccounts(directoryID: String, sharingStringsWith listing: PreparedListing?) async throws -> [StoredAccount] {
        var accounts: [StoredAccount] = []
        // Sized once: growing a 1M-account array by doubling would hold both copies at the peak.
        let count = try await connection.query(
            "SELECT count(*) AS accounts FROM workos_dsync.directory_users WHERE directory_id = \(directoryID)")
        accounts.reserveCapacity(try count.first?.decode(Int.self, "accounts") ?? 0)
        // Names only of disabled accounts (for a rehire by idp_id), and whether a purge anonymised the person.
        try await connection.forEachBatch(of: """
            SELECT d.id, d.workos_id, d.idp_id, d.user_id, d.email, d.status, d.disabled_reason, d.fingerprint,
                   d.last_listed_run_id, d.missing_listings, CASE WHEN d.status = 'disabled' THEN d.first_name END AS first_name,
                   CASE WHEN d.status = 'disabled' THEN d.last_name END AS last_name,
                   p.anonymized_at IS NOT NULL AS anonymized
            FROM workos_dsync.directory_users d
            LEFT JOIN workos_dsync.users p ON p.id = d.user_id AND d.status = 'disabled'
            WHERE d.directory_id = \(directoryID)
            """) { rows in
            for row in rows {
                var workosID = try row.decode(String.self, "workos_id")
                var idpID = try row.decode(String?.self, "idp_id") ?? ""
                var email = try row.decode(String?.self, "email")
                if let listed = listing?.listedUser(id: workosID) {
                    workosID = listed.id
                    if listed.idpID == idpID { idpID = listed.idpID }
                    if listed.email == email { email = listed.email }
                }
                accounts.append(try Self.storedAccount(row, workosID: workosID, idpID: idpID, email: email))
            }
        }
        return accounts
    }

    /// Directories known to the database that are not marked removed.
    public func knownDirectories() async throws -> [Directory] {
        try await connection.query("""
            SELECT id, organization_id, name, domain, type, state FROM workos_dsync.directories
            WHERE removed_at IS NULL ORDER BY id
            """).map(Self.storedDirectory)
    }

    /// One `directories` row (`id, organization_id, name, domain, type, state`).
    static func storedDirectory(_ row: PostgresRow) throws -> Directory {
        Directory(
            id: try row.decode(String.self, "id"), organizationID: try row.decode(String?.self, "organization_id"),
            name: try row.decode(String?.self, "name") ?? "", domain: try row.decode(String?.self, "domain"),
            type: try row.decode(String?.self, "type") ?? "",
            state: DirectoryState(rawValue: try row.decode(String?.self, "state") ?? ""))
    }

    /// Records a directory as WorkOS lists it (name, state…), without touching
    /// its accounts. Writes only when something differs.
    public func recordDirectory(_ directory: Directory) async throws {
        try await connection.execute("""
            INSERT INTO workos_dsync.directories (id, organization_id, name, domain, type, state)
            VALUES (\(directory.id), \(directory.organizationID), \(directory.name), \(directory.domain),
                    \(directory.type), \(directory.state.rawValue))
            ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, name = EXCLUDED.name,
                domain = EXCLUDED.domain, type = EXCLUDED.type, state = EXCLUDED.state, removed_at = NULL,
                updated_at = now()
            WHERE (directories.organization_id, directories.name, directories.domain, directories.type, directories.state)
                IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.name, EXCLUDED.domain, EXCLUDED.type, EXCLUDED.state)
               OR directories.removed_at IS NOT NULL
            """)
    }

    /// Records a run that applied nothing (`failed` or `skipped`) and returns its id.
    @discardableResult
    public func recordRun(
        directoryID: String, outcome: RunOutcome, startedAt: Date, pages: Int = 0, error: String? = nil, dryRun: Bool = false
    ) async throws -> Int64 {
        try await ensureDirectoryRow(directoryID)
        return try await connection.query("""
            INSERT INTO workos_dsync.sync_runs (directory_id, started_at, finished_at, outcome, dry_run, pages, error, counts)
            VALUES (\(directoryID), \(startedAt), clock_timestamp(), \(outcome.rawValue), \(dryRun), \(pages), \(error), '{}'::jsonb)
            RETURNING id
            """)[0].decode(Int64.self, "id")
    }

    private func ensureDirectoryRow(_ directoryID: String) async throws {
        try await connection.execute("""
            INSERT INTO workos_dsync.directories (id, name) VALUES (\(directoryID), '') ON CONFLICT (id) DO NOTHING
            """)
    }

    /// The newest plan of a directory still waiting for approval, or the one with `id`.
    public func heldPlan(directoryID: String, id: Int64? = nil) async throws -> HeldPlan? {
        let rows = try await connection.query("""
            SELECT id, accounts::text AS accounts FROM workos_dsync.held_plans
            WHERE directory_id = \(directoryID) AND status = 'held' AND (\(id)::bigint IS NULL OR id = \(id))
            ORDER BY id DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        let accounts = try JSONDecoder().decode([HeldAccount].self, from: Data(try row.decode(String.self, "accounts").utf8))
        return HeldPlan(id: try row.decode(Int64.self, "id"), directoryID: directoryID, accounts: accounts)
    }

    /// Takes the directory's session-level advisory lock (the lease that keeps
    /// replicas apart) and returns when it was taken by the database's clock;
    /// nil when another replica holds it. A run starts then: the apply compares
    /// that start with what the events poller wrote (by the same clock), so a
    /// replica whose own clock runs ahead never treats a newer event's change
    /// as older than its listing (a hire or reactivation mistaken for a leaver).
    public func tryLock(directoryID: String) async throws -> Date? {
        let row = try await connection.query("""
            SELECT pg_try_advisory_lock(\(AdvisoryLockKey.directory(directoryID))) AS locked, clock_timestamp() AS taken_at
            """)[0]
        return try row.decode(Bool.self, "locked") ? try row.decode(Date.self, "taken_at") : nil
    }

    /// The database's clock (`clock_timestamp()`): the one clock all replicas and the events poller share.
    public func databaseNow() async throws -> Date {
        try await connection.query("SELECT clock_timestamp() AS now")[0].decode(Date.self, "now")
    }

    /// Fails with `LeaseLost` unless this session (`tx`, the apply's
    /// transaction) still holds the directory's lease. A session that died
    /// and was re-established (libpq reconnects transparently) lost it, and
    /// another replica may have taken it and applied a newer listing since:
    /// this run's listing must not be applied over it.
    func requireLease(directoryID: String, on tx: PostgresConnection) async throws {
        guard try await tx.holdsAdvisoryLock(AdvisoryLockKey.directory(directoryID)) else {
            throw LeaseLost(directoryID: directoryID)
        }
    }

    /// Releases the directory's lease.
    public func unlock(directoryID: String) async throws {
        try await connection.advisoryUnlock(AdvisoryLockKey.directory(directoryID))
    }
}
