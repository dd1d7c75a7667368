import Foundation
import TestHelpers
import Testing
import WorkOSSimulator

@Suite("WorkOS simulator: fault injection")
struct SimulatorFaultTests {
    static func harness() throws -> (SimulatorHarness, String) {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 25, rateLimit: nil))
        return (harness, harness.simulator.directoryIDs[0])
    }

    @Test(arguments: [500, 502, 503])
    func statusFaultReturnsThatStatus(status: Int) throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.status(status), matching: RequestMatcher(pathPrefix: "/directory_users"))
        let faulted = try harness.get("/directory_users?directory=\(directory)")
        #expect(faulted.status == status)
        #expect(faulted.object["message"] != nil)
        #expect(try harness.get("/directory_users?directory=\(directory)").status == 200, "times: 1 by default")
        #expect(harness.simulator.statistics.faultsInjected == 1)
    }

    @Test func status429FaultLooksLikeWorkOSRateLimiting() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.status(429))
        let response = try harness.get("/directory_users?directory=\(directory)")
        #expect(response.status == 429)
        #expect(response.header("Retry-After") == "1")
        #expect(response.text == #""Ratelimited""#)
        #expect(harness.simulator.statistics.rateLimited == 1)
    }

    @Test func html200IsAProxyPage() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.html200)
        let response = try harness.get("/directory_users?directory=\(directory)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(response.text.hasPrefix("<!DOCTYPE html>"))
    }

    @Test func truncatedBodyClosesMidBody() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.truncatedBody)
        let outcome = try harness.outcome("/directory_users?directory=\(directory)&limit=20")
        guard case .truncated(let status, let declared, let received) = outcome else {
            Issue.record("expected a truncated body, got \(outcome)")
            return
        }
        #expect(status == 200)
        #expect(received < declared)
        #expect(received > 0)
    }

    @Test func connectionResetSendsNothing() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.connectionReset)
        let outcome = try harness.outcome("/directory_users?directory=\(directory)")
        guard case .reset = outcome else {
            Issue.record("expected a reset, got \(outcome)")
            return
        }
        #expect(harness.simulator.statistics.connectionResets == 1)
    }

    @Test func slowDelaysTheResponse() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.slow(.milliseconds(300)))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try harness.get("/directory_users?directory=\(directory)").status == 200)
        #expect(clock.now - start >= .milliseconds(300))
    }

    @Test func emptyPageWithCursor() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.emptyPageWithCursor, matching: RequestMatcher(queryContains: "after="))
        let first = try harness.get("/directory_users?directory=\(directory)&order=asc")
        #expect(first.data.count == 10)
        let cursor = try #require(first.after)
        let empty = try harness.get("/directory_users?directory=\(directory)&order=asc&after=\(cursor)")
        #expect(empty.status == 200)
        #expect(empty.data.isEmpty)
        #expect(empty.after != nil)
    }

    @Test func repeatedCursorEchoesTheRequestedAfter() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.scriptFault(.repeatedCursor, matching: RequestMatcher(queryContains: "after="))
        let first = try harness.get("/directory_users?directory=\(directory)&order=asc")
        let cursor = try #require(first.after)
        let second = try harness.get("/directory_users?directory=\(directory)&order=asc&after=\(cursor)")
        #expect(second.data.count == 10)
        #expect(second.after == cursor)
    }

    @Test func scriptedFaultsCountMatchingRequestsWithSkipAndTimes() throws {
        let (harness, directory) = try Self.harness()
        let group = harness.simulator.groups(in: directory)[0].id
        harness.simulator.scriptFault(.status(503), matching: RequestMatcher(pathPrefix: "/directory_users", queryContains: "group="),
                                      skip: 1, times: 2)
        var statuses: [Int] = []
        for _ in 0..<5 {
            statuses.append(try harness.get("/directory_users?group=\(group)").status)
            #expect(try harness.get("/directory_users?directory=\(directory)").status == 200, "not matching")
        }
        #expect(statuses == [200, 503, 503, 200, 200])
    }

    @Test func randomFaultsFollowTheirProbabilityAndClear() throws {
        let (harness, directory) = try Self.harness()
        harness.simulator.addRandomFault(.status(500), probability: 1, matching: RequestMatcher(pathPrefix: "/directory_groups"))
        harness.simulator.addRandomFault(.status(502), probability: 0)
        #expect(try harness.get("/directory_groups?directory=\(directory)").status == 500)
        #expect(try harness.get("/directory_users?directory=\(directory)").status == 200)
        harness.simulator.addRandomFault(.status(503), probability: 0.5, matching: RequestMatcher(pathPrefix: "/directories"))
        var faulted = 0
        for _ in 0..<200 where try harness.get("/directories").status == 503 { faulted += 1 }
        #expect((60...140).contains(faulted), "about half of 200, got \(faulted)")
        harness.simulator.clearFaults()
        #expect(try harness.get("/directory_groups?directory=\(directory)").status == 200)
    }

    @Test func latencyIsAddedToEveryResponse() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 1, rateLimit: nil, latency: .milliseconds(150)))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try harness.get("/directories").status == 200)
        #expect(try harness.get("/directories").status == 200)
        #expect(clock.now - start >= .milliseconds(300))
    }
}
