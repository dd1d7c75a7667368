public import Foundation

/// A directory user as the simulator holds it (ground truth for tests).
public struct SimulatedUser: Sendable, Hashable {
    public var id: String
    public var idpID: String
    public var directoryID: String
    public var organizationID: String
    public var email: String?
    public var firstName: String?
    public var lastName: String?
    public var username: String?
    public var jobTitle: String?
    /// `active` or `inactive` (or any value set through `setUserState`, e.g. legacy `suspended`).
    public var state: String
    public var customAttributes: [String: String]
    public var roleSlug: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, idpID: String, directoryID: String, organizationID: String, email: String?,
        firstName: String?, lastName: String?, username: String?, jobTitle: String?, state: String,
        customAttributes: [String: String], roleSlug: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.idpID = idpID
        self.directoryID = directoryID
        self.organizationID = organizationID
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.jobTitle = jobTitle
        self.state = state
        self.customAttributes = customAttributes
        self.roleSlug = roleSlug
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
