import Foundation

/// libFuzzer entry point for what a WorkOS list response goes through: the
/// list envelope of users, groups, directories and events, and the summary
/// and classification of a body that does not decode. Must never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func listPageFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    let decoder = JSONDecoder()
    do {
        _ = try decoder.decode(ListEnvelope<DirectoryUser>.self, from: body)
        _ = try decoder.decode(ListEnvelope<DirectoryGroup>.self, from: body)
        _ = try decoder.decode(ListEnvelope<Directory>.self, from: body)
        _ = try decoder.decode(ListEnvelope<Event>.self, from: body)
    } catch {
        _ = ErrorBodySummary.describe(error)
        _ = ErrorBodySummary.looksTruncated(body)
    }
    _ = ErrorBodySummary.summarize(body)
    return 0
}
