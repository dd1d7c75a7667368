import Daemon
import Testing
import WorkOSModel

/// The scheduler's decisions, driven with instants the test chooses: nothing sleeps.
@Suite struct SchedulePlanTests {
    /// A manual clock's instant: an offset from an arbitrary origin, set by the test.
    struct ManualInstant: InstantProtocol {
        var offset: Duration

        static func at(_ seconds: Double) -> ManualInstant { ManualInstant(offset: .seconds(seconds)) }
        func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
        func duration(to other: ManualInstant) -> Duration { other.offset - offset }
        static func < (lhs: ManualInstant, rhs: ManualInstant) -> Bool { lhs.offset < rhs.offset }
    }

    typealias Plan = SchedulePlan<ManualInstant>

    static func directory(_ id: String, state: DirectoryState = .linked) -> Directory {
        Directory(id: id, organizationID: "org_1", name: id, domain: nil, type: "okta scim v2.0", state: state)
    }

    /// A plan that has listed `ids` at `t = 0`.
    static func listed(_ ids: [String], interval: Duration = .seconds(600), concurrency: Int = 2, selection: [String] = []) -> Plan {
        var plan = Plan(interval: interval, concurrency: concurrency, backoffBase: .seconds(5), selection: selection, now: .at(0))
        let listsNow1 = plan.startListingIfDue(at: .at(0))
        #expect(listsNow1)
        _ = plan.listingSucceeded(listed: ids.map { directory($0) }, known: [], at: .at(0))
        return plan
    }

    static func ids(_ entries: [Plan.Entry]) -> [String] { entries.map(\.directory.id) }
    static func ids(_ directories: [Directory]) -> [String] { directories.map(\.id) }

    @Test func listedDirectoriesAreDueAtOnceThenOneJitteredIntervalAfterASuccess() {
        var plan = Plan(interval: .seconds(600), concurrency: 2, now: .at(0))
        #expect(plan.nextWake() == .at(0))
        let listsNow2 = plan.startListingIfDue(at: .at(0))
        #expect(listsNow2)
        let listsNow3 = plan.startListingIfDue(at: .at(0))
        #expect(!listsNow3, "one listing at a time")
        #expect(plan.nextWake() == nil, "nothing to wait for while the first listing runs")
        let changes = plan.listingSucceeded(listed: [Self.directory("d1"), Self.directory("d2")], known: [], at: .at(3))
        #expect(Self.ids(changes.pickedUp) == ["d1", "d2"])
        #expect(plan.listingDue == .at(603))
        #expect(Self.ids(plan.due(at: .at(3))) == ["d1", "d2"])
        let started1 = plan.startDue(at: .at(3))
        #expect(Self.ids(started1) == ["d1", "d2"])
        #expect(plan.due(at: .at(3)).isEmpty && plan.running == 2)

        // random 0.5 is no jitter; 0 is the low end (−10 %).
        let nextIn1 = plan.finished("d1", failed: false, at: .at(10), random: 0.5)
        #expect(nextIn1 == .seconds(600))
        let nextIn2 = plan.finished("d2", failed: false, at: .at(20), random: 0)
        #expect(nextIn2 == .seconds(540))
        #expect(plan.entries["d1"]?.nextDue == .at(610))
        #expect(plan.entries["d2"]?.nextDue == .at(560))
        #expect(plan.due(at: .at(559)).isEmpty)
        #expect(Self.ids(plan.due(at: .at(560))) == ["d2"])
        #expect(Self.ids(plan.due(at: .at(610))) == ["d2", "d1"], "the earliest due first")
        // The loop sleeps until the next due instant, never more than a tick.
        #expect(plan.nextWake() == .at(560))
        #expect(plan.sleep(at: .at(500), atMost: .seconds(1)) == .seconds(1))
        #expect(plan.sleep(at: .at(559.75), atMost: .seconds(1)) == .milliseconds(250))
        #expect(plan.sleep(at: .at(561), atMost: .seconds(1)) == .zero)
        // A listing that still has them changes nothing.
        let listsNow4 = plan.startListingIfDue(at: .at(602))
        #expect(!listsNow4)
        let listsNow5 = plan.startListingIfDue(at: .at(603))
        #expect(listsNow5)
        let unchanged = plan.listingSucceeded(listed: [Self.directory("d1"), Self.directory("d2")], known: [], at: .at(604))
        #expect(unchanged.isEmpty)
        #expect(plan.entries["d1"]?.nextDue == .at(610))
    }

