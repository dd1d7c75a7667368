public import Foundation

/// A directory group as the simulator holds it (ground truth for tests).
public struct SimulatedGroup: Sendable, Hashable {
    public var id: String
    public var idpID: String
    public var directoryID: String
    public var organizationID: String
    public var name: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, idpID: String, directoryID: String, organizationID: String, name: String,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.idpID = idpID
        self.directoryID = directoryID
        self.organizationID = organizationID
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
