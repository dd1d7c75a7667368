import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// The trail says what really happened: when a departed account was last in a
/// complete listing, which roles an admin's edit of `role_mappings` changed,
/// and that a purged person who is rehired comes back as somebody new.
@Suite struct TruthfulTrailTests {
    @Test func lastSeenIsTheLastCompleteListingThatContainedTheAccountNotTheLastRun() async throws {
        let harness = try await Harness.start(users: 40, groups: 1)
        try await harness.sync()
        let listed = try await harness.rows("""
            SELECT last_complete_sync_at FROM workos_dsync.directories WHERE id = \(harness.directoryID)
            """)[0].decode(Date.self, "last_complete_sync_at")
        let listedRun = try await harness.rows("SELECT max(id) AS id FROM workos_dsync.sync_runs")[0].decode(Int64.self, "id")
        let leavers = Array(harness.activeUsers().prefix(30))
        for leaver in leavers { harness.simulator.deleteUser(leaver.id) }
        // Two held runs, then the approval: the leavers were last seen in the first listing.
        let held = try await harness.sync()
        try await harness.sync()
        let heldPlanID = try #require(held[0].heldPlanID)
        let plan = try await harness.runtime.engine.reconcileAll(only: harness.directoryID, mode: .dryRun)
        let lines = PlanDescription.lines(try #require(plan[0].plan))
        #expect(lines.contains { $0.contains("(missing, last listed in run \(listedRun))") }, "\(lines.prefix(3))")
        _ = try await harness.runtime.engine.reconcileAll(
            only: harness.directoryID, mode: .approve(heldPlanID: heldPlanID, approver: "test-admin"))
        let account = try #require(try await harness.account(leavers[0].id))
        #expect(try account.decode(String.self, "status") == "disabled")
        #expect(try account.decode(Int64?.self, "last_listed_run_id") == listedRun)
        let lastSeen = try account.decode(Date.self, "last_seen_at")
        #expect(abs(lastSeen.timeIntervalSince(listed)) < 0.001)
        let event = try await harness.rows("""
            SELECT (payload ->> 'last_seen_at')::timestamptz AS seen, (payload ->> 'last_listed_run_id')::bigint AS run
            FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE e.type = 'user.disabled' AND d.workos_id = \(leavers[0].id)
            """)[0]
        #expect(abs(try event.decode(Date.self, "seen").timeIntervalSince(listed)) < 0.001)
        #expect(try event.decode(Int64.self, "run") == listedRun)
        await harness.stop()
    }

    @Test func anEditOfRoleMappingsIsEventedOnTheNextRun() async throws {
        let harness = try await Harness.start(users: 12, groups: 2)
        try await harness.sync()
        let group = harness.simulator.groups(in: harness.directoryID)[0]
        let members = harness.simulator.memberIDs(ofGroup: group.id)
        try #require(!members.isEmpty)
        try await harness.runtime.store.connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role) VALUES (\(harness.directoryID), \(group.idpID), 'admin')
            """)
        let rolesChanged = "SELECT count(*) FROM workos_dsync.events WHERE type = 'user.roles_changed'"
        #expect(try await harness.count(PostgresQuery(stringLiteral: rolesChanged)) == 0)
        try await harness.sync()
        #expect(try await harness.count(PostgresQuery(stringLiteral: rolesChanged)) == members.count)
        // Told once: the next run writes nothing more.
        try await harness.sync()
        #expect(try await harness.count(PostgresQuery(stringLiteral: rolesChanged)) == members.count)
        // The mapping removed: each member is told the role is gone.
        try await harness.runtime.store.connection.execute("DELETE FROM workos_dsync.role_mappings")
        try await harness.sync()
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events WHERE type = 'user.roles_changed' AND payload -> 'after' = '[]'::jsonb
            """) == members.count)
        await harness.stop()
    }

    @Test func aPurgedPersonWhoIsRehiredComesBackAsANewPerson() async throws {
        let harness = try await Harness.start(users: 6, groups: 1, deactivation: .keepInactive)
        let leaver = harness.simulator.createUser(
            in: harness.directoryID, email: "gone@example.com", firstName: "Gone", lastName: "Person", idpID: "EMP-9")
        try await harness.sync()
        let oldPerson = try #require(try await harness.account(leaver)?.decode(UUID?.self, "user_id"))
        harness.simulator.deactivateUser(leaver)
        try await harness.sync()
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.directory_users SET disabled_at = now() - interval '90 days' WHERE user_id = \(oldPerson)
            """)
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.users SET disabled_at = now() - interval '90 days' WHERE id = \(oldPerson)
            """)
        let purged = try await harness.runtime.store.purge(
            olderThan: .seconds(60 * 86_400), coolingOff: .seconds(30 * 86_400), dryRun: false)
        #expect(purged.persons.map(\.personID) == [oldPerson])

        // The same WorkOS user turns active again.
        harness.simulator.setUserState(leaver, "active")
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied, "\(reports[0].detail ?? "")")
        let account = try #require(try await harness.account(leaver))
        let newPerson = try #require(try account.decode(UUID?.self, "user_id"))
        #expect(newPerson != oldPerson)
        #expect(try account.decode(String.self, "status") == "active")
        #expect(try await harness.person(newPerson).decode(String?.self, "email") == "gone@example.com")
        let old = try await harness.person(oldPerson)
        #expect(try old.decode(String?.self, "email") == nil)
        #expect(try old.decode(Date?.self, "anonymized_at") != nil)
        #expect(try old.decode(String.self, "status") == "disabled")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE user_id = \(oldPerson) AND email IS NULL AND status = 'disabled'
            """) == 1)
        #expect(try await harness.sync()[0].outcome == .unchanged)
        await harness.stop()
    }
}
