import Foundation
import Glibc
import LoopbackHTTP
import Synchronization
import TestHelpers
import Testing

@Suite("LoopbackHTTPServer over real sockets")
struct LoopbackHTTPServerTests {
    /// Echoes what it parsed as JSON: method, path, query pairs, a header, the body.
    static func echoServer() throws -> (LoopbackHTTPServer, Int) {
        let server = LoopbackHTTPServer { request in
            let object: [String: Any] = [
                "method": request.method,
                "path": request.path,
                "query": request.query.map { [$0.0, $0.1] },
                "x_test": request.header("x-TEST") ?? NSNull(),
                "body": String(decoding: request.body, as: UTF8.self),
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return .response(status: 200, headers: [("Content-Type", "application/json")], body: Array(data))
        }
        let port = try server.start()
        return (server, port)
    }

    @Test func parsesMethodPathQueryHeadersAndBody() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let response = try rawRequest(
            port: port, method: "POST", target: "/a/b?x=1&name=J%C3%BCrgen+M&events=a&events=b&flag",
            headers: [("X-Test", "yes")], body: Array("{\"k\":\"v\"}".utf8)
        ).response()
        #expect(response.status == 200)
        let object = response.object
        #expect(object["method"] as? String == "POST")
        #expect(object["path"] as? String == "/a/b")
        #expect(object["x_test"] as? String == "yes")
        #expect(object["body"] as? String == "{\"k\":\"v\"}")
        let query = object["query"] as? [[String]] ?? []
        #expect(query == [["x", "1"], ["name", "Jürgen M"], ["events", "a"], ["events", "b"], ["flag", ""]])
    }

    @Test func percentDecodingKeepsMalformedEscapes() {
        #expect(HTTPRequest.percentDecode("a%2Cb%") == "a,b%")
        #expect(HTTPRequest.percentDecode("%zz+%41") == "%zz A")
        #expect(HTTPRequest.parseQuery("events%5B%5D=dsync.user.created&&b=").map { [$0.0, $0.1] } == [["events[]", "dsync.user.created"], ["b", ""]])
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let connection = try RawConnection(port: port)
        for index in 0..<3 {
            connection.send(target: "/n?i=\(index)")
            let response = try connection.readResponse().response()
            #expect(response.status == 200)
            #expect((response.object["query"] as? [[String]]) == [["i", "\(index)"]])
            #expect(response.header("Connection") == nil)
        }
        // Pipelined: two requests in one write, two responses in order.
        connection.send(Array("GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(try connection.readResponse().response().object["path"] as? String == "/p1")
        #expect(try connection.readResponse().response().object["path"] as? String == "/p2")
    }

    @Test func connectionCloseIsHonoured() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let connection = try RawConnection(port: port)
        connection.send(target: "/bye", headers: [("Connection", "close")])
        let response = try connection.readResponse().response()
        #expect(response.header("Connection") == "close")
        #expect(connection.waitForClose())
    }

    @Test func truncatedReplyDeclaresFullLengthThenCloses() throws {
        let server = LoopbackHTTPServer { _ in
            .truncated(status: 200, headers: [("Content-Type", "application/json")], body: Array(repeating: 65, count: 1000), sendBytes: 300)
        }
        let port = try server.start()
        defer { server.stop() }
        let outcome = try rawRequest(port: port, target: "/")
        guard case .truncated(let status, let declared, let received) = outcome else {
            Issue.record("expected a truncated body, got \(outcome)")
            return
        }
        #expect(status == 200)
        #expect(declared == 1000)
        #expect(received == 300)
    }

    @Test func resetReplyResetsTheConnection() throws {
        let server = LoopbackHTTPServer { _ in .reset }
        let port = try server.start()
        defer { server.stop() }
        let outcome = try rawRequest(port: port, target: "/")
        guard case .reset = outcome else {
            Issue.record("expected ECONNRESET, got \(outcome)")
            return
        }
    }

    @Test func malformedRequestGets400() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let connection = try RawConnection(port: port)
        connection.send(Array("NONSENSE\r\n\r\n".utf8))
        #expect(try connection.readResponse().response().status == 400)
        #expect(connection.waitForClose())
    }

