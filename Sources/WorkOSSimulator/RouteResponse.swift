/// What an endpoint answers, before faults and serialization.
enum RouteResponse {
    case json(status: Int, body: JSON, headers: [(String, String)])
    /// A list page; kept apart so list faults can rewrite the cursor.
    case page(data: [JSON], before: String?, after: String?, requestedAfter: String?)
    case rateLimited(retryAfter: Int)

    static func error(_ status: Int, _ message: String, code: String, extra: [(String, JSON)] = []) -> RouteResponse {
        .json(status: status, body: .object([("message", .string(message)), ("code", .string(code))] + extra), headers: [])
    }

    static func notFound(_ kind: String, _ id: String) -> RouteResponse {
        .error(404, "\(kind) not found: '\(id)'.", code: "entity_not_found", extra: [("entity_id", .string(id))])
    }

    static func invalid(_ field: String, _ message: String) -> RouteResponse {
        .error(422, "Validation failed", code: "invalid_request_parameters", extra: [
            ("errors", .array([.object([("code", .string("invalid_\(field)")), ("field", .string(field)),
                                        ("message", .string(message))])])),
        ])
    }
}

/// A route's early answer, carried through `Result`.
struct RouteError: Error {
    var response: RouteResponse
    init(_ response: RouteResponse) { self.response = response }
}
