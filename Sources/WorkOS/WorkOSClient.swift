public import Foundation
public import Logging
public import Metrics
public import WorkOSModel

/// The WorkOS Directory Sync API client.
///
/// Lists directories, users, groups and memberships with cursor pagination
/// that fails loudly (never a shorter listing), paces itself under WorkOS's
/// rate limits, retries transient failures with capped, jittered backoff and
/// honours `Retry-After`. All public calls throw ``WorkOSError`` (or
/// `CancellationError`).
public final class WorkOSClient: Sendable {
    /// Client settings.
    public struct Configuration: Sendable {
        /// Default `https://api.workos.com`.
        public var baseURL: URL
        /// The API key (`sk_…`); printed as `<redacted>`.
        public var apiKey: Secret
        /// A PEM CA bundle instead of the system one. Default nil.
        public var caFile: String?
        /// Default 10 s.
        public var connectTimeout: Duration
        /// Per request, body included. Default 60 s.
        public var requestTimeout: Duration
        /// Attempts, backoff and `Retry-After` cap. Default ``RetryPolicy/init(maxAttempts:baseDelay:maxDelay:maxRetryAfter:)``.
        public var retry: RetryPolicy
        /// `limit` of list requests, 1–100. Default 100.
        public var pageSize: Int
        /// Pages one listing may take before it fails as ``WorkOSError/Code/pageCeilingExceeded``. Default 100,000.
        public var pageCeiling: Int
        /// Allowed `/directory_users` calls per second per directory (`directory=` or `group=` of it),
        /// paced at ``WorkOSClient/pacingHeadroom`` of it. Default 4; `.infinity` disables pacing.
        public var directoryUsersPerSecond: Double
        /// Allowed calls per second with this key, paced at ``WorkOSClient/keyPacingHeadroom`` of it
        /// with a short burst. Default 100 (WorkOS allows 6,000 per minute); `.infinity` disables pacing.
        public var requestsPerSecond: Double
        /// Listings in flight at once within one directory's snapshot. Default 4.
        public var concurrencyPerDirectory: Int
        /// Largest accepted body. Default 64 MiB.
        public var maxBodyBytes: Int
        /// Threads of the built-in libcurl transport. Default 8.
        public var transportThreads: Int

        public init(
            baseURL: URL = URL(string: "https://api.workos.com")!, apiKey: Secret, caFile: String? = nil,
            connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(60),
            retry: RetryPolicy = RetryPolicy(), pageSize: Int = 100, pageCeiling: Int = 100_000,
            directoryUsersPerSecond: Double = 4, requestsPerSecond: Double = 100, concurrencyPerDirectory: Int = 4,
            maxBodyBytes: Int = 64 << 20, transportThreads: Int = 8
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.retry = retry
            self.pageSize = min(max(pageSize, 1), 100)
            self.pageCeiling = max(1, pageCeiling)
            self.directoryUsersPerSecond = directoryUsersPerSecond
            self.requestsPerSecond = requestsPerSecond
            self.concurrencyPerDirectory = max(1, concurrencyPerDirectory)
            self.maxBodyBytes = maxBodyBytes
            self.transportThreads = transportThreads
        }

        /// Attempts per request, the first included (``RetryPolicy/maxAttempts``). Default 8.
        public var maxAttempts: Int {
            get { retry.maxAttempts }
            set { retry.maxAttempts = max(1, newValue) }
        }
    }

    /// The endpoints the client calls; the `endpoint` label of its metrics.
    public enum Endpoint: String, Sendable, CaseIterable {
        case listDirectories = "directories"
        case getDirectory = "directory"
        case listDirectoryUsers = "directory_users"
        case listDirectoryGroups = "directory_groups"
        case listEvents = "events"
        case generatePortalLink = "portal_generate_link"

        var method: HTTPMethod { self == .generatePortalLink ? .post : .get }

