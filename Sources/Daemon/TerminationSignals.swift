import Glibc
import Synchronization
import UnixSignals

/// SIGINT and SIGTERM for the commands that must clean up before leaving —
/// the demo, `simulate` and the benchmark (they stop a throwaway PostgreSQL or
/// a simulator first). The signals come from service lifecycle's
/// `UnixSignalsSequence`, as the daemon's (`run`) do through its service group.
public enum TerminationSignals {
    /// Runs `body` with SIGINT and SIGTERM trapped. On the first of them,
    /// `cleanUp` runs (given the signal's number) and the process exits with
    /// 128 + that number (130, 143), whatever `body` is doing: a `body` that
    /// fails or returns meanwhile — the cleanup pulled its server away — does
    /// not end the process first.
    public static func exitingAfterCleanUp<Value>(
        onSignal cleanUp: @escaping @Sendable (Int32) async -> Void, _ body: () async throws -> Value
    ) async throws -> Value {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let received = Received()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends with the group's cancellation when no signal came.
                for await signal in signals {
                    received.mark()
                    await cleanUp(signal.rawValue)
                    exit(128 + signal.rawValue)
                }
            }
            let outcome: Result<Value, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            // Interrupted: the cleanup is under way and exits the process; wait for it.
            if received.isMarked { try await group.waitForAll() }
            group.cancelAll()
            return try outcome.get()
        }
    }

    /// Traps SIGINT and SIGTERM, calls `trapped` (say, to announce readiness:
    /// a signal from then on is not lost), and suspends until one arrives;
    /// returns its number.
    public static func wait(onceTrapped trapped: () -> Void = {}) async -> Int32 {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        trapped()
        for await signal in signals { return signal.rawValue }
        // Only a cancelled task gets here: report it as an interrupt.
        return SIGINT
    }

    /// Set once a signal arrived.
    private final class Received: Sendable {
        private let flag = Atomic<Bool>(false)
        func mark() { flag.store(true, ordering: .sequentiallyConsistent) }
        var isMarked: Bool { flag.load(ordering: .sequentiallyConsistent) }
    }
}
