import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// The process killed (SIGKILL) at random points during `sync --once`
/// always leaves each directory at a run boundary: the database matches
/// either the listing before the churn or the listing after it, never a mix.
@Suite struct CrashTests {
    static let guardOff = SafetyPolicy(minUsers: 100_000, fraction: 1)

    func isAtBoundary(_ harness: Harness, of snapshot: DirectorySnapshot) async throws -> Bool {
        let listing = PreparedListing(snapshot)
        let stored = try await harness.runtime.store.loadState(directoryID: snapshot.directory.id, for: listing)
        let plan = try Planner.plan(listing, stored: stored, policy: Self.guardOff)
        return plan.isEmpty
    }

    /// Sessions of this database, other than ours, inside a transaction that has written.
    func writingBackends(_ harness: Harness) async throws -> Int {
        try await harness.count("""
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
            """)
    }

    func startSync(_ harness: Harness, binary: URL) throws -> SpawnedProcess {
        // Pacing off: the simulator runs without rate limits here.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString).yaml")
        try "workos:\n  directory_users_per_second: 1000\n  requests_per_second: 10000\nguard:\n  min_users: 100000\n  fraction: 1\n"
            .write(to: config, atomically: true, encoding: .utf8)
        return try harness.launch(binary, arguments: ["sync", "--once", "--config", config.path])
    }

    @Test func killedAtRandomPointsTheDatabaseStaysAtARunBoundary() async throws {
        let binary = try builtBinary()
        // The guard off, here and in the killed processes' config: this test is about run
        // boundaries, and when most runs are killed the deletions of 24 churns add up to
        // more than the guard's 10 % (a held plan is no boundary of either listing).
        let harness = try await Harness.start(
            users: 1_500, groups: 12, safety: Self.guardOff, pageSize: 100, seed: 11)
        try await harness.sync()
        let directory = try #require(try await harness.runtime.client.listDirectories().first)

        // How long one churned sync takes, to spread the kills over it.
        var generator = SystemRandomNumberGenerator()
        func churn() {
            let users = harness.activeUsers()
            for user in users.shuffled(using: &generator).prefix(20) {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: harness.simulator.deleteUser(user.id)
                case 1: harness.simulator.changeEmail(user.id, to: "moved.\(UUID().uuidString.prefix(6))@example.com")
                case 2: harness.simulator.updateUser(user.id, lastName: "Churned \(Int.random(in: 0..<1_000, using: &generator))")
                default:
                    harness.simulator.createUser(
                        in: harness.directoryID, email: "hire.\(UUID().uuidString.prefix(8))@example.com",
                        firstName: "New", lastName: "Hire")
                }
            }
        }
        churn()
        let clock = ContinuousClock()
        let started = clock.now
        let timing = try startSync(harness, binary: binary)
        timing.waitUntilExit()
        let fullRun = clock.now - started
        #expect(timing.terminationStatus == 0)

        var current = try await harness.runtime.client.snapshot(of: directory)
        #expect(try await isAtBoundary(harness, of: current))
        var killedMidway = 0
        var killedDuringApply = 0
        for iteration in 0..<24 {
            churn()
            let next = try await harness.runtime.client.snapshot(of: directory)
            let process = try startSync(harness, binary: binary)
            if iteration.isMultiple(of: 2) {
                // Anywhere in the run: listing, planning or applying.
                try await Task.sleep(for: fullRun * Double.random(in: 0.05...1.1, using: &generator))
            } else {
                // Inside the apply: wait for the run's transaction to start writing, then a little more.
                let deadline = clock.now + fullRun * 2
                while clock.now < deadline, process.isRunning, try await writingBackends(harness) == 0 {
                    try await Task.sleep(for: .milliseconds(1))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...15, using: &generator)))
            }
            if process.isRunning {
                // Did the kill land inside the apply transaction (a backend holding a transaction id)?
                let writing = try await writingBackends(harness)
                kill(process.processIdentifier, SIGKILL)
                killedMidway += 1
                if writing > 0 { killedDuringApply += 1 }
            }
            process.waitUntilExit()
            let atPrevious = try await isAtBoundary(harness, of: current)
            let atNext = try await isAtBoundary(harness, of: next)
            #expect(atPrevious || atNext, "iteration \(iteration): the database is between two runs")
            if atNext { current = next }
        }
        #expect(killedMidway >= 10, "most runs were killed before finishing (\(killedMidway) of 24)")
        #expect(killedDuringApply >= 6, "some kills landed inside the apply transaction (\(killedDuringApply) of 24)")
        print("crash test: \(killedMidway) of 24 runs killed, \(killedDuringApply) inside the apply transaction")
        try await harness.sync()
        #expect(try await isAtBoundary(harness, of: try await harness.runtime.client.snapshot(of: directory)))
        await harness.stop()
    }
}
