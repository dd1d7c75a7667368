/// WorkOS's documented rate limits, as sliding windows.
///
/// Defaults: 4 requests per second per directory on `GET /directory_users`
/// (calls with `directory=` or `group=` of it), 6,000 requests per 60 s per
/// API key overall. Requests refused with 429 do not use up the window.
public struct RateLimit: Sendable, Hashable {
    public var directoryUsersPerSecond: Double = 4
    public var requestsPerMinutePerKey: Int = 6000

    public init(directoryUsersPerSecond: Double = 4, requestsPerMinutePerKey: Int = 6000) {
        self.directoryUsersPerSecond = directoryUsersPerSecond
        self.requestsPerMinutePerKey = requestsPerMinutePerKey
    }
}
