import Foundation
import TestHelpers
import Testing
import WorkOSSimulator

@Suite("WorkOS simulator: rate limits")
struct SimulatorRateLimitTests {
    @Test func directoryUsersAreLimitedTo4PerSecondPerDirectory() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 5, rateLimit: RateLimit()))
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let group = harness.simulator.groups(in: first)[0].id
        let clock = ContinuousClock()
        // A loaded machine may stretch the burst past one second: then try again with fresh windows.
        var statuses: [Int] = []
        var refused: RawResponse?
        for _ in 0..<3 {
            harness.simulator.setRateLimit(RateLimit())
            harness.simulator.resetStatistics()
            let start = clock.now
            // directory= and group= both count against the directory.
            statuses = try ["directory=\(first)", "group=\(group)", "directory=\(first)", "directory=\(first)"]
                .map { try harness.get("/directory_users?\($0)").status }
            refused = try harness.get("/directory_users?directory=\(first)")
            if clock.now - start < .milliseconds(900) { break }
        }
        #expect(statuses == [200, 200, 200, 200])
        let response = try #require(refused)
        #expect(response.status == 429)
        #expect(response.text == #""Ratelimited""#)
        #expect(Int(response.header("Retry-After") ?? "") ?? 0 >= 1)
        // Another directory has its own budget; other endpoints are not limited per directory.
        #expect(try harness.get("/directory_users?directory=\(second)").status == 200)
        #expect(try harness.get("/directory_groups?directory=\(first)").status == 200)
        let statistics = harness.simulator.statistics
        #expect(statistics.rateLimited == 1)
        #expect(statistics.countByStatus[429] == 1)
        #expect(statistics.directories[first]?.directoryUsersRequestTimes.count == 5)
        #expect(statistics.directories[first]?.maxDirectoryUsersRequests() == 5)
    }

    @Test func theWindowSlides() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(
            usersPerDirectory: 1, rateLimit: RateLimit(directoryUsersPerSecond: 20)))
        let directory = harness.simulator.directoryIDs[0]
        let clock = ContinuousClock()
        let start = clock.now
        var statuses: [Int] = []
        for _ in 0..<21 { statuses.append(try harness.get("/directory_users?directory=\(directory)").status) }
        let elapsed = clock.now - start
        try #require(elapsed < .seconds(1), "the burst must fit in one window to be meaningful")
        #expect(statuses.filter { $0 == 200 }.count == 20)
        #expect(statuses.last == 429)
        // Bounded wait until the window has moved on, then requests pass again.
        var passed = false
        let deadline = clock.now + .seconds(3)
        while clock.now < deadline, !passed {
            passed = try harness.get("/directory_users?directory=\(directory)").status == 200
            if !passed { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(passed)
    }

    @Test func perKeyLimitCountsEveryRequest() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(
            usersPerDirectory: 1, rateLimit: RateLimit(requestsPerMinutePerKey: 3)))
        #expect(try harness.get("/directories").status == 200)
        #expect(try harness.get("/directories").status == 200)
        #expect(try harness.get("/directory_groups?directory=\(harness.simulator.directoryIDs[0])").status == 200)
        let refused = try harness.get("/directories")
        #expect(refused.status == 429)
        #expect(refused.text == #""Ratelimited""#)
        #expect(Int(refused.header("Retry-After") ?? "") ?? 0 > 1, "the minute window is far from over")
        harness.simulator.setRateLimit(nil)
        #expect(try harness.get("/directories").status == 200)
    }
}
