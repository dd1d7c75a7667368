public import Foundation

/// A directory as the simulator holds it (ground truth for tests).
public struct SimulatedDirectory: Sendable, Hashable {
    public var id: String
    public var organizationID: String
    public var externalKey: String
    public var name: String
    public var domain: String
    /// WorkOS's directory type, e.g. `okta scim v2.0`.
    public var type: String
    /// `linked`, `unlinked`, `validating`, `invalid_credentials`, `deleting`, or anything set by a test.
    public var state: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, organizationID: String, externalKey: String, name: String, domain: String,
        type: String, state: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.externalKey = externalKey
        self.name = name
        self.domain = domain
        self.type = type
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
