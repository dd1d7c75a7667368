import Foundation
import InMemoryLogging
import Logging
import Testing
import WorkOS
import WorkOSModel

/// Tolerant decoding of records, safe summaries of error bodies, and the key never shown.
@Suite struct ResponseDecodingTests {
    @Test func deprecatedFieldsPresentAndNewFieldsAreAccepted() throws {
        let json = """
            {"object":"directory_user","id":"directory_user_1","directory_id":"directory_1","organization_id":"org_1",
             "idp_id":"00u1","email":"ada@example.com","first_name":"Ada","last_name":"Lovelace",
             "emails":[{"primary":true,"type":"work","value":"ada@example.com"}],"username":"ada","job_title":null,
             "raw_attributes":{"deep":{"nested":[1,{"x":null}]}},"state":"active","role":{"slug":"admin"},
             "groups":[{"id":"directory_group_1","object":"directory_group","name":"Eng"}],
             "custom_attributes":{"department":"R&D","manager":null},"future_field":{"a":1},
             "created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-02 03:04:05.678"}
            """
        let user = try JSONDecoder().decode(DirectoryUser.self, from: Data(json.utf8))
        #expect(user.email == "ada@example.com")
        #expect(user.username == "ada")
        #expect(user.jobTitle == nil)
        #expect(user.roleSlug == "admin")
        #expect(user.embeddedGroupIDs == ["directory_group_1"])
        #expect(user.customAttributes == .object(["department": .string("R&D"), "manager": .null]))
        #expect(user.updatedAt != nil)
    }

    @Test func jsonValuesKeepTheirTypes() throws {
        let json = #"{"a":true,"b":1,"c":"x","d":null,"e":[1,"y",false,[]],"f":{"g":2.5,"h":{}},"i":"true","j":"1"}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        #expect(value == .object([
            "a": .bool(true), "b": .number(1), "c": .string("x"), "d": .null,
            "e": .array([.number(1), .string("y"), .bool(false), .array([])]),
            "f": .object(["g": .number(2.5), "h": .object([:])]), "i": .string("true"), "j": .string("1"),
        ]))
        #expect(value.canonicalText == #"{"a":true,"b":1,"c":"x","d":null,"e":[1,"y",false,[]],"f":{"g":2.5,"h":{}},"i":"true","j":"1"}"#)
    }

    @Test func userWithoutStateIsUndecodableRatherThanInactive() {
        let json = #"{"id":"u","directory_id":"d","idp_id":"i","email":null}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DirectoryUser.self, from: Data(json.utf8)) }
    }

    @Test func groupAndDirectoryTolerateMissingOptionalFields() throws {
        let group = try JSONDecoder().decode(
            DirectoryGroup.self, from: Data(#"{"id":"g","directory_id":"d","name":"Eng","new":true}"#.utf8))
        #expect(group.idpID == "")
        let directory = try JSONDecoder().decode(
            Directory.self, from: Data(#"{"id":"d","state":"invalid_credentials","metadata":{"users":{"active":3}}}"#.utf8))
        #expect(directory.state == .invalidCredentials)
        #expect(!directory.state.isHealthy)
    }

    struct ErrorBody: Sendable, CustomTestStringConvertible {
        var status: Int
        var body: String
        var contentType: String
        var detail: String
        var testDescription: String { "\(status) \(contentType): \(detail)" }
    }

    @Test(arguments: [
        ErrorBody(status: 429, body: #""Ratelimited""#, contentType: "application/json", detail: "Ratelimited"),
        ErrorBody(status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>", contentType: "text/html", detail: "HTML body (50 bytes)"),
        ErrorBody(status: 500, body: "", contentType: "text/plain", detail: "empty body"),
        ErrorBody(status: 404, body: #"{"message":"Directory not found: 'directory_9'.","code":"entity_not_found"}"#, contentType: "application/json", detail: "entity_not_found: Directory not found: 'directory_9'."),
        ErrorBody(status: 422, body: #"{"errors":[]}"#, contentType: "application/json", detail: "JSON object without message (13 bytes)"),
        ErrorBody(status: 400, body: "Bad Request\n\u{1}", contentType: "text/plain", detail: "non-JSON body (13 bytes)"),
        ErrorBody(status: 400, body: "\"" + String(repeating: "x", count: 500) + "\"", contentType: "application/json", detail: String(repeating: "x", count: 160) + "…"),
    ])
    func errorBodiesAreSummarisedSafely(_ case_: ErrorBody) async throws {
        let transport = ScriptedTransport { _, _ in
            HTTPResponseData(status: case_.status, headers: ["Content-Type": case_.contentType], body: Data(case_.body.utf8))
        }
        let client = ClientPaginationTests.client(transport, maxAttempts: 1)
        let error = await #expect(throws: WorkOSError.self) { _ = try await client.directory("directory_9") }
        #expect(error?.detail == case_.detail)
        #expect(error?.status == case_.status)
    }

    @Test func theKeyIsNeverPrintedNorLogged() async throws {
        let secret = Secret("sk_live_do_not_print")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("sk_live"))

        let transport = ScriptedTransport { _, index in
            index < 2 ? .json(#"{"message":"nope"}"#, status: 503) : .json("", status: 401)
        }
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "capture") { _ in logs }
        logger.logLevel = .trace
        let configuration = WorkOSClient.Configuration(
            baseURL: URL(string: "https://workos.test")!, apiKey: secret, requestsPerSecond: .infinity)
        let client = WorkOSClient(configuration: configuration, logger: logger, transport: transport, clock: VirtualClock())
        let error = await #expect(throws: WorkOSError.self) { _ = try await client.listDirectories() }
        #expect(error?.code == .unauthorized)
        #expect(!"\(configuration)".contains("sk_live"))
        // 3 responses at debug, 2 retry notices, 1 failure warning; the key in none of them.
        #expect(logs.entries.map(\.level) == [.debug, .notice, .debug, .notice, .debug, .warning])
        let logged = logs.entries.map { "\($0.message) \($0.metadata) \($0.error.map { "\($0)" } ?? "")" }
        #expect(logged.allSatisfy { !$0.contains("sk_live") })
        #expect(transport.requests.allSatisfy { $0.bearerToken == secret })
    }
}
