import Foundation
import Testing
import WorkOS
import WorkOSModel

@Suite struct ModelDecodingTests {
    @Test func timestampsWithSpaceAndNoZoneReadAsUTC() throws {
        let strict = try #require(Timestamp.parse("2024-01-02T03:04:05.678Z"))
        let lenient = try #require(Timestamp.parse("2024-01-02 03:04:05.678"))
        #expect(strict == lenient)
        #expect(Timestamp.parse("2024-01-02T03:04:05+00:00") == Timestamp.parse("2024-01-02T03:04:05Z"))
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func userDecodesNullEmailUnknownStateAndMissingDeprecatedFields() throws {
        let json = """
            {"object":"directory_user","id":"directory_user_1","directory_id":"directory_1",
             "organization_id":"org_1","idp_id":"abc","email":null,"first_name":"Zoë","last_name":null,
             "state":"on_leave","custom_attributes":{"department":"R&D"},"created_at":"2024-01-02 03:04:05",
             "updated_at":"2024-01-02T03:04:05.000Z","brand_new_field":[1,2,3]}
            """
        let user = try JSONDecoder().decode(DirectoryUser.self, from: Data(json.utf8))
        #expect(user.email == nil)
        #expect(user.state == .unknown("on_leave"))
        #expect(!user.state.isActive)
        #expect(user.username == nil)
        #expect(user.customAttributes == .object(["department": .string("R&D")]))
        #expect(user.createdAt != nil)
    }

    @Test func legacyEmailsArrayStandsInForEmail() throws {
        let json = """
            {"id":"u","directory_id":"d","idp_id":"i","state":"suspended",
             "emails":[{"value":"b@x.io","primary":false},{"value":"A@x.io","primary":true}]}
            """
        let user = try JSONDecoder().decode(DirectoryUser.self, from: Data(json.utf8))
        #expect(user.email == "A@x.io")
        #expect(user.state == .suspended)
    }

    @Test func unknownDirectoryStateIsUnhealthy() throws {
        let json = #"{"id":"d","name":"Acme","type":"okta scim v2.0","state":"paused"}"#
        let directory = try JSONDecoder().decode(Directory.self, from: Data(json.utf8))
        #expect(directory.state == .unknown("paused"))
        #expect(!directory.state.isHealthy)
        #expect(DirectoryState(rawValue: "linked").isHealthy)
    }
}
