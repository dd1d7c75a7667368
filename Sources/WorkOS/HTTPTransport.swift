public import Foundation

/// The HTTP method of a WorkOS request.
public enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET"
    case post = "POST"
}

/// One HTTP request as the WorkOS client hands it to a transport.
///
/// The API key travels as ``bearerToken`` (a ``Secret``), not in ``headers``,
/// so printing a request never shows it.
public struct HTTPRequestSpec: Sendable, CustomStringConvertible {
    public var method: HTTPMethod
    public var url: URL
    /// Extra headers (`Accept`, `Content-Type`, …); names as written.
    public var headers: [String: String]
    public var body: Data?
    /// Sent as `Authorization: Bearer …` by the transport.
    public var bearerToken: Secret?

    public init(
        method: HTTPMethod = .get, url: URL, headers: [String: String] = [:], body: Data? = nil,
        bearerToken: Secret? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.bearerToken = bearerToken
    }

    public var description: String { "\(method.rawValue) \(url.absoluteString)" }
}

/// A complete HTTP response: status, headers and the whole body.
public struct HTTPResponseData: Sendable {
    public var status: Int
    /// Header names lower-cased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }

    /// A header by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// WorkOS's `X-Request-ID`, kept for error reports.
    public var requestID: String? { header("x-request-id") }
}

/// Sends HTTP requests. ``CurlTransport`` is the production one; tests may
/// substitute their own.
public protocol HTTPTransport: Sendable {
    /// Sends one request and returns the complete response, or throws an
    /// ``HTTPTransportError`` (or `CancellationError`). Non-2xx statuses are
    /// responses, not errors.
    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData
}

/// A failure below HTTP: no response, or an incomplete one.
public struct HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Could not connect, DNS, TLS, reset, … (retryable).
        case transport
        /// Connect or total time-out (retryable).
        case timeout
        /// The connection ended before the announced body was complete (retryable).
        case truncatedBody
        /// The body exceeded the transport's cap (not retryable).
        case bodyTooLarge
    }

    public var kind: Kind
    /// libcurl's `CURLcode`, when the error came from libcurl.
    public var code: Int?
    /// A short, bland message (libcurl's error buffer); never contains the API key.
    public var message: String

    public init(kind: Kind, code: Int? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String {
        if let code { return "\(kind) (curl \(code)): \(message)" }
        return "\(kind): \(message)"
    }
}
