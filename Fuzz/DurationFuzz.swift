import Foundation

/// libFuzzer entry point for durations as the config file and flags write
/// them: nil or a duration from zero to `DurationText.longest`, which formats
/// without trapping. Never a trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func durationFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let duration = DurationText.parse(text) else { return 0 }
    precondition(duration >= .zero && duration <= DurationText.longest, "\(text.debugDescription) gave \(duration)")
    _ = DurationText.format(duration)
    _ = duration.seconds
    return 0
}
