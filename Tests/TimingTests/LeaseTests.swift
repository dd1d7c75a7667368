import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// A directory's lease is a session-level advisory lock. A replica whose
/// session dies mid-run (libpq reconnects transparently, without the lock)
/// must not apply its listing: another replica may hold the lease by then and
/// have applied a newer one.
@Suite struct LeaseTests {
    @Test func aRunThatLostItsLeaseAppliesNothingWhileTheNewHolderApplies() async throws {
        let harness = try await Harness.start(users: 8, groups: 1, pageSize: 100)
        try await harness.sync()
        let replica = try await harness.replica()
        let observer = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        // The first replica's user listing is taken when its request arrives and answered 6 s later.
        harness.simulator.scriptFault(.slow(.seconds(6)), matching: RequestMatcher(pathPrefix: "/directory_users", queryContains: "directory="))
        let engine = harness.runtime.engine
        let stale = Task { try await engine.reconcileAll(mode: .apply) }
        let deadline = Date().addingTimeInterval(30)
        while harness.simulator.statistics.faultsInjected == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }

        // It holds the lease while listing: its session is terminated.
        let advisoryLocks: PostgresQuery = """
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        let holders = try await observer.query(advisoryLocks).map { try $0.decode(Int32.self, "pid") }
        #expect(holders.count == 1)
        for pid in holders { try await observer.query("SELECT pg_terminate_backend(\(pid))") }
        // The backend ends (and its lock goes) shortly after the signal.
        while try await !observer.query(advisoryLocks).isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        // A hire after that listing: the other replica takes the lease and creates the account.
        let hire = harness.simulator.createUser(in: harness.directoryID, email: "new.hire@example.com", firstName: "New", lastName: "Hire")
        let fresh = try await replica.engine.reconcileAll(mode: .apply)
        #expect(fresh.map(\.outcome) == [.applied])

        // The first replica's listing (without the hire) arrives; its session is a new one, without the lease.
        let staleReports = try await stale.value
        #expect(staleReports.map(\.outcome) == [.failed])
        #expect(staleReports.first?.detail?.contains("lease") == true)
        // It disabled nobody (the hire would have been "missing" from its listing) and wrote no change.
        #expect(try await harness.account(hire)?.decode(String.self, "status") == "active")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE type = 'user.disabled'") == 0)
        let staleRun = try #require(staleReports.first?.runID)
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.events WHERE run_id = \(staleRun)") == 0)
        // The first sync, the new holder's and the refused one (whichever finished first on a slow machine).
        let outcomes = try await harness.rows("SELECT outcome FROM workos_dsync.sync_runs").map { try $0.decode(String.self, "outcome") }
        #expect(outcomes.sorted() == ["applied", "applied", "failed"])
        await observer.close()
        await replica.close()
        await harness.stop()
    }
}
