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
