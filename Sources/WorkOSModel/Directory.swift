public import Foundation

/// A WorkOS Directory Sync directory (`object: "directory"`).
public struct Directory: Sendable, Hashable, Decodable {
    public var id: String
    public var organizationID: String?
    public var name: String
    public var domain: String?
    /// The provider type, e.g. `okta scim v2.0`; free text because WorkOS adds types.
    public var type: String
    public var state: DirectoryState
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(
        id: String, organizationID: String?, name: String, domain: String?, type: String,
        state: DirectoryState, createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.domain = domain
        self.type = type
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, domain, type, state
        case organizationID = "organization_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        organizationID = try container.decodeIfPresent(String.self, forKey: .organizationID)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        domain = try container.decodeIfPresent(String.self, forKey: .domain)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        state = try container.decodeIfPresent(DirectoryState.self, forKey: .state) ?? .unknown("")
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt).flatMap(Timestamp.parse)
        updatedAt = try container.decodeIfPresent(String.self, forKey: .updatedAt).flatMap(Timestamp.parse)
    }
}
