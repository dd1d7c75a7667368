import Foundation
import LoopbackHTTP

extension SimulatorState {
    /// The directory a request concerns, if any (for statistics and rate limits).
    func directoryOf(_ request: HTTPRequest) -> String? {
        let parts = request.path.split(separator: "/").map(String.init)
        if parts.count == 2 {
            switch parts[0] {
            case "directories": return parts[1]
            case "directory_users": return users[parts[1]]?.directoryID
            case "directory_groups": return groups[parts[1]]?.directoryID
            default: break
            }
        }
        if let directory = request.queryValue("directory"), !directory.isEmpty { return directory }
        if let group = request.queryValue("group"), let found = groups[group] { return found.directoryID }
        if let user = request.queryValue("user"), let found = users[user] { return found.directoryID }
        return nil
    }

    /// `GET /directories/{id}` style routes collapsed for statistics.
    static func routeKey(_ request: HTTPRequest) -> String {
        let parts = request.path.split(separator: "/")
        guard parts.count >= 2, parts[0] != "portal" else { return "\(request.method) \(request.path)" }
        return "\(request.method) /\(parts[0])/{id}" + parts.dropFirst(2).map { "/" + $0 }.joined()
    }

    mutating func route(_ request: HTTPRequest, now: ContinuousClock.Instant) -> RouteResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, parts.count, parts.first) {
        case ("GET", 1, "directories"): return listDirectories(request)
        case ("GET", 2, "directories"): return getDirectory(parts[1])
        case ("GET", 1, "directory_users"): return listUsers(request, now: now)
        case ("GET", 2, "directory_users"): return getUser(parts[1])
        case ("GET", 1, "directory_groups"): return listGroups(request)
        case ("GET", 2, "directory_groups"): return getGroup(parts[1])
        case ("GET", 1, "events"): return listEvents(request)
        case ("POST", 2, "portal") where parts[1] == "generate_link": return generatePortalLink(request)
        default: return .error(404, "Not Found", code: "not_found")
        }
    }

    // MARK: - Directories

    func directoryJSON(_ directory: SimulatedDirectory) -> JSON {
        let userIDs = userIDsByDirectory[directory.id] ?? []
        let active = userIDs.reduce(0) { $0 + (users[$1]?.state == "active" ? 1 : 0) }
        return Render.directory(directory, activeUsers: active, inactiveUsers: userIDs.count - active,
                                groups: groupIDsByDirectory[directory.id]?.count ?? 0)
    }

    func listDirectories(_ request: HTTPRequest) -> RouteResponse {
        let parameters: ListParameters
        switch ListParameters.parse(request) {
        case .success(let value): parameters = value
        case .failure(let error): return error.response
        }
        let organization = request.queryValue("organization_id").flatMap { $0.isEmpty ? nil : $0 }
        let domain = request.queryValue("domain").flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let search = request.queryValue("search").flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let ids = directoryIDs.filter { id in
            guard let directory = directories[id] else { return false }
            if let organization, directory.organizationID != organization { return false }
            if let domain, directory.domain.lowercased() != domain { return false }
            if let search, !directory.name.lowercased().contains(search) { return false }
            return true
        }
        let page = parameters.page(of: ids)
        return .page(data: page.ids.compactMap { directories[$0].map(directoryJSON) },
                     before: page.before, after: page.after, requestedAfter: parameters.after)
    }

    func getDirectory(_ id: String) -> RouteResponse {
        guard let directory = directories[id] else { return .notFound("Directory", id) }
        return .json(status: 200, body: directoryJSON(directory), headers: [])
    }

    // MARK: - Users

    func userJSON(_ user: SimulatedUser) -> JSON {
        let embedded = configuration.embeddedGroups ? sortedGroups(ofUser: user.id).compactMap { groups[$0] } : []
        var members = Render.userMembers(user, groups: embedded)
        if !configuration.includeDeprecatedFields {
            members.removeAll { ["emails", "username", "job_title", "raw_attributes"].contains($0.0) }
        }
        return .object(members)
    }

    mutating func listUsers(_ request: HTTPRequest, now: ContinuousClock.Instant) -> RouteResponse {
        let directory = request.queryValue("directory").flatMap { $0.isEmpty ? nil : $0 }
        let group = request.queryValue("group").flatMap { $0.isEmpty ? nil : $0 }
        guard (directory == nil) != (group == nil) else {
            return .invalid(directory == nil ? "directory" : "group",
                            "Please provide either a 'directory' or a 'group' parameter, not both or neither.")
        }
        let parameters: ListParameters
        switch ListParameters.parse(request) {
        case .success(let value): parameters = value
        case .failure(let error): return error.response
        }
        var ids: [String]
        let directoryID: String
        if let directory {
            guard directories[directory] != nil else { return .notFound("Directory", directory) }
            directoryID = directory
            ids = (userIDsByDirectory[directory] ?? []).filter { userListingOverrides[$0] != .omitted }
        } else {
            guard let found = groups[group!] else { return .notFound("Directory Group", group!) }
            directoryID = found.directoryID
            ids = sortedMembers(ofGroup: found.id)
        }
        if let limit = configuration.rateLimit {
            let capacity = max(1, Int(limit.directoryUsersPerSecond.rounded(.down)))
            let window = Duration.seconds(Double(capacity) / max(limit.directoryUsersPerSecond, 0.001))
            if let wait = directoryWindows[directoryID, default: SlidingWindow()].admit(at: now, capacity: capacity, window: window) {
                return .rateLimited(retryAfter: wait)
            }
        }
        if let idpID = request.queryValue("idp_id"), !idpID.isEmpty {
            ids = ids.filter { users[$0]?.idpID == idpID }
        }
        if let email = request.queryValue("email"), !email.isEmpty {
            ids = ids.filter { users[$0]?.email?.lowercased() == email.lowercased() }
        }
        let page = parameters.page(of: ids)
        return .page(data: page.ids.compactMap { id in
                         if directory != nil, case .raw(let bytes)? = userListingOverrides[id] { return .raw(bytes) }
                         return users[id].map(userJSON)
                     },
                     before: page.before, after: page.after, requestedAfter: parameters.after)
    }

    func getUser(_ id: String) -> RouteResponse {
        guard let user = users[id] else { return .notFound("Directory User", id) }
        return .json(status: 200, body: userJSON(user), headers: [])
    }

    // MARK: - Groups

    func listGroups(_ request: HTTPRequest) -> RouteResponse {
        let directory = request.queryValue("directory").flatMap { $0.isEmpty ? nil : $0 }
        let user = request.queryValue("user").flatMap { $0.isEmpty ? nil : $0 }
        guard (directory == nil) != (user == nil) else {
            return .invalid(directory == nil ? "directory" : "user",
                            "Please provide either a 'directory' or a 'user' parameter, not both or neither.")
        }
        let parameters: ListParameters
        switch ListParameters.parse(request) {
        case .success(let value): parameters = value
        case .failure(let error): return error.response
        }
        let ids: [String]
        if let directory {
            guard directories[directory] != nil else { return .notFound("Directory", directory) }
            ids = groupIDsByDirectory[directory] ?? []
        } else {
            guard users[user!] != nil else { return .notFound("Directory User", user!) }
            ids = sortedGroups(ofUser: user!)
        }
        let page = parameters.page(of: ids)
        return .page(data: page.ids.compactMap { groups[$0].map(Render.group) },
                     before: page.before, after: page.after, requestedAfter: parameters.after)
    }

    func getGroup(_ id: String) -> RouteResponse {
        guard let group = groups[id] else { return .notFound("Directory Group", id) }
        return .json(status: 200, body: Render.group(group), headers: [])
    }

    // MARK: - Events

    func listEvents(_ request: HTTPRequest) -> RouteResponse {
        // The three encodings: events=a&events=b, events=a,b, events[]=a.
        let types = Set((request.queryValues("events") + request.queryValues("events[]"))
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty })
        guard !types.isEmpty else { return .invalid("events", "events must contain at least one event type.") }
        var parameters: ListParameters
        switch ListParameters.parse(request, allowOrder: false) {
        case .success(let value): parameters = value
        case .failure(let error): return error.response
        }
        parameters.order = .asc // oldest first; `order` is ignored
        var start: Int64?
        var end: Int64?
        if let text = request.queryValue("range_start"), !text.isEmpty {
            guard let value = Timestamp.parse(text) else { return .invalid("range_start", "range_start must be ISO 8601 UTC with Z.") }
            start = value
        }
        if let text = request.queryValue("range_end"), !text.isEmpty {
            guard let value = Timestamp.parse(text) else { return .invalid("range_end", "range_end must be ISO 8601 UTC with Z.") }
            end = value
        }
        let organization = request.queryValue("organization_id").flatMap { $0.isEmpty ? nil : $0 }
        // Retention: older events are gone, and a cursor naming one (or an id never served) is refused.
        let oldest = SimulatorState.millis(Date()) - Int64(configuration.eventRetention.components.seconds * 1000)
        if let after = parameters.after,
            !events.contains(where: { $0.id == after && SimulatorState.millis($0.createdAt) >= oldest })
        {
            return .error(400, "The 'after' cursor \(after) is unknown or older than the events retention window.",
                          code: "invalid_cursor", extra: [])
        }
        var byID: [String: SimulatedEvent] = [:]
        var ids: [String] = []
        for event in events where types.contains(event.event) {
            let millis = SimulatorState.millis(event.createdAt)
            if millis < oldest { continue }
            if let start, millis < start { continue }
            if let end, millis >= end { continue }
            if let organization, event.organizationID != organization { continue }
            byID[event.id] = event
            ids.append(event.id)
        }
        let page = parameters.page(of: ids)
        let data: [JSON] = page.ids.compactMap { id in
            byID[id].map { event in
                .object([
                    ("object", .string("event")),
                    ("id", .string(event.id)),
                    ("event", .string(event.event)),
                    ("data", event.data),
                    ("created_at", Render.time(event.createdAt)),
                ])
            }
        }
        // The events feed always names the last event it returned, so a poller can continue from it.
        return .page(data: data, before: nil, after: page.ids.last, requestedAfter: parameters.after)
    }

    // MARK: - Admin Portal

    mutating func generatePortalLink(_ request: HTTPRequest) -> RouteResponse {
        let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        guard let object else { return .invalid("body", "The request body must be a JSON object.") }
        guard let organization = object["organization"] as? String, !organization.isEmpty else {
            return .invalid("organization", "organization is required.")
        }
        let intents = ["sso", "dsync", "audit_logs", "log_streams", "domain_verification", "certificate_renewal", "bring_your_own_key"]
        guard let intent = object["intent"] as? String, intents.contains(intent) else {
            return .invalid("intent", "intent must be one of \(intents.joined(separator: ", ")).")
        }
        guard directories.values.contains(where: { $0.organizationID == organization }) else {
            return .notFound("Organization", organization)
        }
        let secret = newID("portal", at: tick()).dropFirst("portal_".count)
        return .json(status: 201, body: .object([
            ("link", .string("https://setup.workos.com/portal/launch?secret=\(secret)&intent=\(intent)")),
        ]), headers: [])
    }
}
