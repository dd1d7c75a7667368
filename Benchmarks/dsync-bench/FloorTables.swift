import Foundation
import Reconciler
import WorkOSModel

/// The final rows of a full sync, as COPY text values, for the write floor.
struct FloorTables {
    static let setup = [
        "DROP SCHEMA IF EXISTS bench_floor CASCADE",
        "CREATE SCHEMA bench_floor",
        "CREATE TABLE bench_floor.persons (LIKE workos_dsync.users INCLUDING ALL)",
        "CREATE TABLE bench_floor.accounts (LIKE workos_dsync.directory_users INCLUDING ALL)",
        "CREATE TABLE bench_floor.groups (LIKE workos_dsync.directory_groups INCLUDING ALL)",
        "CREATE TABLE bench_floor.memberships (LIKE workos_dsync.group_memberships INCLUDING ALL)",
    ]
    /// The foreign keys of `workos_dsync` between these tables (LIKE does not copy them).
    static let foreignKeys = [
        "ALTER TABLE bench_floor.accounts ADD FOREIGN KEY (user_id) REFERENCES bench_floor.persons (id)",
        "ALTER TABLE bench_floor.memberships ADD FOREIGN KEY (directory_group_id) REFERENCES bench_floor.groups (id)",
        "ALTER TABLE bench_floor.memberships ADD FOREIGN KEY (directory_user_id) REFERENCES bench_floor.accounts (id)",
    ]
    static let personColumns = ["id", "email", "first_name", "last_name", "status"]
    static let accountColumns = [
        "id", "workos_id", "directory_id", "organization_id", "idp_id", "user_id", "email", "first_name", "last_name",
        "username", "job_title", "state", "status", "custom_attributes", "role_slug", "fingerprint", "workos_updated_at",
    ]
    static let groupColumns = ["id", "workos_id", "directory_id", "organization_id", "idp_id", "name", "fingerprint", "workos_updated_at"]
    static let membershipColumns = ["directory_group_id", "directory_user_id"]

    var persons: [[String?]] = []
    var accounts: [[String?]] = []
    var groups: [[String?]] = []
    var memberships: [[String?]] = []

    /// Fingerprints are real (the rows a sync writes carry them), computed here, untimed.
    mutating func add(_ snapshot: DirectorySnapshot) {
        let formatter = ISO8601DateFormatter()
        var groupsOfUser: [String: [String]] = [:]
        for (group, members) in snapshot.memberships {
            for member in members { groupsOfUser[member, default: []].append(group) }
        }
        var accountIDs: [String: String] = [:]
        for user in snapshot.users {
            let person = UUID().uuidString.lowercased()
            let account = UUID().uuidString.lowercased()
            accountIDs[user.id] = account
            let active = user.state.rawValue == "active"
            persons.append([person, user.email, user.firstName, user.lastName, active ? "active" : "disabled"])
            accounts.append([
                account, user.id, user.directoryID, user.organizationID, user.idpID, person, user.email, user.firstName,
                user.lastName, user.username, user.jobTitle, user.state.rawValue, "active",
                user.customAttributesText, user.roleSlug,
                Fingerprint.of(user: user, groupIDs: groupsOfUser[user.id] ?? []).hex,
                user.updatedAt.map { formatter.string(from: $0) },
            ])
        }
        for group in snapshot.groups {
            let id = UUID().uuidString.lowercased()
            groups.append([
                id, group.id, group.directoryID, group.organizationID, group.idpID, group.name,
                Fingerprint.of(group: group).hex, group.updatedAt.map { formatter.string(from: $0) },
            ])
            for member in snapshot.memberships[group.id] ?? [] {
                memberships.append([id, accountIDs[member]])
            }
        }
    }
}
