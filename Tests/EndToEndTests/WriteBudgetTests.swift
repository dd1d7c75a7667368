import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// Each kind of directory change costs a fixed, small number of row writes —
/// the row itself once, its history, one event per account and per person —
/// and an unchanged directory costs none. Counted by a row-level trigger on
/// every `workos_dsync` table (`sync_runs` and `directories` bookkeeping aside).
@Suite struct WriteBudgetTests {
    static let tables = [
        "users", "directory_users", "directory_groups", "group_memberships", "email_history", "link_conflicts",
        "held_plans", "events",
    ]

    /// A row trigger on each data table appends (table, operation) to `public.row_writes`.
    static func installCounter(_ connection: PostgresConnection) async throws {
        var sql = """
            CREATE TABLE public.row_writes (table_name text NOT NULL, operation text NOT NULL);
            CREATE FUNCTION public.count_row_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO public.row_writes VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
            """
        for table in tables {
            sql += """
                CREATE TRIGGER count_row_write AFTER INSERT OR UPDATE OR DELETE ON workos_dsync.\(table)
                FOR EACH ROW EXECUTE FUNCTION public.count_row_write();
                """
        }
        try await connection.execute(PostgresQuery(unsafeSQL: sql))
    }

    /// Row writes since the last call, by "table operation", and the counter reset.
    func writes(_ harness: Harness) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await harness.rows("""
            SELECT table_name || ' ' || operation AS key, count(*)::int AS count FROM public.row_writes GROUP BY 1
            """)
        {
            result[try row.decode(String.self, "key")] = try row.decode(Int.self, "count")
        }
        try await harness.runtime.store.connection.execute("DELETE FROM public.row_writes")
        return result
    }

    @Test func eachChangeCostsAFixedNumberOfRowWrites() async throws {
        let harness = try await Harness.start(users: 30, groups: 3, deactivation: .keepInactive, prepare: Self.installCounter)
        try await harness.sync()
        _ = try await writes(harness)
        let users = harness.activeUsers()

        try await harness.sync()
        #expect(try await writes(harness).isEmpty, "an unchanged directory costs no row writes")

        // Deactivated (kept inactive): the account row once (state and disable in one UPDATE),
        // the person once, one event for each.
        harness.simulator.deactivateUser(users[0].id)
        try await harness.sync()
        #expect(try await writes(harness) == [
            "directory_users UPDATE": 1, "users UPDATE": 1, "events INSERT": 2,
        ])
        let disabled = try await harness.rows("""
            SELECT payload -> 'changed' -> 'state' AS state FROM workos_dsync.events
            WHERE type = 'user.disabled' AND reason = 'inactive' AND payload ->> 'workos_id' = \(users[0].id)
            """)
        #expect(disabled.count == 1)
        #expect(try disabled.first?.decode(String?.self, "state") == #"["active", "inactive"]"#)

        // Deleted (missing from the listing): the same four writes.
        harness.simulator.deleteUser(users[1].id)
        try await harness.sync()
        #expect(try await writes(harness) == [
            "directory_users UPDATE": 1, "users UPDATE": 1, "events INSERT": 2,
        ])

        // Email change: the account, its email history, one event, the person's profile.
        harness.simulator.changeEmail(users[2].id, to: "moved.\(users[2].id.suffix(6))@example.com")
        try await harness.sync()
        #expect(try await writes(harness) == [
            "directory_users UPDATE": 1, "email_history INSERT": 1, "events INSERT": 1, "users UPDATE": 1,
        ])

        // A new hire in two groups: person, account, its memberships, one event listing the groups.
        let groups = harness.simulator.groups(in: harness.directoryID).map(\.id)
        let hire = harness.simulator.createUser(in: harness.directoryID, email: "hire@example.com", firstName: "New", lastName: "Hire")
        harness.simulator.addMembership(user: hire, group: groups[0])
        harness.simulator.addMembership(user: hire, group: groups[1])
        try await harness.sync()
        #expect(try await writes(harness) == [
            "users INSERT": 1, "directory_users INSERT": 1, "group_memberships INSERT": 2, "events INSERT": 1,
        ])
        let created = try await harness.rows("""
            SELECT jsonb_array_length(payload -> 'groups') AS groups FROM workos_dsync.events
            WHERE type = 'user.created' AND payload ->> 'workos_id' = \(hire)
            """)
        #expect(try created.first?.decode(Int.self, "groups") == 2)

        // An existing account joins a group: the membership, its event, the account's fingerprint.
        let member = users[3].id
        let outside = try #require(groups.first { !harness.simulator.groupIDs(ofUser: member).contains($0) })
        harness.simulator.addMembership(user: member, group: outside)
        try await harness.sync()
        #expect(try await writes(harness) == [
            "group_memberships INSERT": 1, "events INSERT": 1, "directory_users UPDATE": 1,
        ])
        await harness.stop()
    }

    /// A user deactivated and renamed in the same listing: one UPDATE, the state change in the
    /// `user.disabled` event alone, the new email in `user.email_changed`, and the person's profile follows.
    @Test func aDeactivationWithAnEmailChangeIsExplainedOnceAndThePersonFollows() async throws {
        let harness = try await Harness.start(users: 10, groups: 2, deactivation: .keepInactive, prepare: Self.installCounter)
        try await harness.sync()
        _ = try await writes(harness)
        let user = harness.activeUsers()[0]
        harness.simulator.changeEmail(user.id, to: "left.and.renamed@example.com")
        harness.simulator.deactivateUser(user.id)
        try await harness.sync()
        #expect(try await writes(harness) == [
            "directory_users UPDATE": 1, "email_history INSERT": 1, "users UPDATE": 2, "events INSERT": 3,
        ])
        let events = try await harness.rows("""
            SELECT type, payload ? 'changed' AS has_changed, payload -> 'changed' ? 'state' AS has_state
            FROM workos_dsync.events WHERE payload ->> 'workos_id' = \(user.id) AND type <> 'user.created' ORDER BY id
            """)
        let summary = try events.map { "\(try $0.decode(String.self, "type")):\(try $0.decode(Bool.self, "has_changed"))" }
        #expect(summary == ["user.email_changed:false", "user.disabled:true"])
        #expect(try events.last?.decode(Bool?.self, "has_state") == true)
        let person = try await harness.rows("""
            SELECT p.email, p.status FROM workos_dsync.users p JOIN workos_dsync.directory_users d ON d.user_id = p.id
            WHERE d.workos_id = \(user.id)
            """)
        #expect(try person.first?.decode(String?.self, "email") == "left.and.renamed@example.com")
        #expect(try person.first?.decode(String.self, "status") == "disabled")
        await harness.stop()
    }
}

