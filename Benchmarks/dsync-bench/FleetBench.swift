import Daemon
import Foundation
import Logging
import PostgresTestSupport
import Store
import SyncCore
import WorkOS
import WorkOSSimulator

/// `--only fleet`: one full cycle of many directories against the simulator
/// with WorkOS's rate limits on (4 `/directory_users` requests per second per
/// directory, 6,000 per minute per key), first with one `run` replica, then
/// with several on the same database (in this process, each with its own
/// client, pacing and PostgreSQL sessions, sharing the simulator's key budget).
/// Prints the cycle time against the key budget's floor (total requests / 100
/// per second), total requests, 429s and runs per directory.
struct FleetBench {
    /// One cycle's figures.
    struct Cycle: Codable, Sendable {
        var replicas: Int
        var directories: Int
        var usersPerDirectory: Int
        var groupsPerDirectory: Int
        /// From the first replica's start until every directory has a finished run.
        var cycleSeconds: Double
        /// API requests the simulator served in the cycle (429s included).
        var requests: Int
        var rateLimited: Int
        /// total requests / 100 per second: the key budget's floor.
        var budgetFloorSeconds: Double
        /// cycleSeconds / budgetFloorSeconds (the goal: ≤ 1.15).
        var ratio: Double
        /// Finished `sync_runs` rows per directory (the goal: all exactly 1).
        var runsPerDirectory: [Int: Int]
        /// Runs applied (not failed or skipped).
        var applied: Int
        /// Directories whose run each replica wrote (replicas > 1).
        var runsByReplica: [Int]
    }

    /// The report of a fleet run.
    struct Report: Codable, Sendable {
        var machine: String
        var build: String
        var single: Cycle
        var replicated: Cycle?
        /// replicated.requests / single.requests (the goal: ≤ 1.1).
        var requestRatio: Double?
    }

    let directories: Int
    let users: Int
    let groups: Int
    let replicas: Int
    let logger: Logger

    func run() async throws -> Report {
        let postgres = try await ThrowawayPostgres.start(logger: logger)
        defer { postgres.stop() }
        let single = try await cycle(replicas: 1, postgres: postgres, database: "fleet_single")
        print(Self.line(single))
        var replicated: Cycle?
        if replicas > 1 {
            let cycle = try await cycle(replicas: replicas, postgres: postgres, database: "fleet_replicas")
            print(Self.line(cycle))
            replicated = cycle
        }
        #if DEBUG
            let build = "debug"
        #else
            let build = "release"
        #endif
        return Report(
            machine: "\(ProcessInfo.processInfo.activeProcessorCount) CPUs", build: build, single: single, replicated: replicated,
            requestRatio: replicated.map { Double($0.requests) / Double(max(single.requests, 1)) })
    }

    /// The Markdown of Benchmarks/RESULTS-fleet.md.
    static func markdown(_ report: Report, command: String) -> String {
        var text = """
            # Fleet benchmark: one cycle of many directories under WorkOS's rate limits

            `\(command)` (\(report.build) build, \(report.machine)). The simulator enforces WorkOS's limits: 4
            `/directory_users` requests per second per directory, 6,000 requests per minute per API key, 429 with
            `Retry-After`. The floor is the key's budget: total requests / 100 per second.

            | replicas | directories | cycle | requests | floor (requests / 100/s) | cycle / floor | 429s | runs per directory | runs by replica |
            |---|---|---|---|---|---|---|---|---|

            """
        for cycle in [report.single] + (report.replicated.map { [$0] } ?? []) {
            let runs = cycle.runsPerDirectory.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
            text += String(
                format: "| %d | %d × %d users × %d groups | %.1f s | %d | %.1f s | %.3f | %d | %@ | %@ |\n", cycle.replicas, cycle.directories,
                cycle.usersPerDirectory, cycle.groupsPerDirectory, cycle.cycleSeconds, cycle.requests, cycle.budgetFloorSeconds,
                cycle.ratio, cycle.rateLimited, runs, cycle.runsByReplica.map(String.init).joined(separator: " / "))
        }
        if let ratio = report.requestRatio {
            text += String(format: "\nRequests with %d replicas / with one: %.3f (the goal: ≤ 1.1).\n", report.replicated?.replicas ?? 0, ratio)
        }
        return text
    }

