public import Foundation
import Synchronization

/// Time as the WorkOS client sees it: a monotonic reading, the wall clock
/// (for `Retry-After` dates) and sleeping. Injected so tests do not sleep.
public protocol WorkOSClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    func now() -> Duration
    /// The wall-clock date.
    func date() -> Date
    /// Sleeps, or throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock: `ContinuousClock` and `Date()`.
public struct SystemClock: WorkOSClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Duration { origin.duration(to: .now) }
    public func date() -> Date { Date() }
    public func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return }
        try await Task.sleep(for: duration)
    }
}

/// A clock whose sleeps return at once and advance virtual time instead.
///
/// For tests: retries and pacing run at full speed while every computed
/// wait is still accounted for in ``totalSlept``.
public final class VirtualClock: WorkOSClock {
    private struct State {
        var now: Duration = .zero
        var slept: Duration = .zero
        var sleeps: [Duration] = []
    }

    private let state = Mutex(State())
    private let origin: Date

    public init(origin: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.origin = origin
    }

    public func now() -> Duration { state.withLock { $0.now } }

    public func date() -> Date {
        let now = now().components
        return origin.addingTimeInterval(Double(now.seconds) + Double(now.attoseconds) / 1e18)
    }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            let step = max(duration, .zero)
            $0.now += step
            $0.slept += step
            $0.sleeps.append(step)
        }
        await Task.yield()
    }

    /// Moves time forward without sleeping.
    public func advance(by duration: Duration) {
        state.withLock { $0.now += duration }
    }

    /// The sum of all sleeps so far.
    public var totalSlept: Duration { state.withLock { $0.slept } }

    /// Every sleep so far, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }
}
