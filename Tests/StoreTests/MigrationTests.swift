import Foundation
import Store
import TestHelpers
import Testing

@Suite struct MigrationTests {
    @Test func applyingTwiceIsANoOp() async throws {
        let (_, connection) = try await freshDatabase("migrate_twice", migrated: false)
        let pendingBefore = try await Migrator.pending(on: connection, logger: quietLogger)
        #expect(pendingBefore.map(\.version) == Migration.embedded.map(\.version))
        let first = try await Migrator.apply(on: connection, logger: quietLogger)
        #expect(first == Migration.embedded.map(\.version))
        let second = try await Migrator.apply(on: connection, logger: quietLogger)
        #expect(second.isEmpty)
        #expect(try await Migrator.pending(on: connection, logger: quietLogger).isEmpty)
        let recorded = try await connection.query("SELECT version, name, checksum FROM workos_dsync.schema_migrations ORDER BY version")
        #expect(try recorded.map { try $0.decode(Int.self, "version") } == Migration.embedded.map(\.version))
        #expect(try recorded[0].decode(String.self, "name") == "initial_schema")
        #expect(try recorded[0].decode(String.self, "checksum").count == 64)
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        let (conninfo, first) = try await freshDatabase("migrate_concurrent", migrated: false)
        let second = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        async let a = Migrator.apply(on: first, logger: quietLogger)
        async let b = Migrator.apply(on: second, logger: quietLogger)
        let results = try await [a, b]
        #expect(results.flatMap { $0 }.sorted() == Migration.embedded.map(\.version))
        let count = try await first.query("SELECT count(*) AS n FROM workos_dsync.schema_migrations")[0].decode(Int.self, "n")
        #expect(count == Migration.embedded.count)
    }

    @Test func aMigrationChangedAfterApplyIsRefused() async throws {
        let (_, connection) = try await freshDatabase("migrate_tampered")
        try await connection.execute("UPDATE workos_dsync.schema_migrations SET checksum = 'tampered' WHERE version = 1")
        let error = await thrownError { _ = try await Migrator.apply(on: connection, logger: quietLogger) }
        #expect(error as? MigrationError == .changedAfterApply(version: 1, name: "initial_schema"))
        #expect("\(error!)".contains("0001_initial_schema.sql"))
        // The lock was released: a later (fixed) run can proceed.
        #expect(try await connection.tryAdvisoryLock(AdvisoryLockKey.migrations))
    }

    @Test func embeddedMigrationsEqualTheFilesInSQL() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.range(of: #"^[0-9]{4}_.*\.sql$"#, options: .regularExpression) != nil }
            .sorted()
        #expect(files.count == Migration.embedded.count, "run scripts/embed-sql")
        for (file, migration) in zip(files, Migration.embedded) {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(Migration(file: file, sql: text) == migration, "\(file) differs from EmbeddedMigrations.swift: run scripts/embed-sql")
        }
    }

    @Test func everyContractNameExists() async throws {
        let (_, connection) = try await freshDatabase("migrate_contract")
        let contract: [String: [String]] = [
            "directories": ["id", "organization_id", "name", "domain", "type", "state", "last_complete_sync_at", "removed_at", "created_at", "updated_at"],
            "users": ["id", "email", "first_name", "last_name", "status", "disabled_at", "sessions_revoked_at", "external_id", "anonymized_at", "created_at", "updated_at"],
            "directory_users": [
                "id", "workos_id", "directory_id", "organization_id", "idp_id", "user_id", "email", "first_name", "last_name", "username",
                "job_title", "state", "status", "disabled_at", "disabled_reason", "custom_attributes", "role_slug", "fingerprint",
                "first_seen_at", "last_seen_at", "workos_updated_at",
            ],
            "directory_groups": ["id", "workos_id", "directory_id", "organization_id", "idp_id", "name", "fingerprint", "removed_at", "created_at", "updated_at"],
            "group_memberships": ["directory_group_id", "directory_user_id"],
            "role_mappings": ["id", "organization_id", "directory_id", "group_idp_id", "group_name", "role", "created_at"],
            "effective_roles": ["user_id", "directory_user_id", "directory_id", "organization_id", "role"],
            "email_history": ["id", "directory_user_id", "old_email", "new_email", "changed_at", "run_id"],
            "link_conflicts": ["id", "directory_user_id", "email", "candidate_user_ids", "created_at", "resolved_at"],
            "sync_runs": ["id", "directory_id", "started_at", "finished_at", "outcome", "dry_run", "pages", "users_seen", "groups_seen", "counts", "error"],
            "held_plans": ["id", "directory_id", "created_at", "run_id", "accounts", "fingerprint", "status", "decided_at", "decided_by"],
            "events": ["id", "occurred_at", "type", "directory_id", "directory_user_id", "user_id", "directory_group_id", "reason", "run_id", "payload"],
            "schema_migrations": ["version", "name", "checksum", "applied_at"],
        ]
        for (table, columns) in contract {
            let rows = try await connection.query("""
                SELECT column_name FROM information_schema.columns WHERE table_schema = 'workos_dsync' AND table_name = \(table)
                """)
            let present = Set(try rows.map { try $0.decode(String.self, "column_name") })
            #expect(!present.isEmpty, "missing table or view \(table)")
            for column in columns { #expect(present.contains(column), "missing \(table).\(column)") }
        }
        let view = try await connection.query("SELECT 1 FROM pg_views WHERE schemaname = 'workos_dsync' AND viewname = 'effective_roles'")
        #expect(view.count == 1)
        let function = try await connection.query("""
            SELECT pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'workos_dsync' AND p.proname = 'can_sign_in'
            """)
        #expect(try function.first?.decode(String.self, "args") == "user_id uuid, organization_id text")
        #expect(try function.first?.decode(String.self, "result") == "boolean")
    }
}
