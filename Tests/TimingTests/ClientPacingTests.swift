import Foundation
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// The client's pacing against the simulator's rate limit, measured on the wall clock.
@Suite struct ClientPacingTests {
    @Test func underTheDirectoryRateLimitNoRequestIsRefusedAndTheRateIsNearTheLimit() async throws {
        let harness = try SimulatorHarness(
            SimulatorConfiguration(directories: 1, usersPerDirectory: 100, groupsPerDirectory: 10, rateLimit: RateLimit()))
        defer { harness.stop() }
        let directoryID = try #require(harness.simulator.directoryIDs.first)
        let client = harness.client(clock: SystemClock(), pageSize: 10, directoryUsersPerSecond: 4, requestsPerSecond: 100)
        let directory = try await client.directory(directoryID)
        harness.simulator.resetStatistics()

        let snapshot = try await client.snapshot(of: directory)

        let statistics = harness.simulator.statistics
        let times = try #require(statistics.directories[directoryID]).directoryUsersRequestTimes
        #expect(statistics.rateLimited == 0)
        #expect(statistics.countByStatus[429] == nil)
        #expect(times.count >= 35)
        let span = try #require(times.first).duration(to: try #require(times.last))
        let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        let rate = Double(times.count - 1) / seconds
        #expect(rate >= 0.9 * 4, "achieved \(rate) /directory_users requests per second")
        #expect(rate <= 4)
        #expect(try #require(statistics.directories[directoryID]).maxDirectoryUsersRequests(within: .seconds(1)) <= 4)
        #expect(snapshot.users.count == 100)
        print(String(format: "paced: %d /directory_users requests in %.2f s = %.2f req/s (%.0f %% of 4/s), 0 × 429",
                     times.count, seconds, rate, rate / 4 * 100))
    }

}
