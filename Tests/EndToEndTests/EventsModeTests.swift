import Daemon
import Foundation
import Logging
import Reconciler
import Store
import Testing
import WorkOS
import WorkOSModel
import SyncCore
import TestHelpers
import WorkOSSimulator

/// Events mode end to end: the simulator's `/events` feed, a real PostgreSQL,
/// the poller applying each `dsync.*` event through the same store and outbox
/// as the full reconcile, with the cursor in the same transaction.
@Suite struct EventsModeTests {

    @Test func everyDsyncEventTypeIsAppliedThroughTheStoreAndOutbox() async throws {
        let harness = try await Harness.start(users: 12, groups: 3)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let (poller, _, connection) = try await harness.eventPoller()
        defer { Task { await connection.close() } }
        let first = try await poller.poll()
        #expect(first.fellBack, "no cursor yet: resume from the complete listing's start")
        let eventsBefore = try await harness.count("SELECT count(*) FROM workos_dsync.events")

        let sim = harness.simulator
        let directory = harness.directoryID
        let users = harness.activeUsers()
        let hire = sim.createUser(in: directory, email: "new.hire@example.com", firstName: "New", lastName: "Hire")
        sim.updateUser(users[0].id, firstName: "Renamed")
        sim.changeEmail(users[1].id, to: "changed@example.com")
        let group = sim.createGroup(in: directory, name: "Editors")
        try await harness.rows("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_name, role) VALUES (\(directory), 'Editors', 'editor')
            """)
        sim.addMembership(user: hire, group: group)
        sim.addMembership(user: users[2].id, group: group)
        sim.renameGroup(group, to: "Editors")  // unchanged name: no event
        let oldGroup = sim.groups(in: directory)[0]
        sim.renameGroup(oldGroup.id, to: "Renamed group")
        sim.removeMembership(user: users[2].id, group: group)
        sim.setUserState(users[3].id, "inactive")
        sim.deleteUser(users[4].id)
        let doomed = sim.groups(in: directory)[1]
        sim.deleteGroup(doomed.id)

        let result = try await poller.poll()
        #expect(result.caughtUp && !result.fellBack)
        #expect(try await harness.accountStatus(hire)?.status == "active")
        #expect(try await harness.account(users[0].id)?.decode(String?.self, "first_name") == "Renamed")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.email_history h JOIN workos_dsync.directory_users d ON d.id = h.directory_user_id
            WHERE d.workos_id = \(users[1].id) AND h.new_email = 'changed@example.com'
            """) == 1)
        #expect(try await harness.accountStatus(users[3].id).map { [$0.status, $0.reason] } == ["disabled", "inactive"])
        #expect(try await harness.accountStatus(users[4].id).map { [$0.status, $0.reason] } == ["disabled", "missing"])
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.group_memberships m JOIN workos_dsync.directory_groups g ON g.id = m.directory_group_id
            JOIN workos_dsync.directory_users u ON u.id = m.directory_user_id WHERE g.workos_id = \(group)
            """) == 1, "the hire is a member; users[2] was added and removed")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_groups WHERE workos_id = \(oldGroup.id) AND name = 'Renamed group'
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.directory_groups WHERE workos_id = \(doomed.id) AND removed_at IS NOT NULL
            """) == 1)
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.effective_roles r JOIN workos_dsync.directory_users u ON u.user_id = r.user_id
            WHERE u.workos_id = \(hire) AND r.role = 'editor'
            """) == 1)
        // The outbox: every change has its row, from its WorkOS event, with no run.
        let types = Set(try await harness.rows("""
            SELECT DISTINCT type FROM workos_dsync.events WHERE workos_event_id IS NOT NULL AND run_id IS NULL
            """).map { try $0.decode(String.self, "type") })
        for type in ["user.created", "user.updated", "user.email_changed", "user.disabled", "group.created", "group.updated",
                     "group.removed", "membership.added", "membership.removed", "user.roles_changed"] {
            #expect(types.contains(type), "\(type) written from an event")
        }
        let eventsAfter = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        #expect(eventsAfter > eventsBefore)

        // Converged: polling again and a full reconcile change nothing the events did not already say.
        _ = try await poller.poll()
        try await harness.sync()
        let extra = try await harness.rows("SELECT type || ' ' || payload::text AS e FROM workos_dsync.events ORDER BY id OFFSET \(eventsAfter)")
        let described = try extra.map { try $0.decode(String.self, "e") }
        #expect(described.isEmpty, "\(described)")
    }

    @Test func replayingTheWholeFeedIsANoOp() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let users = harness.activeUsers()
        harness.simulator.updateUser(users[0].id, lastName: "Later")
        harness.simulator.deactivateUser(users[1].id)
        _ = harness.simulator.createUser(in: harness.directoryID, email: "x@example.com", firstName: "X", lastName: "Y")
        _ = try await poller.poll()
        let snapshot = { try await harness.rows("""
            SELECT string_agg(workos_id || status || coalesce(last_name, '') || coalesce(workos_updated_at::text, ''), ',' ORDER BY workos_id) AS s
            FROM workos_dsync.directory_users
            """)[0].decode(String.self, "s") }
        let before = try await snapshot()
        let events = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        // Rewind the cursor to before every event: the whole feed is replayed.
        try await harness.runtime.store.resetEventCursor(
            keyID: SyncStore.eventKeyID(apiKey: harness.simulator.apiKey), rangeStart: Date(timeIntervalSince1970: 0))
        let replay = try await poller.poll()
        #expect(replay.eventsHandled >= 3)
        #expect(try await snapshot() == before)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == events, "a replay writes no event")
    }

    @Test func anOlderGroupEventNeverOverwritesANewerName() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let group = harness.simulator.groups(in: harness.directoryID)[0]
        harness.simulator.renameGroup(group.id, to: "First name")
        harness.simulator.renameGroup(group.id, to: "Second name")
        _ = try await poller.poll()
        let name = { try await harness.rows(
            "SELECT name FROM workos_dsync.directory_groups WHERE workos_id = \(group.id)")[0].decode(String.self, "name") }
        #expect(try await name() == "Second name")
        let events = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        // Replaying the feed: the first rename is older than the stored group, so it is skipped, not applied and undone.
        try await harness.runtime.store.resetEventCursor(
            keyID: SyncStore.eventKeyID(apiKey: harness.simulator.apiKey), rangeStart: Date(timeIntervalSince1970: 0))
        _ = try await poller.poll()
        #expect(try await name() == "Second name")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == events, "a replayed rename writes no event")
    }

    @Test func aFullReconcileRepairsAMembershipAnEventAddedWhenItsRemovalWasMissed() async throws {
        let harness = try await Harness.start(users: 10, groups: 4)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let groups = harness.simulator.groups(in: harness.directoryID)
        let (user, group) = try #require(harness.activeUsers().lazy.compactMap { user in
            groups.first { !harness.simulator.groupIDs(ofUser: user.id).contains($0.id) }.map { (user, $0) }
        }.first)
        let memberships = { try await harness.count("""
            SELECT count(*) FROM workos_dsync.group_memberships m JOIN workos_dsync.directory_groups g ON g.id = m.directory_group_id
            JOIN workos_dsync.directory_users u ON u.id = m.directory_user_id WHERE g.workos_id = \(group.id) AND u.workos_id = \(user.id)
            """) }
        harness.simulator.addMembership(user: user.id, group: group.id)
        _ = try await poller.poll()
        #expect(try await memberships() == 1)
        // The removal's event is not applied (the poller is behind): the listing is as
        // before the addition, so only a fingerprint the event invalidated brings the account up again.
        harness.simulator.removeMembership(user: user.id, group: group.id)
        try await harness.sync()
        #expect(try await memberships() == 0, "the full reconcile removed the membership the listing no longer has")
        // The late removal event then changes nothing.
        let events = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        _ = try await poller.poll()
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == events)
    }

    @Test func aFullReconcileRacingEventsNeverRevertsNewerData() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        let (poller, connection) = try await harness.syncedEventPoller()
        defer { Task { await connection.close() } }
        let store = harness.runtime.store
        let directory = try #require(try await harness.runtime.client.listDirectories().first)
        // A listing starts and completes...
        // The run's start is the lease's, by the database's clock (the one the events poller writes with).
        let startedAt = try #require(try await store.tryLock(directoryID: directory.id))
        let snapshot = try await harness.runtime.client.snapshot(of: directory)
        // ...while events change a user, delete another and hire a third.
        let users = harness.activeUsers()
        harness.simulator.updateUser(users[0].id, firstName: "Newer")
        harness.simulator.deleteUser(users[1].id)
        let hire = harness.simulator.createUser(in: directory.id, email: "hire@example.com", firstName: "H", lastName: "I")
        _ = try await poller.poll()
        #expect(try await harness.accountStatus(hire)?.status == "active")
        // The older listing is applied afterwards.
        let listing = PreparedListing(snapshot)
        let plan = try Planner.plan(listing, stored: try await store.loadState(directoryID: directory.id, for: listing), policy: SafetyPolicy())
        #expect(plan.disables.contains { $0.workosID == hire }, "the old listing alone would disable the hire as missing")
        _ = try await store.apply(plan, pages: snapshot.pagesFetched, startedAt: startedAt)
        try await store.unlock(directoryID: directory.id)
        #expect(try await harness.account(users[0].id)?.decode(String?.self, "first_name") == "Newer")
        #expect(try await harness.accountStatus(users[1].id)?.status == "disabled")
        #expect(try await harness.accountStatus(hire)?.status == "active")
        // The next listing converges and agrees.
        try await harness.sync()
        #expect(try await harness.accountStatus(hire)?.status == "active")
        #expect(try await harness.accountStatus(users[1].id)?.status == "disabled")
    }

    /// Found by the kill test (EventsKillTests): a poller behind a complete listing replayed a
    /// user update older than the listing and reactivated a leaver the listing had disabled as missing.
    @Test func anEventOlderThanTheListingThatFoundAnAccountMissingDoesNotReactivateIt() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let (poller, _, connection) = try await harness.eventPoller()
        defer { Task { await connection.close() } }
        _ = try await poller.poll()
        let leaver = harness.activeUsers()[0].id
        harness.simulator.updateUser(leaver, lastName: "Before leaving")
        harness.simulator.deleteUser(leaver)
        // The listing runs ahead of the poller: it disables the leaver as missing.
        try await harness.sync()
        #expect(try await harness.accountStatus(leaver).map { [$0.status, $0.reason] } == ["disabled", "missing"])
        // The poller then replays the update (older than the listing) and the deletion.
        _ = try await poller.poll()
        #expect(try await harness.accountStatus(leaver).map { [$0.status, $0.reason] } == ["disabled", "missing"])
        let trail = try await harness.rows("""
            SELECT e.type FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE d.workos_id = \(leaver) AND e.type IN ('user.reactivated', 'user.disabled') ORDER BY e.id
            """).map { try $0.decode(String.self, "type") }
        #expect(trail == ["user.disabled"], "disabled once, never reactivated")
    }

    @Test func anExpiredCursorFallsBackToAFullReconcileAndLosesNothing() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let retention = Duration.seconds(2)
        harness.simulator.setEventRetention(retention)
        let (poller, _, connection) = try await harness.eventPoller { $0.eventsRetention = retention }
        defer { Task { await connection.close() } }
        let users = harness.activeUsers()
        try await Task.sleep(for: .seconds(2))  // the listing is now older than the retention
        harness.simulator.updateUser(users[0].id, firstName: "Applied")
        let first = try await poller.poll()
        #expect(first.fellBack)
        #expect(try await harness.account(users[0].id)?.decode(String?.self, "first_name") == "Applied")
        // The poller stops; changes happen; its cursor expires.
        harness.simulator.deactivateUser(users[1].id)
        try await Task.sleep(for: .milliseconds(2_500))
        harness.simulator.updateUser(users[2].id, firstName: "Late")
        let second = try await poller.poll()
        #expect(second.fellBack, "WorkOS refused the expired cursor")
        #expect(try await harness.accountStatus(users[1].id)?.status == "disabled", "the deactivation whose event expired is not lost")
        #expect(try await harness.account(users[2].id)?.decode(String?.self, "first_name") == "Late")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE d.workos_id = \(users[1].id) AND e.type = 'user.disabled'
            """) == 1, "disabled once")
        let third = try await poller.poll()
        #expect(!third.fellBack && third.caughtUp)
    }

    @Test func theCursorSurvivesARestart() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let (first, _, connection) = try await harness.eventPoller()
        _ = try await first.poll()
        let users = harness.activeUsers()
        harness.simulator.updateUser(users[0].id, firstName: "One")
        _ = try await first.poll()
        await connection.close()
        let events = try await harness.count("SELECT count(*) FROM workos_dsync.events")
        harness.simulator.updateUser(users[1].id, firstName: "Two")
        let (second, _, again) = try await harness.eventPoller()
        defer { Task { await again.close() } }
        let result = try await second.poll()
        #expect(!result.fellBack, "the stored cursor is used")
        #expect(result.eventsHandled == 1, "only the event after the cursor")
        #expect(try await harness.account(users[1].id)?.decode(String?.self, "first_name") == "Two")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events") == events + 1)
    }

    @Test func oneReplicaPollsWhileTheOtherStandsBy() async throws {
        let harness = try await Harness.start(users: 5, groups: 1)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let (first, _, one) = try await harness.eventPoller()
        let (second, _, two) = try await harness.eventPoller()
        defer { Task { await one.close(); await two.close() } }
        #expect(try await first.poll().polled)
        #expect(try await second.poll().polled == false)
    }

    @Test func disablesFromEventsBeyondTheGuardAreHeldForApproval() async throws {
        let harness = try await Harness.start(users: 20, groups: 2, safety: SafetyPolicy(minUsers: 2, fraction: 0))
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let (poller, _, connection) = try await harness.eventPoller()
        defer { Task { await connection.close() } }
        _ = try await poller.poll()
        let leavers = harness.activeUsers().prefix(4).map(\.id)
        for id in leavers { harness.simulator.deactivateUser(id) }
        _ = try await poller.poll()
        let statuses = try await leavers.asyncMap { try await harness.accountStatus($0)?.status }
        #expect(statuses == ["disabled", "disabled", "active", "active"])
        let held = try #require(try await harness.runtime.store.heldPlan(directoryID: harness.directoryID))
        #expect(Set(held.accounts.map(\.workosID)) == Set(leavers.suffix(2)))
        _ = try await harness.runtime.engine.reconcileAll(mode: .approve(heldPlanID: held.id, approver: "test"))
        #expect(try await leavers.asyncMap { try await harness.accountStatus($0)?.status } == Array(repeating: "disabled", count: 4))
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
