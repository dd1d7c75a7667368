import Foundation

/// Polls `condition` every `interval` until it holds or `timeout` passes; whether it held.
///
/// The default is generous on purpose: in CI's parallel phase on two cores a first sync of a
/// few dozen users has taken over 20 s; unloaded such conditions hold within a second or two.
public func eventually(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// The same on the calling thread, for synchronous tests (polls every 10 ms, 10 s by default).
public func blockingEventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}
