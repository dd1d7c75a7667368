public import Foundation

/// One entry of the simulator's `/events` feed.
public struct SimulatedEvent: Sendable {
    public var id: String
    /// The event type, e.g. `dsync.user.created`.
    public var event: String
    public var directoryID: String
    public var organizationID: String
    /// The user, group or directory the event is about (the user for membership events).
    public var subjectID: String
    public var createdAt: Date
    /// The `data` object exactly as served, as JSON text.
    public var dataJSON: String { String(decoding: data.serialized(), as: UTF8.self) }

    var data: JSON

    init(id: String, event: String, directoryID: String, organizationID: String, subjectID: String, createdAt: Date, data: JSON) {
        self.id = id
        self.event = event
        self.directoryID = directoryID
        self.organizationID = organizationID
        self.subjectID = subjectID
        self.createdAt = createdAt
        self.data = data
    }
}
