import Foundation
import Glibc

/// Reads requests one after the other from a connection, keeping leftover bytes,
/// and writes the answers, each within the connection's deadlines.
///
/// Waiting for the first byte of a request is bounded by `idleTimeout`; once it
/// has arrived, the whole request (head and body) must follow within
/// `requestTimeout`, however the peer spreads its bytes, and each answer must be
/// taken by the peer within `requestTimeout` too.
struct ConnectionReader {
    struct Parsed {
        var request: HTTPRequest
        var keepAlive: Bool
    }

    let fd: Int32
    let idleTimeout: Duration
    let requestTimeout: Duration
    let maximumBodySize: Int
    var buffer: [UInt8] = []
    var scanned = 0

    init(fd: Int32, idleTimeout: Duration, requestTimeout: Duration, maximumBodySize: Int) {
        self.fd = fd
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maximumBodySize = maximumBodySize
    }

    /// nil when the peer closed (or the socket failed) or stayed idle between requests;
    /// a failure (408, 413, 431…) when the request cannot be served.
    mutating func nextRequest() -> Result<Parsed, StatusFailure>? {
        if buffer.isEmpty {
            guard fill(until: .now + idleTimeout) == .data else { return nil }
        }
        let deadline = ContinuousClock.now + requestTimeout
        var headEnd: Int?
        while headEnd == nil {
            headEnd = findHeadEnd()
            if headEnd != nil { break }
            if buffer.count > LoopbackHTTPServer.maximumHeadSize { return .failure(StatusFailure(431)) }
            switch fill(until: deadline) {
            case .data: continue
            case .closed: return nil
            case .timedOut: return .failure(StatusFailure(408))
            }
        }
        let end = headEnd!
        guard end + 4 <= LoopbackHTTPServer.maximumHeadSize else { return .failure(StatusFailure(431)) }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        scanned = 0
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return .failure(StatusFailure(400)) }
        var headers: [(String, String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .failure(StatusFailure(400)) }
            let name = String(line[line.startIndex..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        var request = HTTPRequest(method: String(requestLine[0]), path: "/", headers: headers)
        var target = Substring(requestLine[1])
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let afterScheme = target[target.index(target.firstIndex(of: ":")!, offsetBy: 3)...]
            target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        if let question = target.firstIndex(of: "?") {
            request.path = String(target[target.startIndex..<question])
            request.query = HTTPRequest.parseQuery(target[target.index(after: question)...])
        } else {
            request.path = String(target)
        }
        let connection = request.header("Connection")?.lowercased() ?? ""
        let keepAlive = requestLine[2] == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        if request.header("Transfer-Encoding") != nil { return .failure(StatusFailure(411)) }
        let length: Int
        if let text = request.header("Content-Length") {
            guard let value = Int(text), value >= 0 else { return .failure(StatusFailure(400)) }
            guard value <= maximumBodySize else { return .failure(StatusFailure(413)) }
            length = value
        } else {
            length = 0
        }
        if length > buffer.count, request.header("Expect")?.lowercased() == "100-continue" {
            guard send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return nil }
        }
        while buffer.count < length {
            switch fill(until: deadline) {
            case .data: continue
            case .closed: return nil
            case .timedOut: return .failure(StatusFailure(408))
            }
        }
        request.body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return .success(Parsed(request: request, keepAlive: keepAlive))
    }

    private mutating func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        var index = max(0, scanned - 3)
        while index + 3 < buffer.count {
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
                return index
            }
            index += 1
        }
        scanned = buffer.count
        return nil
    }

    /// Writes all of `bytes` within `requestTimeout`; false when the socket failed or the peer did not take them in time.
    func send(_ bytes: [UInt8]) -> Bool {
        let deadline = ContinuousClock.now + requestTimeout
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            if sent < 0, errno == EINTR { continue }
            guard sent < 0, errno == EAGAIN || errno == EWOULDBLOCK, wait(for: Int16(POLLOUT), until: deadline) else { return false }
        }
        return true
    }

    /// After an error answer: stops sending, then reads and discards what the peer still
    /// sends (for `requestTimeout` at most), so that closing does not reset the connection
    /// under a client that writes its whole request before it reads the answer.
    mutating func finishAfterError() {
        _ = shutdown(fd, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + requestTimeout
        while true {
            buffer.removeAll(keepingCapacity: true)
            guard fill(until: deadline) == .data else { return }
        }
    }

    private enum Fill { case data, closed, timedOut }

    /// Appends what the socket has once it has something, waiting until `deadline` at most.
    private mutating func fill(until deadline: ContinuousClock.Instant) -> Fill {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .data
            }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: guard wait(for: Int16(POLLIN), until: deadline) else { return .timedOut }
            default: return .closed
            }
        }
    }

    /// Waits until the socket is ready for `events` (or failed, or hung up); false once `deadline` passed.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready > 0 || (ready < 0 && errno != EINTR) { return true }
        }
    }
}
