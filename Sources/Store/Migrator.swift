public import Logging

/// Applies the numbered migrations of `sql/` (embedded in the binary).
///
/// Each migration runs once, in its own transaction, recorded in
/// `workos_dsync.schema_migrations` (version, name, SHA-256 of the text,
/// applied_at). The whole run holds a session advisory lock
/// (`AdvisoryLockKey.migrations`), so two daemons starting at once apply
/// each file once. A migration whose text changed after it was applied is
/// refused: `MigrationError.changedAfterApply` names it. Migrations run as
/// the schema's owner (see `sql/roles.sql`).
public enum Migrator {
    /// Applies what is pending and returns the versions applied (empty when current).
    public static func apply(
        on connection: PostgresConnection, migrations: [Migration] = Migration.embedded, logger: Logger
    ) async throws -> [Int] {
        guard !connection.isInTransaction else {
            throw PostgresError(code: .misuse, message: "migrations take a session lock and their own transactions: call apply outside a transaction")
        }
        try await connection.query("SELECT pg_advisory_lock(\(AdvisoryLockKey.migrations))")
        do {
            try await connection.execute(PostgresQuery(unsafeSQL: """
                CREATE SCHEMA IF NOT EXISTS workos_dsync;
                CREATE TABLE IF NOT EXISTS workos_dsync.schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """))
            let todo = try await pendingWhileLocked(on: connection, migrations: migrations, logger: logger)
            var applied: [Int] = []
            for migration in todo {
                logger.info("applying migration", metadata: ["migration": "\(migration.version) \(migration.name)"])
                try await connection.withTransaction { transaction in
                    try await transaction.execute(PostgresQuery(unsafeSQL: migration.sql))
                    try await transaction.execute("""
                        INSERT INTO workos_dsync.schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'))
                        """)
                }
                applied.append(migration.version)
            }
            try await connection.query("SELECT pg_advisory_unlock(\(AdvisoryLockKey.migrations))")
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(AdvisoryLockKey.migrations))")
            throw error
        }
    }

    /// The migrations not applied yet (all of them on an empty database).
    /// Throws `MigrationError.changedAfterApply` for an applied file whose text changed.
    public static func pending(
        on connection: PostgresConnection, migrations: [Migration] = Migration.embedded, logger: Logger
    ) async throws -> [Migration] {
        try await pendingWhileLocked(on: connection, migrations: migrations, logger: logger)
    }

    private static func pendingWhileLocked(
        on connection: PostgresConnection, migrations: [Migration], logger: Logger
    ) async throws -> [Migration] {
        let exists = try await connection.query("SELECT to_regclass('workos_dsync.schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode(Bool.self, "present") == true else {
            return migrations.sorted { $0.version < $1.version }
        }
        let rows = try await connection.query("SELECT version, name, checksum FROM workos_dsync.schema_migrations ORDER BY version")
        var appliedChecksums: [Int: (name: String, checksum: String)] = [:]
        for row in rows {
            appliedChecksums[try row.decode(Int.self, "version")] = (try row.decode(String.self, "name"), try row.decode(String.self, "checksum"))
        }
        var pending: [Migration] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            guard let applied = appliedChecksums.removeValue(forKey: migration.version) else {
                pending.append(migration)
                continue
            }
            let checksum = try await connection.query(
                "SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex') AS checksum"
            ).first?.decode(String.self, "checksum")
            guard checksum == applied.checksum else {
                throw MigrationError.changedAfterApply(version: migration.version, name: migration.name)
            }
        }
        for (version, applied) in appliedChecksums.sorted(by: { $0.key < $1.key }) {
            logger.warning(
                "the database has a migration this binary does not know (a newer version applied it)",
                metadata: ["migration": "\(version) \(applied.name)"])
        }
        return pending
    }
}

/// A migration problem that needs a person.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file `NNNN_name.sql` was edited after it had been applied: its
    /// checksum differs from the one recorded. Write a new migration instead.
    case changedAfterApply(version: Int, name: String)

    public var description: String {
        switch self {
        case .changedAfterApply(let version, let name):
            let file = String(repeating: "0", count: max(0, 4 - String(version).count)) + "\(version)_\(name).sql"
            return "migration \(file) was changed after it was applied (checksum differs from workos_dsync.schema_migrations); "
                + "restore the applied text and put the change in a new migration"
        }
    }
}
