import Foundation
import PostgresTestSupport
import Store
import TestHelpers
import Testing

/// A throwaway server halted and restarted keeps its port and data; a
/// connection made before the halt works again after it (reconnect on use).
@Suite struct ThrowawayRestartTests {
    @Test func haltedServerComesBackOnTheSamePortWithItsData() async throws {
        let server = try await ThrowawayPostgres.start(logger: quietLogger)
        defer { server.stop() }
        let conninfo = try await server.createDatabase("restart", logger: quietLogger)
        let connection = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        try await connection.execute("CREATE TABLE kept (n int)")
        try await connection.execute("INSERT INTO kept VALUES (42)")
        try await server.halt()
        await #expect(throws: (any Error).self) { try await connection.query("SELECT 1 AS one") }
        try await server.restart()
        let rows = try await connection.query("SELECT n FROM kept")
        #expect(try rows.first?.decode(Int.self, "n") == 42)
        await connection.close()
    }
}
