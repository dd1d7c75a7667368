import Foundation
import Logging
import Testing
import WorkOS
import WorkOSSimulator

/// A started simulator and a client pointed at it over loopback HTTP (libcurl).
struct SimulatorHarness {
    let simulator: WorkOSSimulator
    let baseURL: URL

    init(_ configuration: SimulatorConfiguration) throws {
        simulator = WorkOSSimulator(configuration)
        baseURL = try simulator.start()
    }

    func stop() { simulator.stop() }

    /// A client with the real libcurl transport; pacing off unless asked for.
    func client(
        clock: any WorkOSClock = VirtualClock(), apiKey: String? = nil, pageSize: Int = 100, maxAttempts: Int = 8,
        directoryUsersPerSecond: Double = .infinity, requestsPerSecond: Double = .infinity,
        requestTimeout: Duration = .seconds(10), maxBodyBytes: Int = 64 << 20
    ) -> WorkOSClient {
        WorkOSClient(
            configuration: .init(
                baseURL: baseURL, apiKey: Secret(apiKey ?? simulator.apiKey), connectTimeout: .seconds(2),
                requestTimeout: requestTimeout, retry: RetryPolicy(maxAttempts: maxAttempts), pageSize: pageSize,
                directoryUsersPerSecond: directoryUsersPerSecond, requestsPerSecond: requestsPerSecond,
                maxBodyBytes: maxBodyBytes),
            logger: .quiet, clock: clock)
    }

    /// The simulator's own view of a directory, as a snapshot would hold it.
    func groundTruth(_ directoryID: String) -> (users: Set<String>, memberships: [String: [String]]) {
        let users = Set(simulator.users(in: directoryID).map(\.id))
        var memberships: [String: [String]] = [:]
        for group in simulator.groups(in: directoryID) {
            memberships[group.id] = simulator.memberIDs(ofGroup: group.id)
        }
        return (users, memberships)
    }
}

/// Every test that talks to a simulator over loopback, run one at a time so
/// timing figures (pacing, time-outs) are not skewed by a neighbour's load.
@Suite(.serialized) struct LoopbackSimulatorTests {}
