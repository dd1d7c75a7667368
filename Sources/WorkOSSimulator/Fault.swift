/// A misbehaviour the simulator can inject into a response.
public enum Fault: Sendable, Hashable {
    /// That status with a JSON error body; 429 gets `Retry-After: 1` and the body `"Ratelimited"`.
    case status(Int)
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

/// Which requests a fault applies to; nil fields match everything.
public struct RequestMatcher: Sendable, Hashable {
    /// Matches when the request path starts with this (e.g. `/directory_users`).
    public var pathPrefix: String?
    /// Matches when the decoded query, written `name=value&name=value` in
    /// request order, contains this (e.g. `group=directory_group_…` or `after=`).
    public var queryContains: String?
    /// Matches only this method (e.g. `GET`); nil matches any.
    public var method: String?

    public init(pathPrefix: String? = nil, queryContains: String? = nil, method: String? = nil) {
        self.pathPrefix = pathPrefix
        self.queryContains = queryContains
        self.method = method
    }

    func matches(method: String, path: String, query: String) -> Bool {
        if let wanted = self.method, wanted.uppercased() != method.uppercased() { return false }
        if let prefix = pathPrefix, !path.hasPrefix(prefix) { return false }
        if let part = queryContains, !query.contains(part) { return false }
        return true
    }
}
