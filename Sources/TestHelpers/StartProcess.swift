public import Foundation
import Synchronization

private let processStarts = Mutex<Void>(())

/// Starts `process`, one start at a time across the test process.
///
/// Tests run in parallel and many of them spawn processes (the binary, the
/// example consumer, setpriv, openssl). A CI run crashed once inside
/// Foundation's `Process.run()` (a `memcpy` from an unmapped page while
/// another test was spawning too); starting processes one at a time keeps
/// Foundation's spawn path single-threaded. Only the start is serialised:
/// the processes then run side by side.
public func startProcess(_ process: Process) throws {
    try processStarts.withLock { _ in try process.run() }
}
