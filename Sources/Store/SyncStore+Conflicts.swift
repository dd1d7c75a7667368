public import Foundation
public import Reconciler
import WorkOSModel

/// An open link conflict, as `conflicts list` shows it.
public struct OpenLinkConflict: Sendable, Hashable, Codable {
    /// `link_conflicts.id`.
    public var id: Int64
    /// The account waiting (`directory_users.id`): the ACCOUNT_ID of `conflicts resolve`.
    public var accountID: UUID
    public var workosID: String
    public var directoryID: String
    public var organizationID: String?
    public var email: String?
    /// `ambiguous`, `other_organization`, `idp_id_reused` or `profile_elsewhere`.
    public var reason: String
    /// The persons the account could be linked to.
    public var candidates: [UUID]
    /// The person the account is linked to now (`profile_elsewhere` only).
    public var linkedPersonID: UUID?
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, reason, candidates
        case accountID = "account_id"
        case workosID = "workos_id"
        case directoryID = "directory_id"
        case organizationID = "organization_id"
        case linkedPersonID = "linked_person_id"
        case createdAt = "created_at"
    }
}

/// What `conflicts resolve` did.
public struct ResolvedConflict: Sendable, Hashable {
    public var conflictID: Int64
    public var accountID: UUID
    public var directoryID: String
    public var organizationID: String?
    /// The person the account is now linked to (new for `--new-person`).
    public var personID: UUID
    public var resolution: ConflictResolution
    /// `can_sign_in(person, organization)` after the link.
    public var canSignIn: Bool
    public var eventsWritten: Int
}

extension SyncStore {
    /// Open link conflicts, oldest first, of one directory or all.
    public func openConflicts(directoryID: String? = nil) async throws -> [OpenLinkConflict] {
        try await connection.query("""
            SELECT c.id, c.directory_user_id, d.workos_id, d.directory_id, d.organization_id, c.email, c.reason,
                   c.candidate_user_ids::text[] AS candidates, d.user_id, c.created_at
            FROM workos_dsync.link_conflicts c JOIN workos_dsync.directory_users d ON d.id = c.directory_user_id
            WHERE c.resolved_at IS NULL AND (\(directoryID)::text IS NULL OR d.directory_id = \(directoryID))
            ORDER BY c.created_at, c.id
            """).map { row in
            OpenLinkConflict(
                id: try row.decode(Int64.self, "id"), accountID: try row.decode(UUID.self, "directory_user_id"),
                workosID: try row.decode(String.self, "workos_id"), directoryID: try row.decode(String.self, "directory_id"),
                organizationID: try row.decode(String?.self, "organization_id"), email: try row.decode(String?.self, "email"),
                reason: try row.decode(String.self, "reason"),
                candidates: try row.decode([String].self, "candidates").compactMap(UUID.init(uuidString:)),
                linkedPersonID: try row.decode(UUID?.self, "user_id"), createdAt: try row.decode(Date.self, "created_at"))
        }
    }

