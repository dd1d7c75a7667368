import Daemon
import Foundation
import PostgresTestSupport
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `/readyz` follows the database and the freshness of the listings.
@Suite(.serialized) struct ReadinessTests {
    @Test func readyzFailsWhileTheDatabaseIsDownAndRecoversWhenItIsBack() async throws {
        let server = try await ThrowawayPostgres.start(logger: quietLogger)
        defer { server.stop() }
        let url = try await server.createDatabase("readiness", logger: quietLogger)
        let harness = try await DaemonHarness.make(directories: 1, users: 10, groups: 2, interval: .seconds(1), databaseURL: url)
        let daemon = RunningDaemon(try await harness.build())
        let port = daemon.app.httpPort
        let ready = try await eventually { try await httpGet(port: port, path: "/readyz").status == 200 }
        #expect(ready)

        try await server.halt()
        let down = try await httpGet(port: port, path: "/readyz")
        #expect(down.status == 503)
        #expect(down.body.contains("database unreachable"))
        #expect(try await httpGet(port: port, path: "/healthz").status == 200, "the process is alive all the same")

        try await server.restart()
        let back = try await eventually { try await httpGet(port: port, path: "/readyz").status == 200 }
        #expect(back)
        // The scheduler carries on after the outage: new runs are recorded.
        let before = try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs")
        let more = try await eventually { try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") > before }
        #expect(more)
        try await daemon.stop()
        harness.simulator.stop()
    }

    @Test func readyzFailsWhenADirectoryHasNoFreshCompleteListing() async throws {
        var harness = try await DaemonHarness.make(directories: 2, users: 5, groups: 1, interval: .seconds(1))
        harness.settings.maxListingAge = .seconds(5)
        let daemon = RunningDaemon(try await harness.build())
        let port = daemon.app.httpPort
        #expect(try await eventually { try await httpGet(port: port, path: "/readyz").status == 200 })
        // An unlinked directory is skipped: its last complete listing ages.
        let stale = harness.simulator.directoryIDs[1]
        harness.simulator.setDirectoryState(stale, "unlinked")
        var reply = (status: 0, body: "")
        let failed = try await eventually(timeout: .seconds(20)) {
            reply = try await httpGet(port: port, path: "/readyz")
            return reply.status == 503 && reply.body.contains("older than")
        }
        #expect(failed)
        #expect(reply.body.contains("older than 5s"))
        #expect(reply.body.contains(stale))
        harness.simulator.setDirectoryState(stale, "linked")
        #expect(try await eventually(timeout: .seconds(20)) { try await httpGet(port: port, path: "/readyz").status == 200 })
        try await daemon.stop()
        harness.simulator.stop()
    }
}
