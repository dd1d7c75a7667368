public import Foundation
import Glibc
import LoopbackHTTP

/// What came back on the wire for one request.
public enum RawOutcome {
    case response(RawResponse)
    /// The head declared `declared` body bytes, the connection ended after `received`.
    case truncated(status: Int, declared: Int, received: Int)
    /// The connection was reset (ECONNRESET) before a complete response.
    case reset
    /// The connection closed cleanly before any response byte.
    case closed
    /// Nothing arrived within the receive timeout.
    case timedOut
}

/// A complete HTTP response.
public struct RawResponse {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (fails the caller's expectations when it is not one).
    public var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) as? [String: Any]) ?? [:] }

    /// `data` of a list envelope.
    public var data: [[String: Any]] { object["data"] as? [[String: Any]] ?? [] }

    /// `list_metadata.after` (nil when null or absent).
    public var after: String? { (object["list_metadata"] as? [String: Any])?["after"] as? String }
    public var before: String? { (object["list_metadata"] as? [String: Any])?["before"] as? String }
}

public struct RawHTTPError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}

/// A blocking HTTP/1.1 client over one TCP connection, for tests that need to see the bytes.
public final class RawConnection {
    public let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host` (an IPv4 or IPv6 literal) on `port`.
    public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int = 10) throws {
        guard let address = SocketAddress(host: host, port: port) else { throw RawHTTPError(description: "not an address: \(host)") }
        fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(description: "socket failed") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            // deinit closes fd (the object is fully initialised): closing here too would close
            // whatever socket another test opened under the same number in between.
            throw RawHTTPError(description: "connect failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Whether every byte went out (false once the peer closed or reset the connection).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    public func send(
        method: String = "GET", target: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) -> Bool {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return send(Array(head.utf8) + body)
    }

    /// Reads one response; `.closed` / `.reset` / `.truncated` describe a broken one.
    public func readResponse() -> RawOutcome {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = findHeadEnd()
            if headEnd != nil { break }
            switch fill() {
            case .data: continue
            case .eof: return .closed
            case .reset: return .reset
            case .timeout: return .timedOut
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = Int(statusLine[1]) ?? 0
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        while buffer.count < length {
            switch fill() {
            case .data: continue
            case .eof, .reset, .timeout: return .truncated(status: status, declared: length, received: buffer.count)
            }
        }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return .response(RawResponse(status: status, headers: headers, body: body))
    }

    /// True when the server closed the connection (EOF or reset) within the receive timeout.
    public func waitForClose() -> Bool {
        while true {
            switch fill() {
            case .data: continue
            case .eof, .reset: return true
            case .timeout: return false
            }
        }
    }

    private enum Fill { case data, eof, reset, timeout }

    private func fill() -> Fill {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return .data
        }
        if count == 0 { return .eof }
        switch errno {
        case ECONNRESET: return .reset
        case EAGAIN, EWOULDBLOCK: return .timeout
        default: return .eof
        }
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// One request on a fresh connection.
public func rawRequest(
    host: String = "127.0.0.1", port: Int, method: String = "GET", target: String, headers: [(String, String)] = [],
    body: [UInt8] = [], timeoutSeconds: Int = 10
) throws -> RawOutcome {
    let connection = try RawConnection(host: host, port: port, timeoutSeconds: timeoutSeconds)
    connection.send(method: method, target: target, headers: headers, body: body)
    return connection.readResponse()
}

extension RawOutcome {
    /// The complete response, or a thrown description of what happened instead.
    public func response() throws -> RawResponse {
        if case .response(let response) = self { return response }
        throw RawHTTPError(description: "expected a complete response, got \(self)")
    }
}

/// One HTTP/1.1 GET over a fresh loopback connection (`Connection: close`), on a thread of its own.
/// `host` is an IPv4 or IPv6 literal.
public func httpGet(host: String = "127.0.0.1", port: Int, path: String) async throws -> (status: Int, body: String) {
    try await httpRequest(host: host, port: port, method: "GET", path: path)
}

/// One HTTP/1.1 request (a body goes with its `Content-Length`), as ``httpGet(host:port:path:)``.
public func httpRequest(
    host: String = "127.0.0.1", port: Int, method: String, path: String, body: [UInt8] = []
) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result {
                let response = try rawRequest(
                    host: host, port: port, method: method, target: path, headers: [("Connection", "close")], body: body,
                    timeoutSeconds: 15
                ).response()
                return (response.status, response.text)
            })
        }
        thread.start()
    }
}
