import Dispatch
import Foundation
import LoopbackHTTP
import Logging
import Prometheus
public import ServiceLifecycle
import SyncCore
import Synchronization

/// `/metrics` (Prometheus text), `/healthz` (the process answers: 200) and
/// `/readyz` (200 only when ``Readiness`` says so, else 503 with the reason)
/// on `http.listen`. The listener is bound when the service is made, so
/// `READY=1` can follow; it closes when graceful shutdown reaches it.
///
/// Safe to expose beyond loopback: at most ``maxConnections`` clients are
/// served at once (more get 503), a request must arrive whole within
/// ``requestTimeout`` (else 408), and bodies, which no endpoint takes, are
/// refused above ``maxBodySize`` bytes (413).
public final class HTTPService: Service, Sendable {
    private let server: LoopbackHTTPServer
    /// The bound port.
    public let port: Int
    private let logger: Logger

    /// Clients served at once: Prometheus and a probe or two need a handful.
    static let maxConnections = 64
    /// Time for a whole request to arrive (and for an answer to be taken).
    static let requestTimeout = Duration.seconds(10)
    /// Largest request body accepted.
    static let maxBodySize = 1024

    /// Binds `host:port` now (port 0 picks a free one).
    init(host: String, port: Int, registry: PrometheusCollectorRegistry, metrics: DaemonMetrics, readiness: Readiness,
         readinessTimeout: Duration = .seconds(5), logger: Logger) throws {
        self.logger = logger
        let server = LoopbackHTTPServer(
            host: host, port: port, idleTimeout: .seconds(30), maxConnections: Self.maxConnections,
            requestTimeout: Self.requestTimeout, maxBodySize: Self.maxBodySize
        ) { request in
            HTTPService.respond(to: request, registry: registry, metrics: metrics, readiness: readiness, timeout: readinessTimeout)
        }
        self.port = try server.start()
        self.server = server
        logger.info("HTTP listener bound", metadata: ["http.listen": "\(host.contains(":") ? "[\(host)]" : host):\(self.port)"])
    }

    public func run() async throws {
        // Nothing to do but wait: the server has its own threads.
        try? await gracefulShutdown()
        server.stop()
        logger.info("HTTP listener closed")
    }

    /// Stops the listener (also when the group never ran).
    func stop() { server.stop() }

    static func respond(
        to request: HTTPRequest, registry: PrometheusCollectorRegistry, metrics: DaemonMetrics, readiness: Readiness,
        timeout: Duration
    ) -> HTTPReply {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        guard request.method == "GET" || request.method == "HEAD" else {
            return text(405, "method not allowed\n")
        }
        switch path {
        case "/metrics":
            metrics.refreshListingAges()
            var body = registry.emitToBuffer()
            if let process = ProcessMetrics.read() { body += Array(process.exposition.utf8) }
            return .response(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: body)
        case "/healthz":
            return text(200, "ok\n")
        case "/readyz":
            let result = Mutex<Readiness.Verdict?>(nil)
            let done = DispatchSemaphore(value: 0)
            Task {
                let verdict = await readiness.check()
                result.withLock { $0 = verdict }
                done.signal()
            }
            let seconds = timeout.seconds
            guard done.wait(timeout: .now() + seconds) == .success, let verdict = result.withLock({ $0 }) else {
                return text(503, "not ready: database check timed out\n")
            }
            switch verdict {
            case .ready: return text(200, "ready\n")
            case .notReady(let reason): return text(503, "not ready: \(reason)\n")
            }
        default:
            return text(404, "not found (try /metrics, /healthz, /readyz)\n")
        }
    }

    private static func text(_ status: Int, _ body: String) -> HTTPReply {
        .response(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(body.utf8))
    }
}