        /// `GET /directory_users`: how errors name the endpoint.
        var displayName: String {
            switch self {
            case .listDirectories: "GET /directories"
            case .getDirectory: "GET /directories/{id}"
            case .listDirectoryUsers: "GET /directory_users"
            case .listDirectoryGroups: "GET /directory_groups"
            case .listEvents: "GET /events"
            case .generatePortalLink: "POST /portal/generate_link"
            }
        }
    }

    /// A directory's `/directory_users` requests are paced at this fraction of
    /// the configured rate, evenly spaced (burst 1), so WorkOS's one-second
    /// sliding window never counts one too many when arrival times jitter. At
    /// 4 requests per second, 0.96 leaves 42 ms of jitter between a request and
    /// the fourth after it (0.97 left 31 ms, and drew an occasional 429 on a
    /// loaded 2-CPU machine).
    public static let pacingHeadroom = 0.96

    /// The key's requests are paced at this fraction of
    /// ``Configuration/requestsPerSecond``, with a burst of ``keyBurstSeconds``
    /// of it. WorkOS counts the key's requests over 60 s (6,000), so in any
    /// 60 s the client sends at most 0.99 × 60 + 0.3 = 59.7 seconds' worth
    /// (5,970 of 6,000): 0.3 s of arrival jitter to spare. The burst is what
    /// keeps a saturated key at its rate: with a burst of 1, every wake-up
    /// that came later than its token (a loaded machine, 32 lanes waiting)
    /// lost that time for good, and a fleet cycle ran at 92–94 of 96 per second.
    public static let keyPacingHeadroom = 0.99
    /// The key bucket's burst, in seconds of the configured rate (see ``keyPacingHeadroom``).
    public static let keyBurstSeconds = 0.3

    public let configuration: Configuration
    let transport: any HTTPTransport
    let logger: Logger
    let clock: any WorkOSClock
    let random: @Sendable () -> Double
    let metrics: WorkOSMetrics
    private let pacer: RequestPacer
    let progress = ListingProgressBoard()

