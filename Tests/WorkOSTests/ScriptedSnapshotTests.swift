import Foundation
import Testing
import WorkOS
import WorkOSModel

/// Snapshot rules that need listings no honest server sends: conflicting
/// duplicates, members missing from the user listing, foreign records.
@Suite struct ScriptedSnapshotTests {
    static let directory = Directory(
        id: "directory_1", organizationID: "org_1", name: "Acme", domain: "acme.test", type: "okta scim v2.0",
        state: .linked)

    /// Serves users in pages, one group `g1`, and its members.
    static func transport(userPages: [[String]], members: [String], userJSON: (@Sendable (String, Int) -> String)? = nil) -> ScriptedTransport {
        ScriptedTransport { request, _ in
            switch request.url.path {
            case "/directory_groups":
                return .json(#"{"object":"list","data":[{"object":"directory_group","id":"g1","directory_id":"directory_1","idp_id":"G","name":"Eng"}],"list_metadata":{"before":null,"after":null}}"#)
            case "/directory_users" where request.queryValue("group") != nil:
                return .json(userPage(members, after: nil))
            default:
                let index = request.queryValue("after").flatMap { Int($0.dropFirst("page".count)) } ?? 0
                let after = index + 1 < userPages.count ? "page\(index + 1)" : nil
                if let userJSON {
                    let users = userPages[index].map { userJSON($0, index) }.joined(separator: ",")
                    let cursor = after.map { "\"\($0)\"" } ?? "null"
                    return .json(#"{"object":"list","data":[\#(users)],"list_metadata":{"after":\#(cursor)}}"#)
                }
                return .json(userPage(userPages[index], after: after))
            }
        }
    }

    @Test func aCompleteListingIsASnapshot() async throws {
        let transport = Self.transport(userPages: [["u1", "u2"], ["u3"]], members: ["u1", "u3"])
        let snapshot = try await ClientPaginationTests.client(transport).snapshot(of: Self.directory)
        #expect(snapshot.users.map(\.id) == ["u1", "u2", "u3"])
        #expect(snapshot.groups.map(\.id) == ["g1"])
        #expect(snapshot.memberships == ["g1": ["u1", "u3"]])
        #expect(snapshot.pagesFetched == 4)
    }

    @Test func anIdenticalRepeatAcrossPagesIsToleratedOnce() async throws {
        let transport = Self.transport(userPages: [["u1", "u2"], ["u2", "u3"]], members: [])
        let snapshot = try await ClientPaginationTests.client(transport).snapshot(of: Self.directory)
        #expect(snapshot.users.map(\.id) == ["u1", "u2", "u3"])
        let thrice = Self.transport(userPages: [["u1", "u2"], ["u2", "u3"], ["u2"]], members: [])
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await ClientPaginationTests.client(thrice).snapshot(of: Self.directory)
        }
        #expect(error?.code == .duplicateID)
    }

    @Test func aRepeatWithDifferentContentIsADuplicateID() async throws {
        let transport = Self.transport(userPages: [["u1", "u2"], ["u2"]], members: []) { id, page in
            #"{"id":"\#(id)","directory_id":"directory_1","idp_id":"i-\#(id)","email":"\#(id)-\#(page)@example.com","state":"active"}"#
        }
        let error = await #expect(throws: WorkOSError.self) {
            _ = try await ClientPaginationTests.client(transport).snapshot(of: Self.directory)
        }
        #expect(error?.code == .duplicateID)
        #expect(error?.detail?.contains("u2") == true)
    }

    @Test func aMemberMissingFromTheUserListingIsSkippedThisRun() async throws {
        let transport = Self.transport(userPages: [["u1", "u2"]], members: ["u1", "u9"])
        let snapshot = try await ClientPaginationTests.client(transport).snapshot(of: Self.directory)
        #expect(snapshot.users.map(\.id) == ["u1", "u2"])
        #expect(snapshot.memberships == ["g1": ["u1"]])
        #expect(snapshot.unlistedMemberIDs == ["u9"])
        #expect(snapshot.quarantined.isEmpty)
    }

    @Test func aUserOfAnotherDirectoryIsQuarantinedByItsID() async throws {
        let transport = Self.transport(userPages: [["u1", "u2"]], members: []) { id, _ in
            #"{"id":"\#(id)","directory_id":"\#(id == "u1" ? "directory_2" : "directory_1")","idp_id":"i-\#(id)","email":null,"state":"active"}"#
        }
        let snapshot = try await ClientPaginationTests.client(transport).snapshot(of: Self.directory)
        #expect(snapshot.users.map(\.id) == ["u2"])
        #expect(snapshot.quarantined == [
            QuarantinedRecord(id: "u1", reason: "belongs to directory directory_2, not directory_1", page: 1, requestID: nil),
        ])
    }
}
