import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import Testing
import TestHelpers
import WorkOSSimulator

/// Hybrid mode's cross-check: a full reconcile's `missing` disables are
/// compared with the deletions the event feed reported.
@Suite struct CrossCheckTests {

    @Test func disappearancesTheFeedDoesNotExplainAreHeldAboveTheLimit() async throws {
        let harness = try await Harness.start(users: 40, groups: 2)
        defer { Task { await harness.stop() } }
        let (_, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        // 12 users vanish while the poller is not running: under the guard's threshold (25), above max_unexplained (10).
        let gone = Array(harness.activeUsers().prefix(12))
        for user in gone { harness.simulator.deleteUser(user.id) }
        let report = try #require(try await harness.sync().first)
        #expect(report.outcome == .held)
        #expect(report.summary?.unexplained == 12)
        #expect(report.verdict == .hold(.unexplainedDisappearances(accounts: 12, limit: 10)))
        for user in gone { #expect(try await harness.accountStatus(user.id)?.status == "active") }
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.held_plans WHERE status = 'held'") == 1)
        #expect(try await harness.count(
            "SELECT (counts->>'unexplained')::int AS count FROM workos_dsync.sync_runs ORDER BY id DESC LIMIT 1") == 12)
    }

    @Test func deletionsThePollerAppliedLeaveNothingAndFewUnexplainedApplyCounted() async throws {
        let harness = try await Harness.start(users: 40, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let users = harness.activeUsers()
        // The poller applies 12 deletions: the reconcile has nothing left to disable.
        for user in users.prefix(12) { harness.simulator.deleteUser(user.id) }
        _ = try await poller.poll()
        let explained = try #require(try await harness.sync().first)
        #expect(explained.outcome != .held)
        #expect(explained.summary?.disables == 0)
        #expect(explained.summary?.unexplained == 0)
        // 3 vanish behind the poller's back: under the limit, disabled and counted.
        let few = users.dropFirst(12).prefix(3)
        for user in few { harness.simulator.deleteUser(user.id) }
        let report = try #require(try await harness.sync().first)
        #expect(report.outcome == .applied)
        #expect(report.summary?.unexplained == 3)
        for user in few { #expect(try await harness.accountStatus(user.id).map { [$0.status, $0.reason] } == ["disabled", "missing"]) }
    }

    @Test func anOldDeactivationUndoneByAReactivationExplainsNoLaterDisappearance() async throws {
        let harness = try await Harness.start(users: 40, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let users = harness.activeUsers()
        let returning = users[0]
        // The feed deactivates, then reactivates one person: both applied by the poller.
        harness.simulator.setUserState(returning.id, "inactive")
        _ = try await poller.poll()
        #expect(try await harness.accountStatus(returning.id)?.status == "disabled")
        harness.simulator.setUserState(returning.id, "active")
        _ = try await poller.poll()
        #expect(try await harness.accountStatus(returning.id)?.status == "active")
        // Then 11 people vanish behind the poller's back, that person among them: the old
        // deactivation explains nothing, so 11 > guard.max_unexplained (10) are held.
        for user in users.prefix(11) { harness.simulator.deleteUser(user.id) }
        let report = try #require(try await harness.sync().first)
        #expect(report.summary?.unexplained == 11)
        #expect(report.outcome == .held)
        #expect(try await harness.accountStatus(returning.id)?.status == "active")
    }

    @Test func aDeactivationOlderThanTheEventsRetentionExplainsNothing() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let user = harness.activeUsers()[0]
        harness.simulator.setUserState(user.id, "inactive")
        _ = try await poller.poll()
        let accountID = try #require(try await harness.account(user.id)).decode(UUID.self, "id")
        let store = harness.runtime.store
        let fresh = try await store.loadEventFeedHistory(
            directoryID: harness.directoryID, missing: [accountID], retention: .seconds(86_400))
        #expect(fresh?.explainedAccounts == [accountID])
        // The same deactivation under a retention shorter than its age (`events` is
        // append-only, so the retention shrinks instead of the event ageing): outside the feed.
        let stale = try await store.loadEventFeedHistory(directoryID: harness.directoryID, missing: [accountID], retention: .zero)
        #expect(stale?.explainedAccounts == [])
    }

    @Test func theCrossCheckIsOffWithoutAnEventsCursor() async throws {
        let harness = try await Harness.start(users: 40, groups: 2)
        defer { Task { await harness.stop() } }
        _ = try await harness.sync()
        // No events cursor: the feed was never read, so it explains nothing and holds nothing.
        for user in harness.activeUsers().prefix(12) { harness.simulator.deleteUser(user.id) }
        let report = try #require(try await harness.sync().first)
        #expect(report.outcome == .applied)
        #expect(report.summary?.unexplained == nil)
    }

    @Test func onDirectoryRemovedDisableNeedsTheFeedToConfirmTheDeletion() async throws {
        let harness = try await Harness.start(users: 10, groups: 2, safety: SafetyPolicy(onDirectoryRemoved: .disable))
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let users = harness.activeUsers()
        harness.simulator.deleteDirectory(harness.directoryID)
        // The directory vanished, but the feed has not said so yet (the poller did not run): held as with `hold`.
        let vanished = try #require(try await harness.sync().first)
        #expect(vanished.outcome == .held)
        for user in users { #expect(try await harness.accountStatus(user.id)?.status == "active") }
        // The poller applies dsync.deleted: the confirmed deletion disables.
        _ = try await poller.poll()
        for user in users {
            #expect(try await harness.accountStatus(user.id).map { [$0.status, $0.reason] } == ["disabled", "directory_removed"])
        }
    }
}
