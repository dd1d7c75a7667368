import Foundation
import Glibc
import LoopbackHTTP
import TestHelpers
import Testing

/// The limits that keep clients from tying the server up (connection cap,
/// request and answer deadlines), over real sockets. Measures time: run it on
/// an otherwise idle machine.
@Suite(.serialized) struct LoopbackHTTPServerLimitTests {
    /// Whether `fd` has something to read (or was closed) within `milliseconds`.
    func readable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    @Test(arguments: ["GET / HTTP/1.1\r\nX-Slow: ", "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"])
    func aRequestTrickledInSlowerThanTheDeadlineIsCutOffWhileOthersAreServed(start: String) throws {
        let server = LoopbackHTTPServer(idleTimeout: .seconds(60), requestTimeout: .seconds(1)) { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        let slow = try RawConnection(port: port, timeoutSeconds: 20)
        let started = ContinuousClock.now
        slow.send(Array(start.utf8))
        // A byte every 200 ms: each comes long before the idle timeout, the request never completes.
        var served = 0
        while ContinuousClock.now - started < .seconds(20), !readable(slow.fd, milliseconds: 200) {
            slow.send([UInt8(ascii: "a")])
            if served < 3 {
                #expect(try rawRequest(port: port, target: "/").response().text == "ok")
                served += 1
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(try slow.readResponse().response().status == 408)
        #expect(slow.waitForClose())
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(6), "cut off after \(elapsed), deadline 1 s")
        #expect(served == 3)
        #expect(blockingEventually { server.openConnections == 0 })
    }

    @Test func aClientThatDoesNotReadItsAnswerIsCutOff() throws {
        let server = LoopbackHTTPServer(requestTimeout: .seconds(1)) { _ in .response(status: 200, headers: [], body: Array(repeating: 65, count: 64 << 20)) }
        let port = try server.start()
        defer { server.stop() }
        let reader = try RawConnection(port: port)
        reader.send(target: "/big")
        // The answer is far larger than the socket buffers: the server's writes block until the deadline.
        #expect(blockingEventually { server.openConnections == 1 })
        let started = ContinuousClock.now
        #expect(blockingEventually { server.openConnections == 0 })
        #expect(ContinuousClock.now - started < .seconds(6))
    }

    @Test func aClientThatSendsItsWholeOversizedBodyBeforeReadingStillGets413() throws {
        let server = LoopbackHTTPServer(maxBodySize: 1_024) { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        let connection = try RawConnection(port: port)
        // Far more than the socket buffers hold: the server must read it away rather than reset the connection.
        let sent = connection.send(method: "POST", target: "/", body: Array(repeating: 66, count: 24 << 20))
        #expect(sent, "the whole 24 MiB went out")
        #expect(try connection.readResponse().response().status == 413)
        #expect(connection.waitForClose())
    }

    @Test func connectionsOverTheCapAreAnswered503AndClosedWithoutAThread() throws {
        let server = LoopbackHTTPServer(maxConnections: 4) { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        var idle = try (0..<4).map { _ in try RawConnection(port: port, timeoutSeconds: 5) }
        #expect(blockingEventually { server.openConnections == 4 })
        for _ in 0..<8 {
            let extra = try RawConnection(port: port, timeoutSeconds: 5)
            extra.send(target: "/")
            let response = try extra.readResponse().response()
            #expect(response.status == 503)
            #expect(response.header("Connection") == "close")
            #expect(extra.waitForClose())
            #expect(server.openConnections == 4)
        }
        // An idle client leaves: its place serves the next request.
        idle.removeFirst()
        #expect(blockingEventually { server.openConnections == 3 })
        #expect(try rawRequest(port: port, target: "/").response().text == "ok")
        withExtendedLifetime(idle) {}
    }
}
