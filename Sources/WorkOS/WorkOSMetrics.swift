import Metrics
import Synchronization

/// The client's counters and latency histogram, created with fixed label names; values are
/// bounded (endpoint names and HTTP statuses or `transport`/`timeout`).
///
/// - `workos_dsync_api_requests_total{endpoint,status}`
/// - `workos_dsync_api_request_duration_seconds{endpoint,status}` (histogram: one observation
///   per HTTP request, from sending it to its whole response, or to the transport failure)
/// - `workos_dsync_api_retries_total{endpoint}`
/// - `workos_dsync_api_rate_limited_total{endpoint}`
public final class WorkOSMetrics: Sendable {
    /// Help text of each metric above, for `/metrics`.
    public static let help: [String: String] = [
        "workos_dsync_api_requests_total": "WorkOS API requests by endpoint and HTTP status (or transport/timeout).",
        durationName: "WorkOS API request latency in seconds by endpoint and HTTP status (or transport/timeout).",
        "workos_dsync_api_retries_total": "WorkOS API requests retried after a transient failure, by endpoint.",
        "workos_dsync_api_rate_limited_total": "WorkOS API responses with status 429 (rate limited), by endpoint.",
    ]
    /// The latency histogram's name (its buckets are set where the registry is built).
    public static let durationName = "workos_dsync_api_request_duration_seconds"
    /// Its buckets: 5 ms to 60 s (the default request time-out).
    public static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    private let requests = Mutex<[String: (count: Counter, duration: Metrics.Timer)]>([:])
    private let retries: [String: Counter]
    private let rateLimited: [String: Counter]
    private let factory: any MetricsFactory

    /// Counters of every endpoint are registered at zero up front.
    init(factory: any MetricsFactory) {
        self.factory = factory
        var retries: [String: Counter] = [:]
        var rateLimited: [String: Counter] = [:]
        for endpoint in WorkOSClient.Endpoint.allCases {
            retries[endpoint.rawValue] = Counter(
                label: "workos_dsync_api_retries_total", dimensions: [("endpoint", endpoint.rawValue)],
                factory: factory)
            rateLimited[endpoint.rawValue] = Counter(
                label: "workos_dsync_api_rate_limited_total", dimensions: [("endpoint", endpoint.rawValue)],
                factory: factory)
        }
        self.retries = retries
        self.rateLimited = rateLimited
    }

    /// Counts one HTTP request and observes how long it took.
    func request(_ endpoint: WorkOSClient.Endpoint, status: String, elapsed: Duration) {
        let key = "\(endpoint.rawValue) \(status)"
        let series = requests.withLock { all in
            if let series = all[key] { return series }
            let dimensions = [("endpoint", endpoint.rawValue), ("status", status)]
            let series = (
                count: Counter(label: "workos_dsync_api_requests_total", dimensions: dimensions, factory: factory),
                duration: Metrics.Timer(label: Self.durationName, dimensions: dimensions, factory: factory)
            )
            all[key] = series
            return series
        }
        series.count.increment()
        let (seconds, attoseconds) = elapsed.components
        series.duration.recordNanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }

    func retry(_ endpoint: WorkOSClient.Endpoint) {
        retries[endpoint.rawValue]?.increment()
    }

    func rateLimited(_ endpoint: WorkOSClient.Endpoint) {
        rateLimited[endpoint.rawValue]?.increment()
    }
}
