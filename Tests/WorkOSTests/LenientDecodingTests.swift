import Foundation
import Testing
import WorkOS
import WorkOSModel

/// One bad record never fails its page: text faults are repaired, numbers
/// read as text, and what still cannot be used is quarantined by its id.
@Suite struct LenientDecodingTests {
    /// One page of users from raw bytes, through the client's real decoding.
    func snapshot(_ records: [[UInt8]]) async throws -> DirectorySnapshot {
        let body = Array(#"{"object":"list","data":["#.utf8) + Array(records.joined(separator: Array(",".utf8)))
            + Array(#"],"list_metadata":{"before":null,"after":null}}"#.utf8)
        let transport = ScriptedTransport { request, _ in
            switch request.url.path {
            case "/directory_groups": .json(#"{"object":"list","data":[],"list_metadata":{"after":null}}"#)
            default: HTTPResponseData(status: 200, headers: ["x-request-id": "req_1"], body: Data(body))
            }
        }
        return try await ClientPaginationTests.client(transport).snapshot(of: ScriptedSnapshotTests.directory)
    }

    func record(_ id: String, firstName: [UInt8] = Array(#""Ana""#.utf8)) -> [UInt8] {
        Array(#"{"id":"\#(id)","directory_id":"directory_1","idp_id":"i-\#(id)","first_name":"#.utf8) + firstName
            + Array(#","state":"active"}"#.utf8)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() async throws {
        let snapshot = try await snapshot([record("u1"), record("u2", firstName: [0x22, 0x52, 0xFF, 0xC3, 0x22]), record("u3")])
        #expect(snapshot.users.map(\.id) == ["u1", "u2", "u3"])
        #expect(snapshot.users[1].firstName == "R\u{FFFD}\u{FFFD}")
        #expect(snapshot.users[0].firstName == "Ana")
        #expect(snapshot.quarantined.isEmpty)
    }

    @Test func loneSurrogateEscapesBecomeReplacementCharactersAndPairsStay() async throws {
        let snapshot = try await snapshot([
            record("u1", firstName: Array(#""A\ud800B\udc00\ud83d\ude00\\ud800""#.utf8)), record("u2"),
        ])
        #expect(snapshot.users[0].firstName == "A\u{FFFD}B\u{FFFD}😀\\ud800")
        #expect(snapshot.users[0].containsReplacementCharacter)
        #expect(!snapshot.users[1].containsReplacementCharacter)
    }

    @Test func numbersWhereTextIsExpectedAreReadAsTheirText() throws {
        let json = #"{"id":"u1","directory_id":"d","idp_id":12345,"first_name":7,"last_name":1.5,"email":null,"state":"active"}"#
        let user = try JSONDecoder().decode(DirectoryUser.self, from: Data(json.utf8))
        #expect(user.idpID == "12345")
        #expect(user.firstName == "7")
        #expect(user.lastName == "1.5")
    }

    @Test func aRecordThatStillCannotBeUsedIsQuarantinedAndThePageKept() async throws {
        let snapshot = try await snapshot([
            record("u1"), Array(#"{"id":"u2","directory_id":"directory_1","idp_id":"x"}"#.utf8),
            Array(#"{"directory_id":"directory_1","state":"active"}"#.utf8), Array("42".utf8), record("u3"),
        ])
        #expect(snapshot.users.map(\.id) == ["u1", "u3"])
        #expect(snapshot.quarantined.map(\.id) == ["u2", nil, nil])
        #expect(snapshot.quarantined[0].reason == "undecodable user record (missing key state at .data[1])")
        #expect(snapshot.quarantined.allSatisfy { $0.page == 1 && $0.requestID == "req_1" })
    }

    @Test func aBodyThatIsNotJSONOrHasNoArrayStillFailsTheListing() async throws {
        for body in ["<html>proxy</html>", #"{"object":"list","data":{"id":"u1"},"list_metadata":{"after":null}}"#] {
            let transport = ScriptedTransport { request, _ in .json(body) }
            let error = await #expect(throws: WorkOSError.self) {
                _ = try await ClientPaginationTests.client(transport).snapshot(of: ScriptedSnapshotTests.directory)
            }
            #expect(error?.code == .malformedBody)
        }
    }
}
