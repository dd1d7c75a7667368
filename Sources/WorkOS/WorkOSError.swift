/// Why a WorkOS call failed. Every listing failure is one of these, never a shorter listing.
///
/// The description is deliberately bland and precise: the endpoint, the
/// status, WorkOS's request id and a capped summary of the server's message.
/// It never contains the API key or a user's record.
public struct WorkOSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// 401: the API key was refused.
        case unauthorized
        /// Any other non-success status (after retries when retryable).
        case http
        /// 429 on every attempt.
        case rateLimitedExhausted
        /// No usable response: connect failure, reset, TLS, DNS, …
        case transport
        /// Connect or request time-out.
        case timeout
        /// A 2xx body that is not JSON or not the expected shape.
        case malformedBody
        /// A body cut off before its end.
        case truncatedBody
        /// A page with no items whose cursor says more follow.
        case emptyPageWithCursor
        /// A cursor the listing already followed.
        case repeatedCursor
        /// More pages than the configured ceiling.
        case pageCeilingExceeded
        /// One id twice in a listing with different content (or more than twice).
        case duplicateID
        /// The listings contradict each other (a member missing from the user listing, …).
        case inconsistentListing
        /// The body exceeded the size cap.
        case bodyTooLarge
    }

    public var code: Code
    /// The endpoint, e.g. `GET /directory_users`.
    public var endpoint: String
    /// The last HTTP status seen, if any.
    public var status: Int?
    /// WorkOS's `X-Request-ID` of the failing response, if any.
    public var requestID: String?
    /// libcurl's code for transport failures.
    public var curlCode: Int?
    /// Attempts made (1 when not retried).
    public var attempts: Int
    /// A short, capped, personal-data-free detail.
    public var detail: String?

    public init(
        _ code: Code, endpoint: String, status: Int? = nil, requestID: String? = nil, curlCode: Int? = nil,
        attempts: Int = 1, detail: String? = nil
    ) {
        self.code = code
        self.endpoint = endpoint
        self.status = status
        self.requestID = requestID
        self.curlCode = curlCode
        self.attempts = attempts
        self.detail = detail
    }

    /// libcurl codes that no retry can fix: bad URL or protocol, TLS
    /// verification and CA-file problems (a configuration or interception
    /// issue to report at once, not to hammer).
    static let permanentCurlCodes: Set<Int> = [1, 3, 58, 60, 77, 83, 90, 91]

    /// Whether the client retries this failure (before attempts run out).
    public var isRetryable: Bool {
        switch code {
        case .transport: curlCode.map { !Self.permanentCurlCodes.contains($0) } ?? true
        case .timeout, .truncatedBody: true
        case .http: status.map(RetryPolicy.isRetryableStatus) ?? false
        default: false
        }
    }

    public var description: String {
        var text = "WorkOS \(endpoint): "
        switch code {
        case .unauthorized: text += "unauthorized (HTTP \(status ?? 401)); check the API key"
        case .http: text += "HTTP \(status.map(String.init) ?? "?")"
        case .rateLimitedExhausted: text += "still rate limited (HTTP 429)"
        case .transport: text += "transport error" + (curlCode.map { " (curl \($0))" } ?? "")
        case .timeout: text += "timed out"
        case .malformedBody: text += "malformed response body" + (status.map { " (HTTP \($0))" } ?? "")
        case .truncatedBody: text += "truncated response body"
        case .emptyPageWithCursor: text += "empty page with a non-null cursor; listing incomplete"
        case .repeatedCursor: text += "repeated cursor; listing incomplete"
        case .pageCeilingExceeded: text += "page ceiling exceeded; listing incomplete"
        case .duplicateID: text += "duplicate id with different content; listing incomplete"
        case .inconsistentListing: text += "inconsistent listing"
        case .bodyTooLarge: text += "response body too large"
        }
        if attempts > 1 { text += " after \(attempts) attempts" }
        if let requestID { text += " (request id \(requestID))" }
        if let detail, !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}
