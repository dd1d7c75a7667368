import Daemon
import Foundation
import Logging
import PostgresTestSupport
import Store
import SyncCore
import WorkOS
import WorkOSSimulator

/// Events mode measured (issue 14): one directory under WorkOS's limits
/// (4 req/s on `/directory_users`, 50 ms per response). A child process runs
/// the paced full listing (the safety net's cycle time, and the poller's
/// starting point); then the events poller runs here, as the daemon builds
/// it, and `leavers` users are deactivated one by one in the simulator, each
/// at a random moment of the poll interval: the latency is from the change to
/// `status = 'disabled'` in PostgreSQL.
extension Orchestrator {
    func runEventsLatency(users: Int, leavers: Int, interval: Duration, postgres: ThrowawayPostgres) async throws -> ResultRow {
        let databaseURL = try await freshDatabase("bench_events", postgres: postgres)
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: 45, directories: 1, usersPerDirectory: users, groupsPerDirectory: Self.groups(for: users),
            embeddedGroups: false, deactivation: .delete, rateLimit: RateLimit(), latency: .milliseconds(50)))
        let baseURL = try simulator.start()
        defer { simulator.stop() }
        let target = ScenarioTarget(baseURL: baseURL.absoluteString, apiKey: simulator.apiKey, databaseURL: databaseURL)
        simulator.resetStatistics()
        let listing = try await ChildProcess.run(.eventsLatency, target: target, logger: logger)
        let statistics = simulator.statistics
        logger.notice("events latency: full listing done", metadata: ["seconds": "\(listing.wallSeconds)"])

        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString
        settings.databaseURL = databaseURL
        settings.eventsInterval = interval
        // The client as the daemon builds it: WorkOS's limits paced, no lifting.
        let client = try Runtime.makeClient(settings: settings, logger: logger)
        let pollerConnection = try await PostgresConnection.connect(databaseURL, logger: logger)
        let keyID = SyncStore.eventKeyID(apiKey: simulator.apiKey)
        let poller = EventPoller(
            client: client, connection: pollerConnection, settings: SettingsBox(settings), metrics: EventMetrics(), keyID: keyID,
            logger: logger)
        let watcher = try await PostgresConnection.connect(databaseURL, logger: logger)
        let store = SyncStore(connection: watcher, logger: logger)
        let loop = Task { try await poller.run() }
        let clock = ContinuousClock()
        var latencies: [Double] = []
        do {
            // The first poll stores the cursor (from the listing's start).
            let ready = clock.now + .seconds(120)
            while try await store.eventCursor(keyID: keyID) == nil {
                guard clock.now < ready else { throw BenchFailure("events latency: the poller stored no cursor within 120 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
            let directoryID = simulator.directoryIDs[0]
            let active = simulator.users(in: directoryID).filter { $0.state == "active" }.map(\.id)
            let step = max(1, active.count / leavers)
            var generator = SystemRandomNumberGenerator()
            let phase = intervalMilliseconds(interval)
            for id in Swift.stride(from: 0, to: active.count, by: step).prefix(leavers).map({ active[$0] }) {
                // A random phase of the poll interval, as a real leaver's.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0..<max(1, phase), using: &generator)))
                let start = clock.now
                simulator.deactivateUser(id)
                while try await watcher.query("SELECT status FROM workos_dsync.directory_users WHERE workos_id = \(id)")
                    .first?.decode(String.self, "status") != "disabled" {
                    guard clock.now - start < .seconds(120) else { throw BenchFailure("events latency: \(id) not disabled within 120 s") }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let elapsed = clock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                latencies.append(seconds)
                logger.info("events latency", metadata: ["user": "\(id)", "seconds": "\(String(format: "%.2f", seconds))"])
            }
        } catch {
            loop.cancel()
            _ = try? await loop.value
            await pollerConnection.close()
            await watcher.close()
            throw error
        }
        loop.cancel()
        _ = try? await loop.value
        await pollerConnection.close()
        await watcher.close()
        var row = ResultRow(
            users: users, directories: 1, scenario: .eventsLatency, measurement: listing,
            httpRequests: statistics.totalRequests, http429: statistics.rateLimited, changedObjects: latencies.count)
        row.eventsLatencySeconds = latencies
        row.eventsIntervalSeconds = Double(intervalMilliseconds(interval)) / 1000
        logger.notice("measured", metadata: [
            "scenario": "events-latency", "row": "\(row.line)",
            "p50_s": "\(BenchResults.percentile(latencies, 0.5) ?? 0)", "p95_s": "\(BenchResults.percentile(latencies, 0.95) ?? 0)",
        ])
        return row
    }

    private func intervalMilliseconds(_ interval: Duration) -> Int {
        Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
    }
}