    /// - Parameters:
    ///   - transport: nil for a ``CurlTransport`` built from the configuration.
    ///   - logger: the caller's logger; the client adds `workos.*` metadata and never logs the key.
    ///   - clock: time for pacing and backoff (inject ``VirtualClock`` in tests).
    ///   - random: a uniform draw in `0..<1` for jitter.
    ///   - metricsFactory: where counters go; nil for `MetricsSystem.factory` (the bootstrapped one).
    public init(
        configuration: Configuration, logger: Logger, transport: (any HTTPTransport)? = nil,
        clock: any WorkOSClock = SystemClock(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.metrics = WorkOSMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        self.logger = logger
        self.clock = clock
        self.random = random
        self.transport =
            transport
            ?? CurlTransport(
                configuration: .init(
                    caFile: configuration.caFile, connectTimeout: configuration.connectTimeout,
                    requestTimeout: configuration.requestTimeout, maxBodyBytes: configuration.maxBodyBytes,
                    threads: configuration.transportThreads))
        self.pacer = RequestPacer(
            requestsPerSecond: configuration.requestsPerSecond,
            directoryUsersPerSecond: configuration.directoryUsersPerSecond, clock: clock)
    }

    // MARK: - Directories

    /// All directories of the environment, every page, or an error.
    public func listDirectories() async throws -> [Directory] {
        var directories: [Directory] = []
        var seen = DuplicateFilter<Directory>(endpoint: Endpoint.listDirectories.displayName)
        for try await page in directoryPages() {
            for directory in page.items where try seen.admit(directory) {
                directories.append(directory)
            }
        }
        return directories
    }

    /// Pages of `GET /directories`, oldest first.
    public func directoryPages() -> PageSequence<Directory> {
        PageSequence(client: self, request: ListRequest(endpoint: .listDirectories, query: [], directoryID: nil))
    }

    /// One directory by id.
    public func directory(_ id: String) async throws -> Directory {
        let call = Call(endpoint: .getDirectory, path: "/directories/\(Self.escape(id))", query: [], directoryID: nil)
        return try await perform(call, logger: logger) { response in
            try Self.decode(Directory.self, from: response, endpoint: .getDirectory)
        }
    }

    // MARK: - Users and groups

    /// Pages of `GET /directory_users?directory=`.
    public func userPages(directoryID: String) -> PageSequence<DirectoryUser> {
        PageSequence(
            client: self,
            request: ListRequest(
                endpoint: .listDirectoryUsers, query: [("directory", directoryID)], directoryID: directoryID))
    }

    /// Pages of `GET /directory_users?group=`: the group's members. Paced under the group's directory.
    public func memberPages(of group: DirectoryGroup) -> PageSequence<DirectoryUser> {
        PageSequence(
            client: self,
            request: ListRequest(
                endpoint: .listDirectoryUsers, query: [("group", group.id)], directoryID: group.directoryID))
    }

    /// Like ``memberPages(of:)``, decoding only ids.
    func memberReferencePages(of group: DirectoryGroup) -> PageSequence<MemberReference> {
        PageSequence(
            client: self,
            request: ListRequest(
                endpoint: .listDirectoryUsers, query: [("group", group.id)], directoryID: group.directoryID))
    }

    /// Pages of `GET /directory_groups?directory=`.
    public func groupPages(directoryID: String) -> PageSequence<DirectoryGroup> {
        PageSequence(
            client: self,
            request: ListRequest(endpoint: .listDirectoryGroups, query: [("directory", directoryID)], directoryID: nil))
    }

    // MARK: - Events and portal

    /// One page of `GET /events` after the event id `after` (nil: from
    /// `rangeStart`, or the start of retention), oldest first. A cursor WorkOS
    /// refuses (unknown, or older than retention: a 4xx answer to a request
    /// with `after`) throws `EventCursorRejected`.
    public func events(after: String?, rangeStart: Date? = nil, types: [String], limit: Int = 100) async throws -> EventPage {
        var query: [(String, String)] = []
        if !types.isEmpty { query.append(("events", types.joined(separator: ","))) }
        query.append(("limit", String(min(max(limit, 1), 100))))
        if let after { query.append(("after", after)) }
        if after == nil, let rangeStart { query.append(("range_start", Timestamp.format(rangeStart))) }
        let call = Call(endpoint: .listEvents, path: "/events", query: query, directoryID: nil)
        do {
            return try await eventsPage(call, after: after)
        } catch let error as WorkOSError where after != nil && [400, 404, 410, 422].contains(error.status ?? 0) {
            throw EventCursorRejected(cursor: after ?? "", underlying: error)
        }
    }

    private func eventsPage(_ call: Call, after: String?) async throws -> EventPage {
        try await perform(call, logger: logger) { response in
            let envelope = try Self.decode(EventEnvelope.self, from: response, endpoint: .listEvents)
            return EventPage(
                events: envelope.data, listMetadataAfter: envelope.after,
                cursor: envelope.data.last?.id ?? after, requestID: response.requestID)
        }
    }

    /// A one-time Admin Portal link for an organization (`POST /portal/generate_link`).
    public func generatePortalLink(organizationID: String, intent: String = "dsync") async throws -> URL {
        let body = try JSONEncoder().encode(["organization": organizationID, "intent": intent])
        let call = Call(
            endpoint: .generatePortalLink, path: "/portal/generate_link", query: [], directoryID: nil, body: body)
        return try await perform(call, logger: logger) { response in
            let link = try Self.decode(PortalLink.self, from: response, endpoint: .generatePortalLink).link
            guard let url = URL(string: link), url.scheme == "https" || url.scheme == "http" else {
                throw WorkOSError(
                    .malformedBody, endpoint: Endpoint.generatePortalLink.displayName, status: response.status,
                    requestID: response.requestID, detail: "link is not an http(s) URL")
            }
            return url
        }
    }

    // MARK: - Requests

    struct Call: Sendable {
        var endpoint: Endpoint
        var path: String
        var query: [(String, String)]
        /// The directory whose `/directory_users` budget this call spends.
        var directoryID: String?
        var body: Data? = nil
    }

    /// Sends a call with pacing and retries, and decodes a 2xx response with `decode`.
    ///
    /// `decode` throws ``WorkOSError``; a `truncatedBody` from it is retried
    /// like a transport failure.
    func perform<Result>(
        _ call: Call, logger: Logger, decode: (HTTPResponseData) throws -> Result
    ) async throws -> Result {
        let endpoint = call.endpoint
        let name = endpoint.displayName
        var logger = logger
        logger[metadataKey: "workos.endpoint"] = "\(name)"
        if let directoryID = call.directoryID { logger[metadataKey: "directory.id"] = "\(directoryID)" }
        let request = HTTPRequestSpec(
            method: endpoint.method, url: url(call), headers: headers(call), body: call.body,
            bearerToken: configuration.apiKey)
        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            try await pacer.pace(directoryID: Self.directoryPaced(call))
            let failure: WorkOSError
            var retryAfter: Duration? = nil
            let sent = clock.now()
            do {
                let response = try await transport.send(request)
                let status = response.status
                metrics.request(endpoint, status: String(status), elapsed: clock.now() - sent)
                logger.debug(
                    "WorkOS response",
                    metadata: [
                        "status": "\(status)", "attempt": "\(attempt)", "request_id": "\(response.requestID ?? "")",
                        "elapsed_ms": "\((clock.now() - sent).wholeMilliseconds)",
                    ])
                if (200..<300).contains(status) {
                    do {
                        return try decode(response)
                    } catch var error as WorkOSError {
                        error.attempts = attempt
                        failure = error
                    }
                } else {
                    var error = WorkOSError(
                        status == 401 ? .unauthorized : .http, endpoint: name, status: status,
                        requestID: response.requestID, attempts: attempt,
                        detail: ErrorBodySummary.summarize(response.body))
                    if status == 429 {
                        metrics.rateLimited(endpoint)
                        retryAfter = response.header("retry-after").flatMap {
                            RetryPolicy.parseRetryAfter($0, now: clock.date())
                        }
                        if attempt >= policy.maxAttempts { error.code = .rateLimitedExhausted }
                    }
                    failure = error
                }
            } catch let error as HTTPTransportError {
                let code: WorkOSError.Code =
                    switch error.kind {
                    case .transport: .transport
                    case .timeout: .timeout
                    case .truncatedBody: .truncatedBody
                    case .bodyTooLarge: .bodyTooLarge
                    }
                metrics.request(endpoint, status: code == .timeout ? "timeout" : "transport", elapsed: clock.now() - sent)
                failure = WorkOSError(
                    code, endpoint: name, curlCode: error.code, attempts: attempt, detail: error.message)
            }
            guard failure.isRetryable, attempt < policy.maxAttempts else {
                logger.warning(
                    "WorkOS request failed",
                    metadata: ["error": "\(failure)", "attempts": "\(attempt)"])
                throw failure
            }
            let delay = policy.delay(attempt: attempt, retryAfter: retryAfter, random: random())
            if failure.status == 429 {
                // Hold back every caller of this budget (the directory's, else the key's), not just this one.
                pacer.pause(directoryID: Self.directoryPaced(call), for: delay)
            }
            metrics.retry(endpoint)
            logger.notice(
                "WorkOS request will be retried",
                metadata: [
                    "error": "\(failure)", "attempt": "\(attempt)",
                    "delay_ms": "\(delay.wholeMilliseconds)",
                ])
            try await clock.sleep(for: delay)
        }
    }