    @Test func failedRunsBackOffDoublingFromTheBaseCappedAtTheIntervalAndASuccessResets() {
        var plan = Self.listed(["d1"])
        var now = ManualInstant.at(0)
        var delays: [Duration] = []
        for _ in 1...10 {
            let started2 = plan.startDue(at: now)
            #expect(Self.ids(started2) == ["d1"])
            let delay = plan.finished("d1", failed: true, at: now, random: 0.5)!
            delays.append(delay)
            #expect(plan.due(at: now.advanced(by: delay - .milliseconds(1))).isEmpty, "not retried before its backoff")
            now = now.advanced(by: delay)
        }
        #expect(delays == [5, 10, 20, 40, 80, 160, 320, 600, 600, 600].map { Duration.seconds($0) })
        #expect(plan.entries["d1"]?.failures == 10)
        #expect(plan.failing == 1)
        // Jittered, but never past the interval; the same function answers for any count.
        #expect(plan.backoff(failures: 1, random: 0) == .milliseconds(4_500))
        #expect(plan.backoff(failures: 1, random: 0.999) < .milliseconds(5_500))
        #expect(plan.backoff(failures: 12, random: 0.999) == .seconds(600))
        // A success: back to the interval, failures cleared.
        _ = plan.startDue(at: now)
        let nextIn3 = plan.finished("d1", failed: false, at: now, random: 0.5)
        #expect(nextIn3 == .seconds(600))
        #expect(plan.entries["d1"]?.failures == 0)
        #expect(plan.failing == 0)
    }

    @Test func atMostConcurrencyRunAtOnceTheEarliestDueFirst() {
        var plan = Self.listed(["d1", "d2", "d3", "d4", "d5"], concurrency: 2)
        let first = plan.startDue(at: .at(0))
        #expect(Self.ids(first) == ["d1", "d2"], "ties by id")
        #expect(first.allSatisfy { $0.running })
        #expect(plan.running == 2)
        let started3 = plan.startDue(at: .at(1))
        #expect(started3.isEmpty, "both lanes busy")
        #expect(Self.ids(plan.due(at: .at(1))) == ["d3", "d4", "d5"], "due, but waiting for a lane")
        // With every lane busy there is no directory to wake for; only the listing.
        #expect(plan.nextWake() == .at(600))
        plan.finished("d2", failed: false, at: .at(2), random: 0.5)
        #expect(plan.nextWake() == .at(0), "a lane is free and d3 is overdue")
        let started4 = plan.startDue(at: .at(2))
        #expect(Self.ids(started4) == ["d3"])
        let started5 = plan.startDue(at: .at(2))
        #expect(started5.isEmpty)
        plan.finished("d1", failed: true, at: .at(3), random: 0.5)
        plan.finished("d3", failed: false, at: .at(3), random: 0.5)
        let started6 = plan.startDue(at: .at(3))
        #expect(Self.ids(started6) == ["d4", "d5"])
        #expect(plan.running == 2)
        // d1 failed at 3 s: due again at 8 s, before d2 and d3.
        plan.finished("d4", failed: false, at: .at(4), random: 0.5)
        let started7 = plan.startDue(at: .at(7.9))
        #expect(started7.isEmpty)
        let started8 = plan.startDue(at: .at(8))
        #expect(Self.ids(started8) == ["d1"])
    }

    @Test func aDirectoryRemovedFromTheConfigurationIsNoLongerScheduled() {
        var plan = Self.listed(["d1", "d2", "d3"], concurrency: 2)
        let started9 = plan.startDue(at: .at(0))
        #expect(Self.ids(started9) == ["d1", "d2"])
        // A reload keeps only d2: d3 is forgotten now, d1 (running) when its run ends.
        let dropped = plan.reload(interval: .seconds(600), selection: ["d2"], at: .at(1), random: { 0.5 })
        #expect(dropped == ["d1", "d3"])
        #expect(plan.entries["d3"] == nil)
        #expect(plan.entries["d1"]?.retiring == true)
        #expect(plan.running == 2)
        let nextIn4 = plan.finished("d1", failed: false, at: .at(2), random: 0.5)
        #expect(nextIn4 == nil)
        #expect(plan.entries["d1"] == nil && plan.running == 1)
        #expect(plan.due(at: .at(10_000)).isEmpty, "d2 still running; d1 and d3 never due again")
        // The next listing still has all three: only d2 is tracked.
        let listsNow6 = plan.startListingIfDue(at: .at(600))
        #expect(listsNow6)
        let changes = plan.listingSucceeded(listed: ["d1", "d2", "d3"].map { Self.directory($0) }, known: [], at: .at(600))
        #expect(changes.pickedUp.isEmpty)
        #expect(Array(plan.entries.keys) == ["d2"])
        // Widened again: picked up by the next listing, due at once.
        plan.reload(interval: .seconds(600), selection: [], at: .at(700), random: { 0.5 })
        let listsNow7 = plan.startListingIfDue(at: .at(1_200))
        #expect(listsNow7)
        let back = plan.listingSucceeded(listed: ["d1", "d2", "d3"].map { Self.directory($0) }, known: [], at: .at(1_200))
        #expect(Self.ids(back.pickedUp) == ["d1", "d3"])
        #expect(Self.ids(plan.due(at: .at(1_200))) == ["d1", "d3"])
    }

