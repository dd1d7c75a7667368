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
