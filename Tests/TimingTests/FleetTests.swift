import Daemon
import Foundation
import Glibc
import PostgresTestSupport
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// Fleet scale under faults, with the real binary: replicas share the
/// schedule in PostgreSQL (each directory listed once per interval across
/// them, a killed replica's directories taken over), PostgreSQL restarted in
/// the middle of a cycle, and `kill -9` at 100 random points.
@Suite(.serialized) struct FleetTests {
    /// A config with pacing off (these tests are about the schedule, not the limits).
    static func config(_ extra: String = "", claimTTL: String, concurrency: Int = 2) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString).yaml")
        try """
            workos:
              directory_users_per_second: 1000
              requests_per_second: 10000
            sync:
              concurrency: \(concurrency)
              claim_ttl: \(claimTTL)
            log:
              format: logfmt
            \(extra)
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    struct Run {
        var id: Int64
        var directory: String
        var started: Date
        var finished: Date
        var outcome: String
    }

    static func runs(_ harness: DaemonHarness) async throws -> [Run] {
        try await harness.query("""
            SELECT id, directory_id, started_at, finished_at, outcome FROM workos_dsync.sync_runs
            WHERE finished_at IS NOT NULL ORDER BY directory_id, started_at
            """).map { row in
            Run(
                id: try row.decode(Int64.self, "id"), directory: try row.decode(String.self, "directory_id"),
                started: try row.decode(Date.self, "started_at"), finished: try row.decode(Date.self, "finished_at"),
                outcome: try row.decode(String.self, "outcome"))
        }
    }

    /// Every directory's accounts equal the simulator's users: the active ones
    /// listed, the others disabled, none missing; no directory marked removed.
    static func expectDatabaseMatchesSimulator(_ harness: DaemonHarness) async throws {
        for directory in harness.simulator.directoryIDs {
            let listed = Set(harness.simulator.users(in: directory).filter { $0.state == "active" }.map(\.id))
            let rows = try await harness.query("""
                SELECT workos_id, status FROM workos_dsync.directory_users WHERE directory_id = \(directory)
                """)
            var active: Set<String> = []
            for row in rows where try row.decode(String.self, "status") == "active" { active.insert(try row.decode(String.self, "workos_id")) }
            #expect(active == listed, "directory \(directory): \(active.subtracting(listed).count) wrongly active, \(listed.subtracting(active).count) missing or wrongly disabled")
        }
        let removed = try await harness.count("SELECT count(*) AS count FROM workos_dsync.directories WHERE removed_at IS NOT NULL")
        #expect(removed == 0)
        let unfinished = try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE finished_at IS NULL OR outcome IS NULL
            """)
        #expect(unfinished == 0, "every run row is finished with an outcome")
    }

    /// Whether each of the `count` directories completes a run (applied or unchanged) started after `since`
    /// while `daemon` keeps running.
    static func everyDirectoryCompletesARun(
        _ harness: DaemonHarness, count: Int, after since: Date, daemon: ReplicaTests.Replica, timeout: Duration
    ) async throws -> Bool {
        try await eventually(timeout: timeout) {
            guard daemon.process.isRunning else { throw TestFailure(description: "the daemon exited: \(daemon.logText.suffix(800))") }
            let runs = try await Self.runs(harness).filter { $0.started > since && ($0.outcome == "applied" || $0.outcome == "unchanged") }
            return Set(runs.map(\.directory)).count == count
        }
    }

    /// SIGTERM: the replica drains and exits 0.
    static func stopGracefully(_ replica: ReplicaTests.Replica) {
        kill(replica.process.processIdentifier, SIGTERM)
        replica.process.waitUntilExit()
        #expect(replica.process.terminationStatus == 0)
    }

    @Test func aLongListingReportsItsProgress() async throws {
        // 600 users in pages of 10, 100 ms a response: a listing of several seconds.
        let harness = try await DaemonHarness.make(directories: 1, users: 600, groups: 2, latency: .milliseconds(100))
        var options = DaemonHarness.options(pageSize: 10)
        options.scheduler.progressEvery = .milliseconds(300)
        let daemon = RunningDaemon(try await harness.build(options))
        let directory = try #require(harness.simulator.directoryIDs.first)
        let gauge = "workos_dsync_listing_pages_in_flight{directory=\"\(directory)\"}"
        var seen: [Double] = []
        let reported = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            let text = try await httpGet(port: daemon.app.httpPort, path: "/metrics").body
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(gauge + " ") }),
                let pages = Double(line.split(separator: " ").last ?? ""), pages > 0 {
                seen.append(pages)
            }
            return Set(seen).count >= 2 && daemon.app.status.contains("listings in flight")
        }
        #expect(reported, "the in-flight gauge and STATUS= showed the listing while it ran: \(seen), \(daemon.app.status)")
        #expect((seen.last ?? 0) > (seen.first ?? 0), "pages grew: \(seen)")
        let finished = try await eventually(timeout: .seconds(60)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 1
        }
        #expect(finished)
        let cleared = try await eventually(timeout: .seconds(5)) {
            let text = try await httpGet(port: daemon.app.httpPort, path: "/metrics").body
            return text.contains(gauge + " 0\n") || text.contains(gauge + " 0.0\n")
        }
        #expect(cleared, "back to 0 once the listing ended")
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test func threeReplicasListEachDirectoryOncePerIntervalAndTakeOverAKilledOne() async throws {
        let binary = try builtBinary()
        let harness = try await DaemonHarness.make(directories: 6, users: 40, groups: 3, latency: .milliseconds(2))
        let config = try Self.config(claimTTL: "3s")
        let interval = 3.0
        let replicas = try ["a", "b", "c"].map {
            try ReplicaTests.Replica(binary: binary, harness: harness, config: config.path, name: "fleet-\($0)", interval: "3s")
        }
        defer {
            for replica in replicas where replica.process.isRunning { kill(replica.process.processIdentifier, SIGKILL) }
            harness.simulator.stop()
            try? FileManager.default.removeItem(at: config)
        }

        // All three take part, and every directory is reconciled several times.
        let working = try await eventually(timeout: .seconds(40)) {
            for replica in replicas where !replica.process.isRunning {
                throw TestFailure(description: "a replica exited: \(replica.logText.suffix(800))")
            }
            let all = try await Self.runs(harness)
            let perDirectory = Dictionary(grouping: all, by: \.directory)
            return replicas.allSatisfy { !$0.runIDs().isEmpty } && perDirectory.count == 6
                && perDirectory.values.allSatisfy { $0.count >= 3 }
        }
        #expect(working, "each replica wrote runs; each directory ran 3 times")

        // Once per interval across the replicas: a directory's next run starts at least one
        // jittered interval (−10 %) after its last one finished, whoever ran either.
        let before = try await Self.runs(harness)
        for (directory, runs) in Dictionary(grouping: before, by: \.directory) {
            for (previous, next) in zip(runs, runs.dropFirst()) {
                #expect(
                    next.started.timeIntervalSince(previous.finished) >= interval * 0.9 - 0.2,
                    "\(directory): run \(next.id) started \(next.started.timeIntervalSince(previous.finished)) s after run \(previous.id)")
            }
        }

        // Kill one replica: its claims expire after claim_ttl, the others take its directories.
        let killed = replicas[0]
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        let killedAt = Date()
        var hires: [String: String] = [:]
        for directory in harness.simulator.directoryIDs {
            hires[directory] = harness.simulator.createUser(
                in: directory, email: "fleet.\(UUID().uuidString.prefix(6))@example.com", firstName: "Fleet", lastName: "Hire")
        }
        // claim_ttl (3 s) + one interval (3 s), with room for a loaded machine.
        // Every directory, the killed replica's too, runs again after the kill and applies its hire.
        let tookOver = try await eventually(timeout: .seconds(25)) {
            for (_, user) in hires where try await harness.count("SELECT count(*) AS count FROM workos_dsync.directory_users WHERE workos_id = \(user)") != 1 {
                return false
            }
            return Set(try await Self.runs(harness).filter { $0.started > killedAt }.map(\.directory)).count == 6
        }
        #expect(tookOver, "every directory was applied after the kill")
        #expect(Date().timeIntervalSince(killedAt) < 25)
        let afterKill = try await Self.runs(harness).filter { $0.started > killedAt }

        // The two survivors stop gracefully: they leave the shared schedule.
        for replica in replicas.dropFirst() { Self.stopGracefully(replica) }
        // Their logs are complete now: every run after the kill is one of theirs.
        let survivors = replicas[1].runIDs().union(replicas[2].runIDs())
        #expect(afterKill.allSatisfy { survivors.contains($0.id) }, "runs after the kill are the survivors'")
        let live = try await harness.count("SELECT count(*) AS count FROM workos_dsync.replicas")
        #expect(live == 1, "the survivors removed their rows; the killed one's stays until it ages out")
        let held = try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.directory_schedule WHERE claimed_until > now()
            """)
        #expect(held == 0, "no live claim is left behind")
        try await Self.expectDatabaseMatchesSimulator(harness)
    }

    @Test func postgresRestartedMidCycleTheNextCycleSucceedsWithNoManualStep() async throws {
        let binary = try builtBinary()
        let server = try await ThrowawayPostgres.start(logger: quietLogger)
        defer { server.stop() }
        let url = try await server.createDatabase("fleet_restart", logger: quietLogger)
        // Slow responses: the first cycle of 8 directories takes a few seconds, long enough to restart inside it.
        let harness = try await DaemonHarness.make(
            directories: 8, users: 120, groups: 3, latency: .milliseconds(40), databaseURL: url)
        let config = try Self.config(claimTTL: "2s")
        let daemon = try ReplicaTests.Replica(binary: binary, harness: harness, config: config.path, name: "pg-restart", interval: "4s")
        defer {
            if daemon.process.isRunning { kill(daemon.process.processIdentifier, SIGKILL) }
            harness.simulator.stop()
            try? FileManager.default.removeItem(at: config)
        }
        let midCycle = try await eventually(timeout: .seconds(30), every: .milliseconds(20)) {
            try await harness.count("SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs") >= 1
        }
        #expect(midCycle)
        let doneBefore = try await harness.count("SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs")
        #expect(doneBefore < 8, "the restart falls inside the first cycle")
        try await server.halt()
        try await Task.sleep(for: .seconds(2))
        try await server.restart()
        let restartedAt = Date()

        // With nothing done by hand, every directory completes a run after the restart.
        let recovered = try await Self.everyDirectoryCompletesARun(harness, count: 8, after: restartedAt, daemon: daemon, timeout: .seconds(60))
        #expect(recovered, "the next cycle succeeded for every directory: \(daemon.logText.suffix(1500))")
        Self.stopGracefully(daemon)
        try await Self.expectDatabaseMatchesSimulator(harness)
    }

    @Test func killedAtAHundredRandomPointsEveryDirectoryEndsAtARunBoundary() async throws {
        let binary = try builtBinary()
        let harness = try await DaemonHarness.make(directories: 4, users: 60, groups: 3, latency: .milliseconds(1))
        // A short claim time-to-live: each restart takes over the killed process's claims quickly.
        let config = try Self.config(claimTTL: "600ms", concurrency: 4)
        defer {
            harness.simulator.stop()
            try? FileManager.default.removeItem(at: config)
        }
        var generator = SystemRandomNumberGenerator()
        var applied = 0
        for round in 0..<100 {
            // Something to apply in most rounds: a hire, a leaver, in a random directory.
            let directory = harness.simulator.directoryIDs.randomElement(using: &generator)!
            if round % 3 == 0, let leaver = harness.simulator.users(in: directory).filter({ $0.state == "active" }).randomElement(using: &generator) {
                harness.simulator.deactivateUser(leaver.id)
            } else {
                harness.simulator.createUser(
                    in: directory, email: "kill\(round).\(UUID().uuidString.prefix(4))@example.com", firstName: "K", lastName: "\(round)")
            }
            let daemon = try ReplicaTests.Replica(binary: binary, harness: harness, config: config.path, name: "kill-\(round)", interval: "200ms")
            try await Task.sleep(for: .milliseconds(Int.random(in: 30...700, using: &generator)))
            kill(daemon.process.processIdentifier, SIGKILL)
            daemon.process.waitUntilExit()
            applied += daemon.runIDs().count
            try? FileManager.default.removeItem(at: daemon.log)
        }
        // Every run row is whole (written in its apply transaction, or not at all).
        let unfinished = try await harness.count("""
            SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE finished_at IS NULL OR outcome IS NULL
            """)
        #expect(unfinished == 0)
        let failed = try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'failed'")
        let total = try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs")
        #expect(total > 0 && applied > 0, "runs completed between the kills")

        // One more start: every directory completes a run, and the database equals the simulator.
        let restartedAt = Date()
        let last = try ReplicaTests.Replica(binary: binary, harness: harness, config: config.path, name: "kill-last", interval: "200ms")
        defer { if last.process.isRunning { kill(last.process.processIdentifier, SIGKILL) } }
        let caughtUp = try await Self.everyDirectoryCompletesARun(harness, count: 4, after: restartedAt, daemon: last, timeout: .seconds(30))
        #expect(caughtUp, "the next cycle succeeds for every directory: \(last.logText.suffix(1500))")
        Self.stopGracefully(last)
        try await Self.expectDatabaseMatchesSimulator(harness)
        print("FleetTests: 100 kills, \(total) run rows (\(failed) failed), \(applied) logged before a kill")
    }
}
