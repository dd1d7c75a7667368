import Foundation
import TestHelpers
import Testing
import WorkOSSimulator

@Suite("WorkOS simulator: endpoints, validation, pagination")
struct SimulatorAPITests {
    @Test func missingOrWrongKeyGets401WithJSONError() throws {
        let harness = try SimulatorHarness()
        for headers in [[], [("Authorization", "Bearer sk_wrong")], [("Authorization", "sk_test_simulator")]] {
            let response = try harness.get("/directories", headers: headers)
            #expect(response.status == 401)
            #expect(response.object["message"] as? String == "Unauthorized")
            #expect(response.object["code"] != nil)
            #expect(response.header("X-Request-ID")?.isEmpty == false)
        }
        #expect(harness.simulator.statistics.countByStatus[401] == 3)
    }

    @Test func startIsIdempotentAndStopEndsServing() throws {
        let simulator = WorkOSSimulator(SimulatorConfiguration(usersPerDirectory: 1, rateLimit: nil))
        let url = try simulator.start()
        #expect(try simulator.start() == url)
        #expect(simulator.baseURL == url)
        let port = try #require(url.port)
        #expect(try rawRequest(port: port, target: "/directories", headers: [("Authorization", "Bearer sk_test_simulator")])
            .response().status == 200)
        simulator.stop()
        #expect(simulator.baseURL == nil)
        #expect(throws: RawHTTPError.self) { _ = try RawConnection(port: port) }
        // Serving again keeps the data.
        let again = try simulator.start()
        defer { simulator.stop() }
        let body = try rawRequest(port: again.port!, target: "/directories",
                                  headers: [("Authorization", "Bearer sk_test_simulator")]).response()
        #expect(body.data.count == 2)
    }

    @Test func servesOnIPv6LoopbackWithABracketedBaseURL() throws {
        let simulator = WorkOSSimulator(SimulatorConfiguration(usersPerDirectory: 1, rateLimit: nil))
        let url = try simulator.start(host: "::1")
        defer { simulator.stop() }
        let port = try #require(url.port)
        #expect(url.absoluteString == "http://[::1]:\(port)")
        #expect(simulator.baseURL == url)
        #expect(try rawRequest(host: "::1", port: port, target: "/directories", headers: [("Authorization", "Bearer sk_test_simulator")])
            .response().status == 200)
    }

    @Test func everyResponseCarriesARequestID() throws {
        let harness = try SimulatorHarness()
        let first = try harness.get("/directories")
        let second = try harness.get("/nowhere")
        #expect(second.status == 404)
        #expect(first.header("X-Request-ID") != nil)
        #expect(first.header("X-Request-ID") != second.header("X-Request-ID"))
    }

    @Test func limitDefaultsTo10AndMustBe1To100() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 150, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        #expect(try harness.get("/directory_users?directory=\(directory)").data.count == 10)
        #expect(try harness.get("/directory_users?directory=\(directory)&limit=100").data.count == 100)
        #expect(try harness.get("/directory_users?directory=\(directory)&limit=1").data.count == 1)
        for bad in ["0", "101", "abc", "-5", "1.5"] {
            let response = try harness.get("/directory_users?directory=\(directory)&limit=\(bad)")
            #expect(response.status == 422, "limit=\(bad)")
        }
        #expect(try harness.get("/directories?limit=0").status == 422)
        #expect(try harness.get("/directory_groups?directory=\(directory)&order=sideways").status == 422)
    }

    @Test func unknownIDsGet404() throws {
        let harness = try SimulatorHarness()
        #expect(try harness.get("/directory_users?directory=directory_nope").status == 404)
        #expect(try harness.get("/directory_users?group=directory_group_nope").status == 404)
        #expect(try harness.get("/directory_groups?directory=directory_nope").status == 404)
        #expect(try harness.get("/directory_groups?user=directory_user_nope").status == 404)
        #expect(try harness.get("/directories/directory_nope").status == 404)
        #expect(try harness.get("/directory_users/directory_user_nope").status == 404)
        #expect(try harness.get("/directory_groups/directory_group_nope").status == 404)
        let body = try harness.get("/directories/directory_nope").object
        #expect(body["code"] as? String == "entity_not_found")
    }

    @Test func usersNeedExactlyOneOfDirectoryOrGroup() throws {
        let harness = try SimulatorHarness()
        let directory = harness.simulator.directoryIDs[0]
        let group = harness.simulator.groups(in: directory)[0].id
        #expect(try harness.get("/directory_users").status == 422)
        #expect(try harness.get("/directory_users?directory=\(directory)&group=\(group)").status == 422)
        #expect(try harness.get("/directory_groups").status == 422)
        #expect(try harness.get("/directory_users?group=\(group)").status == 200)
    }

    @Test(arguments: ["asc", "desc"])
    func paginationVisitsEveryIDExactlyOnceInOrder(order: String) throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 53, groupsPerDirectory: 12, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[1]
        let truth = harness.simulator.users(in: directory).map(\.id)
        #expect(truth == truth.sorted(), "ids sort in creation order")
        let served = try harness.listAllIDs("/directory_users", query: "directory=\(directory)", limit: 7, order: order)
        #expect(served == (order == "asc" ? truth : truth.reversed()))
        let groups = try harness.listAllIDs("/directory_groups", query: "directory=\(directory)", limit: 5, order: order)
        #expect(Set(groups) == Set(harness.simulator.groups(in: directory).map(\.id)))
        #expect(groups.count == 12)
    }

    @Test func beforeCursorPagesBackwards() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 30, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let truth = harness.simulator.users(in: directory).map(\.id)
        let first = try harness.get("/directory_users?directory=\(directory)&limit=10&order=asc")
        #expect(first.before == nil)
        #expect(first.after == truth[9])
        let second = try harness.get("/directory_users?directory=\(directory)&limit=10&order=asc&after=\(truth[9])")
        #expect(second.data.compactMap { $0["id"] as? String } == Array(truth[10..<20]))
        #expect(second.before == truth[10])
        let back = try harness.get("/directory_users?directory=\(directory)&limit=10&order=asc&before=\(truth[10])")
        #expect(back.data.compactMap { $0["id"] as? String } == Array(truth[0..<10]))
        #expect(back.before == nil)
        let last = try harness.get("/directory_users?directory=\(directory)&limit=10&order=asc&after=\(truth[19])")
        #expect(last.after == nil)
        #expect(last.data.count == 10)
        // desc: the newest first, `after` continues towards older ids.
        let newest = try harness.get("/directory_users?directory=\(directory)&limit=4&order=desc")
        #expect(newest.data.compactMap { $0["id"] as? String } == Array(truth.suffix(4).reversed()))
        #expect(newest.after == truth[26])
    }

    @Test func normalOrderListsNewestFirstWithReversedCursors() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 12, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let truth = harness.simulator.users(in: directory).map(\.id)
        let first = try harness.get("/directory_users?directory=\(directory)&limit=5&order=normal")
        #expect(first.data.compactMap { $0["id"] as? String } == Array(truth.suffix(5).reversed()))
        #expect(first.after == nil, "nothing newer")
        let older = try #require(first.before)
        let second = try harness.get("/directory_users?directory=\(directory)&limit=5&order=normal&before=\(older)")
        #expect(second.data.compactMap { $0["id"] as? String } == Array(truth[2..<7].reversed()))
        #expect(second.after == truth[6])
    }

    @Test func groupMembershipsListThroughUsersPerGroup() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 80, groupsPerDirectory: 8, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        var sizes: [Int] = []
        for group in harness.simulator.groups(in: directory) {
            let served = try harness.listAllIDs("/directory_users", query: "group=\(group.id)", limit: 9)
            #expect(served == harness.simulator.memberIDs(ofGroup: group.id))
            sizes.append(served.count)
        }
        #expect(sizes[0] > sizes[7], "memberships are skewed: the first group is the largest")
        let user = harness.simulator.users(in: directory)[0]
        let groupsOfUser = try harness.listAllIDs("/directory_groups", query: "user=\(user.id)", limit: 3)
        #expect(groupsOfUser == harness.simulator.groupIDs(ofUser: user.id))
    }

    @Test func objectsCarryEveryFieldTheWorkOSSDKRequires() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 5, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let user = try #require(try harness.get("/directory_users?directory=\(directory)&limit=1").data.first)
        for key in ["object", "id", "directory_id", "organization_id", "idp_id", "email", "emails", "first_name", "last_name",
                    "username", "job_title", "state", "custom_attributes", "raw_attributes", "role", "groups",
                    "created_at", "updated_at"] {
            #expect(user.keys.contains(key), "directory_user.\(key)")
        }
        #expect(user["object"] as? String == "directory_user")
        #expect((user["id"] as? String)?.hasPrefix("directory_user_") == true)
        #expect((user["groups"] as? [Any])?.isEmpty == true, "post-2026: groups always []")
        #expect((user["created_at"] as? String)?.hasSuffix("Z") == true)
        let group = try #require(try harness.get("/directory_groups?directory=\(directory)&limit=1").data.first)
        for key in ["object", "id", "idp_id", "directory_id", "organization_id", "name", "raw_attributes", "created_at", "updated_at"] {
            #expect(group.keys.contains(key), "directory_group.\(key)")
        }
        let listed = try harness.get("/directories?limit=100")
        #expect(listed.data.count == 2)
        let single = try harness.get("/directories/\(directory)").object
        for key in ["object", "id", "organization_id", "external_key", "name", "domain", "type", "state", "created_at", "updated_at"] {
            #expect(single.keys.contains(key), "directory.\(key)")
        }
        #expect(single["state"] as? String == "linked")
        let userID = try #require(user["id"] as? String)
        #expect(try harness.get("/directory_users/\(userID)").object["id"] as? String == userID)
    }

    @Test func deprecatedUserFieldsCanBeLeftOut() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 2, rateLimit: nil, includeDeprecatedFields: false))
        let user = try #require(try harness.get("/directory_users?directory=\(harness.simulator.directoryIDs[0])").data.first)
        for key in ["emails", "username", "job_title", "raw_attributes"] { #expect(user[key] == nil, "\(key) left out") }
        #expect(user["email"] != nil)
        #expect(user["custom_attributes"] != nil)
    }

    @Test(arguments: [(TimestampStyle.iso8601, "2025-01-06T09:00:01.000Z"), (.spaceWithoutZone, "2025-01-06 09:00:01.000")])
    func timestampsFollowTheStyle(style: TimestampStyle, firstDirectoryCreatedAt: String) throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 1, rateLimit: nil, timestampStyle: style))
        let directory = try harness.get("/directories/\(harness.simulator.directoryIDs[0])").object
        #expect(directory["created_at"] as? String == firstDirectoryCreatedAt)
    }

    @Test func directoryFiltersSelect() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(directories: 3, usersPerDirectory: 1, rateLimit: nil))
        let second = try #require(harness.simulator.directories().dropFirst().first)
        let byOrganization = try harness.get("/directories?organization_id=\(second.organizationID)").data
        #expect(byOrganization.compactMap { $0["id"] as? String } == [second.id])
        let byDomain = try harness.get("/directories?domain=\(second.domain.uppercased())").data
        #expect(byDomain.compactMap { $0["id"] as? String } == [second.id])
        let bySearch = try harness.get("/directories?search=globex").data
        #expect(bySearch.compactMap { $0["id"] as? String } == [second.id])
    }

    @Test func embeddedGroupsFollowTheSwitch() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 20, embeddedGroups: true, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let users = try harness.get("/directory_users?directory=\(directory)&limit=100").data
        for user in users {
            let id = try #require(user["id"] as? String)
            let embedded = (user["groups"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(embedded == harness.simulator.groupIDs(ofUser: id))
        }
        #expect(users.contains { !($0["groups"] as? [Any] ?? []).isEmpty })
    }

    @Test func portalLinkNeedsOrganizationAndAValidIntent() throws {
        let harness = try SimulatorHarness()
        let organization = try #require(harness.simulator.directories().first?.organizationID)
        let ok = try harness.post("/portal/generate_link", json: #"{"organization":"\#(organization)","intent":"dsync"}"#)
        #expect(ok.status == 201)
        #expect((ok.object["link"] as? String)?.hasPrefix("https://") == true)
        #expect(try harness.post("/portal/generate_link", json: #"{"organization":"\#(organization)","intent":"nope"}"#).status == 422)
        #expect(try harness.post("/portal/generate_link", json: #"{"intent":"dsync"}"#).status == 422)
        #expect(try harness.post("/portal/generate_link", json: #"{"organization":"org_unknown","intent":"dsync"}"#).status == 404)
    }

    @Test func sameSeedSameDataDifferentSeedDifferentData() throws {
        let configuration = SimulatorConfiguration(seed: 42, usersPerDirectory: 40, groupsPerDirectory: 6, rateLimit: nil)
        let one = try SimulatorHarness(configuration)
        let two = try SimulatorHarness(configuration)
        #expect(one.simulator.directoryIDs == two.simulator.directoryIDs)
        let directory = one.simulator.directoryIDs[0]
        #expect(one.simulator.users(in: directory) == two.simulator.users(in: directory))
        #expect(one.simulator.groups(in: directory) == two.simulator.groups(in: directory))
        for group in one.simulator.groups(in: directory) {
            #expect(one.simulator.memberIDs(ofGroup: group.id) == two.simulator.memberIDs(ofGroup: group.id))
        }
        let target = "/directory_users?directory=\(directory)&limit=100&order=asc"
        #expect(try one.get(target).body == two.get(target).body, "byte-identical pages")
        var other = configuration
        other.seed = 43
        let three = try SimulatorHarness(other)
        #expect(three.simulator.directoryIDs != one.simulator.directoryIDs)
    }

    @Test func generatedDataLooksLikeARealDirectory() {
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            directories: 1, usersPerDirectory: 2000, groupsPerDirectory: 10, deactivation: .keepInactive, rateLimit: nil))
        let users = simulator.users(in: simulator.directoryIDs[0])
        #expect(users.count == 2000)
        let nullEmails = users.filter { $0.email == nil }.count
        let inactive = users.filter { $0.state == "inactive" }.count
        #expect((5...50).contains(nullEmails), "about 1 % null emails, got \(nullEmails)")
        #expect((15...70).contains(inactive), "about 2 % inactive, got \(inactive)")
        #expect(users.contains { $0.firstName?.unicodeScalars.contains { $0.value > 0x2E80 } == true }, "some CJK or emoji names")
        #expect(users.contains { ($0.email ?? "") != ($0.email ?? "").lowercased() }, "mixed-case emails")
        #expect(Set(users.map(\.idpID)).count == 2000)
        let emails = users.compactMap { $0.email?.lowercased() }
        #expect(Set(emails).count == emails.count, "emails are unique case-insensitively")
        let withoutGroups = users.filter { simulator.groupIDs(ofUser: $0.id).isEmpty }.count
        #expect(withoutGroups > 0 && withoutGroups < 2000)
        let deleteMode = WorkOSSimulator(SimulatorConfiguration(directories: 1, usersPerDirectory: 500, rateLimit: nil))
        #expect(deleteMode.users(in: deleteMode.directoryIDs[0]).allSatisfy { $0.state == "active" })
    }
}
