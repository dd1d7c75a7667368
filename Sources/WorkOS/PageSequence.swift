import Logging
public import WorkOSModel

/// What one listing asks for: the endpoint, its filter and its pacing budget.
struct ListRequest: Sendable {
    var endpoint: WorkOSClient.Endpoint
    var query: [(String, String)]
    /// The directory whose `/directory_users` budget the listing spends.
    var directoryID: String?
}

/// The pages of one WorkOS listing, fetched one after another as iterated.
///
/// Sends `limit` (the configured page size), an explicit `order=asc` and the
/// `after` cursor until `list_metadata.after` is null. The listing fails with
/// a ``WorkOSError`` — and keeps failing on every later `next()` — on:
/// - a page with no items but a non-null cursor (``WorkOSError/Code/emptyPageWithCursor``),
/// - a cursor already followed (``WorkOSError/Code/repeatedCursor``),
/// - an empty-string cursor, neither null nor usable (``WorkOSError/Code/malformedBody``),
/// - more pages than the ceiling (``WorkOSError/Code/pageCeilingExceeded``),
/// - any request failure after retries (non-JSON, truncated, HTTP errors, …).
///
/// So iteration that ends without an error has seen every page.
public struct PageSequence<Item: WorkOSListable>: AsyncSequence, Sendable {
    public typealias Element = ListPage<Item>

    let client: WorkOSClient
    let request: ListRequest

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, request: request)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: WorkOSClient
        let request: ListRequest
        private var cursor: String?
        private var followed: Set<String> = []
        private var pages = 0
        private var finished = false
        private var failure: (any Error)?

        init(client: WorkOSClient, request: ListRequest) {
            self.client = client
            self.request = request
        }

        public mutating func next() async throws -> ListPage<Item>? {
            if let failure { throw failure }
            if finished { return nil }
            do {
                return try await fetchNext()
            } catch {
                failure = error
                throw error
            }
        }

        private mutating func fetchNext() async throws -> ListPage<Item> {
            let endpoint = request.endpoint
            let name = endpoint.displayName
            let ceiling = client.configuration.pageCeiling
            guard pages < ceiling else {
                throw WorkOSError(.pageCeilingExceeded, endpoint: name, detail: "more than \(ceiling) pages")
            }
            var query = request.query
            query.append(("limit", String(client.configuration.pageSize)))
            query.append(("order", "asc"))
            if let cursor { query.append(("after", cursor)) }
            let number = pages + 1
            let call = WorkOSClient.Call(
                endpoint: endpoint, path: "/\(endpoint.rawValue)",
                query: query, directoryID: request.directoryID)
            var logger = client.logger
            logger[metadataKey: "workos.page"] = "\(number)"
            let page = try await client.perform(call, logger: logger) { response in
                // A user record with bad text is quarantined by the lenient decoding, not thrown: repair and retry.
                let (envelope, repair) = try WorkOSClient.decodeRepairing(
                    ListEnvelope<Item>.self, from: response, endpoint: endpoint, isDamaged: { !$0.quarantined.isEmpty })
                return ListPage(
                    items: envelope.data, after: envelope.after, number: number, requestID: response.requestID,
                    quarantined: envelope.quarantined.map {
                        QuarantinedRecord(id: $0.id, reason: $0.reason, page: number, requestID: response.requestID)
                    },
                    repair: repair)
            }
            pages = number
            if page.after == "" {
                throw WorkOSError(
                    .malformedBody, endpoint: name, requestID: page.requestID,
                    detail: "page \(number) has an empty cursor")
            }
            if let next = page.after {
                // A page whose every record was quarantined still had records.
                guard !page.items.isEmpty || !page.quarantined.isEmpty else {
                    throw WorkOSError(
                        .emptyPageWithCursor, endpoint: name, requestID: page.requestID,
                        detail: "page \(number) is empty but has a cursor")
                }
                guard next != cursor, followed.insert(next).inserted else {
                    throw WorkOSError(
                        .repeatedCursor, endpoint: name, requestID: page.requestID,
                        detail: "page \(number) repeats cursor \(ErrorBodySummary.cap(next))")
                }
                cursor = next
            } else {
                finished = true
            }
            return page
        }
    }
}

/// Admits each id once: an identical repeat is dropped (tolerated once), a
/// repeat with different content, or a third sighting, is ``WorkOSError/Code/duplicateID``.
struct DuplicateFilter<Item: WorkOSListable> {
    let endpoint: String
    /// The admitted items, in listing order: the filter keeps the only copy,
    /// so a 100k-user listing is not held twice (once here, once by the caller).
    private(set) var items: [Item] = []
    /// Position in `items` by id.
    private var seen: [String: Int] = [:]
    private var repeated: Set<String> = []

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    /// True when `item` is new (it is appended to `items`); false for a tolerated identical repeat.
    mutating func admit(_ item: Item) throws -> Bool {
        guard let index = seen[item.id] else {
            seen[item.id] = items.count
            items.append(item)
            return true
        }
        let existing = items[index]
        guard existing == item, repeated.insert(item.id).inserted else {
            throw WorkOSError(
                .duplicateID, endpoint: endpoint,
                detail: "id \(ErrorBodySummary.cap(item.id)) " + (existing == item ? "listed more than twice" : "listed twice with different content"))
        }
        return false
    }

    func contains(_ id: String) -> Bool { seen[id] != nil }

    var count: Int { seen.count }
}
