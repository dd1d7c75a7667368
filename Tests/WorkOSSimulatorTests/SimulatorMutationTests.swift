import Foundation
import TestHelpers
import Testing
import WorkOSSimulator

@Suite("WorkOS simulator: mutations and the events feed")
struct SimulatorMutationTests {
    static let allDsync = [
        "dsync.user.created", "dsync.user.updated", "dsync.user.deleted", "dsync.group.created", "dsync.group.updated",
        "dsync.group.deleted", "dsync.group.user_added", "dsync.group.user_removed", "dsync.activated", "dsync.deleted",
    ]

    /// Every event of the feed through `after` cursors, as (id, event) pairs.
    static func readFeed(_ harness: SimulatorHarness, filter: String, limit: Int = 3) throws -> [(String, String, [String: Any])] {
        var events: [(String, String, [String: Any])] = []
        var after: String?
        for _ in 0..<1000 {
            var target = "/events?\(filter)&limit=\(limit)"
            if let after { target += "&after=\(after)" }
            let page = try harness.get(target)
            guard page.status == 200 else { throw RawHTTPError(description: "events status \(page.status): \(page.text)") }
            if page.data.isEmpty { return events }
            for event in page.data {
                events.append((event["id"] as? String ?? "", event["event"] as? String ?? "", event["data"] as? [String: Any] ?? [:]))
            }
            after = page.after
        }
        throw RawHTTPError(description: "feed did not end")
    }

