import Foundation
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

extension LoopbackSimulatorTests {
    /// The client against the simulator over real loopback HTTP: complete
    /// listings, retries through random faults, and typed errors — never a
    /// snapshot — for every kind of incomplete listing.
    @Suite struct SimulatorSnapshotTests {
        @Test func tenThousandUsersAndTwoHundredGroupsAreListedExactlyOnce() async throws {
            let harness = try SimulatorHarness(
                SimulatorConfiguration(directories: 1, usersPerDirectory: 10_000, groupsPerDirectory: 200, rateLimit: nil))
            defer { harness.stop() }
            let client = harness.client()
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let directory = try await client.directory(directoryID)
            #expect(directory.state.isHealthy)

            let started = ContinuousClock.now
            let snapshot = try await client.snapshot(of: directory)
            let elapsed = started.duration(to: .now)

            let truth = harness.groundTruth(directoryID)
            #expect(snapshot.users.count == 10_000)
            #expect(Set(snapshot.users.map(\.id)).count == snapshot.users.count)
            #expect(Set(snapshot.users.map(\.id)) == truth.users)
            #expect(snapshot.groups.count == 200)
            #expect(snapshot.memberships.count == 200)
            for (groupID, members) in snapshot.memberships {
                #expect(Set(members).count == members.count, "group \(groupID) lists a member twice")
            }
            #expect(snapshot.memberships.mapValues { $0.sorted() } == truth.memberships.mapValues { $0.sorted() })
            let membershipCount = snapshot.memberships.values.reduce(0) { $0 + $1.count }
            #expect(membershipCount > 10_000)
            // Field by field against the simulator's records.
            let expected = Dictionary(uniqueKeysWithValues: harness.simulator.users(in: directoryID).map { ($0.id, $0) })
            for user in snapshot.users {
                let truth = try #require(expected[user.id])
                #expect(user.email == truth.email && user.idpID == truth.idpID && user.state.rawValue == truth.state)
                #expect(user.firstName == truth.firstName && user.lastName == truth.lastName)
                #expect(user.jobTitle == truth.jobTitle)
            }
            // A repeated value is one string: every user with the same (longer than
            // inline) job title holds the same storage.
            var storageByTitle: [String: UnsafeRawPointer] = [:]
            var sharing = 0
            for user in snapshot.users {
                guard let title = user.jobTitle, title.utf8.count > 15,
                      let storage = title.utf8.withContiguousStorageIfAvailable({ UnsafeRawPointer($0.baseAddress) }) ?? nil
                else { continue }
                let first = storageByTitle[title, default: storage]
                storageByTitle[title] = first
                #expect(first == storage, "\(user.id) holds its own copy of \(title)")
                sharing += 1
            }
            #expect(sharing > snapshot.users.count / 4)
            // One request per page, plus the directory itself.
            let statistics = harness.simulator.statistics
            #expect(statistics.totalRequests == snapshot.pagesFetched + 1)
            print("10,000 users, 200 groups, \(membershipCount) memberships in \(snapshot.pagesFetched) pages, \(elapsed)")
        }

        @Test func randomFaultsAreRetriedAndTheSnapshotIsUnchanged() async throws {
            let harness = try SimulatorHarness(
                SimulatorConfiguration(directories: 1, usersPerDirectory: 2_000, groupsPerDirectory: 20, rateLimit: nil))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let clean = harness.client()
            let directory = try await clean.directory(directoryID)
            let expected = try await clean.snapshot(of: directory)

            harness.simulator.resetStatistics()
            harness.simulator.addRandomFault(.status(503), probability: 0.10)
            harness.simulator.addRandomFault(.status(429), probability: 0.05)
            let clock = VirtualClock()
            let snapshot = try await harness.client(clock: clock).snapshot(of: directory)

            #expect(snapshot == expected)
            let statistics = harness.simulator.statistics
            let failed = statistics.countByStatus[503, default: 0] + statistics.countByStatus[429, default: 0]
            #expect(failed > 10)
            #expect(statistics.totalRequests == snapshot.pagesFetched + failed)
            // The 429s asked for Retry-After: 1, which the (virtual) clock honoured.
            #expect(clock.totalSlept >= .seconds(statistics.countByStatus[429, default: 0]))
            print("\(statistics.totalRequests) requests, \(failed) failed (503/429) and retried, \(snapshot.pagesFetched) pages")
        }

        struct BrokenListing: Sendable, CustomTestStringConvertible {
            var fault: Fault
            var times: Int
            var expected: WorkOSError.Code
            var testDescription: String { "\(fault) ×\(times) → \(expected)" }
        }

        @Test(arguments: [
            BrokenListing(fault: .status(503), times: 1_000, expected: .http),
            BrokenListing(fault: .truncatedBody, times: 1_000, expected: .truncatedBody),
            BrokenListing(fault: .connectionReset, times: 1_000, expected: .transport),
            BrokenListing(fault: .html200, times: 1, expected: .malformedBody),
            BrokenListing(fault: .emptyPageWithCursor, times: 1, expected: .emptyPageWithCursor),
            BrokenListing(fault: .repeatedCursor, times: 1, expected: .repeatedCursor),
        ])
        func aBrokenThirdUsersPageEndsInATypedErrorAndNoSnapshot(_ broken: BrokenListing) async throws {
            let harness = try SimulatorHarness(
                SimulatorConfiguration(directories: 1, usersPerDirectory: 1_000, groupsPerDirectory: 5, rateLimit: nil))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let client = harness.client()
            let directory = try await client.directory(directoryID)
            // The third page of /directory_users?directory= (group listings do not match "directory=").
            harness.simulator.scriptFault(
                broken.fault, matching: RequestMatcher(pathPrefix: "/directory_users", queryContains: "directory="),
                skip: 2, times: broken.times)

            var snapshot: DirectorySnapshot?
            let error = await #expect(throws: WorkOSError.self) { snapshot = try await client.snapshot(of: directory) }
            #expect(snapshot == nil)
            #expect(error?.code == broken.expected)
            #expect(error?.endpoint == "GET /directory_users")
            if broken.times > 1 { #expect(error?.attempts == 8) }
            if case .status(let status) = broken.fault { #expect(error?.status == status) }
            print("\(broken.testDescription): \(error.map(String.init(describing:)) ?? "no error")")
        }

        @Test func aPersistentFaultOnAGroupListingAlsoFailsTheSnapshot() async throws {
            let harness = try SimulatorHarness(
                SimulatorConfiguration(directories: 1, usersPerDirectory: 300, groupsPerDirectory: 5, rateLimit: nil))
            defer { harness.stop() }
            let directoryID = try #require(harness.simulator.directoryIDs.first)
            let group = try #require(harness.simulator.groups(in: directoryID).last)
            harness.simulator.scriptFault(.status(502), matching: RequestMatcher(queryContains: "group=\(group.id)"), times: 1_000)
            let client = harness.client()
            let directory = try await client.directory(directoryID)
            let error = await #expect(throws: WorkOSError.self) { _ = try await client.snapshot(of: directory) }
            #expect(error?.code == .http)
            #expect(error?.status == 502)
        }

    }
}
