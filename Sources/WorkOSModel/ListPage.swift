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
package struct MemberReference: WorkOSListable {
    package var id: String
    package var directoryID: String

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
    /// Records of the page that could not be decoded (user pages only; see `ListEnvelope`).
    public var quarantined: [QuarantinedRecord]
    /// Set when the page decoded only once its text was repaired.
    public var repair: TextRepair.Report?

    public init(
        items: [Item], after: String?, number: Int, requestID: String? = nil, quarantined: [QuarantinedRecord] = [],
        repair: TextRepair.Report? = nil
    ) {
        self.items = items
        self.after = after
        self.number = number
        self.requestID = requestID
        self.quarantined = quarantined
        self.repair = repair
    }
}

/// The list envelope `{"object":"list","data":[…],"list_metadata":{"before":…,"after":…}}`.
///
/// Strict where completeness depends on it: `data` must be an array and
/// `list_metadata.after` must be present (null or a string). Unknown fields
/// are ignored. On user pages one element that does not decode as a user
/// does not fail the page: it is quarantined by its id (nil when it has
/// none), and the rest of the page is kept.
package struct ListEnvelope<Item: Decodable>: Decodable {
    package var data: [Item]
    package var after: String?
    package var quarantined: [QuarantinedRecord] = []

    private enum CodingKeys: String, CodingKey {
        case data
        case listMetadata = "list_metadata"
    }

    private enum MetadataKeys: String, CodingKey {
        case after
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if Item.self is DirectoryUser.Type {
            data = []
            for entry in try container.decode([ListEntry<Item>].self, forKey: .data) {
                switch entry {
                case .item(let item): data.append(item)
                case .undecodable(let record): quarantined.append(record)
                }
            }
        } else {
            data = try container.decode([Item].self, forKey: .data)
        }
        let metadata = try container.nestedContainer(keyedBy: MetadataKeys.self, forKey: .listMetadata)
        guard metadata.contains(.after) else {
            throw DecodingError.keyNotFound(
                MetadataKeys.after,
                .init(codingPath: metadata.codingPath, debugDescription: "list_metadata.after is missing"))
        }
        after = try metadata.decodeIfPresent(String.self, forKey: .after)
    }
}

/// One element of a user page's `data`: the item, or the quarantine of one
/// that does not decode (missing `state`, an object of the wrong shape, not
/// an object at all…), identified by its `id` when it has a usable one.
enum ListEntry<Item: Decodable>: Decodable {
    case item(Item)
    case undecodable(QuarantinedRecord)

    private enum IDKey: String, CodingKey {
        case id
    }

    init(from decoder: any Decoder) throws {
        do {
            self = .item(try Item(from: decoder))
        } catch {
            let id = try? decoder.container(keyedBy: IDKey.self).decodeLenientTextIfPresent(forKey: .id)
            self = .undecodable(QuarantinedRecord(
                id: id.flatMap { $0.isEmpty ? nil : ErrorBodySummary.cap($0) },
                reason: "undecodable user record (\(ErrorBodySummary.describe(error)))"))
        }
    }
}
