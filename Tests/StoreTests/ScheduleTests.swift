import Foundation
import Store
import TestHelpers
import Testing

/// The shared schedule of `run` replicas (migration 0008): claims, release, expiry, heartbeats.
/// PostgreSQL's clock decides every due time; these tests use short durations, no sleeps longer than a second.
@Suite struct ScheduleTests {
    @Test func oneReplicaWinsAClaimAndTheOtherWaitsUntilTheNextDueTime() async throws {
        let (conninfo, first) = try await freshDatabase("schedule_claim")
        let second = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let a = SyncStore(connection: first, logger: quietLogger)
        let b = SyncStore(connection: second, logger: quietLogger)
        let rows = try await a.schedule(of: ["dir_1", "dir_2"])
        #expect(rows.map(\.directoryID) == ["dir_1", "dir_2"])
        #expect(rows.allSatisfy { $0.claimableIn == .zero && $0.lastUsers == nil }, "a new directory is due at once")

        // Both ask at once: exactly one wins.
        async let claimA = a.claim("dir_1", replica: "a", ttl: .seconds(30))
        async let claimB = b.claim("dir_1", replica: "b", ttl: .seconds(30))
        let answers = try await [claimA, claimB]
        #expect(answers.filter { $0 == .claimed }.count == 1)
        let (winner, loser, loserName) = answers[0] == .claimed ? (a, b, "b") : (b, a, "a")
        let winnerName = loserName == "a" ? "b" : "a"
        guard case .notClaimable(let held) = try await loser.claim("dir_1", replica: loserName, ttl: .seconds(30)) else {
            Issue.record("a live claim elsewhere must not be claimable")
            return
        }
        // Claimable when the claim expires: within its 30 s, not now (the bound leaves room for a loaded machine).
        #expect(held.claimableIn > .zero && held.claimableIn <= .seconds(30), "claimable when the claim expires")

        // The winner finishes: the next run is due one interval later, for everyone.
        try await winner.release("dir_1", replica: winnerName, nextDueIn: .seconds(600), users: 1_234)
        guard case .notClaimable(let later) = try await loser.claim("dir_1", replica: loserName, ttl: .seconds(30)) else {
            Issue.record("listed this interval: not claimable")
            return
        }
        // Due one interval (600 s) after the release, far beyond the claim's 30 s.
        #expect(later.claimableIn > .seconds(300) && later.claimableIn <= .seconds(600) && later.lastUsers == 1_234)
        let lastRunBy = try await first.query("SELECT last_run_by FROM workos_dsync.directory_schedule WHERE directory_id = 'dir_1'")
        #expect(try lastRunBy[0].decode(String?.self, "last_run_by") == winnerName)

        // A release by a replica that no longer holds the claim changes nothing.
        try await loser.release("dir_2", replica: loserName, nextDueIn: .seconds(600), users: 1)
        #expect(try await loser.claim("dir_2", replica: loserName, ttl: .seconds(30)) == .claimed)

        // A shorter interval caps every due time, spread over the interval's last tenth.
        try await winner.capNextDue(within: .seconds(60))
        let capped = try await winner.schedule(of: ["dir_1"])
        #expect(capped[0].claimableIn <= .seconds(60) && capped[0].claimableIn >= .seconds(53))
        await second.close()
        await first.close()
    }

    @Test func aDeadReplicasClaimExpiresAndHeartbeatsCountTheLiveReplicas() async throws {
        // No sleeps: a claim made with a time-to-live of zero has expired by the next statement
        // (PostgreSQL's now()), one of an hour has not.
        let (_, connection) = try await freshDatabase("schedule_expiry")
        let store = SyncStore(connection: connection, logger: quietLogger)
        _ = try await store.schedule(of: ["dir_held", "dir_expired"])
        #expect(try await store.claim("dir_held", replica: "dead", ttl: .seconds(3_600)) == .claimed)
        #expect(try await store.claim("dir_expired", replica: "dead", ttl: .zero) == .claimed)
        #expect(try await store.heartbeat(replica: "dead", host: "h", pid: 1, running: ["dir_held"], ttl: .seconds(3_600)) == 1)
        #expect(try await store.heartbeat(replica: "live", host: "h", pid: 2, running: [], ttl: .seconds(3_600)) == 2)
        if case .claimed = try await store.claim("dir_held", replica: "live", ttl: .seconds(30)) {
            Issue.record("claimed while the dead replica's claim was live")
        }
        #expect(try await store.claim("dir_expired", replica: "live", ttl: .seconds(30)) == .claimed, "taken over once the claim expired")
        #expect(
            try await store.heartbeat(replica: "live", host: "h", pid: 2, running: ["dir_expired"], ttl: .zero) == 1,
            "a replica not seen within the time-to-live no longer counts")
        try await store.leave(replica: "dead")
        let rows = try await connection.query("SELECT replica_id FROM workos_dsync.replicas ORDER BY replica_id")
        #expect(try rows.map { try $0.decode(String.self, "replica_id") } == ["live"], "a leaving replica deletes its own row")
        #expect(try await store.claim("dir_held", replica: "live", ttl: .seconds(30)) == .claimed, "and releases its claims at once")
        await connection.close()
    }
}
