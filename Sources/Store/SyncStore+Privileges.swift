extension SyncStore {
    /// The privileges the daemon needs (those `sql/roles.sql` grants `workos_dsync_daemon`)
    /// that the session's role lacks, e.g. `INSERT on workos_dsync.users`; empty when it has them all.
    ///
    /// Every table of the schema needs SELECT, INSERT and UPDATE, except `events`
    /// (append-only: no UPDATE), `role_mappings` and `schema_migrations` (SELECT only);
    /// `group_memberships` and `evented_roles` need DELETE too; views SELECT,
    /// sequences USAGE, the schema USAGE and the database TEMPORARY (COPY staging tables).
    /// A table added by a later migration is covered without a change here, as
    /// `GRANT … ON ALL TABLES` in `sql/roles.sql` covers it.
    public func missingDaemonPrivileges() async throws -> [String] {
        let rows = try await connection.query("""
            SELECT p.privilege || ' on workos_dsync.' || c.relname AS missing
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'workos_dsync'
            CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p(privilege)
            WHERE c.relkind IN ('r', 'p')
              AND (p.privilege <> 'DELETE' OR c.relname IN ('group_memberships', 'evented_roles'))
              AND NOT (p.privilege IN ('INSERT', 'UPDATE') AND c.relname IN ('role_mappings', 'schema_migrations'))
              AND NOT (p.privilege = 'UPDATE' AND c.relname = 'events')
              AND NOT has_table_privilege(c.oid, p.privilege)
            UNION ALL
            SELECT 'SELECT on workos_dsync.' || c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'workos_dsync'
            WHERE c.relkind IN ('v', 'm') AND NOT has_table_privilege(c.oid, 'SELECT')
            UNION ALL
            SELECT 'USAGE on sequence workos_dsync.' || c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'workos_dsync'
            WHERE c.relkind = 'S' AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') ELSE false END
            UNION ALL
            SELECT 'USAGE on schema workos_dsync' WHERE NOT has_schema_privilege('workos_dsync', 'USAGE')
            UNION ALL
            SELECT 'TEMPORARY on database ' || current_database() WHERE NOT has_database_privilege(current_database(), 'TEMPORARY')
            ORDER BY 1
            """)
        return try rows.map { try $0.decode(String.self, "missing") }
    }

    /// The role the session runs as (`current_user`).
    public func currentRole() async throws -> String {
        try await connection.query("SELECT current_user::text AS role").first?.decode(String.self, "role") ?? "?"
    }
}
