import Synchronization

/// Paces requests to a rate: a token bucket checked at the moment of dispatch.
///
/// ``acquire()`` takes a token if one is there, otherwise sleeps until one
/// will be and checks again. Tokens refill at `rate` per second up to
/// `burst`. With a burst of 1 (the default) requests are at least `1/rate`
/// apart, measured from the actual dispatch, so a late wake-up never
/// squeezes the next request closer — which a short server window (WorkOS's
/// one second per directory) would count against us. A larger burst lets a
/// late wake-up use the tokens that came while it slept instead of losing
/// them: in any span of `T` seconds at most `burst + rate × T` go out.
/// ``pause(for:)`` holds everyone back after a 429. Waiters are not queued
/// in order; with the few callers per bucket that the client has, that is fine.
public final class TokenBucket: Sendable {
    /// The bucket's arithmetic, separate from any clock so it can be tested as a value.
    public struct State: Sendable, Hashable {
        public private(set) var rate: Double
        public private(set) var burst: Double
        /// Tokens available at `updated`.
        public private(set) var tokens: Double
        public private(set) var updated: Duration
        /// No token is handed out before this instant (set by ``pause(until:)``).
        public private(set) var pausedUntil: Duration = .zero

        public init(rate: Double, burst: Double = 1, now: Duration = .zero) {
            precondition(rate > 0, "rate must be positive")
            self.rate = rate
            self.burst = max(1, burst)
            self.tokens = max(1, burst)
            self.updated = now
        }

        /// Takes a token at `now` and returns nil, or returns how long to wait before asking again.
        public mutating func take(now: Duration) -> Duration? {
            if let wait = waitForToken(now: now) { return wait }
            tokens -= 1
            return nil
        }

        /// nil when a token is there at `now` (left in the bucket), else how long until one will be.
        public mutating func waitForToken(now: Duration) -> Duration? {
            if now > updated {
                tokens = min(burst, tokens + Self.seconds(now - updated) * rate)
                updated = now
            }
            if now < pausedUntil {
                return pausedUntil - now
            }
            return tokens >= 1 ? nil : Self.duration((1 - tokens) / rate)
        }

        /// Refills at the old rate up to `now`, then at `newRate` up to `newBurst`
        /// (unchanged when nil): a replica's share of a budget changed.
        public mutating func setRate(_ newRate: Double, burst newBurst: Double? = nil, now: Duration) {
            precondition(newRate > 0, "rate must be positive")
            if now > updated {
                tokens = min(burst, tokens + Self.seconds(now - updated) * rate)
                updated = now
            }
            rate = newRate
            if let newBurst {
                burst = max(1, newBurst)
                tokens = min(tokens, burst)
            }
        }

        /// Hands out no token before `until` (a server said to wait).
        public mutating func pause(until: Duration) {
            pausedUntil = max(pausedUntil, until)
        }

        static func seconds(_ duration: Duration) -> Double {
            let parts = duration.components
            return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        }

        static func duration(_ seconds: Double) -> Duration {
            .nanoseconds(max(1, Int64((seconds * 1e9).rounded(.up))))
        }
    }

    private let state: Mutex<State>
    private let clock: any WorkOSClock

    /// A bucket refilling at `rate` tokens per second, holding at most `burst`.
    public init(rate: Double, burst: Double = 1, clock: any WorkOSClock) {
        self.clock = clock
        self.state = Mutex(State(rate: rate, burst: burst, now: clock.now()))
    }

    /// Waits for a token. Throws `CancellationError` if cancelled while waiting.
    public func acquire() async throws {
        while let wait = state.withLock({ $0.take(now: clock.now()) }) {
            try await clock.sleep(for: wait)
        }
    }

    /// Waits until a token is there, without taking it.
    public func waitForToken() async throws {
        while let wait = state.withLock({ $0.waitForToken(now: clock.now()) }) {
            try await clock.sleep(for: wait)
        }
    }

    /// Holds back every later acquisition for `duration` from now.
    public func pause(for duration: Duration) {
        let until = clock.now() + duration
        state.withLock { $0.pause(until: until) }
    }

    /// The rate in force, tokens per second.
    public var rate: Double { state.withLock { $0.rate } }

    /// Changes the rate (and the burst, when given) from now on.
    public func setRate(_ rate: Double, burst: Double? = nil) {
        let now = clock.now()
        state.withLock { $0.setRate(rate, burst: burst, now: now) }
    }
}
