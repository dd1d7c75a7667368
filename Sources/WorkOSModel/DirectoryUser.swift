public import Foundation

/// A user of a directory (`object: "directory_user"`), decoded tolerantly.
///
/// `email` may be null. The deprecated `emails`, `username`, `job_title` and
/// `raw_attributes` may be present or absent; when `email` is absent the
/// primary entry of `emails` stands in for it. Unknown fields are ignored and
/// unknown `state` values are kept; a number where a text field is expected
/// (`"idp_id": 12345`) is read as its text. A missing `id`, `directory_id` or
/// `state` makes the record undecodable rather than guessed: its listing
/// quarantines it (see `QuarantinedRecord`).
@dynamicMemberLookup
public struct DirectoryUser: Sendable, Hashable, Decodable {
    /// A directory user's decoded fields; read and written as members of the
    /// user (`user.email`, `user.state = .inactive`).
    public struct Fields: Sendable, Hashable {
        public var id: String
        public var directoryID: String
        public var organizationID: String?
        /// Empty when the IdP sends none (or an empty one): stored as NULL, never matched.
        public var idpID: String
        public var email: String?
        public var firstName: String?
        public var lastName: String?
        public var username: String?
        public var jobTitle: String?
        public var state: DirectoryUserState
        /// `custom_attributes` as canonical JSON text (`null` when absent): what
        /// fingerprints hash and the store writes; set through `customAttributes`.
        public internal(set) var customAttributesText: String
        /// `role.slug`, when the environment assigns roles.
        public var roleSlug: String?
        /// Ids of the deprecated embedded `groups` array (empty by default since 2026).
        public var embeddedGroupIDs: [String]
        public var createdAt: Date?
        public var updatedAt: Date?
    }

    /// The fields, in one heap object per user: a listing, a plan's writes and
    /// their copies hold a reference each, not ~230 bytes of fields (at 100k
    /// users that is tens of MiB). Copy-on-write, like `Array`.
    @usableFromInline final class Storage: @unchecked Sendable {
        // Mutated only through `DirectoryUser.uniqueStorage()`, when no other value shares it.
        @usableFromInline var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var storage: Storage

    @usableFromInline mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    @inlinable public subscript<Value>(dynamicMember field: KeyPath<Fields, Value>) -> Value {
        storage.fields[keyPath: field]
    }

    @inlinable public subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
        get { storage.fields[keyPath: field] }
        set { uniqueStorage().fields[keyPath: field] = newValue }
    }

    /// The WorkOS id (`directory_user_…`): a declared member, as `WorkOSListable` requires.
    public var id: String {
        get { storage.fields.id }
        set { uniqueStorage().fields.id = newValue }
    }

    /// `custom_attributes` as sent (an object, or `.null` when absent). Held
    /// as its canonical JSON text (`customAttributesText`): one string per
    /// user instead of a dictionary of values; this parses it back.
    public var customAttributes: JSONValue {
        get {
            // The text is `canonicalText` of a decoded value, so it always parses.
            (try? JSONDecoder().decode(JSONValue.self, from: Data(storage.fields.customAttributesText.utf8))) ?? .null
        }
        set { uniqueStorage().fields.customAttributesText = newValue.canonicalText }
    }

    /// True when a text field holds U+FFFD (what `TextRepair` puts in place of bad text).
    public var containsReplacementCharacter: Bool {
        let fields = storage.fields
        let texts = [fields.id, fields.directoryID, fields.organizationID, fields.idpID, fields.email, fields.firstName,
                     fields.lastName, fields.username, fields.jobTitle, fields.roleSlug, fields.customAttributesText]
        return texts.contains { $0?.unicodeScalars.contains("\u{FFFD}") ?? false }
    }

    public static func == (lhs: DirectoryUser, rhs: DirectoryUser) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) { storage.fields.hash(into: &hasher) }

    public init(
        id: String, directoryID: String, organizationID: String?, idpID: String, email: String?,
        firstName: String?, lastName: String?, username: String? = nil, jobTitle: String? = nil,
        state: DirectoryUserState, customAttributes: JSONValue = .object([:]), roleSlug: String? = nil,
        embeddedGroupIDs: [String] = [], createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        storage = Storage(Fields(
            id: id, directoryID: directoryID, organizationID: organizationID, idpID: idpID, email: email,
            firstName: firstName, lastName: lastName, username: username, jobTitle: jobTitle, state: state,
            customAttributesText: customAttributes.canonicalText, roleSlug: roleSlug, embeddedGroupIDs: embeddedGroupIDs,
            createdAt: createdAt, updatedAt: updatedAt))
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
        let email: String?
        if container.contains(.email) {
            email = try container.decodeLenientTextIfPresent(forKey: .email)
        } else {
            let legacyEmails = (try? container.decodeIfPresent([LegacyEmail].self, forKey: .emails)) ?? []
            email = (legacyEmails.first { $0.primary == true } ?? legacyEmails.first)?.value
        }
        self.init(
            id: try container.decodeLenientText(forKey: .id),
            directoryID: try container.decode(String.self, forKey: .directoryID),
            organizationID: try container.decodeIfPresent(String.self, forKey: .organizationID),
            idpID: try container.decodeLenientTextIfPresent(forKey: .idpID) ?? "",
            email: email,
            firstName: try container.decodeLenientTextIfPresent(forKey: .firstName),
            lastName: try container.decodeLenientTextIfPresent(forKey: .lastName),
            username: try? container.decodeLenientTextIfPresent(forKey: .username),
            jobTitle: try? container.decodeLenientTextIfPresent(forKey: .jobTitle),
            // Required: a record without a state is malformed, and quarantining it is safer
            // than reading it as "not active" and disabling the account.
            state: try container.decode(DirectoryUserState.self, forKey: .state),
            customAttributes: try container.decodeIfPresent(JSONValue.self, forKey: .customAttributes) ?? .null,
            roleSlug: (try? container.decodeIfPresent(Role.self, forKey: .role))?.slug,
            embeddedGroupIDs: ((try? container.decodeIfPresent([GroupReference].self, forKey: .groups)) ?? []).map(\.id),
            createdAt: try container.decodeIfPresent(String.self, forKey: .createdAt).flatMap(Timestamp.parse),
            updatedAt: try container.decodeIfPresent(String.self, forKey: .updatedAt).flatMap(Timestamp.parse))
    }
}
