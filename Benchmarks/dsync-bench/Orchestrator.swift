import Daemon
import Foundation
import Logging
import PostgresTestSupport
import Store
import WorkOSSimulator

/// The parent process: a throwaway PostgreSQL and the simulator, one child process per scenario.
struct Orchestrator {
    var sizes: [Int]
    var throttledUsers: Int
    var manyDirectoriesUsers: Int?
    var repeats: Int
    /// Events latency: users of its directory (nil skips it), deactivations measured, the poller's interval.
    var eventsUsers: Int?
    var eventsLeavers = 20
    var eventsInterval: Duration = .seconds(5)
    /// Only these scenarios (nil: all); for profiling runs.
    var only: Set<Scenario>?
    var logger: Logger

    func wanted(_ scenario: Scenario) -> Bool { only?.contains(scenario) ?? true }

    func run() async throws -> BenchResults {
        let postgres = try await ThrowawayPostgres.start(logger: logger)
        defer { postgres.stop() }
        // Interrupted (Ctrl-C, SIGTERM): the throwaway server must not outlive the bench, or its
        // leftover work skews the next run's figures.
        return try await TerminationSignals.exitingAfterCleanUp(onSignal: { [logger] number in
            logger.error("interrupted: stopping the throwaway PostgreSQL", metadata: ["signal": "\(number)"])
            postgres.stop()
        }) {
            var results = BenchResults.new(command: CommandLine.arguments)
            for size in sizes {
                results.rows += try await runSize(size, postgres: postgres)
            }
            if wanted(.throttled) { results.rows.append(try await runThrottled(postgres: postgres)) }
            if let users = manyDirectoriesUsers, wanted(.manyDirectories) {
                results.rows.append(try await runManyDirectories(users: users, postgres: postgres))
            }
            if let users = eventsUsers, wanted(.eventsLatency) {
                results.rows.append(try await runEventsLatency(
                    users: users, leavers: eventsLeavers, interval: eventsInterval, postgres: postgres))
            }
            results.loadAverageAtEnd = BenchResults.loadAverage()
            results.evaluateTargets()
            return results
        }
    }

    /// Groups per directory for a size: one per 200 users, at least 10.
    static func groups(for users: Int) -> Int { max(10, users / 200) }

    func freshDatabase(_ name: String, postgres: ThrowawayPostgres) async throws -> String {
        let url = try await postgres.createDatabase(name, logger: logger)
        let admin = try await PostgresConnection.connect(url, logger: logger)
        _ = try await Migrator.apply(on: admin, logger: logger)
        // Profiling aid: DSYNC_BENCH_LOG_STATEMENTS=<ms> logs slower statements to the server log,
        // copied to /tmp/dsync-bench-postgres.log after each size.
        if let milliseconds = ProcessInfo.processInfo.environment["DSYNC_BENCH_LOG_STATEMENTS"].flatMap(Int.init) {
            for setting in [
                "log_min_duration_statement = \(milliseconds)", "session_preload_libraries = 'auto_explain'",
                "auto_explain.log_min_duration = \(milliseconds * 5)", "auto_explain.log_analyze = on",
            ] {
                try await admin.execute(PostgresQuery(unsafeSQL: "ALTER DATABASE \(name) SET \(setting)"))
            }
        }
        await admin.close()
        return url
    }

    /// Lets the database settle before a measured run: the previous scenario's
    /// writes (10M rows at 1M users) would otherwise be vacuumed, analysed and
    /// checkpointed in the background, on the same two cores, during the next
    /// scenario's fetch.
    private func settle(_ databaseURL: String) async throws {
        let admin = try await PostgresConnection.connect(databaseURL, logger: logger)
        try await admin.execute(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE)"))
        try await admin.execute(PostgresQuery(unsafeSQL: "CHECKPOINT"))
        await admin.close()
    }

