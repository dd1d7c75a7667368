import Foundation
import Store
import Testing
import WorkOSModel

@Suite struct SchemaTests {
    @Test func constraintsRejectBadStatusesAndDuplicateAccounts() async throws {
        let (_, connection) = try await freshDatabase("schema_constraints")
        let directory = try await insertDirectory(connection, organization: "org_1")
        let user = try await insertUser(connection, email: "ada@example.com")
        try await insertAccount(connection, directory: directory, organization: "org_1", idpID: "ada", user: user)

        let badUserStatus = await thrownError { _ = try await insertUser(connection, email: "x@example.com", status: "gone") }
        #expect((badUserStatus as? PostgresError)?.code == .checkViolation)

        let badAccountStatus = await thrownError {
            try await connection.execute("""
                INSERT INTO workos_dsync.directory_users (workos_id, directory_id, idp_id, state, status, fingerprint)
                VALUES ('directory_user_x', \(directory), 'x', 'active', 'deleted', 'fp')
                """)
        }
        #expect((badAccountStatus as? PostgresError)?.code == .checkViolation)

        let badReason = await thrownError {
            try await connection.execute("""
                INSERT INTO workos_dsync.directory_users (workos_id, directory_id, idp_id, state, status, disabled_at, disabled_reason, fingerprint)
                VALUES ('directory_user_y', \(directory), 'y', 'active', 'disabled', now(), 'bored', 'fp')
                """)
        }
        #expect((badReason as? PostgresError)?.code == .checkViolation)

        let duplicate = await thrownError {
            try await insertAccount(connection, directory: directory, organization: "org_1", idpID: "ada", user: user)
        }
        let error = try #require(duplicate as? PostgresError)
        #expect(error.code == .uniqueViolation)
        #expect(error.sqlState == "23505")
        #expect(error.constraint == "directory_users_directory_idp_key")
        #expect(!error.description.contains("ada"), "the description must not quote row values")

        let badRun = await thrownError {
            try await connection.execute("INSERT INTO workos_dsync.sync_runs (directory_id, outcome) VALUES (\(directory), 'exploded')")
        }
        #expect((badRun as? PostgresError)?.code == .checkViolation)
        let bothScopes = await thrownError {
            try await connection.execute("""
                INSERT INTO workos_dsync.role_mappings (organization_id, directory_id, group_name, role) VALUES ('org_1', \(directory), 'Admins', 'admin')
                """)
        }
        #expect((bothScopes as? PostgresError)?.code == .checkViolation)
        let badHeld = await thrownError {
            try await connection.execute("INSERT INTO workos_dsync.held_plans (directory_id, accounts, fingerprint, status) VALUES ('d', '[]', 'f', 'maybe')")
        }
        #expect((badHeld as? PostgresError)?.code == .checkViolation)
        let orphan = await thrownError {
            try await insertAccount(connection, directory: "directory_unknown", organization: "org_1", idpID: "z", user: nil)
        }
        #expect((orphan as? PostgresError)?.code == .foreignKeyViolation)
        let noFingerprint = await thrownError {
            try await connection.execute("""
                INSERT INTO workos_dsync.directory_users (workos_id, directory_id, idp_id, state) VALUES ('directory_user_z', \(directory), 'z', 'active')
                """)
        }
        #expect((noFingerprint as? PostgresError)?.code == .notNullViolation)
    }

    @Test func eventsAreAppendOnly() async throws {
        let (_, connection) = try await freshDatabase("schema_events")
        try await connection.withTransaction { transaction in
            try await EventLog.append([EventLog.Event(type: "user.created", directoryID: "d", reason: "new")], on: transaction)
        }
        let update = await thrownError { try await connection.execute("UPDATE workos_dsync.events SET type = 'forged'") }
        #expect((update as? PostgresError)?.sqlState == "42501")
        let delete = await thrownError { try await connection.execute("DELETE FROM workos_dsync.events") }
        #expect((delete as? PostgresError)?.sqlState == "42501")
        let truncate = await thrownError { try await connection.execute("TRUNCATE workos_dsync.events") }
        #expect((truncate as? PostgresError)?.sqlState == "42501")
        let rows = try await connection.query("SELECT type, reason, payload FROM workos_dsync.events")
        #expect(rows.count == 1)
        #expect(try rows[0].decode(String.self, "type") == "user.created")
        #expect(try rows[0].decode(PostgresJSON.self, "payload") == PostgresJSON("{}"))
    }

