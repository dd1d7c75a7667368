import Foundation
import Reconciler
import Store
import TestHelpers
import Testing
import WorkOS
import WorkOSModel

@Suite struct StandardConformingStringsTests {
    /// With `standard_conforming_strings` off at the server, a backslash
    /// escapes a quote in a string literal: a directory id pasted into SQL
    /// text could end the literal and run its own statement. Every session
    /// turns the setting on, and every value is a bind: the hostile id
    /// round-trips through two applies and nothing else runs.
    @Test func aHostileDirectoryIDRoundTripsWithBackslashEscapesAtTheServer() async throws {
        let (conninfo, owner) = try await freshDatabase("scs_off")
        try await owner.execute(PostgresQuery(unsafeSQL: """
            DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET standard_conforming_strings = off', current_database()); END $$
            """))
        let connection = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        #expect(try await connection.query("SHOW standard_conforming_strings")[0].decode(String.self, "standard_conforming_strings") == "on")

        let hostile = #"x\'; DROP TABLE workos_dsync.email_history; --"#
        let organization = #"org_\'; DROP TABLE workos_dsync.link_conflicts; --"#
        let directory = Directory(id: hostile, organizationID: organization, name: #"O\'Brien & Co"#, domain: nil, type: "okta", state: .linked)
        let group = DirectoryGroup(id: "directory_group_1", directoryID: hostile, organizationID: organization, idpID: #"g\'1"#, name: "Admins")
        let users = (1...3).map { n in
            DirectoryUser(
                id: "directory_user_\(n)", directoryID: hostile, organizationID: organization, idpID: #"idp\'"# + "\(n)",
                email: "user\(n)@example.com", firstName: #"O\'Brien"#, lastName: "User \(n)", state: .active)
        }
        try await connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role) VALUES (\(hostile), \(group.idpID), 'admin')
            """)
        let store = SyncStore(connection: connection, logger: quietLogger)
        #expect(try await store.tryLock(directoryID: hostile) != nil)
        func sync(_ listed: [DirectoryUser]) async throws -> AppliedRun {
            let listing = PreparedListing(DirectorySnapshot(
                directory: directory, users: listed, groups: [group], memberships: [group.id: listed.map(\.id)]))
            let stored = try await store.loadState(directoryID: hostile, for: listing)
            return try await store.apply(try Planner.plan(listing, stored: stored, policy: SafetyPolicy()), pages: 1, startedAt: Date())
        }
        #expect(try await sync(users).outcome == .applied)
        #expect(try await sync(Array(users.dropLast())).outcome == .applied)

        #expect(try await store.knownDirectories().map(\.id) == [hostile])
        let accounts = try await connection.query("""
            SELECT status, idp_id, organization_id FROM workos_dsync.directory_users WHERE directory_id = \(hostile) ORDER BY workos_id
            """)
        #expect(try accounts.map { try $0.decode(String.self, "status") } == ["active", "active", "disabled"])
        #expect(try accounts.map { try $0.decode(String.self, "idp_id") } == users.map(\.idpID))
        #expect(try accounts.allSatisfy { try $0.decode(String.self, "organization_id") == organization })
        // The role changes were computed for the hostile directory (its id is in each event's payload).
        let roleEvents = try await connection.query("""
            SELECT payload ->> 'directory_id' AS directory FROM workos_dsync.events WHERE type = 'user.roles_changed'
            """)
        #expect(try roleEvents.map { try $0.decode(String.self, "directory") } == [hostile, hostile, hostile, hostile])
        // Nothing else ran.
        for table in ["workos_dsync.email_history", "workos_dsync.link_conflicts"] {
            #expect(try await connection.query("SELECT to_regclass(\(table)) IS NOT NULL AS exists")[0].decode(Bool.self, "exists"), "\(table)")
        }
        try await store.unlock(directoryID: hostile)
    }
}
