/// What the server writes back for one request, down to wire-level faults.
public enum HTTPReply: Sendable {
    /// A complete response. `Content-Length` is added unless present.
    case response(status: Int, headers: [(String, String)], body: [UInt8])
    /// Declares the full `Content-Length`, sends only the first `sendBytes`
    /// bytes of the body, then closes the connection.
    case truncated(status: Int, headers: [(String, String)], body: [UInt8], sendBytes: Int)
    /// Closes the connection with an RST (`SO_LINGER` 0), sending nothing.
    case reset

    /// A response whose body is UTF-8 text.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPReply {
        .response(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// The standard reason phrase for a status code ("Unknown" when not listed).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Unknown"
        }
    }
}