    /// Resolves the open link conflict of one account (`directory_users.id`
    /// or its WorkOS id) in ONE transaction: points the account at `target`,
    /// closes the conflict, writes `user.linked`, and derives the person's
    /// status and roles exactly as a run's apply does (the same `PlanWriter`
    /// steps). Tenants stay apart: a person with active accounts in another
    /// organization is refused unless `acrossOrganizations`; a purged
    /// (anonymised) person, or one that already has another account in the
    /// directory, is always refused.
    ///
    /// - Throws: `AdminRefused` (nothing changed) when the account has no open
    ///   conflict or the person may not be linked.
    public func resolveConflict(
        account: String, target: ConflictLink.Target, resolvedBy: String, acrossOrganizations: Bool = false,
        revokeSessionsSQL: String? = nil
    ) async throws -> ResolvedConflict {
        try await connection.withTransaction { tx in
            let accountID = UUID(uuidString: account)
            func conflict() async throws -> PostgresRow? {
                try await tx.query("""
                    SELECT d.id, d.workos_id, d.directory_id, d.organization_id, d.user_id, c.id AS conflict_id
                    FROM workos_dsync.directory_users d
                    JOIN workos_dsync.link_conflicts c ON c.directory_user_id = d.id AND c.resolved_at IS NULL
                    WHERE d.id = \(accountID)::uuid OR d.workos_id = \(account)
                    """).first
            }
            guard let first = try await conflict() else {
                throw AdminRefused("no open link conflict for account \(account) (see `workos-dsync conflicts list`)")
            }
            let directoryID = try first.decode(String.self, "directory_id")
            // Runs and events of the directory wait for this transaction (and it for them).
            try await lockDirectoryWrites(directoryID: directoryID, on: tx)
            guard let row = try await conflict() else {
                throw AdminRefused("the link conflict of account \(account) was resolved meanwhile")
            }
            let id = try row.decode(UUID.self, "id")
            let organizationID = try row.decode(String?.self, "organization_id")
            let resolution: ConflictResolution
            switch target {
            case .newPerson:
                resolution = .newPerson
            case .existingPerson(let person):
                resolution = .linked
                try await checkLinkable(
                    person: person, account: id, directoryID: directoryID, organizationID: organizationID,
                    acrossOrganizations: acrossOrganizations, on: tx)
            }
            guard let directory = try await tx.query("""
                SELECT id, organization_id, name, domain, type, state FROM workos_dsync.directories WHERE id = \(directoryID)
                """).first.map(Self.storedDirectory)
            else { throw AdminRefused("directory \(directoryID) is not in the database") }
            var plan = Plan(directory: directory)
            plan.conflictLinks = [ConflictLink(
                accountID: id, workosID: try row.decode(String.self, "workos_id"), target: target, resolution: resolution,
                resolvedBy: resolvedBy)]
            let writer = PlanWriter(
                plan: plan, runID: nil, previousCompleteListing: nil, previousCompleteRunID: nil, connection: tx)
            let (disabled, events) = try await writer.writeAll()
            _ = try await revokeSessions(revokeSessionsSQL, disabled: disabled, directoryID: directoryID, on: tx)
            let linked = try await tx.query("""
                SELECT d.user_id, workos_dsync.can_sign_in(d.user_id, d.organization_id) AS can_sign_in
                FROM workos_dsync.directory_users d WHERE d.id = \(id)
                """)[0]
            return ResolvedConflict(
                conflictID: try row.decode(Int64.self, "conflict_id"), accountID: id, directoryID: directoryID,
                organizationID: organizationID, personID: try linked.decode(UUID.self, "user_id"), resolution: resolution,
                canSignIn: try linked.decode(Bool?.self, "can_sign_in") ?? false, eventsWritten: events)
        }
    }

    /// Refuses a person the account may not be linked to (see `resolveConflict`).
    private func checkLinkable(
        person: UUID, account: UUID, directoryID: String, organizationID: String?, acrossOrganizations: Bool,
        on tx: PostgresConnection
    ) async throws {
        guard let row = try await tx.query("""
            SELECT p.anonymized_at IS NOT NULL AS purged,
                   EXISTS (SELECT 1 FROM workos_dsync.directory_users o WHERE o.user_id = p.id
                           AND o.directory_id = \(directoryID) AND o.id <> \(account)) AS in_directory,
                   (SELECT array_agg(DISTINCT coalesce(o.organization_id, '?') ORDER BY coalesce(o.organization_id, '?'))
                    FROM workos_dsync.directory_users o WHERE o.user_id = p.id AND o.status = 'active'
                      AND o.organization_id IS DISTINCT FROM \(organizationID)) AS elsewhere
            FROM workos_dsync.users p WHERE p.id = \(person) FOR UPDATE OF p
            """).first
        else { throw AdminRefused("no person \(person.uuidString.lowercased())") }
        let id = person.uuidString.lowercased()
        if try row.decode(Bool.self, "purged") {
            throw AdminRefused("person \(id) was purged (anonymised); link with --new-person instead")
        }
        if try row.decode(Bool.self, "in_directory") {
            throw AdminRefused("person \(id) already has an account in directory \(directoryID)")
        }
        let elsewhere = try row.decode([String]?.self, "elsewhere") ?? []
        if !elsewhere.isEmpty && !acrossOrganizations {
            throw AdminRefused(
                "person \(id) has active accounts in another organization (\(elsewhere.joined(separator: ", "))); "
                    + "tenants stay apart: pass --across-organizations if this really is the same person")
        }
    }
}
