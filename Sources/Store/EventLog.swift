public import Foundation
import WorkOSModel

/// The `workos_dsync.events` outbox: appending in commit order, reading after an id.
///
/// A consumer reads `id > last seen` and never misses a committed row because
/// every insert into `events` first takes the transaction-level advisory lock
/// `appendLockKey` (a statement trigger in the schema does it, and
/// `lockForAppend(on:)` does it explicitly): ids are drawn and committed by one
/// transaction at a time, so no row with a smaller id can become visible
/// after a larger one. The lock is held until commit — write events at the
/// end of the apply transaction, after the row changes.
public enum EventLog {
    /// FNV-1a 64 of `"workos_dsync.events"`; the same constant is in the schema's trigger.
    public static let appendLockKey: Int64 = AdvisoryLockKey.fnv1a64("workos_dsync.events")
    /// The channel of the `NOTIFY` sent by every transaction that wrote events.
    public static let channel = "workos_dsync"

    /// One event to append.
    public struct Event: Sendable, Hashable {
        public var type: String
        public var directoryID: String?
        public var directoryUserID: UUID?
        public var userID: UUID?
        public var directoryGroupID: UUID?
        public var reason: String?
        public var runID: Int64?
        /// A JSON object.
        public var payload: PostgresJSON

        public init(
            type: String, directoryID: String? = nil, directoryUserID: UUID? = nil, userID: UUID? = nil,
            directoryGroupID: UUID? = nil, reason: String? = nil, runID: Int64? = nil, payload: PostgresJSON = PostgresJSON("{}")
        ) {
            self.type = type
            self.directoryID = directoryID
            self.directoryUserID = directoryUserID
            self.userID = userID
            self.directoryGroupID = directoryGroupID
            self.reason = reason
            self.runID = runID
            self.payload = payload
        }
    }

    /// Takes the append lock for the rest of the transaction (idempotent).
    /// `connection` must be the one lent by `withTransaction`.
    public static func lockForAppend(on connection: PostgresConnection) async throws {
        guard connection.isInTransaction else {
            throw PostgresError(code: .misuse, message: "EventLog.lockForAppend needs the connection of a withTransaction body")
        }
        try await connection.query("SELECT pg_advisory_xact_lock(\(appendLockKey))")
    }

    /// Appends events in one statement (in the given order) and returns their ids.
    /// Must run inside a transaction; takes the append lock.
    @discardableResult
    public static func append(_ events: [Event], on connection: PostgresConnection) async throws -> [Int64] {
        guard !events.isEmpty else { return [] }
        try await lockForAppend(on: connection)
        let rows = try await connection.query("""
            INSERT INTO workos_dsync.events
                (type, directory_id, directory_user_id, user_id, directory_group_id, reason, run_id, payload)
            SELECT e.type, e.directory_id, e.directory_user_id, e.user_id, e.directory_group_id, e.reason, e.run_id, e.payload::jsonb
            FROM unnest(\(events.map(\.type)), \(events.map(\.directoryID)), \(events.map(\.directoryUserID)),
                        \(events.map(\.userID)), \(events.map(\.directoryGroupID)), \(events.map(\.reason)),
                        \(events.map(\.runID)), \(events.map(\.payload.text)))
                 WITH ORDINALITY AS e(type, directory_id, directory_user_id, user_id, directory_group_id, reason, run_id, payload, n)
            ORDER BY e.n
            RETURNING id
            """)
        return try rows.map { try $0.decode(Int64.self, "id") }
    }
}
