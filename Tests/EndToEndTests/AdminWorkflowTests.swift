import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSSimulator

/// Admin workflows (issue 17) against a real PostgreSQL and the simulator:
/// resolving link conflicts, role mappings, legal hold, the absence debounce
/// and the deprovisioning states.
@Suite struct AdminWorkflowTests {
    /// For each email, two imported persons share it with a listed user: the
    /// first sync puts that user's account in an `ambiguous` conflict.
    /// Returns the accounts and their two persons, in the order of `emails`.
    func ambiguousConflicts(_ harness: Harness, emails: [String]) async throws -> [(account: UUID, persons: [UUID])] {
        var persons: [[UUID]] = []
        for email in emails {
            persons.append(try await harness.rows("""
                INSERT INTO workos_dsync.users (email, first_name) VALUES (\(email), 'Imported'), (\(email.uppercased()), 'Duplicate')
                RETURNING id
                """).map { try $0.decode(UUID.self, "id") })
        }
        try await harness.sync()
        var conflicts: [(account: UUID, persons: [UUID])] = []
        for (email, candidates) in zip(emails, persons) {
            let account = try #require(try await harness.rows("""
                SELECT d.id FROM workos_dsync.directory_users d JOIN workos_dsync.link_conflicts c ON c.directory_user_id = d.id
                WHERE lower(d.email) = lower(\(email)) AND c.resolved_at IS NULL
                """).first).decode(UUID.self, "id")
            conflicts.append((account, candidates))
        }
        return conflicts
    }

    func ambiguousConflict(_ harness: Harness, email: String) async throws -> (account: UUID, persons: [UUID]) {
        try await ambiguousConflicts(harness, emails: [email])[0]
    }

    func canSignIn(_ harness: Harness, _ person: UUID, organization: String) async throws -> Bool {
        try await harness.rows("SELECT workos_dsync.can_sign_in(\(person), \(organization)) AS ok")[0].decode(Bool.self, "ok")
    }

    @Test func resolvingAConflictLinksTheAccountLetsThePersonSignInAndWritesAnEvent() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let user = try #require(harness.activeUsers().first { $0.email != nil })
        let group = try #require(harness.simulator.groups(in: harness.directoryID).first)
        harness.simulator.addMembership(user: user.id, group: group.id)
        try await harness.runtime.store.connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_name, role) VALUES (\(harness.directoryID), \(group.name), 'editor')
            """)
        let (account, persons) = try await ambiguousConflict(harness, email: try #require(user.email))
        let organization = try #require(harness.simulator.directory(harness.directoryID)?.organizationID)
        let store = harness.runtime.store
        #expect(try await store.openConflicts().map(\.accountID) == [account])
        #expect(try await canSignIn(harness, persons[0], organization: organization) == false)

        let resolved = try await store.resolveConflict(account: account.uuidString, target: .existingPerson(persons[0]), resolvedBy: "tester")
        #expect(resolved.personID == persons[0])
        #expect(resolved.canSignIn)
        #expect(try await canSignIn(harness, persons[0], organization: organization))
        #expect(try await harness.account(user.id)?.decode(UUID?.self, "user_id") == persons[0])
        let conflict = try await harness.rows("SELECT * FROM workos_dsync.link_conflicts WHERE directory_user_id = \(account)")[0]
        #expect(try conflict.decode(Date?.self, "resolved_at") != nil)
        #expect(try conflict.decode(String?.self, "resolution") == "linked")
        #expect(try conflict.decode(String?.self, "resolved_by") == "tester")
        #expect(try await store.openConflicts().isEmpty)
        // The link is evented, and the person's roles follow as an apply derives them.
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE type = 'user.linked' AND user_id = \(persons[0]) AND directory_user_id = \(account) AND reason = 'linked'
              AND payload ->> 'resolved_by' = 'tester'
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE type = 'user.roles_changed' AND user_id = \(persons[0]) AND payload -> 'after' = '["editor"]'::jsonb
            """) == 1)
        // Resolved once: a second resolution is refused, and the next run changes nothing.
        await #expect(throws: AdminRefused.self) {
            try await store.resolveConflict(account: account.uuidString, target: .newPerson, resolvedBy: "tester")
        }
        #expect(try await harness.sync().map(\.outcome) == [.unchanged])
        await harness.stop()
    }

    @Test func aNewPersonResolutionAndTheRefusalsThatKeepTenantsApart() async throws {
        let harness = try await Harness.start(users: 4, groups: 1, directories: 2)
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let users = harness.activeUsers(in: first).filter { $0.email != nil }
        let conflicts = try await ambiguousConflicts(harness, emails: [try #require(users[0].email), try #require(users[1].email)])
        let (one, two) = (conflicts[0], conflicts[1])
        let store = harness.runtime.store
        // A person of the other organization (an active account there) is refused unless the admin says so.
        let otherUser = try #require(harness.activeUsers(in: second).first)
        let elsewhere = try #require(try await harness.account(otherUser.id)?.decode(UUID?.self, "user_id"))
        let refused = await #expect(throws: AdminRefused.self) {
            try await store.resolveConflict(account: one.account.uuidString, target: .existingPerson(elsewhere), resolvedBy: "t")
        }
        #expect(refused?.description.contains("another organization") == true)
        // A purged person never takes an account.
        try await store.connection.execute("UPDATE workos_dsync.users SET anonymized_at = now() WHERE id = \(one.persons[1])")
        await #expect(throws: AdminRefused.self) {
            try await store.resolveConflict(account: one.account.uuidString, target: .existingPerson(one.persons[1]), resolvedBy: "t")
        }
        #expect(try await store.openConflicts().count == 2)
        let crossed = try await store.resolveConflict(
            account: one.account.uuidString, target: .existingPerson(elsewhere), resolvedBy: "t", acrossOrganizations: true)
        #expect(crossed.personID == elsewhere)
        // --new-person: a new person from the account's email and names, who can sign in.
        let fresh = try await store.resolveConflict(account: two.account.uuidString, target: .newPerson, resolvedBy: "t")
        #expect(!two.persons.contains(fresh.personID))
        #expect(fresh.canSignIn)
        #expect(try await harness.rows("SELECT email FROM workos_dsync.users WHERE id = \(fresh.personID)")[0]
            .decode(String?.self, "email") == users[1].email)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.link_conflicts WHERE resolution = 'new_person' AND resolved_user_id = \(fresh.personID)
            """) == 1)
        #expect(try await harness.sync().map(\.outcome) == [.unchanged, .unchanged])
        await harness.stop()
    }

    @Test func aConflictWhoseAmbiguityEndedIsLinkedAndClosedByTheNextRun() async throws {
        let harness = try await Harness.start(users: 4, groups: 1)
        let user = try #require(harness.activeUsers().first { $0.email != nil })
        let (account, persons) = try await ambiguousConflict(harness, email: try #require(user.email))
        // The application merges its duplicate: one person with the email is left.
        try await harness.runtime.store.connection.execute("DELETE FROM workos_dsync.users WHERE id = \(persons[1])")
        let plan = try #require(try await harness.sync(.dryRun).first?.plan)
        #expect(plan.conflictLinks.map(\.accountID) == [account])
        #expect(try await harness.sync().map(\.outcome) == [.applied])
        #expect(try await harness.account(user.id)?.decode(UUID?.self, "user_id") == persons[0])
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.link_conflicts WHERE directory_user_id = \(account) AND resolution = 'self_resolved'
              AND resolved_user_id = \(persons[0])
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events WHERE type = 'user.linked' AND reason = 'self_resolved' AND user_id = \(persons[0])
            """) == 1)
        #expect(try await harness.sync().map(\.outcome) == [.unchanged])
        await harness.stop()
    }

    @Test func roleMappingChangesAreEventedAndRolesFollowOnTheNextRun() async throws {
        let harness = try await Harness.start(users: 4, groups: 1)
        let user = try #require(harness.activeUsers().first)
        let group = try #require(harness.simulator.groups(in: harness.directoryID).first)
        harness.simulator.addMembership(user: user.id, group: group.id)
        try await harness.sync()
        let store = harness.runtime.store
        let key = RoleMappingKey(organizationID: nil, directoryID: harness.directoryID, groupIdpID: group.idpID, groupName: nil, role: "admin")
        let added = try await store.addRoleMapping(key, by: "tester")
        await #expect(throws: AdminRefused.self) { try await store.addRoleMapping(key, by: "tester") }
        #expect(try await store.roleMappings().map(\.id) == [added.id])
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events WHERE type = 'role_mapping.added' AND (payload ->> 'role_mapping_id')::bigint = \(added.id)
            """) == 1)
        let person = try #require(try await harness.account(user.id)?.decode(UUID?.self, "user_id"))
        func rolesChanged() async throws -> Int {
            try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'user.roles_changed' AND user_id = \(person)")
        }
        #expect(try await rolesChanged() == 0)
        try await harness.sync()
        #expect(try await rolesChanged() == 1)
        _ = try await store.removeRoleMapping(id: added.id, by: "tester")
        await #expect(throws: AdminRefused.self) { try await store.removeRoleMapping(id: added.id, by: "tester") }
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'role_mapping.removed'") == 1)
        try await harness.sync()
        #expect(try await rolesChanged() == 2)
        await harness.stop()
    }

    @Test func aPersonUnderLegalHoldSurvivesPurgeUntilTheHoldIsLifted() async throws {
        let harness = try await Harness.start(users: 4, groups: 1)
        let leaver = harness.simulator.createUser(in: harness.directoryID, email: "held.leaver@example.com", firstName: "Hal", lastName: "Held")
        try await harness.sync()
        harness.simulator.deleteUser(leaver)
        try await harness.sync()
        let person = try #require(try await harness.account(leaver)?.decode(UUID?.self, "user_id"))
        try await PurgeTests().backdate(harness, workosID: leaver, days: 40)
        let store = harness.runtime.store
        let hold = try await store.placeLegalHold(person: person, reason: "case 2026-17", by: "tester")
        #expect(hold.reason == "case 2026-17")
        #expect(try await store.legalHolds().map(\.personID) == [person])
        let coolingOff: Duration = .seconds(30 * 86_400)
        let kept = try await store.purge(olderThan: coolingOff, coolingOff: coolingOff, dryRun: false)
        #expect(kept.persons.isEmpty)
        #expect(kept.legalHolds == 1)
        #expect(try await harness.rows("SELECT email FROM workos_dsync.users WHERE id = \(person)")[0]
            .decode(String?.self, "email") == "held.leaver@example.com")
        try await store.releaseLegalHold(person: person, by: "tester")
        await #expect(throws: AdminRefused.self) { try await store.releaseLegalHold(person: person, by: "tester") }
        let purged = try await store.purge(olderThan: coolingOff, coolingOff: coolingOff, dryRun: false)
        #expect(purged.persons.map(\.personID) == [person])
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events
            WHERE user_id = \(person) AND type IN ('user.legal_hold_set', 'user.legal_hold_released')
            """) == 2)
        // A purged person cannot be held any more.
        await #expect(throws: AdminRefused.self) { try await store.placeLegalHold(person: person, reason: "late", by: "tester") }
        await harness.stop()
    }

    @Test func purgeScrubsNeverLinkedAccountsOnceOldEnoughAndOnlyInTheNamedDirectory() async throws {
        let harness = try await Harness.start(users: 4, groups: 1, directories: 2)
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let users = [try #require(harness.activeUsers(in: first).first { $0.email != nil }),
                     try #require(harness.activeUsers(in: second).first { $0.email != nil })]
        let accounts = try await ambiguousConflicts(harness, emails: users.compactMap(\.email)).map(\.account)
        for user in users { harness.simulator.deleteUser(user.id) }
        try await harness.sync()
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.directory_users SET disabled_at = now() - interval '40 days' WHERE user_id IS NULL
            """)
        let coolingOff: Duration = .seconds(30 * 86_400)
        let result = try await harness.runtime.store.purge(olderThan: coolingOff, coolingOff: coolingOff, dryRun: false, directoryID: first)
        #expect(result.unlinkedAccounts == 1)
        #expect(try await harness.account(users[0].id)?.decode(String?.self, "email") == nil)
        #expect(try await harness.account(users[1].id)?.decode(String?.self, "email") == users[1].email)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.link_conflicts WHERE directory_user_id = \(accounts[0]) AND resolution = 'purged'
            """) == 1)
        #expect(try await harness.runtime.store.openConflicts().map(\.accountID) == [accounts[1]])
        await harness.stop()
    }

    @Test func withTwoListingsNeededOneAbsenceDisablesNobodyAndTwoDo() async throws {
        let harness = try await Harness.start(users: 8, groups: 1, safety: SafetyPolicy(missingAfterListings: 2))
        let users = harness.activeUsers()
        let (leaver, deactivated, returning) = (users[0], users[1], users[2])
        try await harness.sync()
        harness.simulator.deleteUser(leaver.id)
        harness.simulator.setUserState(deactivated.id, "inactive")
        let plan = try #require(try await harness.sync(.dryRun).first?.plan)
        #expect(PlanDescription.lines(plan).contains { $0.contains("missing 1 of 2 listings") })
        // One absence: nobody missing is disabled; the explicit deactivation is never debounced.
        #expect(try await harness.sync().map(\.outcome) == [.applied])
        #expect(try await harness.account(leaver.id)?.decode(String.self, "status") == "active")
        #expect(try await harness.account(leaver.id)?.decode(Int.self, "missing_listings") == 1)
        #expect(try await harness.account(deactivated.id)?.decode(String?.self, "disabled_reason") == "inactive")
        // A listed account's count starts over.
        try await harness.runtime.store.connection.execute("""
            UPDATE workos_dsync.directory_users SET missing_listings = 1 WHERE workos_id = \(returning.id)
            """)
        // The second, identical listing: the absent account is disabled as missing.
        #expect(try await harness.sync().map(\.outcome) == [.applied])
        let gone = try #require(try await harness.account(leaver.id))
        #expect(try gone.decode(String.self, "status") == "disabled")
        #expect(try gone.decode(String?.self, "disabled_reason") == "missing")
        #expect(try await harness.account(returning.id)?.decode(Int.self, "missing_listings") == 0)
        #expect(try await harness.account(returning.id)?.decode(String.self, "status") == "active")
        #expect(try await harness.sync().map(\.outcome) == [.unchanged])
        await harness.stop()
    }

    @Test func anOnLeaveUserStaysActiveWhereConfiguredAndIsDisabledElsewhere() async throws {
        let harness = try await Harness.start(users: 4, groups: 1, directories: 2)
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        var settings = harness.settings
        settings.safety.deprovisioning = DeprovisioningPolicy(keepActiveStatesByDirectory: [first: ["on_leave"]])
        let runtime = try await Runtime.connect(settings: settings, logger: harness.logger) { client in
            client.directoryUsersPerSecond = 10_000
            client.requestsPerSecond = 10_000
        }
        _ = try await runtime.engine.reconcileAll(mode: .apply)
        let kept = try #require(harness.activeUsers(in: first).first), disabled = try #require(harness.activeUsers(in: second).first)
        for user in [kept, disabled] { harness.simulator.setUserState(user.id, "on_leave") }
        _ = try await runtime.engine.reconcileAll(mode: .apply)
        let keptAccount = try #require(try await harness.account(kept.id))
        #expect(try keptAccount.decode(String.self, "status") == "active")
        #expect(try keptAccount.decode(String.self, "state") == "on_leave")
        #expect(try await harness.account(disabled.id)?.decode(String?.self, "disabled_reason") == "inactive")
        // Back to active: the other account is reactivated; an inactive state always disables.
        harness.simulator.setUserState(disabled.id, "active")
        harness.simulator.setUserState(kept.id, "inactive")
        _ = try await runtime.engine.reconcileAll(mode: .apply)
        #expect(try await harness.account(disabled.id)?.decode(String.self, "status") == "active")
        #expect(try await harness.account(kept.id)?.decode(String?.self, "disabled_reason") == "inactive")
        await runtime.close()
        await harness.stop()
    }
}
