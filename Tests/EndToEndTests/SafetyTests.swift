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

/// "Never disable anyone by mistake": failures, unhealthy directories and
/// implausible drops hold disables; approval releases exactly the held set.
@Suite struct SafetyTests {
    func disabledCount(_ harness: Harness) async throws -> Int {
        try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled'")
    }

    @Test func aThirtyPercentDropIsHeldAndApproveReleasesExactlyThatSet() async throws {
        let harness = try await Harness.start(users: 100, groups: 3, pageSize: 100)
        try await harness.sync()
        let disabledBefore = try await disabledCount(harness)
        let active = harness.activeUsers()
        let leavers = Array(active.prefix(active.count * 3 / 10))
        for user in leavers { harness.simulator.deleteUser(user.id) }
        let newcomer = harness.simulator.createUser(in: harness.directoryID, email: "new@example.com", firstName: "New", lastName: "Hire")

        let held = try await harness.sync()
        #expect(held[0].outcome == .held)
        let heldPlanID = try #require(held[0].heldPlanID)
        #expect(try await disabledCount(harness) == disabledBefore, "held disables are not applied")
        #expect(try await harness.account(newcomer)?.decode(String.self, "status") == "active", "creates still apply")
        let stored = try await harness.rows("SELECT jsonb_array_length(accounts) AS n, status FROM workos_dsync.held_plans")
        #expect(try stored[0].decode(Int.self, "n") == leavers.count)

        // The same listing again keeps the same held plan, no duplicate.
        let again = try await harness.sync()
        #expect(again[0].heldPlanID == heldPlanID)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.held_plans") == 1)

        let approved = try await harness.runtime.engine.reconcileAll(
            only: harness.directoryID, mode: .approve(heldPlanID: heldPlanID, approver: "test-admin"))
        #expect(approved[0].outcome == .applied)
        #expect(try await disabledCount(harness) == disabledBefore + leavers.count)
        for user in leavers {
            #expect(try await harness.account(user.id)?.decode(String.self, "status") == "disabled")
        }
        let plan = try await harness.rows("SELECT status, decided_by FROM workos_dsync.held_plans WHERE id = \(heldPlanID)")[0]
        #expect(try plan.decode(String.self, "status") == "applied")
        #expect(try plan.decode(String?.self, "decided_by") == "test-admin")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'user.disabled' AND reason = 'approved'") == leavers.count)
        await harness.stop()
    }

    @Test func aStaleApprovalIsRefusedAndAppliesNothing() async throws {
        let harness = try await Harness.start(users: 60, groups: 2, pageSize: 100)
        try await harness.sync()
        let active = harness.activeUsers()
        for user in active.prefix(30) { harness.simulator.deleteUser(user.id) }
        let held = try await harness.sync()
        let heldPlanID = try #require(held[0].heldPlanID)
        let disabledBefore = try await disabledCount(harness)
        // One more leaver since the hold: the listing no longer matches.
        harness.simulator.deleteUser(active[40].id)
        let refused = try await harness.runtime.engine.reconcileAll(
            only: harness.directoryID, mode: .approve(heldPlanID: heldPlanID, approver: "test-admin"))
        #expect(refused[0].approvalRefused)
        #expect(refused[0].detail?.contains("stale") == true)
        #expect(try await disabledCount(harness) == disabledBefore)
        await harness.stop()
    }

