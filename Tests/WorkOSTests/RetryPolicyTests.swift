import Foundation
import Testing
import WorkOS

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(250), maxDelay: .seconds(30))

    @Test func backoffDoublesUpToTheCapWithFullJitter() {
        // random just below 1 gives the ceiling of each attempt (full jitter spans 0..<ceiling).
        let ceilings = (1...10).map { policy.delay(attempt: $0, retryAfter: nil, random: 0.999_999_999) }
        #expect(ceilings[0] <= .milliseconds(250) && ceilings[0] > .milliseconds(249))
        #expect(ceilings[1] <= .milliseconds(500) && ceilings[1] > .milliseconds(499))
        #expect(ceilings[4] <= .seconds(4) && ceilings[4] > .milliseconds(3999))
        #expect(ceilings[7] <= .seconds(30) && ceilings[7] > .milliseconds(29_999))  // 32 s capped at 30 s
        #expect(ceilings[9] <= .seconds(30))
        #expect(policy.delay(attempt: 3, retryAfter: nil, random: 0) == .zero)
        #expect(policy.delay(attempt: 3, retryAfter: nil, random: 0.5) == .milliseconds(500))
        #expect(policy.delay(attempt: 1000, retryAfter: nil, random: 0.5) == .seconds(15))
    }

    @Test func retryAfterIsHonouredAndCapped() {
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(7), random: 0.9) == .seconds(7))
        #expect(policy.delay(attempt: 1, retryAfter: .seconds(3600), random: 0.9) == .seconds(60))
    }

    @Test func retryAfterParsesSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryPolicy.parseRetryAfter("1", now: now) == .seconds(1))
        #expect(RetryPolicy.parseRetryAfter(" 120 ", now: now) == .seconds(120))
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:30 GMT", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("-3", now: now) == nil)
    }

    @Test func hostileRetryAfterValuesNeverTrap() {
        let now = Date(timeIntervalSince1970: 784_111_777)
        #expect(RetryPolicy.parseRetryAfter("1e10", now: now) == .seconds(86_400))
        #expect(RetryPolicy.parseRetryAfter("1e400", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("99999999999999999999999", now: now) == .seconds(86_400))
        #expect(RetryPolicy.parseRetryAfter("1.5", now: now) == .milliseconds(1_500))
        for ignored in ["-1", "-1e10", "nan", "NaN", "inf", "-inf", "infinity", ""] {
            #expect(RetryPolicy.parseRetryAfter(ignored, now: now) == nil, "\(ignored)")
        }
        #expect(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == .seconds(86_400))
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 99999999999999999999 08:49:37 GMT", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 9223372036854775807 08:49:37 GMT", now: now) == nil)
        #expect(policy.delay(attempt: 1, retryAfter: RetryPolicy.parseRetryAfter("1e10", now: now), random: 0.5) == .seconds(60))
    }

    @Test func onlyTransientStatusesAreRetried() {
        for status in [408, 429, 500, 502, 503, 504] { #expect(RetryPolicy.isRetryableStatus(status)) }
        for status in [400, 401, 403, 404, 409, 422, 501] { #expect(!RetryPolicy.isRetryableStatus(status)) }
    }
}
