import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `sql/roles.sql` on a real server: the daemon's role runs whole syncs but
/// deletes only memberships and never writes role mappings; the admin role
/// maintains role mappings and decides conflicts and held plans, nothing else.
@Suite struct LeastPrivilegeTests {
    func expectRefused(_ connection: PostgresConnection, _ query: PostgresQuery) async {
        let error = await #expect(throws: PostgresError.self) { try await connection.execute(query) }
        #expect(error?.sqlState == "42501", "\(query.sql)")
    }

    @Test func theDaemonRoleSyncsWithoutDeletingOrMappingRoles() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let daemon = harness.runtime.store.connection
        try await Harness.createRoles(on: daemon)
        try await daemon.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_daemon"))
        let admin = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        try await admin.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_admin"))

        let group = try #require(harness.simulator.groups(in: harness.directoryID).first)
        let users = harness.activeUsers()
        let (mover, leaver) = (users[0], users[1])
        for user in [mover, leaver] { harness.simulator.addMembership(user: user.id, group: group.id) }
        #expect(try await harness.sync().map(\.outcome) == [.applied])
        try await admin.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role) VALUES (\(harness.directoryID), \(group.idpID), 'editor')
            """)
        // A membership removed (the daemon's one DELETE) and a leaver disabled, as the daemon's role.
        harness.simulator.removeMembership(user: mover.id, group: group.id)
        harness.simulator.deleteUser(leaver.id)
        #expect(try await harness.sync().map(\.outcome) == [.applied])
        #expect(try await harness.account(leaver.id)?.decode(String.self, "status") == "disabled")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.group_memberships m JOIN workos_dsync.directory_users d ON d.id = m.directory_user_id
            WHERE d.workos_id = \(mover.id)
            """) == 0)

        // The shared schedule of replicas, as the daemon's role: claims, heartbeats, leaving (its one other DELETE).
        let store = harness.runtime.store
        _ = try await store.schedule(of: [harness.directoryID])
        #expect(try await store.claim(harness.directoryID, replica: "r1", ttl: .seconds(30)) == .claimed)
        #expect(try await store.heartbeat(replica: "r1", host: "h", pid: 1, running: [harness.directoryID], ttl: .seconds(30)) == 1)
        try await store.release(harness.directoryID, replica: "r1", nextDueIn: .seconds(600), users: 5)
        try await store.capNextDue(within: .seconds(60))
        try await store.leave(replica: "r1")
        await expectRefused(daemon, "DELETE FROM workos_dsync.directory_schedule")
        await expectRefused(daemon, "INSERT INTO workos_dsync.role_mappings (directory_id, group_name, role) VALUES ('d', 'g', 'owner')")
        await expectRefused(daemon, "UPDATE workos_dsync.role_mappings SET role = 'owner'")
        await expectRefused(daemon, "DELETE FROM workos_dsync.users")
        await expectRefused(daemon, "DELETE FROM workos_dsync.directory_users")
        await expectRefused(daemon, "DELETE FROM workos_dsync.events")

        // The admin decides what waits for it, and writes nothing the daemon owns.
        try await admin.execute("UPDATE workos_dsync.role_mappings SET role = 'author' WHERE role = 'editor'")
        try await admin.execute("UPDATE workos_dsync.link_conflicts SET resolved_at = now() WHERE resolved_at IS NULL")
        try await admin.execute("""
            UPDATE workos_dsync.held_plans SET status = 'approved', decided_at = now(), decided_by = 'admin' WHERE status = 'held'
            """)
        await expectRefused(admin, "UPDATE workos_dsync.users SET status = 'active'")
        await expectRefused(admin, "UPDATE workos_dsync.directory_users SET status = 'active'")
        await expectRefused(admin, "DELETE FROM workos_dsync.events")
        await expectRefused(admin, "INSERT INTO workos_dsync.sync_runs (directory_id, outcome) VALUES ('d', 'applied')")
        #expect(try await admin.query("SELECT count(*) AS n FROM workos_dsync.users")[0].decode(Int.self, "n") == 6)
        await admin.close()
        await harness.stop()
    }

    /// The admin commands run with the roles their docs name: `roles` and
    /// `hold` as the admin, `conflicts resolve` as the daemon (it derives the
    /// person's status, which the admin may not write), retention of
    /// `sync_runs` as the daemon, `purge` only with the opt-in purger role.
    @Test func adminCommandsRunWithTheRolesTheirDocsNameAndNoMore() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let owner = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        try await Harness.createRoles(on: owner)
        func store(as role: String) async throws -> SyncStore {
            let connection = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
            try await connection.execute(PostgresQuery(unsafeSQL: "SET ROLE \(role)"))
            return SyncStore(connection: connection, logger: harness.logger)
        }
        let daemon = harness.runtime.store
        try await daemon.connection.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_daemon"))
        let (admin, purger) = (try await store(as: "workos_dsync_admin"), try await store(as: "workos_dsync_purger"))
        func expectRefused(_ body: () async throws -> Void) async {
            let error = await #expect(throws: PostgresError.self) { try await body() }
            #expect(error?.sqlState == "42501")
        }
        let users = harness.activeUsers()
        let conflict = try await AdminWorkflowTests().ambiguousConflict(harness, email: try #require(users[0].email))

        // The admin: role mappings and legal holds, with their events.
        let mapping = try await admin.addRoleMapping(
            RoleMappingKey(organizationID: nil, directoryID: harness.directoryID, groupIdpID: nil, groupName: "Staff", role: "viewer"),
            by: "admin")
        _ = try await admin.removeRoleMapping(id: mapping.id, by: "admin")
        _ = try await admin.placeLegalHold(person: conflict.persons[1], reason: "case 1", by: "admin")
        try await admin.releaseLegalHold(person: conflict.persons[1], by: "admin")
        await expectRefused {
            _ = try await admin.resolveConflict(account: conflict.account.uuidString, target: .existingPerson(conflict.persons[0]), resolvedBy: "admin")
        }
        await expectRefused { try await daemon.connection.execute("DELETE FROM workos_dsync.role_mappings") }
        // The daemon: conflicts resolve, and its own old runs.
        _ = try await daemon.resolveConflict(account: conflict.account.uuidString, target: .existingPerson(conflict.persons[0]), resolvedBy: "ops")
        harness.simulator.deleteUser(users[1].id)
        try await harness.sync()
        try await owner.execute("UPDATE workos_dsync.sync_runs SET started_at = now() - interval '100 days' WHERE id = (SELECT min(id) FROM workos_dsync.sync_runs)")
        #expect(try await daemon.applyRetention(syncRuns: .seconds(90 * 86_400), events: nil, dryRun: false).syncRunsDeleted == 1)
        await expectRefused { _ = try await daemon.applyRetention(syncRuns: .seconds(90 * 86_400), events: .seconds(86_400), dryRun: false) }
        // The purge rewrites event payloads: refused to the daemon, allowed to the purger.
        try await PurgeTests().backdate(harness, workosID: users[1].id, days: 40)
        let coolingOff: Duration = .seconds(30 * 86_400)
        await expectRefused { _ = try await daemon.purge(olderThan: coolingOff, coolingOff: coolingOff, dryRun: false) }
        #expect(try await purger.purge(olderThan: coolingOff, coolingOff: coolingOff, dryRun: false).persons.count == 1)
        for session in [admin, purger] { await session.connection.close() }
        await owner.close()
        await harness.stop()
    }
}