    /// Paces this client at `share` (0 < share ≤ 1) of ``Configuration/requestsPerSecond``:
    /// replicas sharing one API key each take their part. No effect without key pacing.
    public func setKeyShare(_ share: Double) {
        pacer.setKeyShare(share)
    }

    /// The key bucket's rate and burst for `share` of `requestsPerSecond`
    /// (``keyPacingHeadroom``, ``keyBurstSeconds``); nil when the key is not paced.
    public static func keyPacing(requestsPerSecond: Double, share: Double) -> (rate: Double, burst: Double)? {
        guard requestsPerSecond.isFinite, requestsPerSecond > 0 else { return nil }
        let allowed = requestsPerSecond * share
        return (allowed * keyPacingHeadroom, max(1, allowed * keyBurstSeconds))
    }

    /// The directory listings in flight (``snapshot(of:)``), by directory id.
    public func listingsInProgress() -> [ListingProgress] { progress.snapshot(at: clock.now()) }

    /// The key's pacing in force, requests per second (nil: not paced).
    public var keyRate: Double? { pacer.keyRate }

    /// The directory whose `/directory_users` limit a call counts against (nil: only the key's).
    private static func directoryPaced(_ call: Call) -> String? {
        call.endpoint == .listDirectoryUsers ? call.directoryID : nil
    }

