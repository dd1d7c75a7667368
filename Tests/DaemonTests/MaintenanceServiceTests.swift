import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// The daemon's link-conflict gauges, its retention of `sync_runs` and the
/// opt-in scheduled purge, against a real PostgreSQL and the simulator.
@Suite(.serialized) struct MaintenanceServiceTests {
    @Test func anOpenConflictShowsInTheGaugesAndOldRunsAreDeletedAtStart() async throws {
        let harness = try await DaemonHarness.make(directories: 1, users: 5, groups: 1)
        let directory = harness.simulator.directoryIDs[0]
        let email = try #require(harness.simulator.users(in: directory).compactMap(\.email).first)
        _ = try await harness.query("INSERT INTO workos_dsync.users (email) VALUES (\(email)), (\(email.uppercased())) RETURNING id")
        let first = RunningDaemon(try await harness.build())
        let label = "directory=\"\(directory)\""
        var text = ""
        let shown = try await eventually {
            text = try await httpGet(port: first.app.httpPort, path: "/metrics").body
            return text.contains("workos_dsync_link_conflicts_open{\(label)} 1")
        }
        #expect(shown, "\(text)")
        let oldest = text.split(separator: "\n").first { $0.hasPrefix("workos_dsync_link_conflicts_oldest_timestamp_seconds{\(label)} ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(abs((oldest ?? 0) - Date().timeIntervalSince1970) < 120)
        try await first.stop()

        // Two runs older than retention.sync_runs (90 days), older than the real ones (lower ids): they go
        // when the daemon starts; the directory's newest runs stay.
        _ = try await harness.query("""
            INSERT INTO workos_dsync.sync_runs (id, directory_id, started_at, outcome) VALUES
                (-2, \(directory), now() - interval '200 days', 'applied'), (-1, \(directory), now() - interval '100 days', 'failed')
            RETURNING id
            """)
        let kept = try await harness.count("SELECT count(*) FROM workos_dsync.sync_runs WHERE id > 0")
        let before = try await harness.count("SELECT count(*) FROM workos_dsync.sync_runs WHERE started_at < now() - interval '90 days'")
        #expect(before == 2)
        let second = RunningDaemon(try await harness.build())
        let deleted = try await eventually {
            try await harness.count("SELECT count(*) FROM workos_dsync.sync_runs WHERE started_at < now() - interval '90 days'") == 0
        }
        #expect(deleted)
        try await second.stop()
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.sync_runs WHERE id > 0") >= kept)
    }

    @Test func theScheduledPurgeAnonymisesLongDisabledPersonsAndKeepsLegalHolds() async throws {
        var harness = try await DaemonHarness.make(directories: 1, users: 5, groups: 1)
        let directory = harness.simulator.directoryIDs[0]
        let first = RunningDaemon(try await harness.build())
        _ = try await eventually { try await harness.count("SELECT count(*) FROM workos_dsync.directory_users") == 5 }
        try await first.stop()
        let users = harness.simulator.users(in: directory)
        let (leaver, held) = (users[0], users[1])
        for user in [leaver, held] { harness.simulator.deleteUser(user.id) }
        harness.settings.purgeSchedule = .seconds(1)
        // A restart keeps the shared schedule (next run one interval after the last); a shorter interval caps it.
        harness.settings.interval = .seconds(1)
        let second = RunningDaemon(try await harness.build())
        #expect(try await eventually {
            try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled'") == 2
        })
        _ = try await harness.query("""
            UPDATE workos_dsync.users SET disabled_at = now() - interval '40 days',
                legal_hold_at = CASE WHEN id = (SELECT user_id FROM workos_dsync.directory_users WHERE workos_id = \(held.id))
                                     THEN now() END,
                legal_hold_reason = CASE WHEN id = (SELECT user_id FROM workos_dsync.directory_users WHERE workos_id = \(held.id))
                                         THEN 'case 7' END
            WHERE status = 'disabled' RETURNING id
            """)
        _ = try await harness.query("""
            UPDATE workos_dsync.directory_users SET disabled_at = now() - interval '40 days' WHERE status = 'disabled' RETURNING id
            """)
        let purged = try await eventually {
            try await harness.count("SELECT count(*) FROM workos_dsync.users WHERE anonymized_at IS NOT NULL") == 1
        }
        #expect(purged)
        try await second.stop()
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.users p JOIN workos_dsync.directory_users d ON d.user_id = p.id
            WHERE p.anonymized_at IS NOT NULL AND d.workos_id = \(leaver.id)
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.users p JOIN workos_dsync.directory_users d ON d.user_id = p.id
            WHERE p.anonymized_at IS NULL AND p.email IS NOT NULL AND d.workos_id = \(held.id)
            """) == 1)
    }
}
