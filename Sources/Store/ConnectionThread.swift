import Dispatch
import Foundation
import Logging
import Synchronization

/// The dedicated thread that owns one `LibPQConnection` and runs every
/// blocking libpq call, one job at a time, off Swift's cooperative pool.
final class ConnectionThread: Sendable {
    typealias Job = @Sendable (LibPQConnection) -> Void
    private enum Entry: Sendable {
        case job(Job)
        case stop
    }

    private final class Queue: Sendable {
        let entries = Mutex<[Entry]>([])
        let signal = DispatchSemaphore(value: 0)
    }
    private let queue = Queue()

    init(conninfo: String?, logger: Logger) {
        let thread = Thread { [queue] in
            let connection = LibPQConnection(conninfo: conninfo, logger: logger)
            while true {
                queue.signal.wait()
                let entry = queue.entries.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                switch entry {
                case .job(let job): job(connection)
                case .stop: connection.close(); return
                case nil: continue
                }
            }
        }
        thread.name = "workos-dsync.libpq"
        thread.start()
    }

    /// Runs `operation` on the connection's thread and returns its result.
    func submit<T: Sendable>(_ operation: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(.job { connection in continuation.resume(with: Result { try operation(connection) }) })
        }
    }

    /// Closes the connection and ends the thread after the queued jobs.
    func stop() {
        enqueue(.stop)
    }

    private func enqueue(_ entry: Entry) {
        queue.entries.withLock { $0.append(entry) }
        queue.signal.signal()
    }
}

/// Runs a blocking closure on a new thread and awaits its result (for
/// `Process` and other calls that must not block the cooperative pool).
package func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