    @Test func createdUserIsListedAndFetchedAndAnnounced() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 5, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let id = harness.simulator.createUser(in: directory, email: "New.Person@Example.com", firstName: "Nëw", lastName: "Person")
        #expect(id.hasPrefix("directory_user_"))
        let listed = try harness.listAllIDs("/directory_users", query: "directory=\(directory)")
        #expect(listed.count == 6)
        #expect(listed.last == id, "newest id sorts last")
        let fetched = try harness.get("/directory_users/\(id)").object
        #expect(fetched["email"] as? String == "New.Person@Example.com")
        #expect(fetched["first_name"] as? String == "Nëw")
        let feed = try Self.readFeed(harness, filter: "events=dsync.user.created")
        #expect(feed.map(\.1) == ["dsync.user.created"])
        #expect(feed.first?.2["id"] as? String == id)
        #expect(harness.simulator.createUser(in: "directory_nope", email: nil, firstName: nil, lastName: nil) == "")
    }

    @Test func eventsFilterAcceptsItsThreeEncodingsAndPagesWithAfter() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 5, groupsPerDirectory: 2, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let user = harness.simulator.users(in: directory)[0].id
        let group = harness.simulator.createGroup(in: directory, name: "Nouveau groupe")
        harness.simulator.addMembership(user: user, group: group)
        harness.simulator.updateUser(user, jobTitle: "CTO")
        harness.simulator.renameGroup(group, to: "Renamed")
        harness.simulator.removeMembership(user: user, group: group)
        let expected = ["dsync.group.created", "dsync.group.user_added", "dsync.user.updated", "dsync.group.updated",
                        "dsync.group.user_removed"]
        let repeated = try Self.readFeed(harness, filter: Self.allDsync.map { "events=\($0)" }.joined(separator: "&"), limit: 2)
        let comma = try Self.readFeed(harness, filter: "events=" + Self.allDsync.joined(separator: "%2C"))
        let brackets = try Self.readFeed(harness, filter: Self.allDsync.map { "events%5B%5D=\($0)" }.joined(separator: "&"))
        #expect(repeated.map(\.1) == expected)
        #expect(comma.map(\.0) == repeated.map(\.0))
        #expect(brackets.map(\.0) == repeated.map(\.0))
        #expect(repeated.map(\.0) == repeated.map(\.0).sorted(), "oldest first, ids ascending")
        // `order` is ignored; a narrower filter selects.
        let onlyGroups = try Self.readFeed(harness, filter: "events=dsync.group.created,dsync.group.updated&order=desc")
        #expect(onlyGroups.map(\.1) == ["dsync.group.created", "dsync.group.updated"])
        let updated = try #require(repeated.first { $0.1 == "dsync.user.updated" }?.2)
        #expect((updated["previous_attributes"] as? [String: Any])?.keys.contains("job_title") == true)
        let added = try #require(repeated.first { $0.1 == "dsync.group.user_added" }?.2)
        #expect((added["user"] as? [String: Any])?["id"] as? String == user)
        #expect((added["group"] as? [String: Any])?["id"] as? String == group)
        #expect(added["directory_id"] as? String == directory)
        // After the last event: an empty page.
        let last = try #require(repeated.last?.0)
        #expect(try harness.get("/events?events=dsync.user.updated&after=\(last)").data.isEmpty)
        #expect(try harness.get("/events").status == 422, "events filter required")
        #expect(try harness.get("/events?events=dsync.user.created&limit=0").status == 422)
    }

    @Test func eventsRangeFilters() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 1, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        harness.simulator.createGroup(in: directory, name: "A")
        let events = harness.simulator.events()
        let created = try #require(events.first?.createdAt)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let before = formatter.string(from: created.addingTimeInterval(-60))
        let after = formatter.string(from: created.addingTimeInterval(60))
        #expect(try harness.get("/events?events=dsync.group.created&range_start=\(before)&range_end=\(after)").data.count == 1)
        #expect(try harness.get("/events?events=dsync.group.created&range_start=\(after)").data.isEmpty)
        #expect(try harness.get("/events?events=dsync.group.created&range_start=yesterday").status == 422)
    }

    @Test func deactivationDeletesByDefault() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 10, groupsPerDirectory: 3, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let leaver = try #require(harness.simulator.users(in: directory).first { !harness.simulator.groupIDs(ofUser: $0.id).isEmpty })
        let groupsBefore = harness.simulator.groupIDs(ofUser: leaver.id)
        harness.simulator.deactivateUser(leaver.id)
        #expect(!(try harness.listAllIDs("/directory_users", query: "directory=\(directory)").contains(leaver.id)))
        #expect(try harness.get("/directory_users/\(leaver.id)").status == 404)
        for group in groupsBefore { #expect(!harness.simulator.memberIDs(ofGroup: group).contains(leaver.id)) }
        let feed = try Self.readFeed(harness, filter: "events=dsync.user.deleted,dsync.group.user_removed")
        #expect(feed.map(\.1) == Array(repeating: "dsync.group.user_removed", count: groupsBefore.count) + ["dsync.user.deleted"])
        #expect(feed.last?.2["state"] as? String == "inactive")
        // Rehire: a new WorkOS id, the same idp_id, active, the old profile.
        let rehired = harness.simulator.rehireUser(idpID: leaver.idpID, in: directory)
        #expect(rehired != leaver.id)
        let record = try harness.get("/directory_users/\(rehired)").object
        #expect(record["idp_id"] as? String == leaver.idpID)
        #expect(record["state"] as? String == "active")
        #expect(record["email"] as? String == leaver.email)
    }

    @Test func oneChangeEmittingSeveralEventsKeepsTheFeedOrdered() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 30, groupsPerDirectory: 12, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let busiest = try #require(harness.simulator.users(in: directory).max {
            harness.simulator.groupIDs(ofUser: $0.id).count < harness.simulator.groupIDs(ofUser: $1.id).count
        })
        let groupCount = harness.simulator.groupIDs(ofUser: busiest.id).count
        try #require(groupCount >= 3)
        harness.simulator.deleteUser(busiest.id)
        let truth = harness.simulator.events().map(\.id)
        #expect(truth.count == groupCount + 1)
        #expect(truth == truth.sorted() && Set(truth).count == truth.count, "strictly increasing ids")
        let served = try Self.readFeed(harness, filter: "events=dsync.group.user_removed,dsync.user.deleted", limit: 1)
        #expect(served.map(\.0) == truth, "one by one with `after`, nothing skipped")
    }

    @Test func deactivationCanKeepInactiveUsers() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 10, deactivation: .keepInactive, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let user = try #require(harness.simulator.users(in: directory).first { $0.state == "active" })
        harness.simulator.deactivateUser(user.id)
        #expect(try harness.get("/directory_users/\(user.id)").object["state"] as? String == "inactive")
        let feed = try Self.readFeed(harness, filter: "events=dsync.user.updated")
        #expect(((feed.last?.2["previous_attributes"]) as? [String: Any])?["state"] as? String == "active")
        harness.simulator.setDeactivation(.delete)
        let other = try #require(harness.simulator.users(in: directory).first { $0.state == "active" })
        harness.simulator.deactivateUser(other.id)
        #expect(try harness.get("/directory_users/\(other.id)").status == 404)
    }

    @Test func emailChangesAndNullEmails() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 3, rateLimit: nil))
        let user = harness.simulator.users(in: harness.simulator.directoryIDs[0])[0]
        harness.simulator.changeEmail(user.id, to: "Renamed@Example.COM")
        var record = try harness.get("/directory_users/\(user.id)").object
        #expect(record["email"] as? String == "Renamed@Example.COM")
        #expect(((record["emails"] as? [[String: Any]])?.first?["value"]) as? String == "Renamed@Example.COM")
        harness.simulator.changeEmail(user.id, to: nil)
        record = try harness.get("/directory_users/\(user.id)").object
        #expect(record["email"] is NSNull)
        #expect((record["emails"] as? [Any])?.isEmpty == true)
        let feed = try Self.readFeed(harness, filter: "events=dsync.user.updated")
        #expect(feed.count == 2)
        #expect((feed[0].2["previous_attributes"] as? [String: Any])?["email"] as? String == user.email)
    }

    @Test func groupLifecycle() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 4, groupsPerDirectory: 1, rateLimit: nil))
        let directory = harness.simulator.directoryIDs[0]
        let users = harness.simulator.users(in: directory).map(\.id)
        let group = harness.simulator.createGroup(in: directory, name: "Ops 🚀")
        for user in users { harness.simulator.addMembership(user: user, group: group) }
        #expect(try harness.listAllIDs("/directory_users", query: "group=\(group)") == users)
        harness.simulator.renameGroup(group, to: "Opérations")
        #expect(try harness.get("/directory_groups/\(group)").object["name"] as? String == "Opérations")
        harness.simulator.deleteGroup(group)
        #expect(try harness.get("/directory_groups/\(group)").status == 404)
        #expect(try harness.get("/directory_users?group=\(group)").status == 404)
        #expect(harness.simulator.groupIDs(ofUser: users[0]).allSatisfy { $0 != group })
        let feed = try Self.readFeed(harness, filter: "events=dsync.group.created,dsync.group.updated,dsync.group.deleted")
        #expect(feed.map(\.1) == ["dsync.group.created", "dsync.group.updated", "dsync.group.deleted"])
    }

    @Test func directoryStateAndDeletion() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 3, rateLimit: nil))
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        harness.simulator.setDirectoryState(first, "invalid_credentials")
        #expect(try harness.get("/directories/\(first)").object["state"] as? String == "invalid_credentials")
        harness.simulator.setDirectoryState(first, "something_new")
        #expect(try harness.get("/directories/\(first)").object["state"] as? String == "something_new")
        harness.simulator.setDirectoryState(first, "linked")
        harness.simulator.deleteDirectory(second)
        #expect(try harness.get("/directories/\(second)").status == 404)
        #expect(try harness.get("/directory_users?directory=\(second)").status == 404)
        #expect(try harness.listAllIDs("/directories", query: "x=1") == [first])
        #expect(harness.simulator.directoryIDs == [first])
        let feed = try Self.readFeed(harness, filter: "events=dsync.activated,dsync.deleted")
        #expect(feed.map(\.1) == ["dsync.activated", "dsync.deleted"])
        #expect(feed.last?.2["id"] as? String == second)
    }

    @Test func statisticsAttributeRequestsToDirectories() throws {
        let harness = try SimulatorHarness(SimulatorConfiguration(usersPerDirectory: 3, rateLimit: nil))
        let (first, second) = (harness.simulator.directoryIDs[0], harness.simulator.directoryIDs[1])
        let group = harness.simulator.groups(in: first)[0].id
        _ = try harness.get("/directory_users?directory=\(first)")
        _ = try harness.get("/directory_users?group=\(group)")
        _ = try harness.get("/directory_groups?directory=\(first)")
        _ = try harness.get("/directories/\(second)")
        let statistics = harness.simulator.statistics
        #expect(statistics.totalRequests == 4)
        #expect(statistics.countByStatus[200] == 4)
        #expect(statistics.requests(for: first) == 3)
        #expect(statistics.requests(for: second) == 1)
        #expect(statistics.directories[first]?.directoryUsersRequestTimes.count == 2)
        #expect(statistics.requestsByRoute["GET /directory_users"] == 2)
        #expect(statistics.requestsByRoute["GET /directories/{id}"] == 1)
        harness.simulator.resetStatistics()
        #expect(harness.simulator.statistics.totalRequests == 0)
    }
}