    @Test func aDirectoryGoneFromTheListingIsVanishedIfKnownAndForgottenOtherwise() {
        var plan = Self.listed(["d1", "d2", "d3"], concurrency: 3)
        _ = plan.startDue(at: .at(0))
        plan.finished("d1", failed: false, at: .at(1), random: 0.5)
        plan.finished("d3", failed: true, at: .at(1), random: 0.5)
        let listsNow8 = plan.startListingIfDue(at: .at(600))
        #expect(listsNow8)
        // d1 and d2 are gone from WorkOS; the database knows d1 and d2, not d3; d2 is still running.
        let changes = plan.listingSucceeded(
            listed: [Self.directory("d3")], known: [Self.directory("d1"), Self.directory("d2")], at: .at(600))
        #expect(Self.ids(changes.vanished) == ["d1", "d2"])
        #expect(changes.dropped.isEmpty)
        #expect(plan.entries["d1"]?.vanished == true)
        #expect(plan.entries["d2"]?.running == true, "a vanished directory's run in flight is still counted")
        #expect(plan.running == 1)
        #expect(Self.ids(plan.due(at: .at(600))) == ["d3", "d1"], "a vanished one is due at once, for the removal path")
        // A second listing reports nothing new; a directory neither listed nor known is forgotten.
        let listsNow9 = plan.startListingIfDue(at: .at(1_200))
        #expect(listsNow9)
        let again = plan.listingSucceeded(listed: [], known: [Self.directory("d1"), Self.directory("d2")], at: .at(1_200))
        #expect(again.vanished.isEmpty)
        #expect(again.dropped == ["d3"])
        #expect(plan.entries["d3"] == nil)
    }

    @Test func anIntervalChangeOnReloadMakesNobodyWaitLongerThanTheNewInterval() {
        var plan = Self.listed(["d1", "d2", "d3"], interval: .seconds(3_600), concurrency: 3)
        _ = plan.startDue(at: .at(0))
        plan.finished("d1", failed: false, at: .at(0), random: 0.5)  // due at 3600
        plan.finished("d2", failed: true, at: .at(0), random: 0.5)  // due at 5
        #expect(plan.entries["d1"]?.nextDue == .at(3_600))
        // Shorter: d1 waits at most the new interval (jittered); d2's sooner retry stays; d3 is running.
        var draws = [0.0, 0.5].makeIterator()
        plan.reload(interval: .seconds(60), selection: [], at: .at(10), random: { draws.next()! })
        #expect(plan.interval == .seconds(60))
        #expect(plan.entries["d1"]?.nextDue == .at(64), "10 s + 60 s − 10 %")
        #expect(plan.entries["d2"]?.nextDue == .at(5))
        #expect(plan.listingDue == .at(70))
        // d3's run ends under the new interval; backoff is capped by it too.
        let nextIn5 = plan.finished("d3", failed: false, at: .at(20), random: 0.5)
        #expect(nextIn5 == .seconds(60))
        #expect(plan.backoff(failures: 10, random: 0.5) == .seconds(60))
        // Longer: nobody's wait grows.
        plan.reload(interval: .seconds(7_200), selection: [], at: .at(30), random: { 0.5 })
        #expect(plan.entries["d1"]?.nextDue == .at(64))
        #expect(plan.listingDue == .at(70))
    }

    @Test func aFailingListingBacksOffAndLeavesTheDirectoriesAlone() {
        var plan = Self.listed(["d1"], interval: .seconds(600))
        let listsNow10 = plan.startListingIfDue(at: .at(600))
        #expect(listsNow10)
        let retryIn1 = plan.listingFailed(at: .at(601), random: 0.5)
        #expect(retryIn1 == .seconds(5))
        #expect(plan.entries.keys.contains("d1"), "a failed listing forgets nobody")
        let listsNow11 = plan.startListingIfDue(at: .at(605.9))
        #expect(!listsNow11)
        let listsNow12 = plan.startListingIfDue(at: .at(606))
        #expect(listsNow12)
        let retryIn2 = plan.listingFailed(at: .at(606), random: 0.5)
        #expect(retryIn2 == .seconds(10))
        #expect(plan.listingFailures == 2)
        let listsNow13 = plan.startListingIfDue(at: .at(616))
        #expect(listsNow13)
        _ = plan.listingSucceeded(listed: [Self.directory("d1")], known: [], at: .at(617))
        #expect(plan.listingFailures == 0)
        #expect(plan.listingDue == .at(1_217))
    }

