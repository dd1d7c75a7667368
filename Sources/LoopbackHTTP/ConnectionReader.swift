import Foundation
import Glibc

/// Reads requests one after the other from a connection, keeping leftover bytes.
struct ConnectionReader {
    struct Parsed {
        var request: HTTPRequest
        var keepAlive: Bool
    }

    let fd: Int32
    var buffer: [UInt8] = []
    var scanned = 0

    init(fd: Int32) { self.fd = fd }

    /// nil when the peer closed (or the socket failed) between requests.
    mutating func nextRequest() -> Result<Parsed, StatusFailure>? {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = findHeadEnd()
            if headEnd != nil { break }
            if buffer.count > LoopbackHTTPServer.maximumHeadSize { return .failure(StatusFailure(431)) }
            guard fill() else { return nil }
        }
        let end = headEnd!
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
            guard value <= LoopbackHTTPServer.maximumBodySize else { return .failure(StatusFailure(413)) }
            length = value
        } else {
            length = 0
        }
        if length > buffer.count, request.header("Expect")?.lowercased() == "100-continue" {
            let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            _ = continueLine.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        while buffer.count < length {
            guard fill() else { return nil }
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

    /// Appends what the socket has; false on end of stream or error.
    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if count < 0, errno == EINTR { continue }
            return false
        }
    }
}
