import Foundation
import Logging
import PostgresTestSupport
import Store
import Synchronization
import TestHelpers

/// A fresh database (throwaway server or `DATABASE_URL`), migrated or not.
func freshDatabase(_ name: String, migrated: Bool = true) async throws -> (conninfo: String, connection: PostgresConnection) {
    let conninfo = try await TestDatabase.create(name, logger: quietLogger)
    let connection = try await PostgresConnection.connect(conninfo, logger: quietLogger)
    if migrated { _ = try await Migrator.apply(on: connection, logger: quietLogger) }
    return (conninfo, connection)
}

/// Inserts a directory and returns its id.
@discardableResult
func insertDirectory(
    _ connection: PostgresConnection, id: String = "directory_\(UUID().uuidString.prefix(8))", organization: String,
    synced: Bool = true
) async throws -> String {
    try await connection.execute("""
        INSERT INTO workos_dsync.directories (id, organization_id, name, state, last_complete_sync_at)
        VALUES (\(id), \(organization), 'Test', 'linked', \(synced ? Date() : nil))
        """)
    return id
}

/// Inserts a person and returns its id.
func insertUser(_ connection: PostgresConnection, email: String, status: String = "active") async throws -> UUID {
    let rows = try await connection.query("""
        INSERT INTO workos_dsync.users (email, status, disabled_at)
        VALUES (\(email), \(status), \(status == "disabled" ? Date() : nil)) RETURNING id
        """)
    return try rows[0].decode(UUID.self, "id")
}

/// Inserts an account and returns its id.
@discardableResult
func insertAccount(
    _ connection: PostgresConnection, directory: String, organization: String, idpID: String, user: UUID?,
    status: String = "active"
) async throws -> UUID {
    let disabled = status == "disabled"
    let rows = try await connection.query("""
        INSERT INTO workos_dsync.directory_users
            (workos_id, directory_id, organization_id, idp_id, user_id, email, state, status, disabled_at, disabled_reason, fingerprint)
        VALUES (\("directory_user_" + UUID().uuidString), \(directory), \(organization), \(idpID), \(user),
                \(idpID + "@example.com"), \(disabled ? "inactive" : "active"), \(status),
                \(disabled ? Date() : nil), \(disabled ? "inactive" : nil), 'fp')
        RETURNING id
        """)
    return try rows[0].decode(UUID.self, "id")
}

/// The error thrown by `body`, or nil.
func thrownError(_ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}

/// A value shared between tasks under a lock.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { state.withLock { body(&$0) } }
    var value: Value { state.withLock { $0 } }
}