    private func url(_ call: Call) -> URL {
        var text = configuration.baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        text += call.path
        if !call.query.isEmpty {
            text += "?" + call.query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return URL(string: text)!
    }

    private func headers(_ call: Call) -> [String: String] {
        var headers = ["Accept": "application/json"]
        if call.body != nil { headers["Content-Type"] = "application/json" }
        return headers
    }


    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }

    /// Decodes a 2xx body, classifying failures: cut-off JSON is `truncatedBody`, anything else `malformedBody`.
    static func decode<Value: Decodable>(
        _ type: Value.Type, from response: HTTPResponseData, endpoint: Endpoint
    ) throws -> Value {
        try decodeRepairing(type, from: response, endpoint: endpoint).value
    }

    /// Like `decode`, and when the body fails to decode (or `isDamaged` says
    /// the value lost something) for invalid UTF-8 or lone surrogate escapes,
    /// decodes it repaired (see `TextRepair`) and says what was repaired.
    /// A healthy body is decoded once and never scanned.
    static func decodeRepairing<Value: Decodable>(
        _ type: Value.Type, from response: HTTPResponseData, endpoint: Endpoint, isDamaged: (Value) -> Bool = { _ in false }
    ) throws -> (value: Value, repair: TextRepair.Report?) {
        do {
            let value = try JSONDecoder().decode(type, from: response.body)
            guard isDamaged(value), let (repaired, report) = TextRepair.repair(response.body),
                  let repairedValue = try? JSONDecoder().decode(type, from: repaired) else { return (value, nil) }
            return (repairedValue, report)
        } catch {
            if let (repaired, report) = TextRepair.repair(response.body),
               let value = try? JSONDecoder().decode(type, from: repaired) {
                return (value, report)
            }
            let body = response.body
            if ErrorBodySummary.looksTruncated(body) {
                throw WorkOSError(
                    .truncatedBody, endpoint: endpoint.displayName, status: response.status,
                    requestID: response.requestID, detail: "\(body.count) bytes, JSON not closed")
            }
            let detail: String
            if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                detail = "empty body"
            } else if body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "<") {
                detail = "HTML body (\(body.count) bytes)"
            } else {
                detail = ErrorBodySummary.describe(error)
            }
            throw WorkOSError(
                .malformedBody, endpoint: endpoint.displayName, status: response.status,
                requestID: response.requestID, detail: detail)
        }
    }
}

/// The `GET /events` envelope, tolerant of a missing `list_metadata`.
private struct EventEnvelope: Decodable {
    var data: [Event]
    var after: String?

    private enum CodingKeys: String, CodingKey {
        case data
        case listMetadata = "list_metadata"
    }

    private struct Metadata: Decodable {
        var after: String?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decode([Event].self, forKey: .data)
        after = (try? container.decodeIfPresent(Metadata.self, forKey: .listMetadata))?.flatMap { $0 }?.after
    }
}

/// `{"link": "https://…"}`.
private struct PortalLink: Decodable {
    var link: String
}

extension Duration {
    /// Whole milliseconds, rounded toward zero (for `…_ms` log fields and libcurl time-outs).
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
