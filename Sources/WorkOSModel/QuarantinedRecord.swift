/// A record of a listing that cannot be used: it is left out, and the account
/// with its WorkOS id is left exactly as it is, while the rest of the
/// directory applies.
public struct QuarantinedRecord: Sendable, Hashable, CustomStringConvertible {
    /// The record's WorkOS id; nil when it has no usable one, so it cannot be
    /// tied to any account.
    public var id: String?
    /// Why, without the record's personal data (e.g. `missing key state at .data[3]`).
    public var reason: String
    /// The listing page it came on (1 for the first), when known.
    public var page: Int?
    /// WorkOS's request id of that page, when known.
    public var requestID: String?

    public init(id: String?, reason: String, page: Int? = nil, requestID: String? = nil) {
        self.id = id
        self.reason = reason
        self.page = page
        self.requestID = requestID
    }

    /// `directory_user_X: duplicate idp_id …`, or `a record without an id: …`.
    public var description: String { "\(id ?? "a record without an id"): \(reason)" }
}
