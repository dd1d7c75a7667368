import LoopbackHTTP

/// One request from arrival to reply: statistics, faults, auth, rate limits, route.
extension SimulatorState {
    /// The reply, and how long to wait before sending it (latency plus a `slow` fault).
    mutating func serve(_ request: HTTPRequest, now: ContinuousClock.Instant) -> (HTTPReply, Duration) {
        requestCounter += 1
        let requestID = "req_sim_\(configuration.seed)_\(requestCounter)"
        var delay = configuration.latency
        let directoryID = directoryOf(request)
        statistics.totalRequests += 1
        statistics.requestsByRoute[Self.routeKey(request), default: 0] += 1
        let isDirectoryUsersList = request.method == "GET" && request.path == "/directory_users"
            && (request.queryValue("directory") != nil || request.queryValue("group") != nil)
        if let directoryID {
            // Changed in place: a copy taken out of the dictionary would copy its
            // growing list of request times on every request.
            statistics.directories[directoryID, default: DirectoryRequestStatistics(at: now)]
                .record(at: now, directoryUsersList: isDirectoryUsersList)
        }

        let fault = pickFault(for: request)
        if fault != nil { statistics.faultsInjected += 1 }
        switch fault {
        case .connectionReset?:
            statistics.connectionResets += 1
            return (.reset, delay)
        case .html200?:
            let html = "<!DOCTYPE html><html><head><title>Gateway</title></head><body><h1>Please wait</h1>"
                + "<p>The upstream service is being checked by the corporate proxy.</p></body></html>"
            return (finish(200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8),
                           requestID: requestID), delay)
        case .status(let status)?:
            return (finish(status, json: errorBody(status), requestID: requestID), delay)
        case .retryAfter(let value)?:
            return (rateLimitReply(retryAfter: value, requestID: requestID), delay)
        case .slow(let extra)?:
            delay += extra
        default:
            break
        }

        guard request.header("Authorization") == "Bearer \(configuration.apiKey)" else {
            return (finish(401, json: .object([("message", .string("Unauthorized")), ("code", .string("unauthorized"))]),
                           requestID: requestID), delay)
        }
        if let limit = configuration.rateLimit,
           let wait = keyWindow.admit(at: now, capacity: max(1, limit.requestsPerMinutePerKey), window: .seconds(60)) {
            return (rateLimitReply(retryAfter: String(wait), requestID: requestID), delay)
        }

        var reply: HTTPReply
        switch route(request, now: now) {
        case .rateLimited(let wait):
            return (rateLimitReply(retryAfter: String(wait), requestID: requestID), delay)
        case .json(let status, let body, let headers):
            reply = finish(status, json: body, extraHeaders: headers, requestID: requestID)
        case .page(let data, let before, var after, let requestedAfter):
            var items = data
            if fault == .emptyPageWithCursor {
                items = []
                after = after ?? requestedAfter ?? Self.firstID(of: data) ?? "directory_user_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
            } else if fault == .repeatedCursor {
                after = requestedAfter ?? Self.firstID(of: data) ?? after
            }
            let body = JSON.object([
                ("object", .string("list")),
                ("data", .array(items)),
                ("list_metadata", .object([("before", .optional(before)), ("after", .optional(after))])),
            ])
            reply = finish(200, json: body, requestID: requestID)
        }
        if fault == .truncatedBody, case .response(let status, let headers, let body) = reply {
            reply = .truncated(status: status, headers: headers, body: body, sendBytes: body.count / 2)
        }
        return (reply, delay)
    }

    static func firstID(of data: [JSON]) -> String? {
        guard case .object(let members)? = data.first else { return nil }
        for (key, value) in members where key == "id" {
            if case .string(let id) = value { return id }
        }
        return nil
    }

    /// The scripted fault due for this request (every matching script counts it), else a random one.
    mutating func pickFault(for request: HTTPRequest) -> Fault? {
        let query = request.query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        var chosen: Fault?
        for index in scriptedFaults.indices
        where scriptedFaults[index].matcher.matches(method: request.method, path: request.path, query: query) {
            scriptedFaults[index].seen += 1
            let fault = scriptedFaults[index]
            if chosen == nil, fault.seen > fault.skip, fault.seen <= fault.skip + fault.times {
                chosen = fault.fault
            }
        }
        if chosen != nil { return chosen }
        for fault in randomFaults where fault.matcher.matches(method: request.method, path: request.path, query: query) {
            if faultGenerator.chance(fault.probability) { return fault.fault }
        }
        return nil
    }

    func errorBody(_ status: Int) -> JSON {
        .object([
            ("message", .string(HTTPReply.reasonPhrase(status))),
            ("code", .string(status >= 500 ? "server_error" : "error")),
        ])
    }

    mutating func rateLimitReply(retryAfter: String, requestID: String) -> HTTPReply {
        finish(429, headers: [("Content-Type", "application/json"), ("Retry-After", retryAfter)],
               body: Array("\"Ratelimited\"".utf8), requestID: requestID)
    }

    mutating func finish(_ status: Int, json: JSON, extraHeaders: [(String, String)] = [], requestID: String) -> HTTPReply {
        var headers = [("Content-Type", "application/json; charset=utf-8")] + extraHeaders
        if status == 429 { headers.append(("Retry-After", "1")) }
        let body = status == 429 ? Array("\"Ratelimited\"".utf8) : json.serialized(timestamps: configuration.timestampStyle)
        return finish(status, headers: headers, body: body, requestID: requestID)
    }

    mutating func finish(_ status: Int, headers: [(String, String)], body: [UInt8], requestID: String) -> HTTPReply {
        statistics.countByStatus[status, default: 0] += 1
        if status == 429 { statistics.rateLimited += 1 }
        return .response(status: status, headers: headers + [("X-Request-ID", requestID)], body: body)
    }
}
