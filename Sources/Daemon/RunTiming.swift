/// When a directory runs next: pure functions of the interval, the number of
/// failures in a row and a uniform random draw in `0..<1` (injected, so tests
/// need neither a clock nor luck).
///
/// - After a success (or any run that did not fail) the next run is one
///   `interval` later, jittered by ±10 % so replicas and directories spread out.
/// - After `n` failures in a row it is `base × 2^(n-1)`, jittered the same
///   way, and never more than `interval`: a failing directory is retried
///   sooner than a healthy one is reconciled, but never hammered.
public enum RunTiming {
    /// The jitter fraction: ±10 %.
    public static let jitter = 0.10

    /// `interval` scaled by a factor in `[0.9, 1.1)`.
    public static func jittered(_ interval: Duration, random: Double) -> Duration {
        let factor = 1 + jitter * (2 * min(max(random, 0), 1) - 1)
        return interval * factor
    }

    /// The delay before the next run after `failures` failed runs in a row (0 for a success).
    ///
    /// - Parameters:
    ///   - base: the first retry delay; default 5 s (clamped to `interval`).
    public static func delay(failures: Int, interval: Duration, base: Duration = .seconds(5), random: Double) -> Duration {
        guard failures > 0 else { return jittered(interval, random: random) }
        let first = min(base, interval)
        let exponent = min(failures - 1, 30)
        let raw = first * Double(1 << exponent)
        let capped = min(raw, interval)
        return min(jittered(capped, random: random), interval)
    }
}
