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

/// Deprovisioning end to end: both WorkOS styles disable, revoke sessions and
/// drop roles; rehires come back without duplicates; persons in several
/// directories keep their other accounts.
@Suite struct DeprovisioningTests {
    static let sessionsTable = "CREATE TABLE public.app_sessions (user_id uuid NOT NULL, token text NOT NULL)"
    static let revokeSQL = "DELETE FROM public.app_sessions WHERE user_id = ANY($1)"

    func giveEveryoneASession(_ harness: Harness) async throws {
        try await harness.runtime.store.connection.execute("""
            INSERT INTO public.app_sessions SELECT id, 'token' FROM workos_dsync.users
            """)
    }

    /// The account and its person are disabled, roles gone, one event; the
    /// person's app sessions are checked unless `sessionsChecked` is false.
    func expectDisabled(_ harness: Harness, workosID: String, reason: String, sessionsChecked: Bool = true) async throws {
        let account = try #require(try await harness.account(workosID))
        #expect(try account.decode(String.self, "status") == "disabled")
        #expect(try account.decode(String?.self, "disabled_reason") == reason)
        let personID = try #require(try account.decode(UUID?.self, "user_id"))
        let person = try await harness.rows("""
            SELECT status, sessions_revoked_at IS NOT NULL AS revoked,
                   workos_dsync.can_sign_in(id, \(try account.decode(String?.self, "organization_id"))) AS can_sign_in
            FROM workos_dsync.users WHERE id = \(personID)
            """)[0]
        #expect(try person.decode(String.self, "status") == "disabled")
        #expect(try person.decode(Bool.self, "revoked"))
        #expect(try person.decode(Bool.self, "can_sign_in") == false)
        if sessionsChecked {
            #expect(try await harness.count("SELECT count(*) FROM public.app_sessions WHERE user_id = \(personID)") == 0)
        }
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.effective_roles WHERE user_id = \(personID)
            """) == 0)
        let events = try await harness.rows("""
            SELECT reason FROM workos_dsync.events WHERE type = 'user.disabled' AND directory_user_id = \(try account.decode(UUID.self, "id"))
            """)
        #expect(try events.map { try $0.decode(String?.self, "reason") } == [reason])
    }

    @Test(arguments: [Deactivation.keepInactive, Deactivation.delete])
    func deactivationDisablesRevokesSessionsAndDropsRoles(style: Deactivation) async throws {
        let harness = try await Harness.start(
            users: 15, groups: 2, deactivation: style, revokeSessionsSQL: Self.revokeSQL,
            prepare: { try await $0.execute(PostgresQuery(unsafeSQL: Self.sessionsTable)) })
        try await harness.sync()
        try await giveEveryoneASession(harness)
        let group = try #require(harness.simulator.groups(in: harness.directoryID).first)
        try await harness.runtime.store.connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role) VALUES (\(harness.directoryID), \(group.idpID), 'editor')
            """)
        let leaver = try #require(harness.activeUsers().first)
        harness.simulator.addMembership(user: leaver.id, group: group.id)
        try await harness.sync()
        let stayer = try #require(harness.activeUsers().first { $0.id != leaver.id })
        let stayerPerson = try #require(try await harness.account(stayer.id)?.decode(UUID?.self, "user_id"))

