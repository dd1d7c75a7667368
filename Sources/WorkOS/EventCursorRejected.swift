/// WorkOS refused the `after` cursor of `GET /events`: an event id it does
/// not know, or one older than the 30-day retention. The poller falls back to
/// a full reconcile of every directory and resumes from when it started.
///
/// WorkOS documents no specific error for this; the client treats any 400,
/// 404, 410 or 422 answer to a request that carries `after` as a refusal (the
/// bundled simulator answers 400 with code `invalid_cursor`).
public struct EventCursorRejected: Error, Sendable, Hashable, CustomStringConvertible {
    /// The refused event id.
    public var cursor: String
    public var underlying: WorkOSError

    public init(cursor: String, underlying: WorkOSError) {
        self.cursor = cursor
        self.underlying = underlying
    }

    public var description: String { "the events cursor \(cursor) was refused: \(underlying)" }
}
