import Synchronization
import WorkOSModel

/// Paces the client's requests under WorkOS's two rate limits: the API key's
/// (6,000 requests per 60 s, every endpoint) and each directory's (4
/// `/directory_users` requests per second, with `directory=` or `group=`).
///
/// A `/directory_users` request passes its directory's gate (one request of a
/// directory in pacing at a time, in arrival order), waits until its directory
/// could send, then takes the key's token and the directory's token together:
/// the directory's token is there by then, so the request leaves at once.
/// That keeps both counts true at dispatch, where WorkOS counts them:
/// - the directory's requests are evenly spaced from their actual sending (a
///   directory token taken first and held while the key's budget is
///   saturated would let them leave bunched: 429s);
/// - a key token is never held while the directory's spacing runs out (with
///   the key's token taken first, four listings of one directory held key
///   tokens up to a second before sending, and a saturated key sent more in
///   a minute than its bucket allowed: 429s once a cycle passed a minute).
public final class RequestPacer: Sendable {
    /// One directory's `/directory_users` pacing.
    private struct Directory: Sendable {
        let bucket: TokenBucket
        let gate = AsyncLock()
    }

    private let key: TokenBucket?
    private let requestsPerSecond: Double
    private let directoryUsersPerSecond: Double
    private let directories = Mutex<[String: Directory]>([:])
    private let clock: any WorkOSClock

    /// `requestsPerSecond` per key and `directoryUsersPerSecond` per directory, as WorkOS allows them
    /// (paced at ``WorkOSClient/keyPacingHeadroom`` and ``WorkOSClient/pacingHeadroom``); `.infinity`: not paced.
    public init(requestsPerSecond: Double, directoryUsersPerSecond: Double, clock: any WorkOSClock) {
        self.requestsPerSecond = requestsPerSecond
        self.directoryUsersPerSecond = directoryUsersPerSecond
        self.clock = clock
        self.key = WorkOSClient.keyPacing(requestsPerSecond: requestsPerSecond, share: 1).map {
            TokenBucket(rate: $0.rate, burst: $0.burst, clock: clock)
        }
    }

    /// Waits until a request may be sent now: `directoryID` for a `/directory_users`
    /// request (the directory it lists), nil for any other. Returns how long the
    /// request held its key token before it was free to go (about zero; measured for tests).
    @discardableResult
    public func pace(directoryID: String?) async throws -> Duration {
        guard let directory = directoryID.flatMap(directory) else {
            try await key?.acquire()
            return .zero
        }
        await directory.gate.lock()
        defer { directory.gate.unlock() }
        try Task.checkCancellation()
        try await directory.bucket.waitForToken()
        try await key?.acquire()
        let keyTaken = clock.now()
        try await directory.bucket.acquire()
        return clock.now() - keyTaken
    }

    /// After a 429: holds back the directory's requests (`directoryID`), else every request of the key.
    public func pause(directoryID: String?, for duration: Duration) {
        (directoryID.flatMap(directory)?.bucket ?? key)?.pause(for: duration)
    }

    /// Paces the key at `share` (0 < share ≤ 1) of its budget: replicas sharing one API key each take their part.
    public func setKeyShare(_ share: Double) {
        guard let key, share.isFinite, share > 0,
            let pacing = WorkOSClient.keyPacing(requestsPerSecond: requestsPerSecond, share: min(share, 1))
        else { return }
        key.setRate(pacing.rate, burst: pacing.burst)
    }

    /// The key's pacing in force, requests per second (nil: not paced).
    public var keyRate: Double? { key?.rate }

    private func directory(_ id: String) -> Directory? {
        let rate = directoryUsersPerSecond
        guard rate.isFinite, rate > 0 else { return nil }
        return directories.withLock { directories in
            if let directory = directories[id] { return directory }
            let directory = Directory(bucket: TokenBucket(rate: rate * WorkOSClient.pacingHeadroom, clock: clock))
            directories[id] = directory
            return directory
        }
    }
}
