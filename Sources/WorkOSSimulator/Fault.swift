/// A misbehaviour the simulator can inject into a response.
public enum Fault: Sendable, Hashable {
    /// That status with a JSON error body; 429 gets `Retry-After: 1` and the body `"Ratelimited"`.
    case status(Int)
    /// 429 with exactly this `Retry-After` value, hostile ones included (`1e10`, `nan`, `-1`).
    case retryAfter(String)
    /// 200 with a `text/html` proxy page instead of JSON.
    case html200
    /// The full `Content-Length` is declared, then the connection closes mid-body.
    case truncatedBody
    /// The connection is reset (RST) without any response.
    case connectionReset
    /// The normal response, sent after this extra delay.
    case slow(Duration)
    /// On list endpoints: 200 with `data: []` and a non-null `list_metadata.after`.
    case emptyPageWithCursor
    /// On list endpoints: the normal page, but `list_metadata.after` repeats the
    /// requested `after` (or, on a first page, the page's own first id).
    case repeatedCursor
}
