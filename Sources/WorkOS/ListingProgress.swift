import Synchronization

/// How far one directory's listing in flight has got: pages and users so far,
/// and an estimate from the same directory's last complete listing in this process.
public struct ListingProgress: Sendable, Hashable {
    public var directoryID: String
    /// Pages fetched so far (users, groups and group members).
    public var pages: Int
    /// Users listed so far.
    public var users: Int
    /// Since the listing started.
    public var elapsed: Duration
    /// Pages of the directory's last complete listing (nil: none in this process).
    public var expectedPages: Int?

    public init(directoryID: String, pages: Int, users: Int, elapsed: Duration, expectedPages: Int?) {
        self.directoryID = directoryID
        self.pages = pages
        self.users = users
        self.elapsed = elapsed
        self.expectedPages = expectedPages
    }

    /// The time left at the rate so far, from ``expectedPages`` (nil: no estimate).
    public var estimatedRemaining: Duration? {
        guard let expectedPages, pages > 0 else { return nil }
        return elapsed * (Double(max(expectedPages - pages, 0)) / Double(pages))
    }
}

/// The listings in flight of one client, and each directory's last page count.
final class ListingProgressBoard: Sendable {
    private struct Entry {
        var pages = 0
        var users = 0
        var started: Duration
    }

    private struct Board {
        var inFlight: [String: Entry] = [:]
        var lastPages: [String: Int] = [:]
    }

    private let board = Mutex(Board())

    func start(_ directoryID: String, at now: Duration) {
        board.withLock { $0.inFlight[directoryID] = Entry(started: now) }
    }

    /// One more page, with `users` users on it (0 for a group or member page).
    func page(_ directoryID: String, users: Int) {
        board.withLock {
            $0.inFlight[directoryID]?.pages += 1
            $0.inFlight[directoryID]?.users += users
        }
    }

    /// The listing ended; `pages` (a complete one's) becomes the next estimate.
    func finish(_ directoryID: String, completePages pages: Int?) {
        board.withLock {
            $0.inFlight[directoryID] = nil
            if let pages { $0.lastPages[directoryID] = pages }
        }
    }

    func snapshot(at now: Duration) -> [ListingProgress] {
        board.withLock { board in
            board.inFlight.map { id, entry in
                ListingProgress(
                    directoryID: id, pages: entry.pages, users: entry.users, elapsed: now - entry.started,
                    expectedPages: board.lastPages[id])
            }.sorted { $0.directoryID < $1.directoryID }
        }
    }
}
