public import Foundation

/// A user of a directory (`object: "directory_user"`), decoded tolerantly.
///
/// `email` may be null. The deprecated `emails`, `username`, `job_title` and
/// `raw_attributes` may be present or absent; when `email` is absent the
/// primary entry of `emails` stands in for it. Unknown fields are ignored and
/// unknown `state` values are kept; a missing `id`, `directory_id` or `state`
/// makes the record (and so its listing) undecodable rather than guessed.
public struct DirectoryUser: Sendable, Hashable, Decodable {
    public var id: String
    public var directoryID: String
    public var organizationID: String?
    public var idpID: String
    public var email: String?
    public var firstName: String?
    public var lastName: String?
    public var username: String?
    public var jobTitle: String?
    public var state: DirectoryUserState
    /// `custom_attributes` as sent (an object, or `.null` when absent).
    public var customAttributes: JSONValue
    /// `role.slug`, when the environment assigns roles.
    public var roleSlug: String?
    /// Ids of the deprecated embedded `groups` array (empty by default since 2026).
    public var embeddedGroupIDs: [String]
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(
        id: String, directoryID: String, organizationID: String?, idpID: String, email: String?,
        firstName: String?, lastName: String?, username: String? = nil, jobTitle: String? = nil,
        state: DirectoryUserState, customAttributes: JSONValue = .object([:]), roleSlug: String? = nil,
        embeddedGroupIDs: [String] = [], createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.directoryID = directoryID
        self.organizationID = organizationID
        self.idpID = idpID
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.jobTitle = jobTitle
        self.state = state
        self.customAttributes = customAttributes
        self.roleSlug = roleSlug
        self.embeddedGroupIDs = embeddedGroupIDs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, email, emails, username, state, role, groups
        case directoryID = "directory_id"
        case organizationID = "organization_id"
        case idpID = "idp_id"
        case firstName = "first_name"
        case lastName = "last_name"
        case jobTitle = "job_title"
        case customAttributes = "custom_attributes"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    private struct LegacyEmail: Decodable {
        var value: String?
        var primary: Bool?
    }

    private struct Role: Decodable {
        var slug: String?
    }

    private struct GroupReference: Decodable {
        var id: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        directoryID = try container.decode(String.self, forKey: .directoryID)
        organizationID = try container.decodeIfPresent(String.self, forKey: .organizationID)
        idpID = try container.decodeIfPresent(String.self, forKey: .idpID) ?? ""
        if container.contains(.email) {
            email = try container.decodeIfPresent(String.self, forKey: .email)
        } else {
            let legacyEmails = (try? container.decodeIfPresent([LegacyEmail].self, forKey: .emails)) ?? []
            email = (legacyEmails.first { $0.primary == true } ?? legacyEmails.first)?.value
        }
        firstName = try container.decodeIfPresent(String.self, forKey: .firstName)
        lastName = try container.decodeIfPresent(String.self, forKey: .lastName)
        username = try? container.decodeIfPresent(String.self, forKey: .username)
        jobTitle = try? container.decodeIfPresent(String.self, forKey: .jobTitle)
        // Required: a record without a state is malformed, and failing the listing is safer
        // than reading it as "not active" and disabling the account.
        state = try container.decode(DirectoryUserState.self, forKey: .state)
        customAttributes = try container.decodeIfPresent(JSONValue.self, forKey: .customAttributes) ?? .null
        roleSlug = (try? container.decodeIfPresent(Role.self, forKey: .role))?.slug
        embeddedGroupIDs = ((try? container.decodeIfPresent([GroupReference].self, forKey: .groups)) ?? []).map(\.id)
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt).flatMap(Timestamp.parse)
        updatedAt = try container.decodeIfPresent(String.self, forKey: .updatedAt).flatMap(Timestamp.parse)
    }
}
