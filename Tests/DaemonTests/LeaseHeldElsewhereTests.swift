import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// A replica claims a directory whose lease another session still holds (a
/// replica whose claim lapsed — a stalled heartbeat, a frozen VM — is still
/// listing it). Nothing ran here, so the shared schedule must not record a run:
/// the directory stays due, and is reconciled as soon as the lease is free.
@Suite struct LeaseHeldElsewhereTests {
    @Test func aDirectoryWhoseLeaseIsHeldElsewhereStaysDueAndRunsOnceItIsFree() async throws {
        var harness = try await DaemonHarness.make(directories: 1, users: 5, groups: 1, interval: .seconds(3_600))
        harness.settings.claimTTL = .seconds(2)
        let directoryID = try #require(harness.simulator.directoryIDs.first)
        let elsewhere = try await PostgresConnection.connect(harness.databaseURL, logger: quietLogger)
        #expect(try await elsewhere.tryAdvisoryLock(AdvisoryLockKey.directory(directoryID)))

        let daemon = RunningDaemon(try await harness.build())
        // The daemon claims it, finds the lease held, and gives the claim back with the directory still due soon.
        let gaveBack = try await eventually {
            let rows = try await harness.query("""
                SELECT next_due_at < now() + interval '1 minute' AND last_run_by IS NULL AS due
                FROM workos_dsync.directory_schedule
                WHERE directory_id = \(directoryID) AND claimed_by IS NULL AND next_due_at > updated_at
                """)
            return try rows.first?.decode(Bool.self, "due") == true
        }
        #expect(gaveBack)
        #expect(try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") == 0)

        // The other session's run ends: this replica reconciles the directory within a claim's time, not an interval.
        try await elsewhere.advisoryUnlock(AdvisoryLockKey.directory(directoryID))
        let applied = try await eventually {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 1
        }
        #expect(applied)
        // The release that records who ran it follows the run's commit.
        let recorded = try await eventually {
            try await harness.count("""
                SELECT count(*) AS count FROM workos_dsync.directory_schedule WHERE directory_id = \(directoryID) AND last_run_by IS NOT NULL
                """) == 1
        }
        #expect(recorded)
        try await daemon.stop()
        await elsewhere.close()
        harness.simulator.stop()
    }
}
