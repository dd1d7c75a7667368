import Foundation

/// libFuzzer entry point for `Retry-After` as a server may send it: the value
/// must parse to nil or to a wait of zero to a day, and the policy's delay
/// must stay within its cap. Never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func retryAfterFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let value = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let policy = RetryPolicy()
    guard let wait = RetryPolicy.parseRetryAfter(value, now: Date(timeIntervalSince1970: 1_800_000_000)) else { return 0 }
    precondition(wait >= .zero && wait <= .seconds(86_400), "Retry-After \(value.debugDescription) gave \(wait)")
    let delay = policy.delay(attempt: 1, retryAfter: wait, random: 0.5)
    precondition(delay >= .zero && delay <= policy.maxRetryAfter, "delay \(delay) beyond the cap")
    return 0
}
