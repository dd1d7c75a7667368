public import Metrics
public import Prometheus
import WorkOS

/// A swift-metrics factory over a Prometheus registry that registers every
/// series with its help text, so `/metrics` shows a `# HELP` line for each
/// `# TYPE` (swift-prometheus's own `PrometheusMetricsFactory` registers none).
///
/// Help texts come from ``help`` (each metrics type's own table, merged);
/// histogram buckets from ``durationBuckets`` by name, else the library's defaults.
public struct DocumentedPrometheusFactory: MetricsFactory {
    /// The registry `/metrics` emits.
    public let registry: PrometheusCollectorRegistry
    /// Help text by metric name. A name missing here is registered with no help (the
    /// `/metrics` test catches it).
    public let help: [String: String]
    /// Buckets of duration histograms (swift-metrics timers) by name.
    public var durationBuckets: [String: [Duration]]
    private let plain: PrometheusMetricsFactory

    /// Every metric this daemon registers, with its help text.
    public static let daemonHelp: [String: String] = DaemonMetrics.help
        .merging(EventMetrics.help) { first, _ in first }
        .merging(WorkOSMetrics.help) { first, _ in first }

    public init(registry: PrometheusCollectorRegistry, help: [String: String] = Self.daemonHelp, durationBuckets: [String: [Duration]] = [:]) {
        self.registry = registry
        self.help = help
        self.durationBuckets = durationBuckets
        plain = PrometheusMetricsFactory(registry: registry)
    }

    private func text(_ name: String) -> String { help[name] ?? "" }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: text(label))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: text(label))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: text(label)) }
        return registry.makeValueHistogram(
            name: label, labels: dimensions, buckets: plain.valueHistogramBuckets[label] ?? plain.defaultValueHistogramBuckets,
            help: text(label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: text(label))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            name: label, labels: dimensions, buckets: durationBuckets[label] ?? plain.defaultDurationHistogramBuckets,
            help: text(label))
    }

    public func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { plain.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
