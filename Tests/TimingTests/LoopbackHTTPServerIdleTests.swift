import LoopbackHTTP
import TestHelpers
import Testing

/// The listener's idle time-out over a real socket.
@Suite struct LoopbackHTTPServerIdleTests {
    @Test func idleConnectionsAreClosedAfterTheTimeout() throws {
        let server = LoopbackHTTPServer(idleTimeout: .milliseconds(200)) { _ in .text(200, "ok") }
        let port = try server.start()
        defer { server.stop() }
        let connection = try RawConnection(port: port, timeoutSeconds: 5)
        connection.send(target: "/")
        #expect(try connection.readResponse().response().text == "ok")
        #expect(connection.waitForClose(), "closed by the server well before the client's 5 s timeout")
        #expect(server.openConnections == 0)
    }

}