    static func line(_ cycle: Cycle) -> String {
        let runs = cycle.runsPerDirectory.sorted { $0.key < $1.key }.map { "\($0.value) dirs × \($0.key) runs" }.joined(separator: ", ")
        return String(
            format: "fleet: %d replica(s), %d dirs × %d users × %d groups: cycle %.1f s, %d requests (floor %.1f s at 100/s), ratio %.3f, %d × 429, runs per directory: %@, applied %d, by replica %@",
            cycle.replicas, cycle.directories, cycle.usersPerDirectory, cycle.groupsPerDirectory, cycle.cycleSeconds, cycle.requests,
            cycle.budgetFloorSeconds, cycle.ratio, cycle.rateLimited, runs, cycle.applied, "\(cycle.runsByReplica)")
    }

    private func cycle(replicas: Int, postgres: ThrowawayPostgres, database: String) async throws -> Cycle {
        let url = try await postgres.createDatabase(database, logger: logger)
        let admin = try await PostgresConnection.connect(url, logger: logger)
        _ = try await Migrator.apply(on: admin, logger: logger)
        // WorkOS's limits on (the simulator's defaults), no latency.
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: 15, directories: directories, usersPerDirectory: users, groupsPerDirectory: groups, rateLimit: RateLimit()))
        let baseURL = try simulator.start()
        defer { simulator.stop() }
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        settings.databaseURL = url
        settings.mode = .full
        settings.interval = .seconds(3_600)
        settings.listen = "127.0.0.1:0"
        // The guard's thresholds do not matter here: a first cycle only creates.

        let started = ContinuousClock.now
        var apps: [DaemonApp] = []
        var tasks: [Task<Void, any Error>] = []
        for _ in 0..<replicas {
            let app = try await DaemonApp.build(
                settings: settings, options: DaemonApp.Options(environment: [:], trapSignals: false), logger: logger)
            apps.append(app)
            tasks.append(Task { try await app.run() })
        }
        // A cycle ends when every directory has a finished run.
        while true {
            let done = try await admin.query("""
                SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs WHERE finished_at IS NOT NULL
                """)[0].decode(Int.self, "count")
            if done >= directories { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let elapsed = ContinuousClock.now - started
        let statistics = simulator.statistics
        for app in apps { await app.shutdown() }
        for task in tasks { try? await task.value }

        var runsPerDirectory: [Int: Int] = [:]
        for row in try await admin.query("""
            SELECT d.id, count(r.id) AS runs FROM workos_dsync.directories d
            LEFT JOIN workos_dsync.sync_runs r ON r.directory_id = d.id AND r.finished_at IS NOT NULL GROUP BY d.id
            """) {
            runsPerDirectory[try row.decode(Int.self, "runs"), default: 0] += 1
        }
        let applied = try await admin.query("""
            SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'
            """)[0].decode(Int.self, "count")
        let byReplica = try await admin.query("""
            SELECT count(*) AS count FROM workos_dsync.directory_schedule GROUP BY last_run_by ORDER BY count DESC
            """).compactMap { try? $0.decode(Int.self, "count") }
        await admin.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let floor = Double(statistics.totalRequests) / 100
        return Cycle(
            replicas: replicas, directories: directories, usersPerDirectory: users, groupsPerDirectory: groups, cycleSeconds: seconds,
            requests: statistics.totalRequests, rateLimited: statistics.rateLimited, budgetFloorSeconds: floor,
            ratio: seconds / max(floor, 0.001), runsPerDirectory: runsPerDirectory, applied: applied, runsByReplica: byReplica)
    }
}
