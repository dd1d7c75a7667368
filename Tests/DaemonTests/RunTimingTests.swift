import Daemon
import Testing

/// The schedule is a pure function of the interval, the failures in a row and a random draw.
@Suite struct RunTimingTests {
    @Test func successWaitsOneIntervalWithinTenPercent() {
        let interval = Duration.seconds(600)
        #expect(RunTiming.delay(failures: 0, interval: interval, random: 0) == .seconds(540))
        #expect(RunTiming.delay(failures: 0, interval: interval, random: 0.5) == .seconds(600))
        let top = RunTiming.delay(failures: 0, interval: interval, random: 0.999_999)
        #expect(top > .seconds(659) && top < .seconds(660))
        for step in 0...100 {
            let delay = RunTiming.jittered(interval, random: Double(step) / 100)
            #expect(delay >= .seconds(540) && delay <= .seconds(660))
        }
    }

    @Test func failuresDoubleFromTheBaseAndAreCappedAtTheInterval() {
        let interval = Duration.seconds(600)
        let middle = 0.5  // no jitter
        let delays = (1...10).map { RunTiming.delay(failures: $0, interval: interval, base: .seconds(5), random: middle) }
        #expect(delays.prefix(7) == [.seconds(5), .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(320)])
        #expect(delays.suffix(3).allSatisfy { $0 == interval })
        // Jitter never pushes a retry past the interval.
        #expect(RunTiming.delay(failures: 12, interval: interval, random: 0.999) == interval)
        #expect(RunTiming.delay(failures: 12, interval: interval, random: 0) == .seconds(540))
        // Jitter applies to retries too.
        #expect(RunTiming.delay(failures: 1, interval: interval, base: .seconds(5), random: 0) == .milliseconds(4_500))
    }

    @Test func baseLongerThanTheIntervalIsClamped() {
        #expect(RunTiming.delay(failures: 1, interval: .seconds(2), base: .seconds(5), random: 0.5) == .seconds(2))
        #expect(RunTiming.delay(failures: 40, interval: .seconds(2), base: .milliseconds(100), random: 0.5) == .seconds(2))
    }
}
