import Foundation
import Store
import TestHelpers
import Testing

/// Every session asks the server to probe it with TCP keepalives and to end a
/// transaction left idle for 10 minutes — unless the operator set those
/// already (server, database or role): a replica whose host died must give up
/// its directory leases and write locks in seconds, not the kernel's hours.
@Suite struct SessionDefaultsTests {
    @Test func sessionsGetKeepalivesAndAnIdleTransactionTimeoutUnlessTheOperatorSetThem() async throws {
        let (conninfo, owner) = try await freshDatabase("session_defaults", migrated: false)
        func show(_ setting: String, on connection: PostgresConnection) async throws -> String {
            try await connection.query(PostgresQuery(unsafeSQL: "SHOW \(setting)"))[0].decode(String.self, setting)
        }
        #expect(try await show("idle_in_transaction_session_timeout", on: owner) == "10min")
        let overTCP = try await owner.query("SELECT inet_server_addr() IS NOT NULL AS tcp")[0].decode(Bool.self, "tcp")
        if overTCP {
            #expect(try await show("tcp_keepalives_idle", on: owner) == "10")
            #expect(try await show("tcp_keepalives_interval", on: owner) == "5")
            #expect(try await show("tcp_keepalives_count", on: owner) == "3")
        }
        // The operator's own value stands.
        try await owner.execute(PostgresQuery(unsafeSQL: """
            DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '1min'); END $$
            """))
        let later = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        #expect(try await show("idle_in_transaction_session_timeout", on: later) == "1min")
        await later.close()
        await owner.close()
    }
}
