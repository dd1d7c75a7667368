import Foundation
import Logging
import Synchronization
import WorkOS

/// A transport answering from a closure, recording every request: for the
/// pure client tests that need exact control over bodies and statuses.
final class ScriptedTransport: HTTPTransport {
    typealias Handler = @Sendable (HTTPRequestSpec, Int) throws -> HTTPResponseData

    private let handler: Handler
    private let log = Mutex<[HTTPRequestSpec]>([])

    init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseData {
        let index = log.withLock { log in
            log.append(request)
            return log.count - 1
        }
        return try handler(request, index)
    }

    var requests: [HTTPRequestSpec] { log.withLock { $0 } }

    /// The query items of request `index`, as name → value.
    func query(_ index: Int) -> [String: String] {
        let items = URLComponents(url: requests[index].url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

extension HTTPResponseData {
    static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> HTTPResponseData {
        HTTPResponseData(status: status, headers: headers, body: Data(text.utf8))
    }
}

extension HTTPRequestSpec {
    func queryValue(_ name: String) -> String? {
        URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == name }?.value
    }
}

/// JSON for a list page of users of directory `d`.
func userPage(_ ids: [String], after: String?, directory: String = "directory_1") -> String {
    let users = ids.map { id in
        #"{"object":"directory_user","id":"\#(id)","directory_id":"\#(directory)","idp_id":"idp-\#(id)","email":"\#(id)@example.com","state":"active"}"#
    }
    let cursor = after.map { "\"\($0)\"" } ?? "null"
    return #"{"object":"list","data":[\#(users.joined(separator: ","))],"list_metadata":{"before":null,"after":\#(cursor)}}"#
}
