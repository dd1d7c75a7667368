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

/// `purge`: anonymises only persons whose accounts were all disabled longer
/// ago than asked (and than the cooling-off), keeps rows, ids, statuses and
/// the audit trail's shape, in one transaction.
@Suite struct PurgeTests {
    static let coolingOff: Duration = .seconds(30 * 86_400)

    /// Moves a person's and its accounts' disable back in time.
    func backdate(_ harness: Harness, workosID: String, days: Int) async throws {
        let person = try #require(try await harness.account(workosID)?.decode(UUID?.self, "user_id"))
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.directory_users SET disabled_at = now() - \(Double(days)) * interval '1 day'
            WHERE user_id = \(person) AND status = 'disabled'
            """)
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.users SET disabled_at = now() - \(Double(days)) * interval '1 day' WHERE id = \(person)
            """)
    }

    func person(_ harness: Harness, workosID: String) async throws -> PostgresRow {
        let id = try #require(try await harness.account(workosID)?.decode(UUID?.self, "user_id"))
        return try await harness.rows("SELECT * FROM workos_dsync.users WHERE id = \(id)")[0]
    }

    @Test func anonymisesOnlyLongDisabledPersonsAndKeepsTheAuditTrailsShape() async throws {
        let harness = try await Harness.start(users: 10, groups: 2, directories: 2)
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let leaver = harness.simulator.createUser(in: first, email: "old.leaver@example.com", firstName: "Olive", lastName: "Leaver")
        let recent = harness.simulator.createUser(in: first, email: "recent.leaver@example.com", firstName: "Rita", lastName: "Recent")
        // In the second organization's domain, so that its directory links the same person (tenant isolation).
        let twoHomes = "two.homes@\(try #require(harness.simulator.directory(second)?.domain))"
        let halfGoneA = harness.simulator.createUser(in: first, email: twoHomes, firstName: "Tom", lastName: "Two")
        try await harness.sync()
        let halfGoneB = harness.simulator.createUser(in: second, email: twoHomes, firstName: "Tom", lastName: "Two")
        harness.simulator.changeEmail(leaver, to: "olive.married@example.com")
        harness.simulator.updateUser(leaver, jobTitle: "Archivist", customAttributes: ["department": "Records"])
        try await harness.sync()
        for id in [leaver, recent, halfGoneA] { harness.simulator.deleteUser(id) }
        try await harness.sync()
        try await backdate(harness, workosID: leaver, days: 40)
        try await backdate(harness, workosID: halfGoneA, days: 40)
        #expect(try await harness.account(halfGoneB)?.decode(String.self, "status") == "active")
        let store = harness.runtime.store
        let eventsBefore = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        let leaverAccount = try #require(try await harness.account(leaver))
        let leaverAccountID = try leaverAccount.decode(UUID.self, "id")
        let leaverPerson = try #require(try leaverAccount.decode(UUID?.self, "user_id"))

        // Shorter than the cooling-off: refused, nothing touched.
        await #expect(throws: PurgeRefused.self) {
            try await store.purge(olderThan: .seconds(7 * 86_400), coolingOff: Self.coolingOff, dryRun: false)
        }
        // A dry run names exactly the long-disabled person and changes nothing.
        let dry = try await store.purge(olderThan: .seconds(30 * 86_400), coolingOff: Self.coolingOff, dryRun: true)
        #expect(dry.persons.map(\.personID) == [leaverPerson])
        #expect(dry.persons.first?.email == "olive.married@example.com")
        #expect(try await person(harness, workosID: leaver).decode(String?.self, "email") == "olive.married@example.com")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == eventsBefore)

        let result = try await store.purge(olderThan: .seconds(30 * 86_400), coolingOff: Self.coolingOff, dryRun: false)
        #expect(result.persons.map(\.personID) == [leaverPerson])
        #expect(result.accountsScrubbed == 1)
        #expect(result.emailHistoryScrubbed == 1)
        #expect(result.eventsScrubbed >= 3)
        #expect(result.anonymizedEvents == 1)

        // The person and the account: personal fields gone; ids, status, timestamps kept.
        let anonymised = try await person(harness, workosID: leaver)
        #expect(try anonymised.decode(UUID.self, "id") == leaverPerson)
        #expect(try anonymised.decode(String?.self, "email") == nil)
        #expect(try anonymised.decode(String?.self, "first_name") == nil)
        #expect(try anonymised.decode(String?.self, "last_name") == nil)
        #expect(try anonymised.decode(String.self, "status") == "disabled")
        #expect(try anonymised.decode(Date?.self, "anonymized_at") != nil)
        #expect(try anonymised.decode(Date?.self, "disabled_at") != nil)
        let account = try #require(try await harness.account(leaver))
        #expect(try account.decode(UUID.self, "id") == leaverAccountID)
        for column in ["email", "first_name", "last_name", "username", "job_title"] {
            #expect(try account.decode(String?.self, column) == nil, "\(column)")
        }
        #expect(try account.decode(String.self, "status") == "disabled")
        #expect(try account.decode(String?.self, "disabled_reason") == "missing")
        #expect(try account.decode(String.self, "idp_id") == leaverAccount.decode(String.self, "idp_id"))
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE id = \(leaverAccountID) AND custom_attributes = '{}'::jsonb
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.email_history
            WHERE directory_user_id = \(leaverAccountID) AND old_email IS NULL AND new_email IS NULL
            """) == 1)
        // Events: same rows, same keys, no personal value left anywhere.
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE (directory_user_id = \(leaverAccountID) OR user_id = \(leaverPerson))
              AND (payload::text ILIKE '%olive%' OR payload::text ILIKE '%leaver%' OR payload::text ILIKE '%archivist%'
                   OR payload::text ILIKE '%records%')
            """) == 0)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE directory_user_id = \(leaverAccountID) AND type IN ('user.created', 'user.disabled')
              AND payload ? 'email' AND payload -> 'email' = 'null'::jsonb
            """) == 2)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE directory_user_id = \(leaverAccountID) AND type = 'user.email_changed'
              AND payload -> 'old_email' = 'null'::jsonb AND payload -> 'new_email' = 'null'::jsonb
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE directory_user_id = \(leaverAccountID) AND type = 'user.email_changed'
              AND payload -> 'changed' -> 'job_title' = '[null, null]'::jsonb
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events WHERE type = 'user.anonymized' AND user_id = \(leaverPerson)
              AND (payload ->> 'older_than_days')::int = 30
            """) == 1)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == eventsBefore + 1)

        // Untouched: the recently disabled, the person with an active account elsewhere, everyone active.
        #expect(try await person(harness, workosID: recent).decode(String?.self, "email") == "recent.leaver@example.com")
        #expect(try await harness.account(recent)?.decode(String?.self, "email") == "recent.leaver@example.com")
        #expect(try await person(harness, workosID: halfGoneA).decode(Date?.self, "anonymized_at") == nil)
        #expect(try await harness.account(halfGoneA)?.decode(String?.self, "email") == twoHomes)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.users WHERE anonymized_at IS NOT NULL
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'active' AND email IS NULL AND state = 'active'
            """) == harness.simulator.users(in: first).filter { $0.email == nil }.count
                + harness.simulator.users(in: second).filter { $0.email == nil }.count)

        // Idempotent, and the events table is append-only again.
        #expect(try await store.purge(olderThan: .seconds(30 * 86_400), coolingOff: Self.coolingOff, dryRun: false).persons.isEmpty)
        await #expect(throws: (any Error).self) {
            try await harness.runtime.store.connection.execute("UPDATE workos_dsync.events SET reason = 'x'")
        }
        await harness.stop()
    }

    @Test func anInactiveUserStillListedIsNotReimportedAfterThePurge() async throws {
        let harness = try await Harness.start(users: 8, groups: 1, deactivation: .keepInactive)
        let leaver = harness.simulator.createUser(in: harness.directoryID, email: "kept@example.com", firstName: "Kim", lastName: "Kept")
        try await harness.sync()
        harness.simulator.deactivateUser(leaver)
        try await harness.sync()
        try await backdate(harness, workosID: leaver, days: 90)
        let result = try await harness.runtime.store.purge(
            olderThan: .seconds(60 * 86_400), coolingOff: Self.coolingOff, dryRun: false)
        #expect(result.persons.count == 1)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .unchanged)
        let account = try #require(try await harness.account(leaver))
        #expect(try account.decode(String?.self, "email") == nil)
        #expect(try account.decode(String.self, "state") == "inactive")
        #expect(try await person(harness, workosID: leaver).decode(String?.self, "email") == nil)
        await harness.stop()
    }

    @Test func heldPlanEntriesOfPurgedAccountsLoseTheirEmails() async throws {
        let harness = try await Harness.start(users: 12, groups: 1, safety: SafetyPolicy(minUsers: 2, fraction: 0))
        try await harness.sync()
        let leavers = Array(harness.activeUsers().prefix(4))
        for leaver in leavers { harness.simulator.deleteUser(leaver.id) }
        let held = try await harness.sync()
        let heldPlanID = try #require(held[0].heldPlanID)
        let approved = try await harness.runtime.engine.reconcileAll(
            only: harness.directoryID, mode: .approve(heldPlanID: heldPlanID, approver: "test-admin"))
        #expect(approved[0].outcome == .applied)
        for leaver in leavers.prefix(3) { try await backdate(harness, workosID: leaver.id, days: 31) }
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a
            WHERE h.id = \(heldPlanID) AND a -> 'email' <> 'null'::jsonb
            """) == leavers.filter { $0.email != nil }.count)

        let result = try await harness.runtime.store.purge(
            olderThan: .seconds(30 * 86_400), coolingOff: Self.coolingOff, dryRun: false)
        #expect(result.persons.count == 3)
        // The plan keeps its four entries and ids; only the three purged lost their emails.
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a
            WHERE h.id = \(heldPlanID)
            """) == 4)
        let remaining = try await harness.rows("""
            SELECT a ->> 'workos_id' AS workos_id FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a
            WHERE h.id = \(heldPlanID) AND a -> 'email' <> 'null'::jsonb
            """).map { try $0.decode(String.self, "workos_id") }
        #expect(Set(remaining).isSubset(of: [leavers[3].id]))
        #expect(try await harness.rows("SELECT status FROM workos_dsync.held_plans WHERE id = \(heldPlanID)")[0]
            .decode(String.self, "status") == "applied")
        await harness.stop()
    }

    /// The daemon's least-privilege role may not rewrite events: the purge
    /// fails as a whole (one transaction) and nothing is anonymised.
    @Test func withoutTheRightToRewriteEventsNothingIsAnonymised() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let leaver = harness.simulator.createUser(in: harness.directoryID, email: "gone@example.com", firstName: "G", lastName: "One")
        try await harness.sync()
        harness.simulator.deleteUser(leaver)
        try await harness.sync()
        try await backdate(harness, workosID: leaver, days: 45)
        let daemon = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        try await Harness.createRoles(on: daemon)
        try await daemon.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_daemon"))
        var refused: (any Error)?
        do {
            _ = try await SyncStore(connection: daemon, logger: harness.logger).purge(
                olderThan: .seconds(30 * 86_400), coolingOff: Self.coolingOff, dryRun: false)
        } catch {
            refused = error
        }
        #expect((refused as? PostgresError)?.sqlState == "42501")
        await daemon.close()
        let person = try await person(harness, workosID: leaver)
        #expect(try person.decode(String?.self, "email") == "gone@example.com")
        #expect(try person.decode(Date?.self, "anonymized_at") == nil)
        #expect(try await harness.account(leaver)?.decode(String?.self, "email") == "gone@example.com")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'user.anonymized'") == 0)
        await harness.stop()
    }
}
