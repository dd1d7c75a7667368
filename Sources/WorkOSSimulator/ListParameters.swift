import LoopbackHTTP

/// Validated `limit`, `order`, `before`, `after` of a list request.
struct ListParameters {
    enum Order: String { case asc, desc, normal }
    var limit = 10
    var order = Order.desc
    var before: String?
    var after: String?

    static func parse(_ request: HTTPRequest, allowOrder: Bool = true) -> Result<ListParameters, RouteError> {
        var parameters = ListParameters()
        if let text = request.queryValue("limit") {
            guard let limit = Int(text), (1...100).contains(limit) else {
                return .failure(RouteError(.invalid("limit", "limit must be a number between 1 and 100.")))
            }
            parameters.limit = limit
        }
        if allowOrder, let text = request.queryValue("order"), !text.isEmpty {
            guard let order = Order(rawValue: text) else {
                return .failure(RouteError(.invalid("order", "order must be one of asc, desc, normal.")))
            }
            parameters.order = order
        }
        parameters.before = request.queryValue("before").flatMap { $0.isEmpty ? nil : $0 }
        parameters.after = request.queryValue("after").flatMap { $0.isEmpty ? nil : $0 }
        return .success(parameters)
    }

    /// One page of `ids` (ascending): the page in response order with its `before`/`after` cursors.
    ///
    /// `asc`/`desc` follow WorkOS: `after` continues in the listing's direction,
    /// `before` goes back. `normal` lists newest first with reversed cursors:
    /// `before` fetches older records, `after` newer ones (as the WorkOS OpenAPI spec says).
    func page(of ids: [String]) -> (ids: [String], before: String?, after: String?) {
        let count = ids.count
        var start = 0
        var end = count
        switch order {
        case .asc:
            if let after {
                start = SimulatorState.upperBound(ids, after)
                end = min(count, start + limit)
            } else if let before {
                end = SimulatorState.lowerBound(ids, before)
                start = max(0, end - limit)
            } else {
                end = min(count, limit)
            }
            let page = Array(ids[start..<end])
            return (page, start > 0 ? page.first : nil, end < count ? page.last : nil)
        case .desc, .normal:
            let olderCursor = order == .desc ? after : before
            let newerCursor = order == .desc ? before : after
            if let olderCursor {
                end = SimulatorState.lowerBound(ids, olderCursor)
                start = max(0, end - limit)
            } else if let newerCursor {
                start = SimulatorState.upperBound(ids, newerCursor)
                end = min(count, start + limit)
            } else {
                start = max(0, count - limit)
            }
            let page = Array(ids[start..<end].reversed())
            let older = start > 0 ? page.last : nil
            let newer = end < count ? page.first : nil
            return order == .desc ? (page, newer, older) : (page, older, newer)
        }
    }
}