    @Test func anEmptyListingIsAlwaysHeld() async throws {
        let harness = try await Harness.start(users: 10, groups: 1, safety: SafetyPolicy(minUsers: 1_000, fraction: 1))
        try await harness.sync()
        let disabledBefore = try await disabledCount(harness)
        for user in harness.simulator.users(in: harness.directoryID) { harness.simulator.deleteUser(user.id) }
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .held)
        #expect(try await disabledCount(harness) == disabledBefore)
        await harness.stop()
    }

    @Test(arguments: [Fault.status(503), .truncatedBody, .html200, .emptyPageWithCursor, .repeatedCursor, .connectionReset])
    func aFailureOnTheLastUsersPageAppliesNothing(fault: Fault) async throws {
        // 20 users in pages of 7: the third page of /directory_users?directory= is the last.
        let harness = try await Harness.start(users: 20, groups: 2)
        try await harness.sync()
        let before = try await harness.tableWrites()
        let users = harness.activeUsers()
        harness.simulator.deleteUser(users[0].id)
        harness.simulator.updateUser(users[1].id, firstName: "Changed")
        harness.simulator.scriptFault(
            fault, matching: RequestMatcher(pathPrefix: "/directory_users", queryContains: "directory="), skip: 2, times: 100)
        let reports = try await harness.sync()
        #expect(reports[0].outcome == .failed, "\(fault)")
        #expect(reports[0].detail?.contains("incomplete") == true)
        #expect(try await harness.tableWrites() == before, "nothing applied after \(fault)")
        #expect(try await harness.account(users[0].id)?.decode(String.self, "status") == "active")
        let run = try await harness.rows("SELECT outcome, error FROM workos_dsync.sync_runs ORDER BY id DESC LIMIT 1")[0]
        #expect(try run.decode(String.self, "outcome") == "failed")
        await harness.stop()
    }

    @Test func aFailureOnAnyRequestOfTheRunNeverDisables() async throws {
        let harness = try await Harness.start(users: 20, groups: 3)
        try await harness.sync()
        for user in harness.activeUsers().prefix(3) { harness.simulator.deleteUser(user.id) }
        let disabledBefore = try await disabledCount(harness)
        // Fail request 0, 1, 2, … of a run in turn (the failing one and all after it),
        // until a run completes before the fault is reached.
        var failing = 0
        while true {
            harness.simulator.clearFaults()
            harness.simulator.resetStatistics()
            harness.simulator.scriptFault(.status(500), matching: RequestMatcher(pathPrefix: "/directory"), skip: failing, times: 1_000)
            // Request 0 lists the directories: then the whole run fails before any directory.
            let reports = try? await harness.sync()
            guard harness.simulator.statistics.faultsInjected > 0 else { break }
            #expect(reports?.allSatisfy { $0.outcome == .failed } ?? true, "request \(failing) failed")
            #expect(try await disabledCount(harness) == disabledBefore, "request \(failing) failed")
            failing += 1
        }
        #expect(failing > 5, "every request of the run was failed once (\(failing) requests)")
        harness.simulator.clearFaults()
        try await harness.sync()
        #expect(try await disabledCount(harness) == disabledBefore + 3)
        await harness.stop()
    }

    @Test func anUnhealthyDirectoryIsSkippedAndNobodyIsDisabled() async throws {
        let harness = try await Harness.start(users: 10, groups: 1)
        try await harness.sync()
        let disabledBefore = try await disabledCount(harness)
        for user in harness.activeUsers().prefix(3) { harness.simulator.deleteUser(user.id) }
        for state in ["invalid_credentials", "validating", "some_future_state"] {
            harness.simulator.setDirectoryState(harness.directoryID, state)
            let reports = try await harness.sync()
            #expect(reports[0].outcome == .skipped)
            #expect(try await disabledCount(harness) == disabledBefore)
        }
        await harness.stop()
    }

    @Test func aVanishedDirectoryIsHeldNotDisabled() async throws {
        let harness = try await Harness.start(users: 10, groups: 1)
        try await harness.sync()
        let disabledBefore = try await disabledCount(harness)
        harness.simulator.deleteDirectory(harness.directoryID)
        let reports = try await harness.sync()
        #expect(reports.map(\.outcome) == [.held])
        #expect(try await disabledCount(harness) == disabledBefore)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.held_plans WHERE status = 'held'") == 1)
        await harness.stop()
    }
}