/// A first sync into a schema whose empty tables were vacuumed (as after a
/// `VACUUM ANALYZE` by a DBA right after migrating) fills `group_memberships`
/// without rereading it: PostgreSQL plans a statement against the table as it
/// was, and a check of a vacuumed empty table is a sequential scan that would
/// reread every row the same statement inserts (quadratic).
@Suite struct VacuumedSchemaTests {
    @Test func aFirstSyncIntoVacuumedEmptyTablesDoesNotRereadMemberships() async throws {
        let harness = try await Harness.start(users: 800, groups: 8, pageSize: 100) { admin in
            try await admin.execute(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE)"))
        }
        try await harness.sync()
        let memberships = try await harness.count("SELECT count(*)::int AS count FROM workos_dsync.group_memberships")
        _ = try await harness.rows("SELECT pg_stat_force_next_flush()")
        // Heap block accesses to the table: about three per membership in a sound
        // run (inserting it, then reading it for events and roles); rereading the
        // table per inserted row made it 11 per membership at this size, growing with it.
        let blocks = try await harness.count("""
            SELECT (coalesce(heap_blks_hit, 0) + coalesce(heap_blks_read, 0))::int AS count FROM pg_statio_user_tables
            WHERE schemaname = 'workos_dsync' AND relname = 'group_memberships'
            """)
        #expect(memberships > 1_000)
        #expect(blocks <= 5 * memberships, "\(blocks) block accesses for \(memberships) memberships")
        await harness.stop()
    }
}
