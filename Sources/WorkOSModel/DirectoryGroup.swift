public import Foundation

/// A group of a directory (`object: "directory_group"`).
public struct DirectoryGroup: Sendable, Hashable, Decodable {
    public var id: String
    public var directoryID: String
    public var organizationID: String?
    public var idpID: String
    public var name: String
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(
        id: String, directoryID: String, organizationID: String?, idpID: String, name: String,
        createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.directoryID = directoryID
        self.organizationID = organizationID
        self.idpID = idpID
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case directoryID = "directory_id"
        case organizationID = "organization_id"
        case idpID = "idp_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        directoryID = try container.decode(String.self, forKey: .directoryID)
        organizationID = try container.decodeIfPresent(String.self, forKey: .organizationID)
        idpID = try container.decodeIfPresent(String.self, forKey: .idpID) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt).flatMap(Timestamp.parse)
        updatedAt = try container.decodeIfPresent(String.self, forKey: .updatedAt).flatMap(Timestamp.parse)
    }
}