    private func runSize(_ size: Int, postgres: ThrowawayPostgres) async throws -> [ResultRow] {
        let databaseURL = try await freshDatabase("bench_\(size)", postgres: postgres)
        let generation = Stopwatch()
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: 42, directories: 1, usersPerDirectory: size, groupsPerDirectory: Self.groups(for: size),
            embeddedGroups: false, deactivation: .delete, rateLimit: nil, latency: .zero))
        let baseURL = try simulator.start()
        defer { simulator.stop() }
        logger.notice("simulator ready", metadata: ["users": "\(size)", "seconds": "\(generation.seconds)"])
        let target = ScenarioTarget(baseURL: baseURL.absoluteString, apiKey: simulator.apiKey, databaseURL: databaseURL)
        var rows: [ResultRow] = []
        /// Runs `scenario` `repeats` times and keeps the median run; `before` prepares each run
        /// and returns the number of objects it changed (a churn resync churns 1 % anew each
        /// time). A full sync runs once: it needs the empty database it starts from.
        ///
        /// With `pairedFloor`, each run is bracketed by floor b runs on the same listing, one just
        /// before and one just after, its floor is their mean, and the median is taken by the
        /// ratio to it: the machine is shared and its speed drifts by up to a quarter within an
        /// hour (steadily, over minutes), so a floor measured earlier is not the floor of this
        /// run, and one measured only before it is biased by the drift during the run.
        func measure(_ scenario: Scenario, pairedFloor: Bool = false, before: (() -> Int)? = nil) async throws {
            guard wanted(scenario) else { return }
            let runs = scenario == .fullSync ? 1 : repeats
            let bracketed = pairedFloor && wanted(.floorDecode)
            func floorB() async throws -> Double {
                try await settle(databaseURL)
                return try await ChildProcess.run(.floorDecode, target: target, logger: logger).wallSeconds
            }
            var measured: [(measurement: Measurement, statistics: SimulatorStatistics, changed: Int?, floors: [Double])] = []
            for _ in 0..<max(1, runs) {
                let changed = before?()
                var floors: [Double] = []
                if bracketed { floors.append(try await floorB()) }
                try await settle(databaseURL)
                simulator.resetStatistics()
                let measurement = try await ChildProcess.run(scenario, target: target, logger: logger)
                let statistics = simulator.statistics
                if bracketed { floors.append(try await floorB()) }
                measured.append((measurement, statistics, changed, floors))
            }
            func meanFloor(_ floors: [Double]) -> Double? { floors.isEmpty ? nil : floors.reduce(0, +) / Double(floors.count) }
            measured.sort {
                $0.measurement.wallSeconds / (meanFloor($0.floors) ?? 1) < $1.measurement.wallSeconds / (meanFloor($1.floors) ?? 1)
            }
            let median = measured[measured.count / 2]
            var row = ResultRow(
                users: size, directories: 1, scenario: scenario, measurement: median.measurement,
                httpRequests: median.statistics.totalRequests, http429: median.statistics.rateLimited, changedObjects: median.changed)
            row.pairedFloorSeconds = meanFloor(median.floors)
            row.bracketingFloorsSeconds = median.floors.isEmpty ? nil : median.floors
            logger.notice("measured", metadata: [
                "scenario": "\(scenario.rawValue)", "users": "\(size)", "row": "\(row.line)",
                "floors_b_s": "\(median.floors.isEmpty ? "-" : median.floors.map { String(format: "%.2f", $0) }.joined(separator: ","))",
            ])
            rows.append(row)
        }
        try await measure(.floorFetch)
        try await measure(.floorDecode)
        try await measure(.floorWrite)
        try await measure(.floorWriteWithKeys)
        try await measure(.fullSync)
        try await measure(.unchangedResync, pairedFloor: true)
        var churnRound = 0
        try await measure(.churnResync, pairedFloor: true) {
            churnRound += 1
            return Churn.apply(to: simulator, fraction: 0.01, round: churnRound)
        }
        if ProcessInfo.processInfo.environment["DSYNC_BENCH_LOG_STATEMENTS"] != nil {
            try? FileManager.default.removeItem(atPath: "/tmp/dsync-bench-postgres.log")
            try? FileManager.default.copyItem(atPath: postgres.directory + "/log", toPath: "/tmp/dsync-bench-postgres.log")
        }
        return rows
    }

    /// 5 directories, WorkOS's rate limits on, 50 ms per response, the client's default pacing.
    private func runThrottled(postgres: ThrowawayPostgres) async throws -> ResultRow {
        let (row, statistics) = try await runFiveDirectories(
            .throttled, users: throttledUsers, seed: 43, groups: 10, rateLimit: RateLimit(), latency: .milliseconds(50),
            database: "bench_throttled", postgres: postgres)
        var measured = row
        // Achieved `/directory_users` rate of each directory over its own active span.
        let allowed = RateLimit().directoryUsersPerSecond
        var fractions: [Double] = []
        for (_, entry) in statistics.directories {
            let times = entry.directoryUsersRequestTimes
            guard times.count > 1, let first = times.first, let last = times.last else { continue }
            let span = last - first
            let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) * 1e-18
            fractions.append(Double(times.count - 1) / seconds / allowed)
        }
        measured.rateFractionMin = fractions.min()
        measured.rateFractionMean = fractions.isEmpty ? nil : fractions.reduce(0, +) / Double(fractions.count)
        logger.notice("measured", metadata: ["scenario": "throttled", "row": "\(measured.line)"])
        return measured
    }

    /// Full sync of 5 directories of `users` each: peak RSS should match one directory's.
    private func runManyDirectories(users: Int, postgres: ThrowawayPostgres) async throws -> ResultRow {
        let (row, _) = try await runFiveDirectories(
            .manyDirectories, users: users, seed: 44, groups: Self.groups(for: users), rateLimit: nil, latency: .zero,
            database: "bench_many", postgres: postgres)
        logger.notice("measured", metadata: ["scenario": "many-directories", "row": "\(row.line)"])
        return row
    }

    /// One child run of `scenario` against a fresh database and a simulator of 5 directories.
    private func runFiveDirectories(
        _ scenario: Scenario, users: Int, seed: UInt64, groups: Int, rateLimit: RateLimit?, latency: Duration,
        database: String, postgres: ThrowawayPostgres
    ) async throws -> (ResultRow, SimulatorStatistics) {
        let databaseURL = try await freshDatabase(database, postgres: postgres)
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: seed, directories: 5, usersPerDirectory: users, groupsPerDirectory: groups,
            embeddedGroups: false, deactivation: .delete, rateLimit: rateLimit, latency: latency))
        let baseURL = try simulator.start()
        defer { simulator.stop() }
        let target = ScenarioTarget(baseURL: baseURL.absoluteString, apiKey: simulator.apiKey, databaseURL: databaseURL)
        let measurement = try await ChildProcess.run(scenario, target: target, logger: logger)
        let statistics = simulator.statistics
        let row = ResultRow(
            users: users, directories: 5, scenario: scenario, measurement: measurement,
            httpRequests: statistics.totalRequests, http429: statistics.rateLimited, changedObjects: nil)
        return (row, statistics)
    }
}

