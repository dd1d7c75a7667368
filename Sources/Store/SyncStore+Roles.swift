public import Foundation

/// One row of `role_mappings`: (organization or directory, group `idp_id`
/// or name) → role.
public struct RoleMapping: Sendable, Hashable, Codable {
    public var id: Int64
    public var organizationID: String?
    public var directoryID: String?
    public var groupIdpID: String?
    public var groupName: String?
    public var role: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, role
        case organizationID = "organization_id"
        case directoryID = "directory_id"
        case groupIdpID = "group_idp_id"
        case groupName = "group_name"
        case createdAt = "created_at"
    }
}

/// The scope and group a role mapping names (exactly one of each pair).
public struct RoleMappingKey: Sendable, Hashable {
    public var organizationID: String?
    public var directoryID: String?
    public var groupIdpID: String?
    public var groupName: String?
    public var role: String

    public init(organizationID: String?, directoryID: String?, groupIdpID: String?, groupName: String?, role: String) {
        self.organizationID = organizationID
        self.directoryID = directoryID
        self.groupIdpID = groupIdpID
        self.groupName = groupName
        self.role = role
    }
}

extension SyncStore {
    private static let roleMappingColumns = "id, organization_id, directory_id, group_idp_id, group_name, role, created_at"

    private static func roleMapping(_ row: PostgresRow) throws -> RoleMapping {
        RoleMapping(
            id: try row.decode(Int64.self, "id"), organizationID: try row.decode(String?.self, "organization_id"),
            directoryID: try row.decode(String?.self, "directory_id"), groupIdpID: try row.decode(String?.self, "group_idp_id"),
            groupName: try row.decode(String?.self, "group_name"), role: try row.decode(String.self, "role"),
            createdAt: try row.decode(Date.self, "created_at"))
    }

    /// Every role mapping, by scope, group and role.
    public func roleMappings() async throws -> [RoleMapping] {
        try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT \(Self.roleMappingColumns) FROM workos_dsync.role_mappings
            ORDER BY coalesce(organization_id, directory_id), group_idp_id NULLS LAST, group_name, role, id
            """)).map(Self.roleMapping)
    }

    /// Adds a mapping and writes a `role_mapping.added` event, in one
    /// transaction. The persons it gives a role get `user.roles_changed` on
    /// the directory's next run. Refuses (nothing changed) a mapping that exists.
    public func addRoleMapping(_ key: RoleMappingKey, by actor: String) async throws -> RoleMapping {
        try await connection.withTransaction { tx in
            guard let row = try await tx.query("""
                INSERT INTO workos_dsync.role_mappings (organization_id, directory_id, group_idp_id, group_name, role)
                VALUES (\(key.organizationID), \(key.directoryID), \(key.groupIdpID), \(key.groupName), \(key.role))
                ON CONFLICT DO NOTHING
                RETURNING id, organization_id, directory_id, group_idp_id, group_name, role, created_at
                """).first
            else { throw AdminRefused("this role mapping exists already (see `workos-dsync roles list`)") }
            let mapping = try Self.roleMapping(row)
            try await recordRoleMappingEvent("role_mapping.added", mapping, by: actor, on: tx)
            return mapping
        }
    }

    /// Removes a mapping by id and writes a `role_mapping.removed` event, in
    /// one transaction. Refuses (nothing changed) an unknown id.
    public func removeRoleMapping(id: Int64, by actor: String) async throws -> RoleMapping {
        try await connection.withTransaction { tx in
            guard let row = try await tx.query("""
                DELETE FROM workos_dsync.role_mappings WHERE id = \(id)
                RETURNING id, organization_id, directory_id, group_idp_id, group_name, role, created_at
                """).first
            else { throw AdminRefused("no role mapping \(id) (see `workos-dsync roles list`)") }
            let mapping = try Self.roleMapping(row)
            try await recordRoleMappingEvent("role_mapping.removed", mapping, by: actor, on: tx)
            return mapping
        }
    }

    private func recordRoleMappingEvent(_ type: String, _ mapping: RoleMapping, by actor: String, on tx: PostgresConnection) async throws {
        try await EventLog.lockForAppend(on: tx)
        try await tx.execute("""
            INSERT INTO workos_dsync.events (type, directory_id, reason, payload)
            VALUES (\(type), \(mapping.directoryID), 'admin',
                    jsonb_build_object('role_mapping_id', \(mapping.id)::bigint, 'organization_id', \(mapping.organizationID)::text,
                                       'directory_id', \(mapping.directoryID)::text, 'group_idp_id', \(mapping.groupIdpID)::text,
                                       'group_name', \(mapping.groupName)::text, 'role', \(mapping.role)::text, 'by', \(actor)::text))
            """)
    }
}
