public import Foundation
public import WorkOSModel

/// One WorkOS Directory Sync event (`dsync.*`), typed from an `Event`.
///
/// User events carry a directory user in `data`; membership events carry
/// `data.user` and `data.group`; directory events carry the directory.
public enum DirectoryEvent: Sendable, Hashable {
    case userCreated(DirectoryUser)
    case userUpdated(DirectoryUser)
    case userDeleted(DirectoryUser)
    case groupCreated(DirectoryGroup)
    case groupUpdated(DirectoryGroup)
    case groupDeleted(DirectoryGroup)
    case userAddedToGroup(user: DirectoryUser, group: DirectoryGroup)
    case userRemovedFromGroup(user: DirectoryUser, group: DirectoryGroup)
    case directoryActivated(directoryID: String)
    case directoryDeleted(directoryID: String)

    /// The event names the poller asks `GET /events` for.
    public static let types = [
        "dsync.activated", "dsync.deleted",
        "dsync.user.created", "dsync.user.updated", "dsync.user.deleted",
        "dsync.group.created", "dsync.group.updated", "dsync.group.deleted",
        "dsync.group.user_added", "dsync.group.user_removed",
    ]

    /// Why an event could not be read: it is skipped (the full reconcile covers it).
    public struct Unreadable: Error, Sendable, Hashable, CustomStringConvertible {
        public var eventID: String
        public var detail: String
        public var description: String { "event \(eventID) cannot be read: \(detail)" }
    }

    /// Types the event's payload; throws `Unreadable` for an unknown type or a payload of the wrong shape.
    public init(_ event: Event) throws(Unreadable) {
        func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue?) throws(Unreadable) -> T {
            guard let value else { throw Unreadable(eventID: event.id, detail: "\(event.event) without its object") }
            do {
                return try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
            } catch {
                throw Unreadable(eventID: event.id, detail: "\(event.event): \(ErrorSummary.of(error))")
            }
        }
        let data = event.data
        let field: (String) -> JSONValue? = { name in
            if case .object(let fields) = data { return fields[name] }
            return nil
        }
        switch event.event {
        case "dsync.user.created": self = .userCreated(try decode(DirectoryUser.self, data))
        case "dsync.user.updated": self = .userUpdated(try decode(DirectoryUser.self, data))
        case "dsync.user.deleted": self = .userDeleted(try decode(DirectoryUser.self, data))
        case "dsync.group.created": self = .groupCreated(try decode(DirectoryGroup.self, data))
        case "dsync.group.updated": self = .groupUpdated(try decode(DirectoryGroup.self, data))
        case "dsync.group.deleted": self = .groupDeleted(try decode(DirectoryGroup.self, data))
        case "dsync.group.user_added":
            self = .userAddedToGroup(user: try decode(DirectoryUser.self, field("user")), group: try decode(DirectoryGroup.self, field("group")))
        case "dsync.group.user_removed":
            self = .userRemovedFromGroup(user: try decode(DirectoryUser.self, field("user")), group: try decode(DirectoryGroup.self, field("group")))
        case "dsync.activated", "dsync.deleted":
            guard case .string(let id)? = field("id"), !id.isEmpty else {
                throw Unreadable(eventID: event.id, detail: "\(event.event) without a directory id")
            }
            self = event.event == "dsync.activated" ? .directoryActivated(directoryID: id) : .directoryDeleted(directoryID: id)
        default:
            throw Unreadable(eventID: event.id, detail: "unknown event type \(event.event)")
        }
    }

    /// The directory the event is about.
    public var directoryID: String {
        switch self {
        case .userCreated(let user), .userUpdated(let user), .userDeleted(let user): user.directoryID
        case .groupCreated(let group), .groupUpdated(let group), .groupDeleted(let group): group.directoryID
        case .userAddedToGroup(let user, _), .userRemovedFromGroup(let user, _): user.directoryID
        case .directoryActivated(let id), .directoryDeleted(let id): id
        }
    }

    /// The user the event is about (memberships included), if any.
    public var user: DirectoryUser? {
        switch self {
        case .userCreated(let user), .userUpdated(let user), .userDeleted(let user): user
        case .userAddedToGroup(let user, _), .userRemovedFromGroup(let user, _): user
        default: nil
        }
    }

    /// The group the event is about (memberships included), if any.
    public var group: DirectoryGroup? {
        switch self {
        case .groupCreated(let group), .groupUpdated(let group), .groupDeleted(let group): group
        case .userAddedToGroup(_, let group), .userRemovedFromGroup(_, let group): group
        default: nil
        }
    }
}

/// A short description of a decoding error, without the values it saw.
enum ErrorSummary {
    static func of(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "not decodable"
        }
    }
}
