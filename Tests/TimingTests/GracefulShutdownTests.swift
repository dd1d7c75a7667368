import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSSimulator

/// A shutdown that lands in the middle of a directory's first apply leaves
/// the directory at a run boundary: no accounts, or exactly the listing.
@Suite(.serialized) struct GracefulShutdownTests {
    @Test(arguments: [Duration.zero, .seconds(20)])
    func shutdownDuringTheFirstApplyLeavesNoPartialDirectory(grace: Duration) async throws {
        let users = 2_000
        let harness = try await DaemonHarness.make(directories: 1, users: users, groups: 12, latency: .milliseconds(1), concurrency: 1)
        let directoryID = harness.simulator.directoryIDs[0]
        let app = try await harness.build(DaemonHarness.options(shutdownGrace: grace))
        let watcher = try await PostgresConnection.connect(harness.databaseURL, logger: quietLogger)
        let clock = ContinuousClock()
        let daemon = RunningDaemon(app)

        // Wait until a session of the daemon is inside a write transaction (the apply), then shut down.
        var caught = false
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            let writing = try await watcher.query("""
                SELECT count(*) AS count FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
                """)[0].decode(Int.self, "count")
            if writing > 0 {
                caught = true
                break
            }
            if try await watcher.query("SELECT count(*) AS count FROM workos_dsync.sync_runs")[0].decode(Int.self, "count") > 0 { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(caught, "the shutdown landed inside the apply transaction")
        let stopping = clock.now
        try await daemon.stop()
        let took = clock.now - stopping
        #expect(took < grace + .seconds(15), "shutdown is bounded (\(took))")

        let accounts = try await watcher.query("""
            SELECT count(*) AS count FROM workos_dsync.directory_users WHERE directory_id = \(directoryID)
            """)[0].decode(Int.self, "count")
        let runs = try await watcher.query("""
            SELECT outcome FROM workos_dsync.sync_runs WHERE directory_id = \(directoryID)
            """).map { try $0.decode(String.self, "outcome") }
        #expect(accounts == 0 || accounts == users, "all or nothing, found \(accounts)")
        if accounts == users {
            #expect(runs == ["applied"])
            // Exactly the listing: planning it again finds nothing to do.
            let client = WorkOSClient(
                configuration: .init(
                    baseURL: URL(string: harness.settings.baseURL)!, apiKey: Secret(harness.simulator.apiKey),
                    directoryUsersPerSecond: .infinity, requestsPerSecond: .infinity),
                logger: quietLogger)
            let directory = try #require(try await client.listDirectories().first)
            let snapshot = try await client.snapshot(of: directory)
            let listing = PreparedListing(snapshot)
            let stored = try await SyncStore(connection: watcher, logger: quietLogger).loadState(directoryID: directoryID, for: listing)
            #expect(try Planner.plan(listing, stored: stored, policy: SafetyPolicy()).isEmpty)
        } else {
            #expect(!runs.contains("applied"))
            #expect(try await watcher.query("SELECT count(*) AS count FROM workos_dsync.events")[0].decode(Int.self, "count") == 0)
        }
        await watcher.close()
        harness.simulator.stop()
    }
}
