import Foundation
import Logging
import MetricsTestKit
import TestHelpers
import Testing
import WorkOS
import WorkOSModel

/// The client's paging, retry and error rules, against a scripted transport.
@Suite struct ClientPaginationTests {
    static func client(
        _ transport: ScriptedTransport, clock: VirtualClock = VirtualClock(), pageCeiling: Int = 100_000,
        maxAttempts: Int = 8, metrics: TestMetrics = TestMetrics()
    ) -> WorkOSClient {
        WorkOSClient(
            configuration: .init(
                baseURL: URL(string: "https://workos.test")!, apiKey: "sk_test_secret",
                retry: RetryPolicy(maxAttempts: maxAttempts), pageCeiling: pageCeiling,
                directoryUsersPerSecond: .infinity, requestsPerSecond: .infinity),
            logger: .quiet, transport: transport, clock: clock, random: { 0.5 }, metricsFactory: metrics)
    }

    static func collect(_ pages: PageSequence<DirectoryUser>) async throws -> [String] {
        var ids: [String] = []
        for try await page in pages { ids += page.items.map(\.id) }
        return ids
    }

    @Test func followsCursorsWithLimitOrderAndAfter() async throws {
        let transport = ScriptedTransport { request, index in
            switch request.queryValue("after") {
            case nil: .json(userPage(["u1", "u2"], after: "u2"))
            case "u2": .json(userPage(["u3", "u4"], after: "u4"))
            default: .json(userPage(["u5"], after: nil))
            }
        }
        let ids = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        #expect(ids == ["u1", "u2", "u3", "u4", "u5"])
        #expect(transport.requests.count == 3)
        let first = transport.query(0)
        #expect(first["directory"] == "directory_1")
        #expect(first["limit"] == "100")
        #expect(first["order"] == "asc")
        #expect(first["after"] == nil)
        #expect(transport.query(2)["after"] == "u4")
        #expect(transport.requests[0].bearerToken?.reveal() == "sk_test_secret")
        #expect(!"\(transport.requests[0])".contains("sk_test"))
    }

    @Test func repeatedCursorFailsAndKeepsFailing() async throws {
        let transport = ScriptedTransport { request, _ in
            request.queryValue("after") == nil ? .json(userPage(["u1"], after: "c1")) : .json(userPage(["u2"], after: "c1"))
        }
        var iterator = Self.client(transport).userPages(directoryID: "directory_1").makeAsyncIterator()
        _ = try await iterator.next()
        let error = await #expect(throws: WorkOSError.self) { _ = try await iterator.next() }
        #expect(error?.code == .repeatedCursor)
        // A caller that ignores the error never gets a clean end of listing.
        await #expect(throws: WorkOSError.self) { _ = try await iterator.next() }
    }

