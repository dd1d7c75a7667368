public import Dispatch
import Glibc
import Synchronization

/// SIGINT and SIGTERM delivered to a handler on a queue of its own instead of
/// ending the process, so that a command can clean up first (stop a throwaway
/// PostgreSQL, a simulator) — for the demo, `simulate` and the benchmark. The
/// daemon itself (`run`) leaves its signals to service lifecycle.
public enum TerminationSignals {
    private static let received = Atomic<Bool>(false)

    /// Handles both signals until the returned sources are cancelled; after that
    /// they stay ignored (the command is finishing by then).
    public static func handle(label: String, _ handler: @escaping @Sendable (Int32) -> Void) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: label)
        return [SIGINT, SIGTERM].map { number in
            _ = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                received.store(true, ordering: .sequentiallyConsistent)
                handler(number)
            }
            source.resume()
            return source
        }
    }

    /// Call where the command's work failed: after a signal, the failure is the
    /// cleanup pulling things away (a stopped server), and the handler, which
    /// exits when done, must end the process — so this waits for it. Returns at
    /// once when no signal arrived.
    public static func waitForHandlerAfterSignal() async {
        while received.load(ordering: .sequentiallyConsistent) { try? await Task.sleep(for: .seconds(1)) }
    }
}
