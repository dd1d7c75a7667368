/// Something a WorkOS list endpoint returns: identified by its WorkOS id.
public protocol WorkOSListable: Decodable, Sendable, Hashable {
    var id: String { get }
}

extension Directory: WorkOSListable {}
extension DirectoryUser: WorkOSListable {}
extension DirectoryGroup: WorkOSListable {}
extension Event: WorkOSListable {}

/// A directory user read only for its ids (membership listings need no more,
/// and decoding a whole user costs an order of magnitude more).
struct MemberReference: WorkOSListable {
    var id: String
    var directoryID: String

    private enum CodingKeys: String, CodingKey {
        case id
        case directoryID = "directory_id"
    }
}

/// One page of a WorkOS list endpoint.
public struct ListPage<Item: WorkOSListable>: Sendable, Hashable {
    public var items: [Item]
    /// `list_metadata.after`: the cursor of the next page, nil on the last page.
    public var after: String?
    /// 1 for the first page of the listing.
    public var number: Int
    /// WorkOS's request id of the response.
    public var requestID: String?

    public init(items: [Item], after: String?, number: Int, requestID: String? = nil) {
        self.items = items
        self.after = after
        self.number = number
        self.requestID = requestID
    }
}

/// The list envelope `{"object":"list","data":[…],"list_metadata":{"before":…,"after":…}}`.
///
/// Strict where completeness depends on it: `data` must be an array and
/// `list_metadata.after` must be present (null or a string). Unknown fields
/// are ignored.
struct ListEnvelope<Item: Decodable>: Decodable {
    var data: [Item]
    var after: String?

    private enum CodingKeys: String, CodingKey {
        case data
        case listMetadata = "list_metadata"
    }

    private enum MetadataKeys: String, CodingKey {
        case after
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decode([Item].self, forKey: .data)
        let metadata = try container.nestedContainer(keyedBy: MetadataKeys.self, forKey: .listMetadata)
        guard metadata.contains(.after) else {
            throw DecodingError.keyNotFound(
                MetadataKeys.after,
                .init(codingPath: metadata.codingPath, debugDescription: "list_metadata.after is missing"))
        }
        after = try metadata.decodeIfPresent(String.self, forKey: .after)
    }
}
