import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// The provisioning checklist end to end: simulator over loopback HTTP,
/// the real client, the planner, and a real PostgreSQL.
@Suite struct ProvisioningTests {
    @Test func firstSyncCreatesEveryAccountGroupAndMembershipExactlyOnce() async throws {
        let harness = try await Harness.start(users: 40, groups: 5)
        let reports = try await harness.sync()
        #expect(reports.map(\.outcome) == [.applied])
        let users = harness.simulator.users(in: harness.directoryID)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users") == users.count)
        #expect(try await harness.count("SELECT count(DISTINCT user_id) FROM workos_dsync.directory_users") == users.count)
        let memberships = harness.simulator.groups(in: harness.directoryID).reduce(0) {
            $0 + harness.simulator.memberIDs(ofGroup: $1.id).count
        }
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.group_memberships") == memberships)
        let inactive = users.filter { $0.state != "active" }.count
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users WHERE status = 'disabled'") == inactive)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'user.created'") == users.count)
        let runs = try await harness.rows("SELECT outcome, pages, users_seen FROM workos_dsync.sync_runs")
        #expect(try runs.map { try $0.decode(String.self, "outcome") } == ["applied"])
        #expect(try runs[0].decode(Int.self, "users_seen") == users.count)
        await harness.stop()
    }

    @Test func aNULFromWorkOSIsStoredAsTheReplacementCharacterAndAnEscapedBackslashStaysExact() async throws {
        let harness = try await Harness.start()
        try await harness.sync()
        let user = try #require(harness.activeUsers().first)
        harness.simulator.updateUser(
            user.id, firstName: "Ré\u{0}nee",
            customAttributes: ["department": "R\u{0}D", "path": #"C:\u0000\x"#])
        let reports = try await harness.sync()
        #expect(reports.map(\.outcome) == [.applied])
        let account = try #require(try await harness.account(user.id))
        #expect(try account.decode(String?.self, "first_name") == "Ré\u{FFFD}nee")
        let stored = try await harness.rows("""
            SELECT custom_attributes->>'department' AS department, custom_attributes->>'path' AS path
            FROM workos_dsync.directory_users WHERE workos_id = \(user.id)
            """)
        #expect(try stored[0].decode(String.self, "department") == "R\u{FFFD}D")
        #expect(try stored[0].decode(String.self, "path") == #"C:\u0000\x"#, "a literal backslash-u0000 is text, not a NUL")
        // Stored as the replacement, fingerprinted as sent: the next run has nothing to do.
        #expect(try await harness.sync()[0].summary == PlanSummary())
        await harness.stop()
    }

    @Test func accountsReadAlongsideAListingEqualTheStoredRows() async throws {
        // The store shares the listing's strings with equal stored values; a changed email,
        // a rehire's new id and a deleted user must still read back as stored.
        let harness = try await Harness.start()
        try await harness.sync()
        let users = harness.activeUsers().filter { $0.email != nil }
        harness.simulator.changeEmail(users[0].id, to: "changed.address@example.com")
        harness.simulator.deleteUser(users[1].id)
        let directory = try #require(try await harness.runtime.client.listDirectories().first)
        let listing = PreparedListing(try await harness.runtime.client.snapshot(of: directory))
        let alongside = try await harness.runtime.store.loadState(directoryID: directory.id, for: listing)
        let alone = try await harness.runtime.store.loadState(directoryID: directory.id, for: nil)
        #expect(alongside.accounts == alone.accounts)
        #expect(alongside.accounts.first { $0.workosID == users[0].id }?.email == users[0].email)
        await harness.stop()
    }

    @Test func profileUpdateAndEmailChangeKeepTheRecordWithHistory() async throws {
        let harness = try await Harness.start()
        try await harness.sync()
        let user = try #require(harness.activeUsers().first { $0.email != nil })
        let before = try #require(try await harness.account(user.id))
        harness.simulator.updateUser(user.id, firstName: "Renée", jobTitle: "Staff Engineer")
        harness.simulator.changeEmail(user.id, to: "renee.new@example.com")
        let reports = try await harness.sync()
        #expect(reports[0].summary?.updates == 1)
        #expect(reports[0].summary?.emailChanges == 1)
        #expect(reports[0].plan == nil, "an applied cycle keeps the summary, not every change")
        let after = try #require(try await harness.account(user.id))
        #expect(try after.decode(UUID.self, "id") == before.decode(UUID.self, "id"))
        #expect(try after.decode(String?.self, "first_name") == "Renée")
        #expect(try after.decode(String?.self, "job_title") == "Staff Engineer")
        #expect(try after.decode(String?.self, "email") == "renee.new@example.com")
        let history = try await harness.rows("SELECT old_email, new_email, run_id FROM workos_dsync.email_history")
        #expect(history.count == 1)
        #expect(try history[0].decode(String?.self, "old_email") == user.email)
        #expect(try history[0].decode(String?.self, "new_email") == "renee.new@example.com")
        let person = try await harness.rows("""
            SELECT p.email, p.first_name FROM workos_dsync.users p WHERE p.id = \(try after.decode(UUID.self, "user_id"))
            """)
        #expect(try person[0].decode(String?.self, "email") == "renee.new@example.com")
        let events = try await harness.rows("""
            SELECT type, payload::text AS payload FROM workos_dsync.events
            WHERE directory_user_id = \(try after.decode(UUID.self, "id")) AND type LIKE 'user.%' AND type <> 'user.created'
            ORDER BY id
            """)
        let types = try events.map { try $0.decode(String.self, "type") }
        // One event explains the whole change: the new email and, under `changed`, the other fields.
        #expect(types == ["user.email_changed"])
        let payload = try #require(events.first).decode(String.self, "payload")
        #expect(payload.contains("Staff Engineer"))
        #expect(payload.contains("renee.new@example.com"))
        await harness.stop()
    }

    @Test func groupRoleMappingFollowsMembershipChanges() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        try await harness.sync()
        // The smallest group, so some active user is outside it.
        let group = try #require(harness.simulator.groups(in: harness.directoryID).min {
            harness.simulator.memberIDs(ofGroup: $0.id).count < harness.simulator.memberIDs(ofGroup: $1.id).count
        })
        try await harness.runtime.store.connection.execute("""
            INSERT INTO workos_dsync.role_mappings (directory_id, group_name, role) VALUES (\(harness.directoryID), \(group.name), 'admin')
            """)
        let user = try #require(harness.activeUsers().first { !harness.simulator.groupIDs(ofUser: $0.id).contains(group.id) })
        harness.simulator.addMembership(user: user.id, group: group.id)
        try await harness.sync()
        let accountID = try #require(try await harness.account(user.id)).decode(UUID.self, "id")
        #expect(try await harness.count("""
            SELECT count(*) FROM workos_dsync.effective_roles WHERE directory_user_id = \(accountID) AND role = 'admin'
            """) == 1)
        harness.simulator.removeMembership(user: user.id, group: group.id)
        try await harness.sync()
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.effective_roles WHERE directory_user_id = \(accountID)") == 0)
        let roleEvents = try await harness.rows("""
            SELECT payload->>'before' AS before, payload->>'after' AS after FROM workos_dsync.events
            WHERE type = 'user.roles_changed' AND user_id = (SELECT user_id FROM workos_dsync.directory_users WHERE id = \(accountID))
            ORDER BY id
            """)
        #expect(try roleEvents.map { try $0.decode(String.self, "after") } == ["[\"admin\"]", "[]"])
        await harness.stop()
    }

    @Test func preExistingPersonsLinkByUniqueEmailAndAmbiguityWaitsForAnAdmin() async throws {
        let harness = try await Harness.start(users: 6, groups: 1)
        let users = harness.activeUsers().filter { $0.email != nil }
        let unique = users[0], ambiguous = users[1]
        let uniqueEmail = try #require(unique.email).uppercased()
        let ambiguousEmail = try #require(ambiguous.email)
        let existing = try await harness.rows("""
            INSERT INTO workos_dsync.users (email, first_name) VALUES (\(uniqueEmail), 'Imported')
            RETURNING id
            """)[0].decode(UUID.self, "id")
        try await harness.runtime.store.connection.execute("""
            INSERT INTO workos_dsync.users (email) VALUES (\(ambiguousEmail)), (\(ambiguousEmail.lowercased()))
            """)
        try await harness.sync()
        #expect(try await harness.account(unique.id)?.decode(UUID?.self, "user_id") == existing)
        #expect(try await harness.account(ambiguous.id)?.decode(UUID?.self, "user_id") == nil)
        let conflicts = try await harness.rows("SELECT email, array_length(candidate_user_ids, 1) AS n FROM workos_dsync.link_conflicts")
        #expect(conflicts.count == 1)
        #expect(try conflicts[0].decode(Int.self, "n") == 2)
        // A second sync neither duplicates the conflict nor the account.
        try await harness.sync()
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.link_conflicts") == 1)
        await harness.stop()
    }

    @Test func unchangedResyncWritesNoRow() async throws {
        let harness = try await Harness.start(users: 30, groups: 4)
        try await harness.sync()
        let before = try await harness.tableWrites()
        let reports = try await harness.sync()
        #expect(reports.map(\.outcome) == [.unchanged])
        let after = try await harness.tableWrites()
        let written = after.filter { before[$0.key] != $0.value }
        #expect(written.isEmpty, "rows written by an unchanged resync: \(written)")
        // And a plan says nothing to do.
        let plan = try await harness.sync(.dryRun)
        #expect(plan[0].plan?.isEmpty == true)
        await harness.stop()
    }
}

extension Harness {
    /// Inserted + updated + deleted tuples per `workos_dsync` table, from
    /// `pg_stat_user_tables`, bookkeeping tables (`sync_runs`, `directories`) excluded.
    func tableWrites() async throws -> [String: Int] {
        // Statistics reach pg_stat_user_tables when a backend flushes them:
        // make the engine's session flush, then read from it.
        try await runtime.store.connection.query("SELECT pg_stat_force_next_flush()")
        try await runtime.store.connection.query("SELECT 1")
        var result: [String: Int] = [:]
        for row in try await rows("""
            SELECT relname, (n_tup_ins + n_tup_upd + n_tup_del)::bigint AS writes FROM pg_stat_user_tables
            WHERE schemaname = 'workos_dsync' AND relname NOT IN ('sync_runs', 'directories', 'schema_migrations')
            """)
        {
            result[try row.decode(String.self, "relname")] = Int(try row.decode(Int64.self, "writes"))
        }
        return result
    }
}
