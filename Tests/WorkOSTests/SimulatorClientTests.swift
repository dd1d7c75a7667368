import Foundation
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

extension LoopbackSimulatorTests {
    /// Directories, events, portal links, authentication and transport failures over loopback HTTP.
    @Suite struct SimulatorClientTests {
        @Test func directoriesAreListedAndFetched() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 3, usersPerDirectory: 5, groupsPerDirectory: 1))
            defer { harness.stop() }
            let client = harness.client(pageSize: 2)
            let directories = try await client.listDirectories()
            #expect(Set(directories.map(\.id)) == Set(harness.simulator.directoryIDs))
            let first = try await client.directory(directories[0].id)
            #expect(first == directories[0])
            let missing = await #expect(throws: WorkOSError.self) { _ = try await client.directory("directory_missing") }
            #expect(missing?.code == .http)
            #expect(missing?.status == 404)
            #expect(missing?.attempts == 1)
        }

        /// A hostile `Retry-After` over real HTTP: huge values wait the policy's cap (60 s),
        /// negative, NaN and infinite ones are ignored (backoff, at most 250 ms); none traps.
        @Test(arguments: [
            ("1e10", true), ("99999999999999999999999", true), ("9223372036854775807", true),
            ("Fri, 31 Dec 9999 23:59:59 GMT", true), ("-1", false), ("nan", false), ("inf", false),
            ("-inf", false), ("Sun, 06 Nov 99999999999999999999 08:49:37 GMT", false),
        ])
        func aHostileRetryAfterIsClampedOrIgnored(value: String, capped: Bool) async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 1))
            defer { harness.stop() }
            harness.simulator.scriptFault(.retryAfter(value), times: 1)
            let clock = VirtualClock()
            let directories = try await harness.client(clock: clock).listDirectories()
            #expect(directories.count == 1)
            #expect(harness.simulator.statistics.rateLimited == 1)
            let sleep = try #require(clock.sleeps.first)
            #expect(clock.sleeps.count == 1)
            #expect(capped ? sleep == .seconds(60) : sleep <= .milliseconds(250), "\(value) gave \(sleep)")
        }

        @Test func aWrongKeyIsUnauthorizedAtOnce() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 1))
            defer { harness.stop() }
            let client = harness.client(apiKey: "sk_test_wrong")
            let error = await #expect(throws: WorkOSError.self) { _ = try await client.listDirectories() }
            #expect(error?.code == .unauthorized)
            #expect(harness.simulator.statistics.totalRequests == 1)
            #expect(error.map { "\($0)" }?.contains("sk_test") == false)
        }

        @Test func eventsArePagedOldestFirst() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 3))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let created = (0..<5).map { harness.simulator.createUser(in: directoryID, email: "new\($0)@example.com", firstName: "N", lastName: "\($0)") }
            let client = harness.client()
            var seen: [String] = []
            var cursor: String? = nil
            for _ in 0..<10 {
                let page = try await client.events(after: cursor, types: ["dsync.user.created"], limit: 2)
                if page.events.isEmpty { break }
                #expect(page.events.count <= 2)
                seen += page.events.compactMap { $0.data.objectValue?["id"]?.stringValue }
                cursor = page.cursor
            }
            #expect(seen.suffix(5) == created[...])
        }

        @Test func portalLinkIsGenerated() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 1))
            defer { harness.stop() }
            let organizationID = try #require(harness.simulator.directories().first?.organizationID)
            let link = try await harness.client().generatePortalLink(organizationID: organizationID)
            #expect(link.scheme == "https")
            #expect(link.absoluteString.contains("intent=dsync"))
        }

        @Test func aSlowResponseTimesOut() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 1))
            defer { harness.stop() }
            // One attempt without the time-out would take 10 s; two with it take about 0.6 s.
            harness.simulator.scriptFault(.slow(.seconds(10)), times: 10)
            let client = harness.client(maxAttempts: 2, requestTimeout: .milliseconds(300))
            let started = ContinuousClock.now
            let error = await #expect(throws: WorkOSError.self) { _ = try await client.listDirectories() }
            #expect(error?.code == .timeout)
            #expect(error?.attempts == 2)
            #expect(started.duration(to: .now) < .seconds(8))
        }

        @Test func aClosedPortIsATransportErrorQuickly() async throws {
            // Start and stop a simulator to learn a loopback port nobody listens on.
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 0))
            harness.stop()
            let started = ContinuousClock.now
            let error = await #expect(throws: WorkOSError.self) { _ = try await harness.client().listDirectories() }
            #expect(error?.code == .transport)
            #expect(error?.curlCode == 7)  // CURLE_COULDNT_CONNECT
            #expect(error?.attempts == 8)
            // Refused at once, not waiting for a connect time-out (8 of them would be far longer).
            #expect(started.duration(to: .now) < .seconds(8))
        }

        @Test func anOversizedBodyIsRefusedWithoutRetry() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 100))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let client = harness.client(maxBodyBytes: 4_096)
            let error = await #expect(throws: WorkOSError.self) {
                for try await _ in client.userPages(directoryID: directoryID) {}
            }
            #expect(error?.code == .bodyTooLarge)
            #expect(error?.attempts == 1)
        }

        @Test func aConnectionIsReusedAcrossRequests() async throws {
            let harness = try SimulatorHarness(
                SimulatorConfiguration(directories: 1, usersPerDirectory: 500, groupsPerDirectory: 0, rateLimit: nil))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let transport = CurlTransport(configuration: .init(threads: 1))
            let client = WorkOSClient(
                configuration: .init(
                    baseURL: harness.baseURL, apiKey: Secret(harness.simulator.apiKey), pageSize: 10,
                    directoryUsersPerSecond: .infinity, requestsPerSecond: .infinity),
                logger: .quiet, transport: transport, clock: VirtualClock())
            var pages = 0
            for try await _ in client.userPages(directoryID: directoryID) { pages += 1 }
            #expect(pages == 50)
            #expect(transport.connectionsOpened == 1)
        }

        @Test func cancellingAbortsAnInFlightRequest() async throws {
            let harness = try SimulatorHarness(SimulatorConfiguration(directories: 1, usersPerDirectory: 1))
            defer { harness.stop() }
            harness.simulator.scriptFault(.slow(.seconds(30)), times: 1)
            let client = harness.client()
            let started = ContinuousClock.now
            let task = Task { try await client.listDirectories() }
            // Cancel once the request is on the wire (the simulator has counted it).
            while harness.simulator.statistics.totalRequests == 0, started.duration(to: .now) < .seconds(10) {
                try await Task.sleep(for: .milliseconds(5))
            }
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            // Well before the 30 s response: the transfer was aborted, not waited for.
            #expect(started.duration(to: .now) < .seconds(15))
        }
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }
}