    @Test func stopClosesTheListenerAndOpenConnections() throws {
        let (server, port) = try Self.echoServer()
        let idle = try RawConnection(port: port)
        idle.send(target: "/warm")
        #expect(try idle.readResponse().response().status == 200)
        server.stop()
        #expect(idle.waitForClose())
        #expect(throws: RawHTTPError.self) { _ = try RawConnection(port: port) }
        server.stop() // idempotent
        #expect(throws: LoopbackHTTPServer.StartError.self) { try server.start() }
    }

    @Test func handlersRunConcurrentlyOnTheirOwnThreads() throws {
        // Two requests whose handlers each wait for the other: only concurrent handling finishes.
        let arrived = Mutex(0)
        let server = LoopbackHTTPServer { _ in
            arrived.withLock { $0 += 1 }
            let deadline = Date().addingTimeInterval(5)
            while arrived.withLock({ $0 }) < 2, Date() < deadline { usleep(1000) }
            return .text(200, arrived.withLock { $0 } >= 2 ? "together" : "alone")
        }
        let port = try server.start()
        defer { server.stop() }
        let first = try RawConnection(port: port)
        let second = try RawConnection(port: port)
        first.send(target: "/1")
        second.send(target: "/2")
        #expect(try first.readResponse().response().text == "together")
        #expect(try second.readResponse().response().text == "together")
    }

    @Test func expectContinueGets100BeforeTheBody() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let connection = try RawConnection(port: port)
        connection.send(Array("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n".utf8))
        #expect(try connection.readResponse().response().status == 100)
        connection.send(Array("hello".utf8))
        let response = try connection.readResponse().response()
        #expect(response.status == 200)
        #expect(response.object["body"] as? String == "hello")
    }

    @Test func aHeadOverTheLimitGets431EvenWhenItArrivesWhole() throws {
        let (server, port) = try Self.echoServer()
        defer { server.stop() }
        let limit = LoopbackHTTPServer.maximumHeadSize
        #expect(try rawRequest(port: port, target: "/", headers: [("X-Big", String(repeating: "a", count: limit - 200))]).response().status == 200)
        for size in [limit + 1_000, 16 * limit] {
            // One write: the end of the head arrives with the rest, past the limit.
            let connection = try RawConnection(port: port)
            connection.send(target: "/", headers: [("X-Big", String(repeating: "a", count: size))])
            #expect(try connection.readResponse().response().status == 431, "head of \(size) bytes")
            #expect(connection.waitForClose())
        }
    }

    @Test func aBodyOverTheServersLimitGets413() throws {
        let server = LoopbackHTTPServer(maxBodySize: 1_024) { request in .text(200, "\(request.body.count)") }
        let port = try server.start()
        defer { server.stop() }
        #expect(try rawRequest(port: port, method: "POST", target: "/", body: Array(repeating: 66, count: 1_024)).response().text == "1024")
        let connection = try RawConnection(port: port)
        connection.send(method: "POST", target: "/", body: Array(repeating: 66, count: 1_025))
        #expect(try connection.readResponse().response().status == 413)
        #expect(connection.waitForClose())
    }

    @Test func servesOnIPv6Loopback() throws {
        let server = LoopbackHTTPServer(host: "::1") { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        #expect(try rawRequest(host: "::1", port: port, target: "/").response().text == "ok")
        #expect(throws: RawHTTPError.self) { _ = try RawConnection(host: "127.0.0.1", port: port) }
    }

    @Test func theIPv6WildcardTakesIPv4ConnectionsToo() throws {
        let server = LoopbackHTTPServer(host: "::") { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        #expect(try rawRequest(host: "::1", port: port, target: "/").response().text == "ok")
        #expect(try rawRequest(host: "127.0.0.1", port: port, target: "/").response().text == "ok")
    }

    @Test(arguments: ["localhost", "[::1]", "::1%nowhere", "127.0.0.256", ""])
    func aHostThatIsNotAnIPAddressIsRefusedAtStart(host: String) {
        #expect(throws: LoopbackHTTPServer.StartError.self) { try LoopbackHTTPServer(host: host) { _ in .reset }.start() }
    }
}