    @Test func canSignInFollowsTheDirectory() async throws {
        let (_, connection) = try await freshDatabase("schema_can_sign_in")
        let synced = try await insertDirectory(connection, organization: "org_synced")
        let active = try await insertUser(connection, email: "active@example.com")
        let leaver = try await insertUser(connection, email: "leaver@example.com")
        let disabledPerson = try await insertUser(connection, email: "off@example.com", status: "disabled")
        let outsider = try await insertUser(connection, email: "outsider@example.com")
        try await insertAccount(connection, directory: synced, organization: "org_synced", idpID: "active", user: active)
        try await insertAccount(connection, directory: synced, organization: "org_synced", idpID: "leaver", user: leaver, status: "disabled")

        func canSignIn(_ user: UUID, _ organization: String?) async throws -> Bool {
            try await connection.query("SELECT workos_dsync.can_sign_in(\(user), \(organization)) AS ok")[0].decode(Bool.self, "ok")
        }
        // Synced organization: only an active account lets you in.
        #expect(try await canSignIn(active, "org_synced"))
        #expect(try await !canSignIn(leaver, "org_synced"))
        #expect(try await !canSignIn(outsider, "org_synced"))
        // SSO-only organization: anyone not disabled.
        #expect(try await canSignIn(outsider, "org_sso_only"))
        #expect(try await canSignIn(leaver, "org_sso_only"))
        #expect(try await !canSignIn(disabledPerson, "org_sso_only"))
        #expect(try await !canSignIn(UUID(), "org_sso_only"))
        #expect(try await !canSignIn(active, nil))
        // A removed directory no longer governs sign-in.
        try await connection.execute("UPDATE workos_dsync.directories SET removed_at = now() WHERE id = \(synced)")
        #expect(try await canSignIn(outsider, "org_synced"))
    }

    @Test func effectiveRolesComeFromActiveAccountsInLiveGroups() async throws {
        let (_, connection) = try await freshDatabase("schema_roles")
        let directory = try await insertDirectory(connection, organization: "org_r")
        let ada = try await insertUser(connection, email: "ada@example.com")
        let bob = try await insertUser(connection, email: "bob@example.com")
        let adaAccount = try await insertAccount(connection, directory: directory, organization: "org_r", idpID: "ada", user: ada)
        let bobAccount = try await insertAccount(connection, directory: directory, organization: "org_r", idpID: "bob", user: bob, status: "disabled")
        let group = try await connection.query("""
            INSERT INTO workos_dsync.directory_groups (workos_id, directory_id, organization_id, idp_id, name, fingerprint)
            VALUES ('directory_group_1', \(directory), 'org_r', 'g-admins', 'Admins', 'fp') RETURNING id
            """)[0].decode(UUID.self, "id")
        try await connection.execute("""
            INSERT INTO workos_dsync.group_memberships (directory_group_id, directory_user_id)
            SELECT \(group), unnest(\([adaAccount, bobAccount]))
            """)
        try await connection.execute("INSERT INTO workos_dsync.role_mappings (organization_id, group_name, role) VALUES ('org_r', 'Admins', 'admin')")
        try await connection.execute("INSERT INTO workos_dsync.role_mappings (directory_id, group_idp_id, role) VALUES (\(directory), 'g-admins', 'billing')")
        let rows = try await connection.query("SELECT user_id, role FROM workos_dsync.effective_roles ORDER BY role")
        #expect(try rows.map { try $0.decode(UUID.self, "user_id") } == [ada, ada])
        #expect(try rows.map { try $0.decode(String.self, "role") } == ["admin", "billing"])
        try await connection.execute("UPDATE workos_dsync.directory_groups SET removed_at = now()")
        #expect(try await connection.query("SELECT * FROM workos_dsync.effective_roles").isEmpty)
    }
}

@Suite struct RolesTests {
    /// sql/roles.sql gives the reader SELECT, can_sign_in and login_check only, and the daemon DML but no DDL.
    @Test func rolesAreLeastPrivilege() async throws {
        let (_, connection) = try await freshDatabase("roles")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("sql/roles.sql"), encoding: .utf8)
        try await connection.execute(PostgresQuery(unsafeSQL: script))
        try await connection.execute(PostgresQuery(unsafeSQL: script))  // idempotent
        try await connection.execute(PostgresQuery(unsafeSQL: "SET ROLE workos_dsync_reader"))
        #expect(try await connection.query("SELECT count(*) AS n FROM workos_dsync.users")[0].decode(Int.self, "n") == 0)
        #expect(try await connection.query("SELECT workos_dsync.can_sign_in(gen_random_uuid(), 'org') AS ok")[0].decode(Bool.self, "ok") == false)
        // The login helper an application calls with what SSO returned (migration 0009): the reader may call it.
        #expect(try await connection.query(
            "SELECT allowed FROM workos_dsync.login_check('org', 'idp_1', 'nobody@example.com')")[0].decode(Bool.self, "allowed") == false)
        let readerWrite = await thrownError { _ = try await insertUser(connection, email: "r@example.com") }
        #expect((readerWrite as? PostgresError)?.sqlState == "42501")
        try await connection.execute(PostgresQuery(unsafeSQL: "RESET ROLE; SET ROLE workos_dsync_daemon"))
        let user = try await insertUser(connection, email: "d@example.com")
        try await connection.withTransaction { transaction in
            try await EventLog.append([EventLog.Event(type: "user.created", userID: user)], on: transaction)
        }
        let ddl = await thrownError { try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE workos_dsync.sneaky (a int)")) }
        #expect((ddl as? PostgresError)?.sqlState == "42501")
        let rewrite = await thrownError { try await connection.execute("DELETE FROM workos_dsync.events") }
        #expect((rewrite as? PostgresError)?.sqlState == "42501")
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TEMPORARY TABLE staging (a int)"))
        try await connection.execute(PostgresQuery(unsafeSQL: "RESET ROLE"))
    }
}
