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

/// The mass-disable guard wherever disables come from: a vanished directory
/// under `on_directory_removed: disable`, explicit deactivations next to a
/// held mass of missing users, and approval of a held set on a busy directory.
@Suite struct GuardEverywhereTests {
    func status(_ harness: Harness, _ workosID: String) async throws -> String? {
        try await harness.account(workosID)?.decode(String.self, "status")
    }

    @Test func aVanishedDirectoryUnderDisableIsStillHeldAboveTheThreshold() async throws {
        // A wrong API key or a WorkOS incident makes every directory vanish at once.
        let harness = try await Harness.start(users: 40, groups: 1, safety: SafetyPolicy(onDirectoryRemoved: .disable))
        try await harness.sync()
        harness.simulator.deleteDirectory(harness.directoryID)
        let reports = try await harness.sync()
        #expect(reports.first?.outcome == .held)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled'
            """) == 0)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.held_plans WHERE status = 'held'") == 1)
        await harness.stop()
    }

    @Test func explicitDeactivationsApplyWhileAMassOfMissingDisablesIsHeld() async throws {
        let harness = try await Harness.start(users: 60, groups: 2)
        try await harness.sync()
        let users = harness.activeUsers()
        let deactivated = users.prefix(2).map(\.id)
        for id in deactivated { harness.simulator.setUserState(id, "inactive") }
        let missing = users[2..<32].map(\.id)
        for id in missing { harness.simulator.deleteUser(id) }
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .held)
        #expect(reports[0].summary?.disables == 2)
        #expect(reports[0].summary?.held == 30)
        for id in deactivated {
            #expect(try await status(harness, id) == "disabled")
            #expect(try await harness.account(id)?.decode(String?.self, "disabled_reason") == "inactive")
        }
        for id in missing { #expect(try await status(harness, id) == "active") }
        // The held set names the 30 missing accounts, not the two deactivations.
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a
            WHERE h.status = 'held' AND a ->> 'reason' = 'missing'
            """) == 30)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.held_plans h, jsonb_array_elements(h.accounts) a WHERE h.status = 'held'
            """) == 30)
        await harness.stop()
    }

    @Test func approvingOnABusyDirectoryAppliesWhatTheListingStillConfirms() async throws {
        let harness = try await Harness.start(users: 60, groups: 2)
        try await harness.sync()
        let leavers = Array(harness.activeUsers().prefix(30))
        for leaver in leavers { harness.simulator.deleteUser(leaver.id) }
        let held = try await harness.sync()
        let heldPlanID = try #require(held[0].heldPlanID)
        // Two of them come back (rehired under new WorkOS ids) before the admin approves.
        let returning = leavers.prefix(2)
        for leaver in returning { _ = harness.simulator.rehireUser(idpID: leaver.idpID, in: harness.directoryID) }
        let approved = try await harness.runtime.engine.reconcileAll(
            only: harness.directoryID, mode: .approve(heldPlanID: heldPlanID, approver: "test-admin"))
        #expect(approved[0].outcome == .applied, "\(approved[0].detail ?? "")")
        #expect(!approved[0].approvalRefused)
        for leaver in leavers.dropFirst(2) { #expect(try await status(harness, leaver.id) == "disabled") }
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled' AND disabled_reason = 'missing'
            """) == 28)
        for leaver in returning {
            #expect(try await harness.count("""
                SELECT count(*) FROM workos_dsync.directory_users WHERE idp_id = \(leaver.idpID) AND status = 'active'
                """) == 1)
        }
        #expect(try await harness.rows("SELECT status FROM workos_dsync.held_plans WHERE id = \(heldPlanID)")[0]
            .decode(String.self, "status") == "applied")
        await harness.stop()
    }
}