    @Test func emptyPageWithCursorFails() async throws {
        let transport = ScriptedTransport { request, _ in
            request.queryValue("after") == nil ? .json(userPage(["u1"], after: "u1")) : .json(userPage([], after: "u9"))
        }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .emptyPageWithCursor)
    }

    @Test func anEmptyStringCursorIsNeitherAnEndNorACursor() async throws {
        let transport = ScriptedTransport { _, _ in .json(userPage(["u1"], after: "")) }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .malformedBody)
    }

    @Test func tlsVerificationFailuresAreNotRetried() async throws {
        let transport = ScriptedTransport { _, _ in
            throw HTTPTransportError(kind: .transport, code: 60, message: "SSL certificate problem: self-signed certificate")
        }
        let error = await #expect(throws: WorkOSError.self) { _ = try await Self.client(transport).listDirectories() }
        #expect(error?.code == .transport)
        #expect(error?.curlCode == 60)
        #expect(transport.requests.count == 1)
    }

    @Test func pageCeilingFails() async throws {
        let transport = ScriptedTransport { _, index in .json(userPage(["u\(index)"], after: "u\(index)")) }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport, pageCeiling: 5).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .pageCeilingExceeded)
        #expect(transport.requests.count == 5)
    }

    @Test func transientFailuresAreRetriedWithBackoff() async throws {
        let transport = ScriptedTransport { _, index in
            switch index {
            case 0: throw HTTPTransportError(kind: .transport, code: 56, message: "Connection reset by peer")
            case 1: .json(#"{"message":"Service Unavailable"}"#, status: 503)
            case 2: .json(#""Ratelimited""#, status: 429, headers: ["Retry-After": "2"])
            default: .json(userPage(["u1"], after: nil))
            }
        }
        let clock = VirtualClock()
        let metrics = TestMetrics()
        let ids = try await Self.collect(
            Self.client(transport, clock: clock, metrics: metrics).userPages(directoryID: "directory_1"))
        #expect(ids == ["u1"])
        let endpoint = ("endpoint", "directory_users")
        #expect(try metrics.expectCounter("workos_dsync_api_requests_total", [endpoint, ("status", "transport")]).totalValue == 1)
        #expect(try metrics.expectCounter("workos_dsync_api_requests_total", [endpoint, ("status", "503")]).totalValue == 1)
        #expect(try metrics.expectCounter("workos_dsync_api_requests_total", [endpoint, ("status", "429")]).totalValue == 1)
        #expect(try metrics.expectCounter("workos_dsync_api_requests_total", [endpoint, ("status", "200")]).totalValue == 1)
        #expect(try metrics.expectCounter("workos_dsync_api_retries_total", [endpoint]).totalValue == 3)
        #expect(try metrics.expectCounter("workos_dsync_api_rate_limited_total", [endpoint]).totalValue == 1)
        // Retry and rate-limit counters of every endpoint exist from the start, at zero.
        #expect(try metrics.expectCounter("workos_dsync_api_retries_total", [("endpoint", "events")]).totalValue == 0)
        #expect(try metrics.expectCounter("workos_dsync_api_rate_limited_total", [("endpoint", "portal_generate_link")]).totalValue == 0)
        // random 0.5: 125 ms, 250 ms of jittered backoff, then Retry-After's 2 s exactly.
        #expect(clock.sleeps == [.milliseconds(125), .milliseconds(250), .seconds(2)])
    }

    @Test func permanentFailureEndsAfterMaxAttempts() async throws {
        let transport = ScriptedTransport { _, _ in .json(#"{"message":"down","code":"unavailable"}"#, status: 503, headers: ["X-Request-ID": "req_42"]) }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport, maxAttempts: 8).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .http)
        #expect(error?.status == 503)
        #expect(error?.attempts == 8)
        #expect(transport.requests.count == 8)
        #expect(error?.description == "WorkOS GET /directory_users: HTTP 503 after 8 attempts (request id req_42): unavailable: down")
    }

    @Test func rateLimitedOnEveryAttemptIsItsOwnError() async throws {
        let transport = ScriptedTransport { _, _ in .json(#""Ratelimited""#, status: 429, headers: ["Retry-After": "1"]) }
        let clock = VirtualClock()
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport, clock: clock, maxAttempts: 3).userPages(directoryID: "d"))
        }
        #expect(error?.code == .rateLimitedExhausted)
        #expect(error?.detail == "Ratelimited")
        #expect(clock.totalSlept == .seconds(2))
    }

    @Test(arguments: [400, 401, 403, 404, 422])
    func clientErrorsAreNotRetried(status: Int) async throws {
        let transport = ScriptedTransport { _, _ in .json("", status: status) }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == (status == 401 ? .unauthorized : .http))
        #expect(error?.detail == "empty body")
        #expect(transport.requests.count == 1)
    }

    @Test func htmlOn200IsMalformedAndNotAListing() async throws {
        let transport = ScriptedTransport { _, _ in
            HTTPResponseData(status: 200, headers: ["Content-Type": "text/html"], body: Data("<html><body>Proxy login</body></html>".utf8))
        }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .malformedBody)
        #expect(error?.detail?.hasPrefix("HTML body") == true)
    }

    @Test func cutOffJSONIsTruncatedAndRetried() async throws {
        let full = userPage(["u1", "u2"], after: nil)
        let transport = ScriptedTransport { _, index in
            index == 0 ? .json(String(full.prefix(full.count / 2))) : .json(full)
        }
        let ids = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        #expect(ids == ["u1", "u2"])
        #expect(transport.requests.count == 2)
    }

    @Test func missingListMetadataIsMalformed() async throws {
        let transport = ScriptedTransport { _, _ in .json(#"{"object":"list","data":[]}"#) }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await Self.collect(Self.client(transport).userPages(directoryID: "directory_1"))
        }
        #expect(error?.code == .malformedBody)
    }

    @Test func listDirectoriesRejectsConflictingDuplicates() async throws {
        let transport = ScriptedTransport { _, _ in
            .json(#"{"object":"list","data":[{"id":"directory_1","name":"A","type":"okta scim v2.0","state":"linked"},{"id":"directory_1","name":"B","type":"okta scim v2.0","state":"linked"}],"list_metadata":{"after":null}}"#)
        }
        let error = await #expect(throws: WorkOSError.self) { _ = try await Self.client(transport).listDirectories() }
        #expect(error?.code == .duplicateID)
    }

    @Test func listDirectoriesToleratesOneIdenticalRepeat() async throws {
        let directory = #"{"id":"directory_1","name":"A","type":"okta scim v2.0","state":"linked"}"#
        let transport = ScriptedTransport { _, _ in
            .json(#"{"object":"list","data":[\#(directory),\#(directory)],"list_metadata":{"after":null}}"#)
        }
        let directories = try await Self.client(transport).listDirectories()
        #expect(directories.map(\.id) == ["directory_1"])
    }

    @Test func eventsPageOldestFirstWithCursor() async throws {
        let transport = ScriptedTransport { request, _ in
            .json(#"""
                {"object":"list","data":[
                 {"object":"event","id":"event_2","event":"dsync.user.created","data":{"id":"directory_user_1"},"created_at":"2026-01-01T00:00:00.000Z"},
                 {"object":"event","id":"event_3","event":"dsync.brand_new","data":null,"created_at":"2026-01-01 00:00:01","extra":1}],
                 "list_metadata":{"after":"event_3"}}
                """#)
        }
        let page = try await Self.client(transport).events(after: "event_1", types: ["dsync.user.created", "dsync.brand_new"], limit: 50)
        #expect(page.events.map(\.id) == ["event_2", "event_3"])
        #expect(page.events[1].event == "dsync.brand_new")
        #expect(page.events[0].data == .object(["id": .string("directory_user_1")]))
        #expect(page.events[1].createdAt != nil)
        #expect(page.cursor == "event_3")
        let query = transport.query(0)
        #expect(query["events"] == "dsync.user.created,dsync.brand_new")
        #expect(query["after"] == "event_1")
        #expect(query["limit"] == "50")
        #expect(query["order"] == nil)
    }

    @Test func emptyEventsPageKeepsTheCursor() async throws {
        let transport = ScriptedTransport { _, _ in .json(#"{"object":"list","data":[],"list_metadata":{"after":null}}"#) }
        let page = try await Self.client(transport).events(after: "event_9", types: ["dsync.user.deleted"])
        #expect(page.events.isEmpty)
        #expect(page.cursor == "event_9")
    }

    @Test func portalLinkPostsJSON() async throws {
        let transport = ScriptedTransport { _, _ in .json(#"{"link":"https://setup.workos.com/portal/launch?secret=abc"}"#, status: 201) }
        let link = try await Self.client(transport).generatePortalLink(organizationID: "org_1")
        #expect(link.absoluteString == "https://setup.workos.com/portal/launch?secret=abc")
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url.path == "/portal/generate_link")
        #expect(request.headers["Content-Type"] == "application/json")
        let body = try JSONDecoder().decode([String: String].self, from: request.body ?? Data())
        #expect(body == ["organization": "org_1", "intent": "dsync"])
    }
}
