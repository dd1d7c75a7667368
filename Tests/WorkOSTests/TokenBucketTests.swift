import Testing
import WorkOS

@Suite struct TokenBucketTests {
    @Test func tokensComeOneIntervalAfterTheLastDispatch() {
        var state = TokenBucket.State(rate: 4, burst: 1)
        #expect(state.take(now: .zero) == nil)
        #expect(state.take(now: .zero) == .milliseconds(250))
        #expect(state.take(now: .milliseconds(100)) == .milliseconds(150))
        #expect(state.take(now: .milliseconds(250)) == nil)
        // A late caller (woke at 600 ms) resets the spacing from its own dispatch.
        #expect(state.take(now: .milliseconds(600)) == nil)
        #expect(state.take(now: .milliseconds(700)) == .milliseconds(150))
        // After a quiet second the bucket holds one token again, not four.
        #expect(state.take(now: .seconds(5)) == nil)
        #expect(state.take(now: .seconds(5)) == .milliseconds(250))
    }

    @Test func waitingForATokenLeavesItInTheBucket() {
        var state = TokenBucket.State(rate: 4, burst: 1)
        #expect(state.waitForToken(now: .zero) == nil)
        #expect(state.waitForToken(now: .zero) == nil)
        #expect(state.take(now: .zero) == nil)
        #expect(state.waitForToken(now: .milliseconds(100)) == .milliseconds(150))
        #expect(state.take(now: .milliseconds(100)) == .milliseconds(150))
    }

    @Test func burstAllowsThatManyAtOnce() {
        var state = TokenBucket.State(rate: 10, burst: 3)
        let grants = (0..<4).map { _ in state.take(now: .zero) }
        #expect(grants == [nil, nil, nil, .milliseconds(100)])
    }

    @Test func pauseHoldsEveryoneBack() {
        var state = TokenBucket.State(rate: 4, burst: 1)
        state.pause(until: .seconds(1))
        #expect(state.take(now: .milliseconds(100)) == .milliseconds(900))
        #expect(state.take(now: .seconds(1)) == nil)
        #expect(state.take(now: .seconds(1)) == .milliseconds(250))
    }

    @Test func acquireSleepsOnTheInjectedClock() async throws {
        let clock = VirtualClock()
        let bucket = TokenBucket(rate: 4, clock: clock)
        for _ in 0..<9 { try await bucket.acquire() }
        // 9 tokens at 4/s starting with one in hand: 8 × 250 ms of sleep, i.e. 2 s of virtual time.
        #expect(clock.totalSlept == .seconds(2))
        #expect(clock.now() == .seconds(2))
    }

    @Test func concurrentCallersAreSpacedByTheRate() async throws {
        let clock = VirtualClock()
        let bucket = TokenBucket(rate: 10, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { try await bucket.acquire() } }
            try await group.waitForAll()
        }
        // 20 dispatches at 10/s can't finish before 1.9 s of (virtual) time.
        #expect(clock.now() >= .milliseconds(1900))
    }

    @Test func aNewRateAppliesFromNowOn() {
        var state = TokenBucket.State(rate: 4, burst: 1)
        #expect(state.take(now: .zero) == nil)
        // A replica's share halves at 100 ms: 0.4 token refilled at the old rate, the other 0.6 at 2 per second.
        state.setRate(2, now: .milliseconds(100))
        #expect(state.rate == 2)
        #expect(state.take(now: .milliseconds(100)) == .milliseconds(300))
        #expect(state.take(now: .milliseconds(400)) == nil)
    }

    @Test func aNewBurstCapsTheTokensAtHand() {
        var state = TokenBucket.State(rate: 100, burst: 30)
        // A replica joins: a third of the rate and of the burst from 1 s on; the 30 tokens at hand shrink to 10.
        state.setRate(33, burst: 10, now: .seconds(1))
        #expect(state.burst == 10)
        let grants = (0..<11).map { _ in state.take(now: .seconds(1)) }
        #expect(grants.prefix(10).allSatisfy { $0 == nil })
        #expect(grants.last! != nil)
    }

    /// The key's window is 60 s (6,000 requests): a saturated key paced as the
    /// client paces it stays under 6,000 in every 60 s even though each
    /// wake-up comes 0–3 ms late, and those late wake-ups cost almost nothing.
    @Test func aSaturatedKeyStaysUnderWorkOSsMinuteWindowAndLosesNothingToLateWakeUps() throws {
        let pacing = try #require(WorkOSClient.keyPacing(requestsPerSecond: 100, share: 1))
        func dispatches(burst: Double) -> [Duration] {
            var state = TokenBucket.State(rate: pacing.rate, burst: burst)
            var now = Duration.zero
            var sent: [Duration] = []
            var lateness = 0
            while now < .seconds(180) {
                if let wait = state.take(now: now) {
                    lateness = (lateness + 7) % 31  // 0–3 ms, in a fixed pattern
                    now += wait + .microseconds(lateness * 100)
                } else {
                    sent.append(now)
                }
            }
            return sent
        }
        let sent = dispatches(burst: pacing.burst)
        var mostInAMinute = 0
        var first = 0
        for (index, time) in sent.enumerated() {
            while sent[first] + .seconds(60) <= time { first += 1 }
            mostInAMinute = max(mostInAMinute, index - first + 1)
        }
        #expect(mostInAMinute <= 5_970, "\(mostInAMinute) requests within 60 s")
        #expect(Double(sent.count) / 180 >= 0.985 * 100, "\(sent.count) requests in 180 s")
        // The old shape (a burst of 1) lost each late wake-up's time for good.
        #expect(Double(dispatches(burst: 1).count) / 180 < 0.9 * 100)
    }

    @Test func aListingsEstimateComesFromItsLastCompleteListing() {
        let halfway = ListingProgress(directoryID: "d", pages: 50, users: 5_000, elapsed: .seconds(20), expectedPages: 100)
        #expect(halfway.estimatedRemaining == .seconds(20))
        let unknown = ListingProgress(directoryID: "d", pages: 50, users: 5_000, elapsed: .seconds(20), expectedPages: nil)
        #expect(unknown.estimatedRemaining == nil)
        let beyond = ListingProgress(directoryID: "d", pages: 120, users: 5_000, elapsed: .seconds(20), expectedPages: 100)
        #expect(beyond.estimatedRemaining == .zero)
    }
}
