import Metrics
import Synchronization

/// The client's counters, created with fixed label names; values are bounded
/// (endpoint names and HTTP statuses or `transport`/`timeout`).
///
/// - `workos_dsync_api_requests_total{endpoint,status}`
/// - `workos_dsync_api_retries_total{endpoint}`
/// - `workos_dsync_api_rate_limited_total{endpoint}`
final class WorkOSMetrics: Sendable {
    private let requests = Mutex<[String: Counter]>([:])
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

    func request(_ endpoint: WorkOSClient.Endpoint, status: String) {
        let key = "\(endpoint.rawValue) \(status)"
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "workos_dsync_api_requests_total",
                dimensions: [("endpoint", endpoint.rawValue), ("status", status)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func retry(_ endpoint: WorkOSClient.Endpoint) {
        retries[endpoint.rawValue]?.increment()
    }

    func rateLimited(_ endpoint: WorkOSClient.Endpoint) {
        rateLimited[endpoint.rawValue]?.increment()
    }
}
