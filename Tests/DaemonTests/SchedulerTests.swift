import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// The scheduling loop against the simulator: backoff after failures, a
/// failing directory listing, a directory that vanishes.
@Suite(.serialized) struct SchedulerTests {
    @Test func aFailingDirectoryIsRetriedWithBackoffLongBeforeTheInterval() async throws {
        let harness = try await DaemonHarness.make(directories: 2, users: 10, groups: 2, interval: .seconds(600))
        let failing = harness.simulator.directoryIDs[0]
        // Two attempts per request: four failures are two failed runs.
        harness.simulator.scriptFault(
            .status(500), matching: RequestMatcher(pathPrefix: "/directory_users", queryContains: "directory=\(failing)"), times: 4)
        let daemon = RunningDaemon(try await harness.build())
        // The upper bound is generous for a loaded machine; unloaded it takes about 2 s.
        let recovered = try await eventually(timeout: .seconds(60)) {
            try await harness.count("""
                SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE directory_id = \(failing) AND outcome = 'applied'
                """) == 1
        }
        #expect(recovered, "retried well within the 600 s interval")
        let outcomes = try await harness.query("""
            SELECT outcome, started_at, finished_at FROM workos_dsync.sync_runs WHERE directory_id = \(failing) ORDER BY id
            """)
        try #require(try outcomes.map { try $0.decode(String.self, "outcome") } == ["failed", "failed", "applied"])
        // The second retry waited about twice as long as the first (base 500 ms, ±10 %).
        let times = try outcomes.map { (try $0.decode(Date.self, "started_at"), try $0.decode(Date.self, "finished_at")) }
        let firstGap = times[1].0.timeIntervalSince(times[0].1)
        let secondGap = times[2].0.timeIntervalSince(times[1].1)
        // Upper bounds: "long before the interval", with room for a loaded machine.
        #expect(firstGap >= 0.44 && firstGap < 10, "first retry after \(firstGap) s")
        #expect(secondGap >= 0.89 && secondGap < 12, "second retry after \(secondGap) s")
        // The healthy directory was reconciled once: its interval is ten minutes.
        #expect(try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE directory_id = \(harness.simulator.directoryIDs[1])
            """) == 1)
        // The counters follow the commit (the run row is visible a moment before the metric moves).
        let port = daemon.app.httpPort
        let counted = try await eventually(timeout: .seconds(30)) {
            let metrics = try await httpGet(port: port, path: "/metrics").body
            return metrics.contains("workos_dsync_runs_total{directory=\"\(failing)\",outcome=\"failed\"} 2")
                && metrics.contains("workos_dsync_runs_total{directory=\"\(failing)\",outcome=\"applied\"} 1")
        }
        #expect(counted, "runs_total shows 2 failed and 1 applied runs of \(failing)")
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test func aFailingDirectoryListingTouchesNothingAndIsRetried() async throws {
        let harness = try await DaemonHarness.make(directories: 2, users: 10, groups: 2, interval: .seconds(60))
        // The listing keeps failing until the test has looked, then answers.
        harness.simulator.scriptFault(.status(503), matching: RequestMatcher(pathPrefix: "/directories"), times: 1_000)
        let daemon = RunningDaemon(try await harness.build())
        let port = daemon.app.httpPort
        let series = "workos_dsync_api_requests_total{endpoint=\"directories\",status=\"503\"} "
        #expect(try await eventually(timeout: .seconds(30)) {
            let text = try await httpGet(port: port, path: "/metrics").body
            let value = text.split(separator: "\n").first { $0.hasPrefix(series) }.flatMap { Double($0.dropFirst(series.count)) }
            return (value ?? 0) >= 2
        })
        #expect(try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") == 0)
        #expect(try await harness.count("SELECT count(*) AS count FROM workos_dsync.directories") == 0)
        harness.simulator.clearFaults()
        // The backoff may have grown to a few seconds by now.
        let synced = try await eventually(timeout: .seconds(30)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 2
        }
        #expect(synced, "the listing is retried and the directories reconciled once it answers")
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test func aDirectoryThatVanishesIsHeldNotDisabled() async throws {
        let harness = try await DaemonHarness.make(directories: 2, users: 12, groups: 2, interval: .seconds(1))
        let daemon = RunningDaemon(try await harness.build())
        #expect(try await eventually {
            try await harness.count("SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 2
        })
        let vanished = harness.simulator.directoryIDs[1]
        harness.simulator.deleteDirectory(vanished)
        let held = try await eventually(timeout: .seconds(30)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.held_plans WHERE directory_id = \(vanished)") >= 1
        }
        #expect(held)
        #expect(try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.directory_users WHERE directory_id = \(vanished) AND status = 'active'
            """) == 12)
        #expect(try await eventually(timeout: .seconds(30)) {
            try await httpGet(port: daemon.app.httpPort, path: "/metrics").body.contains("workos_dsync_held_plans{directory=\"\(vanished)\"} 1")
        })
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test func atMostConcurrencyDirectoriesRunAtOnce() async throws {
        let harness = try await DaemonHarness.make(
            directories: 5, users: 40, groups: 2, latency: .milliseconds(15), interval: .seconds(60), concurrency: 2)
        let daemon = RunningDaemon(try await harness.build(DaemonHarness.options(pageSize: 10)))
        #expect(try await eventually(timeout: .seconds(30)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 5
        })
        try await daemon.stop()
        // Runs of different directories overlap, but never more than two at a time.
        let spans = try await harness.query("SELECT started_at, finished_at FROM workos_dsync.sync_runs").map {
            (try $0.decode(Date.self, "started_at"), try $0.decode(Date.self, "finished_at"))
        }
        var most = 0
        for (start, _) in spans {
            most = max(most, spans.filter { $0.0 <= start && start < $0.1 }.count)
        }
        #expect(most == 2, "at most two at once, and both lanes used (\(most))")
        harness.simulator.stop()
    }
}
