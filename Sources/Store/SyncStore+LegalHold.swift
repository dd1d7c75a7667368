public import Foundation

/// A person under legal hold (never anonymised by `purge`).
public struct LegalHold: Sendable, Hashable, Codable {
    public var personID: UUID
    public var email: String?
    public var since: Date
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case email, since, reason
        case personID = "person_id"
    }
}

extension SyncStore {
    /// Puts a person under legal hold (`users.legal_hold_at`,
    /// `legal_hold_reason`) and writes `user.legal_hold_set`, in one
    /// transaction. A new reason replaces the old one. Refuses an unknown or
    /// already purged person.
    public func placeLegalHold(person: UUID, reason: String, by actor: String) async throws -> LegalHold {
        try await connection.withTransaction { tx in
            guard let row = try await tx.query("""
                UPDATE workos_dsync.users SET legal_hold_at = coalesce(legal_hold_at, now()), legal_hold_reason = \(reason),
                    updated_at = now()
                WHERE id = \(person) AND anonymized_at IS NULL
                RETURNING id, email, legal_hold_at, legal_hold_reason
                """).first
            else { throw AdminRefused(try await Self.missingPerson(person, on: tx)) }
            try await recordLegalHoldEvent("user.legal_hold_set", person: person, reason: reason, by: actor, on: tx)
            return try Self.legalHold(row)
        }
    }

    /// Lifts a person's legal hold and writes `user.legal_hold_released`.
    /// Refuses a person that is not under hold.
    public func releaseLegalHold(person: UUID, by actor: String) async throws {
        try await connection.withTransaction { tx in
            guard let row = try await tx.query("""
                WITH old AS (SELECT id, legal_hold_reason FROM workos_dsync.users WHERE id = \(person) AND legal_hold_at IS NOT NULL FOR UPDATE)
                UPDATE workos_dsync.users p SET legal_hold_at = NULL, legal_hold_reason = NULL, updated_at = now()
                FROM old WHERE p.id = old.id RETURNING old.legal_hold_reason
                """).first
            else { throw AdminRefused("person \(person.uuidString.lowercased()) is not under legal hold") }
            try await recordLegalHoldEvent(
                "user.legal_hold_released", person: person, reason: try row.decode(String.self, "legal_hold_reason"), by: actor,
                on: tx)
        }
    }

    /// Every person under legal hold, oldest hold first.
    public func legalHolds() async throws -> [LegalHold] {
        try await connection.query("""
            SELECT id, email, legal_hold_at, legal_hold_reason FROM workos_dsync.users
            WHERE legal_hold_at IS NOT NULL ORDER BY legal_hold_at, id
            """).map(Self.legalHold)
    }

    private static func legalHold(_ row: PostgresRow) throws -> LegalHold {
        LegalHold(
            personID: try row.decode(UUID.self, "id"), email: try row.decode(String?.self, "email"),
            since: try row.decode(Date.self, "legal_hold_at"), reason: try row.decode(String.self, "legal_hold_reason"))
    }

    private static func missingPerson(_ person: UUID, on tx: PostgresConnection) async throws -> String {
        let purged = try await tx.query("""
            SELECT anonymized_at IS NOT NULL AS purged FROM workos_dsync.users WHERE id = \(person)
            """).first?.decode(Bool.self, "purged")
        let id = person.uuidString.lowercased()
        return purged == true ? "person \(id) was already purged (anonymised)" : "no person \(id)"
    }

    private func recordLegalHoldEvent(
        _ type: String, person: UUID, reason: String, by actor: String, on tx: PostgresConnection
    ) async throws {
        try await EventLog.lockForAppend(on: tx)
        try await tx.execute("""
            INSERT INTO workos_dsync.events (type, user_id, reason, payload)
            VALUES (\(type), \(person), 'admin', jsonb_build_object('legal_hold_reason', \(reason)::text, 'by', \(actor)::text))
            """)
    }
}