    // MARK: - Fleet scale: the memory cap, the shared schedule, deferral

    @Test func theMemoryCapHoldsListingsByExpectedSizeAndALargeDirectoryIsNotPassedOver() {
        var plan = Plan(interval: .seconds(600), concurrency: 8, backoffBase: .seconds(5), maxUsersInMemory: 1_000, now: .at(0))
        _ = plan.startListingIfDue(at: .at(0))
        let ids = ["a", "b", "c", "d"]
        // a, b, d small; c large (from the shared schedule's last listing); due in that order.
        let shared: [String: (claimableIn: Duration, expectedUsers: Int?)] = [
            "a": (.zero, 400), "b": (.seconds(1), 400), "c": (.seconds(2), 900), "d": (.seconds(3), 100),
        ]
        _ = plan.listingSucceeded(listed: ids.map { Self.directory($0) }, known: [], shared: shared, at: .at(0))
        #expect(plan.entries["c"]?.expectedUsers == 900)
        #expect(Self.ids(plan.startDue(at: .at(10))) == ["a", "b"], "c does not fit beside a and b, and d waits behind it")
        #expect(plan.usersInMemory == 800)
        plan.finished("a", failed: false, users: 450, at: .at(11), random: 0.5)
        #expect(plan.entries["a"]?.expectedUsers == 450, "a finished listing sets the next expected size")
        #expect(plan.startDue(at: .at(11)).isEmpty, "400 + 900 is still over 1,000")
        plan.finished("b", failed: false, at: .at(12), random: 0.5)
        #expect(Self.ids(plan.startDue(at: .at(12))) == ["c", "d"], "alone, c fits; d fits beside it")
        plan.finished("c", failed: false, users: 5_000, at: .at(13), random: 0.5)
        plan.finished("d", failed: false, at: .at(13), random: 0.5)
        #expect(Self.ids(plan.startDue(at: .at(700))) == ["a", "b"])
        plan.finished("a", failed: false, at: .at(701), random: 0.5)
        plan.finished("b", failed: false, at: .at(701), random: 0.5)
        #expect(Self.ids(plan.startDue(at: .at(702))) == ["c"], "a directory over the cap still runs, alone")
        #expect(plan.startDue(at: .at(800)).isEmpty, "nothing beside it")
    }

    @Test func aDirectoryPickedUpIsDueWhenTheSharedScheduleSays() {
        var plan = Plan(interval: .seconds(600), concurrency: 4, now: .at(0))
        _ = plan.startListingIfDue(at: .at(0))
        let shared: [String: (claimableIn: Duration, expectedUsers: Int?)] = ["a": (.seconds(300), nil), "b": (.zero, 10)]
        let changes = plan.listingSucceeded(listed: ["a", "b", "c"].map { Self.directory($0) }, known: [], shared: shared, at: .at(5))
        #expect(Self.ids(changes.pickedUp) == ["a", "b", "c"])
        #expect(plan.entries["a"]?.nextDue == .at(305), "another replica listed it: due when the shared schedule says")
        #expect(Self.ids(plan.due(at: .at(5))) == ["b", "c"], "no row (c) or due now (b): at once")
    }

    @Test func aDeferredDirectoryWaitsWithoutAFailureAndFreesItsLane() {
        var plan = Self.listed(["a", "b"], concurrency: 1)
        #expect(Self.ids(plan.startDue(at: .at(1))) == ["a"])
        plan.deferred("a", claimableIn: .seconds(200), expectedUsers: 50, at: .at(2))
        #expect(plan.running == 0 && plan.failing == 0)
        #expect(plan.entries["a"]?.nextDue == .at(202) && plan.entries["a"]?.expectedUsers == 50)
        #expect(Self.ids(plan.startDue(at: .at(2))) == ["b"], "the lane went to the next due directory")
        #expect(plan.runningIDs == ["b"])
    }

    @Test func aReplicaWithAShareOfTheKeyUsesFewerLanes() {
        var plan = Self.listed(["a", "b", "c", "d"], concurrency: 3)
        plan.shareLanes = 2
        #expect(plan.lanes == 2)
        #expect(Self.ids(plan.startDue(at: .at(1))) == ["a", "b"])
        plan.shareLanes = nil
        #expect(Self.ids(plan.startDue(at: .at(1))) == ["c"], "alone again: every lane")
        plan.shareLanes = 10
        #expect(plan.lanes == 3, "never more than sync.concurrency")
    }
}
