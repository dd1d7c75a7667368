public import Foundation
import LoopbackHTTP
import Synchronization

/// A faithful fake of the WorkOS Directory Sync endpoints, on a loopback HTTP server.
///
/// Serves `GET /directories[/{id}]`, `GET /directory_users[/{id}]`,
/// `GET /directory_groups[/{id}]`, `GET /events` and `POST /portal/generate_link`
/// with WorkOS's JSON shapes, cursor pagination, validation errors, bearer-key
/// authentication and rate limits; data is generated deterministically from
/// the seed. Tests mutate the directory (each change recorded in `/events`),
/// inject faults (scripted or random) and read statistics and ground truth.
/// All state sits behind one `Mutex`; requests are served on plain threads.
public final class WorkOSSimulator: Sendable {
    private let state: Mutex<SimulatorState>
    /// The running server and its host as a URL writes it (IPv6 in brackets).
    private let server: Mutex<(LoopbackHTTPServer, String)?> = Mutex(nil)

    public init(_ configuration: SimulatorConfiguration) {
        var initial = SimulatorState(configuration: configuration)
        initial.generateSeedData()
        state = Mutex(initial)
    }

    // MARK: - Server

    /// Starts serving on `host` (an IPv4 or IPv6 literal); returns the base URL, e.g.
    /// `http://127.0.0.1:54321` or `http://[::1]:54321`. When already started, returns the running server's URL.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0) throws -> URL {
        if let running = baseURL { return running }
        let server = LoopbackHTTPServer(host: host, port: port) { [self] request in handle(request) }
        let bound = try server.start()
        let urlHost = host.contains(":") ? "[\(host)]" : host
        self.server.withLock { $0 = (server, urlHost) }
        return URL(string: "http://\(urlHost):\(bound)")!
    }

    /// The base URL while serving, else nil.
    public var baseURL: URL? {
        server.withLock { running in
            guard let (server, urlHost) = running, let port = server.port else { return nil }
            return URL(string: "http://\(urlHost):\(port)")
        }
    }

    /// Stops serving: closes the listener and every open connection.
    public func stop() {
        let running = server.withLock { server -> LoopbackHTTPServer? in
            defer { server = nil }
            return server?.0
        }
        running?.stop()
    }

    /// The ids of the current directories, in creation order.
    public var directoryIDs: [String] { state.withLock { $0.directoryIDs } }

    /// The accepted API key.
    public var apiKey: String { state.withLock { $0.configuration.apiKey } }

    /// The configuration in force (including `setDeactivation`/`setRateLimit` changes).
    public var configuration: SimulatorConfiguration { state.withLock { $0.configuration } }

    // MARK: - Faults

    /// Injects `fault` into each matching request with `probability` (0…1), drawn from a seeded generator.
    public func addRandomFault(_ fault: Fault, probability: Double, matching: RequestMatcher = .init()) {
        state.withLock { $0.randomFaults.append(RandomFault(fault: fault, probability: probability, matcher: matching)) }
    }

    /// Injects `fault` into matching requests number `skip + 1` … `skip + times` (counted per scripted fault).
    public func scriptFault(_ fault: Fault, matching: RequestMatcher = .init(), skip: Int = 0, times: Int = 1) {
        state.withLock { $0.scriptedFaults.append(ScriptedFault(fault: fault, matcher: matching, skip: skip, times: times)) }
    }

    /// Shows a user otherwise in `GET /directory_users?directory=` (nil restores its normal object).
    public func overrideUserListing(_ id: String, _ override: UserListingOverride?) {
        state.withLock { $0.userListingOverrides[id] = override }
    }

    /// Removes every scripted and random fault.
    public func clearFaults() {
        state.withLock {
            $0.scriptedFaults.removeAll()
            $0.randomFaults.removeAll()
        }
    }

    // MARK: - Statistics

    public var statistics: SimulatorStatistics { state.withLock { $0.statistics } }

    public func resetStatistics() { state.withLock { $0.statistics = SimulatorStatistics() } }

    // MARK: - Ground truth

    public func directories() -> [SimulatedDirectory] {
        state.withLock { state in state.directoryIDs.compactMap { state.directories[$0] } }
    }

    public func directory(_ id: String) -> SimulatedDirectory? { state.withLock { $0.directories[id] } }

    /// The users currently listed in a directory, in id (creation) order.
    public func users(in directoryID: String) -> [SimulatedUser] {
        state.withLock { state in (state.userIDsByDirectory[directoryID] ?? []).compactMap { state.users[$0] } }
    }

    public func user(_ id: String) -> SimulatedUser? { state.withLock { $0.users[id] } }

    /// The groups of a directory, in id (creation) order.
    public func groups(in directoryID: String) -> [SimulatedGroup] {
        state.withLock { state in (state.groupIDsByDirectory[directoryID] ?? []).compactMap { state.groups[$0] } }
    }

    public func group(_ id: String) -> SimulatedGroup? { state.withLock { $0.groups[id] } }

    /// The user ids in a group, sorted.
    public func memberIDs(ofGroup groupID: String) -> [String] { state.withLock { $0.sortedMembers(ofGroup: groupID) } }

    /// The group ids of a user, sorted.
    public func groupIDs(ofUser userID: String) -> [String] { state.withLock { $0.sortedGroups(ofUser: userID) } }

    /// The whole events feed, oldest first.
    public func events() -> [SimulatedEvent] { state.withLock { $0.events } }

    // MARK: - Mutations (each recorded as a WorkOS event)

    /// Creates a user (`dsync.user.created`); returns its id, or "" when the directory is unknown.
    @discardableResult
    public func createUser(
        in directoryID: String, email: String?, firstName: String?, lastName: String?,
        idpID: String? = nil, active: Bool = true
    ) -> String {
        state.withLock {
            $0.createUser(in: directoryID, email: email, firstName: firstName, lastName: lastName, idpID: idpID, active: active)
        }
    }

    /// Changes the given fields (`dsync.user.updated` with `previous_attributes`); nil leaves a field alone.
    public func updateUser(
        _ id: String, firstName: String? = nil, lastName: String? = nil, jobTitle: String? = nil,
        customAttributes: [String: String]? = nil
    ) {
        state.withLock {
            $0.updateUserRecord(id) { user in
                if let firstName { user.firstName = firstName }
                if let lastName { user.lastName = lastName }
                if let jobTitle { user.jobTitle = jobTitle }
                if let customAttributes { user.customAttributes = customAttributes }
            }
        }
    }

    /// Sets the email (nil for none), with `emails` and `username` following (`dsync.user.updated`).
    public func changeEmail(_ id: String, to email: String?) {
        state.withLock {
            $0.updateUserRecord(id) { user in
                user.email = email
                user.username = email
            }
        }
    }

    /// Sets the user's `idp_id` (`dsync.user.updated`): an IdP that reuses an external id,
    /// such as an employee number, or two ids swapped by a correction.
    public func changeIdpID(_ id: String, to idpID: String) {
        state.withLock { $0.updateUserRecord(id) { $0.idpID = idpID } }
    }

    /// Sets any `state` value, e.g. legacy `suspended` (`dsync.user.updated`).
    public func setUserState(_ id: String, _ value: String) {
        state.withLock { $0.updateUserRecord(id) { $0.state = value } }
    }

    /// Deactivates per `deactivation`: kept with `state: "inactive"`, or deleted.
    public func deactivateUser(_ id: String) { state.withLock { $0.deactivateUser(id) } }

    /// Deletes a user (`dsync.group.user_removed` for each group, then `dsync.user.deleted`).
    public func deleteUser(_ id: String) { state.withLock { $0.removeUser(id) } }

    /// Brings back a person under a NEW WorkOS id with the same `idp_id`, active,
    /// with the last known profile; a still-listed old record is deleted first.
    @discardableResult
    public func rehireUser(idpID: String, in directoryID: String) -> String {
        state.withLock { $0.rehireUser(idpID: idpID, in: directoryID) }
    }

    public func addMembership(user: String, group: String) {
        state.withLock { $0.addMembershipRecord(user: user, group: group) }
    }

    public func removeMembership(user: String, group: String) {
        state.withLock { $0.removeMembershipRecord(user: user, group: group) }
    }

    /// Creates a group (`dsync.group.created`); returns its id, or "" when the directory is unknown.
    @discardableResult
    public func createGroup(in directoryID: String, name: String) -> String {
        state.withLock { $0.createGroup(in: directoryID, name: name) }
    }

    public func renameGroup(_ id: String, to name: String) { state.withLock { $0.renameGroup(id, to: name) } }

    /// Deletes a group and its memberships (`dsync.group.deleted`).
    public func deleteGroup(_ id: String) { state.withLock { $0.deleteGroup(id) } }

    /// Sets the directory's `state` to any string; becoming `linked` emits `dsync.activated`.
    public func setDirectoryState(_ directoryID: String, _ value: String) {
        state.withLock { $0.setDirectoryState(directoryID, value) }
    }

    /// Removes the directory with its users and groups (`dsync.deleted`); it then answers 404.
    public func deleteDirectory(_ directoryID: String) { state.withLock { $0.deleteDirectory(directoryID) } }

    public func setDeactivation(_ mode: Deactivation) { state.withLock { $0.configuration.deactivation = mode } }

    /// Changes how long `/events` keeps events (tests: a short window expires a cursor).
    public func setEventRetention(_ retention: Duration) { state.withLock { $0.configuration.eventRetention = retention } }

    public func setRateLimit(_ limit: RateLimit?) {
        state.withLock {
            $0.configuration.rateLimit = limit
            $0.keyWindow = SlidingWindow()
            $0.directoryWindows = [:]
        }
    }

    /// Changes the delay added to every response.
    public func setLatency(_ latency: Duration) { state.withLock { $0.configuration.latency = latency } }

    public func setEmbeddedGroups(_ enabled: Bool) { state.withLock { $0.configuration.embeddedGroups = enabled } }

    // MARK: - Serving

    private func handle(_ request: HTTPRequest) -> HTTPReply {
        let now = ContinuousClock.now
        let (reply, delay) = state.withLock { $0.serve(request, now: now) }
        let total = delay
        if total > .zero {
            let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18
            Thread.sleep(forTimeInterval: seconds)
        }
        return reply
    }
}
