/// Accepted requests within the last `window`; at most `capacity` at once.
struct SlidingWindow {
    var times: [ContinuousClock.Instant] = []
    var head = 0

    /// nil when accepted (and recorded); otherwise the seconds to wait (at least 1).
    mutating func admit(at now: ContinuousClock.Instant, capacity: Int, window: Duration) -> Int? {
        while head < times.count, times[head] + window <= now { head += 1 }
        if head > 1024, head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
        if times.count - head < capacity {
            times.append(now)
            return nil
        }
        let wait = times[head] + window - now
        let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) * 1e-18
        return max(1, Int(seconds.rounded(.up)))
    }
}
