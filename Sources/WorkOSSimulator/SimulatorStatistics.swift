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
