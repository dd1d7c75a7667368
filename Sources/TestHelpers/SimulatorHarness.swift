public import Foundation
public import WorkOS
public import WorkOSSimulator

/// A started simulator on loopback, with request helpers over raw HTTP and a
/// `WorkOSClient` (the real libcurl transport) pointed at it; stopped on `stop()` or when released.
public final class SimulatorHarness: Sendable {
    public let simulator: WorkOSSimulator
    public let baseURL: URL
    public let port: Int

    /// Rate limits are off unless the configuration given turns them on.
    public init(_ configuration: SimulatorConfiguration = SimulatorConfiguration(rateLimit: nil)) throws {
        simulator = WorkOSSimulator(configuration)
        baseURL = try simulator.start()
        port = baseURL.port!
    }

    deinit { simulator.stop() }

    public func stop() { simulator.stop() }

    // MARK: raw HTTP

    public var authorization: [(String, String)] { [("Authorization", "Bearer \(simulator.apiKey)")] }

    public func outcome(_ target: String, headers: [(String, String)]? = nil) throws -> RawOutcome {
        try rawRequest(port: port, target: target, headers: headers ?? authorization)
    }

    public func get(_ target: String, headers: [(String, String)]? = nil) throws -> RawResponse {
        try outcome(target, headers: headers).response()
    }

    public func post(_ target: String, json: String) throws -> RawResponse {
        try rawRequest(port: port, method: "POST", target: target,
                       headers: authorization + [("Content-Type", "application/json")], body: Array(json.utf8)).response()
    }

    /// Follows `list_metadata.after` until null; returns every id in the order served.
    public func listAllIDs(_ path: String, query: String, limit: Int = 7, order: String = "asc") throws -> [String] {
        var ids: [String] = []
        var after: String?
        for _ in 0..<10_000 {
            var target = "\(path)?\(query)&limit=\(limit)&order=\(order)"
            if let after { target += "&after=\(after)" }
            let page = try get(target)
            guard page.status == 200 else { throw RawHTTPError(description: "page status \(page.status): \(page.text)") }
            ids += page.data.compactMap { $0["id"] as? String }
            guard let next = page.after else { return ids }
            after = next
        }
        throw RawHTTPError(description: "page ceiling reached")
    }

    // MARK: the WorkOS client

    /// A client with the real libcurl transport; pacing off unless asked for.
    public func client(
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
    public func groundTruth(_ directoryID: String) -> (users: Set<String>, memberships: [String: [String]]) {
        let users = Set(simulator.users(in: directoryID).map(\.id))
        var memberships: [String: [String]] = [:]
        for group in simulator.groups(in: directoryID) {
            memberships[group.id] = simulator.memberIDs(ofGroup: group.id)
        }
        return (users, memberships)
    }
}