        harness.simulator.deactivateUser(leaver.id)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied)
        try await expectDisabled(harness, workosID: leaver.id, reason: style == .delete ? "missing" : "inactive")
        // Nobody else lost anything.
        #expect(try await harness.count("SELECT count(*) FROM public.app_sessions WHERE user_id = \(stayerPerson)") == 1)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled' AND workos_id <> \(leaver.id) AND state = 'active'") == 0)
        // The row stays: disable, don't delete.
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE workos_id = \(leaver.id)") == 1)
        await harness.stop()
    }

    /// A failing `revoke_sessions_sql` never blocks the disables: they
    /// commit, the persons are marked, and the next run retries them and
    /// clears the mark once it succeeds.
    @Test func aFailingSessionRevocationDoesNotBlockTheDisableAndIsRetried() async throws {
        // No sessions table yet: the configured SQL fails.
        let harness = try await Harness.start(users: 6, groups: 1, revokeSessionsSQL: Self.revokeSQL)
        try await harness.sync()
        let leaver = try #require(harness.activeUsers().first)
        harness.simulator.deleteUser(leaver.id)
        let failed = try await harness.sync()
        #expect(failed.map(\.outcome) == [.applied])
        let failure = try #require(failed.first?.sessionRevocationFailure)
        #expect(failure.persons == 1)
        #expect(failure.error.contains("app_sessions"))
        try await expectDisabled(harness, workosID: leaver.id, reason: "missing", sessionsChecked: false)
        let pending: PostgresQuery = "SELECT count(*) FROM workos_dsync.users WHERE sessions_revocation_pending_since IS NOT NULL"
        #expect(try await harness.count(pending) == 1)

        // Fixed: the next run, with nothing else to change, retries the revocation and clears the mark.
        try await harness.runtime.store.connection.execute(PostgresQuery(unsafeSQL: Self.sessionsTable))
        try await giveEveryoneASession(harness)
        let retried = try await harness.sync()
        #expect(retried.map(\.outcome) == [.unchanged])
        #expect(retried.first?.sessionRevocationFailure == nil)
        try await expectDisabled(harness, workosID: leaver.id, reason: "missing")
        #expect(try await harness.count(pending) == 0)
        #expect(try await harness.count("SELECT count(*) FROM public.app_sessions") == 5, "nobody else's sessions were revoked")
        await harness.stop()
    }

    /// A person whose revocation failed and who is active again before the
    /// retry keeps their sessions, and the pending mark goes.
    @Test func aPersonActiveAgainIsNotRevokedByTheRetry() async throws {
        let harness = try await Harness.start(users: 6, groups: 1, revokeSessionsSQL: Self.revokeSQL)
        try await harness.sync()
        let leaver = try #require(harness.activeUsers().first)
        harness.simulator.deleteUser(leaver.id)
        #expect(try await harness.sync().first?.sessionRevocationFailure?.persons == 1)
        harness.simulator.rehireUser(idpID: leaver.idpID, in: harness.directoryID)
        try await harness.runtime.store.connection.execute(PostgresQuery(unsafeSQL: Self.sessionsTable))
        try await giveEveryoneASession(harness)
        let rehired = try await harness.sync()
        #expect(rehired.map(\.outcome) == [.applied])
        #expect(rehired.first?.sessionRevocationFailure == nil)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.users WHERE sessions_revocation_pending_since IS NOT NULL") == 0)
        #expect(try await harness.count("SELECT count(*) FROM public.app_sessions") == 6)
        await harness.stop()
    }

    @Test func reactivationAndRehireUnderANewWorkOSIDReuseTheSameAccount() async throws {
        let harness = try await Harness.start(users: 12, groups: 2, deactivation: .keepInactive)
        try await harness.sync()
        let person = try #require(harness.activeUsers().first)
        let original = try #require(try await harness.account(person.id))
        let accountID = try original.decode(UUID.self, "id")

        harness.simulator.deactivateUser(person.id)
        try await harness.sync()
        harness.simulator.setUserState(person.id, "active")
        try await harness.sync()
        #expect(try await harness.account(person.id)?.decode(String.self, "status") == "active")

        // Deleted, then rehired under a new WorkOS id with the same idp_id.
        harness.simulator.deleteUser(person.id)
        try await harness.sync()
        #expect(try await harness.account(person.id)?.decode(String?.self, "disabled_reason") == "missing")
        let newID = harness.simulator.rehireUser(idpID: person.idpID, in: harness.directoryID)
        #expect(newID != person.id)
        let reports = try await harness.sync()
        #expect(reports[0].summary?.reactivations == 1)
        #expect(reports[0].summary?.creates == 0)
        let rehired = try #require(try await harness.account(newID))
        #expect(try rehired.decode(UUID.self, "id") == accountID)
        #expect(try rehired.decode(String.self, "status") == "active")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE idp_id = \(person.idpID) AND directory_id = \(harness.directoryID)
            """) == 1)
        let personRow = try await harness.rows("""
            SELECT status, workos_dsync.can_sign_in(id, \(person.organizationID)) AS ok FROM workos_dsync.users
            WHERE id = \(try rehired.decode(UUID.self, "user_id"))
            """)[0]
        #expect(try personRow.decode(String.self, "status") == "active")
        #expect(try personRow.decode(Bool.self, "ok"))
        await harness.stop()
    }

    @Test func onePersonInTwoDirectoriesKeepsTheOtherAccount() async throws {
        let harness = try await Harness.start(users: 8, groups: 1, directories: 2)
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        // The second organization links the person because the email is in its domain (tenant isolation).
        let domain = try #require(harness.simulator.directory(second)?.domain)
        let inFirst = harness.simulator.createUser(in: first, email: "shared.person@\(domain)", firstName: "Sam", lastName: "Shared")
        try await harness.sync()
        let inSecond = harness.simulator.createUser(
            in: second, email: "Shared.Person@\(domain.uppercased())", firstName: "Sam", lastName: "Shared")
        try await harness.sync()
        let personA = try #require(try await harness.account(inFirst)?.decode(UUID?.self, "user_id"))
        let personB = try #require(try await harness.account(inSecond)?.decode(UUID?.self, "user_id"))
        #expect(personA == personB)

        harness.simulator.deleteUser(inFirst)
        try await harness.sync()
        #expect(try await harness.account(inFirst)?.decode(String.self, "status") == "disabled")
        #expect(try await harness.account(inSecond)?.decode(String.self, "status") == "active")
        let orgA = try #require(harness.simulator.directory(first)?.organizationID)
        let orgB = try #require(harness.simulator.directory(second)?.organizationID)
        let row = try await harness.rows("""
            SELECT status, workos_dsync.can_sign_in(id, \(orgA)) AS a, workos_dsync.can_sign_in(id, \(orgB)) AS b
            FROM workos_dsync.users WHERE id = \(personA)
            """)[0]
        #expect(try row.decode(String.self, "status") == "active")
        #expect(try row.decode(Bool.self, "a") == false)
        #expect(try row.decode(Bool.self, "b"))
        await harness.stop()
    }
}
