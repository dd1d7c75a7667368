public import Foundation

/// When and how long to wait before retrying a WorkOS request.
///
/// Retried: statuses 408, 429, 500, 502, 503, 504 and transport failures
/// (connect errors, resets, time-outs, truncated bodies). Never retried:
/// 400, 401, 403, 404, 422 and every other status.
///
/// Defaults: 8 attempts in all, exponential backoff from 250 ms doubling up to
/// 30 s with full jitter, `Retry-After` honoured up to 60 s.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included (≥ 1). Default 8.
    public var maxAttempts: Int
    /// The backoff ceiling before jitter of the first retry. Default 250 ms.
    public var baseDelay: Duration
    /// The cap of the exponential backoff. Default 30 s.
    public var maxDelay: Duration
    /// The cap applied to a server's `Retry-After`. Default 60 s.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 8, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(60)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// Statuses worth another attempt.
    public static func isRetryableStatus(_ status: Int) -> Bool {
        [408, 429, 500, 502, 503, 504].contains(status)
    }

    /// The wait before retry number `attempt` (1 = the wait after the first failure).
    ///
    /// - With `retryAfter` (the server's `Retry-After`, already parsed): that
    ///   value, clamped to `0...maxRetryAfter`; no jitter, the server asked.
    /// - Otherwise full jitter over a capped exponential:
    ///   `random × min(maxDelay, baseDelay × 2^(attempt−1))`.
    ///
    /// `random` is a uniform draw in `0..<1` (injected so tests are exact);
    /// values outside are clamped. Pure: no clock, no state.
    public func delay(attempt: Int, retryAfter: Duration?, random: Double) -> Duration {
        if let retryAfter {
            return min(max(retryAfter, .zero), maxRetryAfter)
        }
        let exponent = min(max(attempt - 1, 0), 30)
        let ceilingSeconds = min(seconds(baseDelay) * pow(2, Double(exponent)), seconds(maxDelay))
        let jitter = min(max(random, 0), 1)
        return .nanoseconds(Int64((ceilingSeconds * jitter * 1e9).rounded(.down)))
    }

    /// Parses a `Retry-After` value: delta seconds (`"3"`, also `"1.5"`) or an
    /// HTTP-date (`"Sun, 06 Nov 1994 08:49:37 GMT"`) relative to `now`. A date
    /// in the past gives zero; anything beyond a day is read as a day (``delay``
    /// then caps it at `maxRetryAfter`); anything unreadable, negative, NaN or
    /// infinite gives nil (then backoff applies). Never traps, whatever the server sends.
    public static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        let seconds: Double
        if let number = Double(text) {
            guard number.isFinite, number >= 0 else { return nil }
            seconds = number
        } else if let date = parseHTTPDate(text) {
            let interval = date.timeIntervalSince(now)
            seconds = interval > 0 ? interval : 0
        } else {
            return nil
        }
        return .nanoseconds(Int64((min(seconds, longestRetryAfter) * 1e9).rounded(.down)))
    }

    /// The longest `Retry-After` read, in seconds: a day.
    static let longestRetryAfter = 86_400.0

    /// Parses the IMF-fixdate form of RFC 9110 (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT" || parts[5] == "UTC",
            let day = Int(parts[1]), let year = Int(parts[3]),
            let month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                .firstIndex(of: parts[2].lowercased())
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
            (1...9999).contains(year), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(
            year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
        return calendar.date(from: components)
    }

    private func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
