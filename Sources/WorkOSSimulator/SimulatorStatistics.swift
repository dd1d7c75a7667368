/// What the simulator has served since start (or the last `resetStatistics()`).
public struct SimulatorStatistics: Sendable {
    /// Every request received, whatever its outcome.
    public var totalRequests = 0
    /// Responses by HTTP status (resets have no status: see `connectionResets`).
    public var countByStatus: [Int: Int] = [:]
    /// 429s sent, by the rate limiter or by faults.
    public var rateLimited = 0
    /// Faults injected (scripted or random).
    public var faultsInjected = 0
    /// Connections reset by a `connectionReset` fault.
    public var connectionResets = 0
    /// Requests by route, ids collapsed: `GET /directory_users`, `GET /directory_users/{id}`, ….
    public var requestsByRoute: [String: Int] = [:]
    /// Requests attributed to a directory (by `directory=`, `group=`, `user=` or the path id).
    public var directories: [String: DirectoryRequestStatistics] = [:]

    public init() {}

    /// Requests attributed to `directoryID` (0 when none).
    public func requests(for directoryID: String) -> Int { directories[directoryID]?.requests ?? 0 }
}

/// Requests attributed to one directory.
public struct DirectoryRequestStatistics: Sendable {
    /// All requests attributed to the directory.
    public var requests = 0
    /// When the first and the last of them arrived.
    public var firstRequestAt: ContinuousClock.Instant
    public var lastRequestAt: ContinuousClock.Instant
    /// Arrival time of every `GET /directory_users` list call of the directory
    /// (with `directory=` or `group=` of it), refused or not, in order.
    public var directoryUsersRequestTimes: [ContinuousClock.Instant] = []

    public init(at instant: ContinuousClock.Instant) {
        firstRequestAt = instant
        lastRequestAt = instant
    }

    /// The most `/directory_users` calls that arrived within any window of `window` length.
    public func maxDirectoryUsersRequests(within window: Duration = .seconds(1)) -> Int {
        var best = 0
        var start = 0
        for (end, time) in directoryUsersRequestTimes.enumerated() {
            while directoryUsersRequestTimes[start] + window <= time { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }
}
