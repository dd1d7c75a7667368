public import Foundation

/// One entry of the WorkOS Events API (`object: "event"`), decoded tolerantly.
///
/// `event` is kept as the wire string (`dsync.user.created`, …) so new event
/// types pass through; `data` is the payload exactly as sent.
public struct Event: Sendable, Hashable, Decodable {
    public var id: String
    /// The event type, e.g. `dsync.user.updated`.
    public var event: String
    public var data: JSONValue
    public var createdAt: Date?

    public init(id: String, event: String, data: JSONValue, createdAt: Date? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, event, data
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        event = try container.decodeIfPresent(String.self, forKey: .event) ?? ""
        data = try container.decodeIfPresent(JSONValue.self, forKey: .data) ?? .null
        createdAt = (try? container.decodeIfPresent(String.self, forKey: .createdAt)).flatMap { $0 }.flatMap(Timestamp.parse)
    }
}

/// One page of `GET /events`, oldest first.
public struct EventPage: Sendable, Hashable {
    public var events: [Event]
    /// `list_metadata.after` as sent (WorkOS's cursor for the next page), if any.
    public var listMetadataAfter: String?
    /// The `after` to pass next time: the last event's id, or the `after` that was asked for.
    public var cursor: String?
    /// WorkOS's request id of the response.
    public var requestID: String?

    public init(events: [Event], listMetadataAfter: String?, cursor: String?, requestID: String? = nil) {
        self.events = events
        self.listMetadataAfter = listMetadataAfter
        self.cursor = cursor
        self.requestID = requestID
    }
}
