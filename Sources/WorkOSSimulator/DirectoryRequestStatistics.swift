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

    mutating func record(at instant: ContinuousClock.Instant, directoryUsersList: Bool) {
        requests += 1
        lastRequestAt = instant
        if directoryUsersList { directoryUsersRequestTimes.append(instant) }
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
