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

/// An `idp_id` that moves from one account to another within one run (two ids
/// swapped by a correction, an employee number reused for a new hire) is
/// applied, not refused by the unique key on every run from then on, which
/// would stop the directory's deprovisioning.
@Suite struct IdpIDReuseTests {
    func idpID(_ harness: Harness, _ workosID: String) async throws -> String? {
        try await harness.account(workosID)?.decode(String.self, "idp_id")
    }

    func idpIDChanges(_ harness: Harness, _ workosID: String) async throws -> [[String]] {
        try await harness.rows("""
            SELECT e.payload -> 'changed' -> 'idp_id' ->> 0 AS old, e.payload -> 'changed' -> 'idp_id' ->> 1 AS new
            FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE d.workos_id = \(workosID) AND e.payload -> 'changed' ? 'idp_id' ORDER BY e.id
            """).map { [try $0.decode(String.self, "old"), try $0.decode(String.self, "new")] }
    }

    @Test func twoUsersSwappingIdpIDsAreBothUpdated() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        try await harness.sync()
        let users = harness.activeUsers()
        let (a, b) = (users[0], users[1])
        harness.simulator.changeIdpID(a.id, to: b.idpID)
        harness.simulator.changeIdpID(b.id, to: a.idpID)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied, "\(reports[0].detail ?? "")")
        #expect(try await idpID(harness, a.id) == b.idpID)
        #expect(try await idpID(harness, b.id) == a.idpID)
        // Each account's event shows its own change, not the placeholder in between.
        #expect(try await idpIDChanges(harness, a.id) == [[a.idpID, b.idpID]])
        #expect(try await idpIDChanges(harness, b.id) == [[b.idpID, a.idpID]])
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'active'") == 6)
        #expect(try await harness.sync()[0].outcome == .unchanged)
        await harness.stop()
    }

    @Test func aDeletedUsersIdpIDTakenByAnotherUserIsReleased() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        try await harness.sync()
        let users = harness.activeUsers()
        let (leaver, colleague) = (users[0], users[1])
        harness.simulator.deleteUser(leaver.id)
        harness.simulator.changeIdpID(colleague.id, to: leaver.idpID)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied, "\(reports[0].detail ?? "")")
        #expect(try await idpID(harness, colleague.id) == leaver.idpID)
        let leaverAccount = try #require(try await harness.account(leaver.id))
        #expect(try leaverAccount.decode(String.self, "status") == "disabled")
        #expect(try leaverAccount.decode(String?.self, "disabled_reason") == "missing")
        let placeholder = "\(leaver.idpID) (released \(try leaverAccount.decode(UUID.self, "id").uuidString.lowercased()))"
        #expect(try leaverAccount.decode(String.self, "idp_id") == placeholder)
        #expect(try await idpIDChanges(harness, leaver.id) == [[leaver.idpID, placeholder]])
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE d.workos_id = \(leaver.id) AND e.type = 'user.updated' AND e.reason = 'idp_id_reused'
            """) == 1)
        #expect(try await harness.sync()[0].outcome == .unchanged)
        await harness.stop()
    }

    @Test func aNewHireGivenAnIdpIDThatMovedAwayIsCreated() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        try await harness.sync()
        let moved = harness.activeUsers()[0]
        harness.simulator.changeIdpID(moved.id, to: "renumbered-\(moved.idpID)")
        let hire = harness.simulator.createUser(
            in: harness.directoryID, email: "new.hire@example.com", firstName: "New", lastName: "Hire", idpID: moved.idpID)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .applied, "\(reports[0].detail ?? "")")
        #expect(reports[0].summary?.creates == 1)
        #expect(try await idpID(harness, hire) == moved.idpID)
        #expect(try await idpID(harness, moved.id) == "renumbered-\(moved.idpID)")
        #expect(try await idpIDChanges(harness, moved.id) == [[moved.idpID, "renumbered-\(moved.idpID)"]])
        await harness.stop()
    }
}
