import Metrics
import Synchronization

/// A metrics factory that keeps counter values by label and dimensions, for
/// assertions (injected into one client, so no global bootstrap is needed).
final class RecordingMetrics: MetricsFactory {
    private let counters = Mutex<[String: RecordingCounter]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The value of a counter, or nil when it was never created.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64? {
        counters.withLock { $0[Self.key(label, dimensions)] }?.value
    }

    /// Every counter created, as `label{name=value,…}`.
    var counterKeys: Set<String> { counters.withLock { Set($0.keys) } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { counters in
            let key = Self.key(label, dimensions)
            if let existing = counters[key] { return existing }
            let counter = RecordingCounter()
            counters[key] = counter
            return counter
        }
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

final class RecordingCounter: CounterHandler {
    private let total = Atomic<Int64>(0)
    func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }
    var value: Int64 { total.load(ordering: .relaxed) }
}
