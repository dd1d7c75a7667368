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

    /// A fleet saturates the key: ten directories, four listings each, at a key
    /// budget that covers half of what they could send. A request holds its key
    /// token only for as long as it takes to be let go (its directory's token is
    /// already there), and each directory's requests still leave evenly spaced.
    @Test func underASaturatedKeyNoRequestHoldsItsKeyTokenWhileItsDirectoryWaits() async throws {
        let clock = SystemClock()
        let pacer = RequestPacer(requestsPerSecond: 20, directoryUsersPerSecond: 4, clock: clock)
        let directories = (0..<10).map { "directory_\($0)" }
        let (held, sent) = try await withThrowingTaskGroup(of: (String, Duration, Duration).self) { group in
            for directory in directories {
                for _ in 0..<4 {
                    group.addTask {
                        let held = try await pacer.pace(directoryID: directory)
                        return (directory, held, clock.now())
                    }
                }
            }
            // The key's own requests (the groups listings) queue with them.
            for _ in 0..<10 {
                group.addTask { ("the key", try await pacer.pace(directoryID: nil), clock.now()) }
            }
            var held: [Duration] = []
            var sent: [String: [Duration]] = [:]
            for try await (directory, heldFor, at) in group {
                held.append(heldFor)
                sent[directory, default: []].append(at)
            }
            return (held, sent)
        }
        #expect(held.count == 50)
        // With the key's token taken first and the directory's after, the fourth listing of a directory held its key token ~0.8 s.
        #expect(held.max()! < .milliseconds(50), "longest key token held: \(held.max()!)")
        for directory in directories {
            let times = sent[directory, default: []].sorted()
            #expect(times.count == 4)
            for (earlier, later) in zip(times, times.dropFirst()) {
                #expect(later - earlier >= .milliseconds(250), "\(directory): \(later - earlier) apart")
            }
        }
    }
}