/// 1 % churn through the simulator's mutations, in five equal parts: deactivations
/// (kept, `state: inactive`), deletions, email changes, membership changes (half
/// added, half removed) and creates, each a real change. Each `round` picks other
/// active users and other addresses, so repeated rounds measure alike. Returns the
/// number of changed objects.
enum Churn {
    static func apply(to simulator: WorkOSSimulator, fraction: Double, round: Int) -> Int {
        let directoryID = simulator.directoryIDs[0]
        let users = simulator.users(in: directoryID).filter { $0.state == "active" }
        let groups = simulator.groups(in: directoryID)
        let part = max(1, Int(Double(users.count) * fraction) / 5)
        // Disjoint users for each kind, spread over the listing.
        let stride = max(1, users.count / (part * 4 + 1))
        var picks = Swift.stride(from: round % stride, to: users.count, by: stride).map { users[$0].id }.makeIterator()
        var changed = 0
        simulator.setDeactivation(.keepInactive)
        for _ in 0..<part {
            guard let id = picks.next() else { break }
            simulator.deactivateUser(id)
            changed += 1
        }
        for _ in 0..<part {
            guard let id = picks.next() else { break }
            simulator.deleteUser(id)
            changed += 1
        }
        for index in 0..<part {
            guard let id = picks.next() else { break }
            simulator.changeEmail(id, to: "churned.\(round).\(index)@changed.example.com")
            changed += 1
        }
        let lastGroup = groups[groups.count - 1].id
        for index in 0..<part {
            guard let id = picks.next() else { break }
            let memberOf = simulator.groupIDs(ofUser: id)
            if index % 2 == 1, let group = memberOf.first {
                simulator.removeMembership(user: id, group: group)
            } else if !memberOf.contains(lastGroup) {
                simulator.addMembership(user: id, group: lastGroup)
            } else {
                continue
            }
            changed += 1
        }
        for index in 0..<part {
            simulator.createUser(
                in: directoryID, email: "new.hire.\(round).\(index)@churn.example.com", firstName: "New", lastName: "Hire \(round).\(index)")
            changed += 1
        }
        return changed
    }
}
