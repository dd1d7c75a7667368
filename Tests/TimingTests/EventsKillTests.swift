import Daemon
import Foundation
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSModel
import WorkOSSimulator

/// Events mode under `kill -9`: `workos-dsync run --mode hybrid` killed at
/// random points while it applies WorkOS events, restarted each time. The
/// changes of an event and the cursor share one transaction, so in the end
/// every event was applied exactly once and the database equals the simulator.
@Suite struct EventsKillTests {
    static let guardOff = SafetyPolicy(minUsers: 100_000, fraction: 1)

    func startDaemon(_ harness: Harness, binary: URL, config: URL) throws -> SpawnedProcess {
        try harness.launch(binary, arguments: [
            "run", "--mode", "hybrid", "--events-interval", "100ms", "--listen", "127.0.0.1:0", "--config", config.path,
        ])
    }

    func cursor(_ harness: Harness) async throws -> EventCursor? {
        try await harness.runtime.store.eventCursor(keyID: SyncStore.eventKeyID(apiKey: harness.simulator.apiKey))
    }

    @Test func killedWhileApplyingEventsEveryEventIsAppliedExactlyOnce() async throws {
        let binary = try builtBinary()
        let harness = try await Harness.start(users: 400, groups: 6, safety: Self.guardOff, pageSize: 100, seed: 14)
        try await harness.sync()
        // The cursor starts after the listing: one in-process poll, then its session (and poller lock) goes.
        let (first, _, connection) = try await harness.eventPoller()
        #expect(try await first.poll().polled)
        await connection.close()

        // Pacing and the guard off: this test is about exactly-once, not about limits.
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("events-kill-\(UUID().uuidString).yaml")
        try """
            workos:
              directory_users_per_second: 1000
              requests_per_second: 10000
            sync:
              interval: 1h
            guard:
              min_users: 100000
              fraction: 1
            """.write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }

        var generator = SystemRandomNumberGenerator()
        var deactivated: [String] = []
        var hired: [String] = []
        var renamed: [String: String] = [:]
        /// About 60 changes, one WorkOS event each.
        func churn() {
            let users = harness.activeUsers().shuffled(using: &generator)
            for user in users.prefix(60) {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    harness.simulator.deactivateUser(user.id)
                    deactivated.append(user.id)
                case 1:
                    let name = "Churned \(UUID().uuidString.prefix(8))"
                    harness.simulator.updateUser(user.id, lastName: name)
                    renamed[user.id] = name
                case 2: harness.simulator.changeEmail(user.id, to: "moved.\(UUID().uuidString.prefix(8))@example.com")
                default:
                    hired.append(harness.simulator.createUser(
                        in: harness.directoryID, email: "hire.\(UUID().uuidString.prefix(8))@example.com",
                        firstName: "New", lastName: "Hire"))
                }
            }
        }

        let clock = ContinuousClock()
        let rounds = 12
        var killedMidStream = 0
        for round in 0..<rounds {
            churn()
            let total = harness.simulator.events().count
            let before = try await cursor(harness)?.eventsApplied ?? 0
            let process = try startDaemon(harness, binary: binary, config: config)
            if round.isMultiple(of: 2) {
                // Anywhere: start-up, the start-up reconcile, or the events.
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...1_500, using: &generator)))
            } else {
                // Inside the stream of events: once the cursor has moved, a little later.
                let deadline = clock.now + .seconds(10)
                while clock.now < deadline, process.isRunning, (try await cursor(harness)?.eventsApplied ?? 0) == before {
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...40, using: &generator)))
            }
            let caughtUp = try await cursor(harness)?.eventID == harness.simulator.events().last?.id
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if !caughtUp { killedMidStream += 1 }
            _ = total
        }
        #expect(killedMidStream >= rounds / 2, "most kills landed before the feed was caught up (\(killedMidStream) of \(rounds))")

        // The last start runs until the feed is caught up: most of the ~1000 events are left to
        // it (the kills come early), at ~40 ms each in a debug build; the deadline only bounds a hang.
        let lastEvent = try #require(harness.simulator.events().last?.id)
        let process = try startDaemon(harness, binary: binary, config: config)
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline, try await cursor(harness)?.eventID != lastEvent {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try await cursor(harness)?.eventID == lastEvent, "caught up with the feed")

        // No WorkOS event wrote the same change twice.
        #expect(try await harness.count("""
            SELECT count(*) FROM (
                SELECT 1 FROM workos_dsync.events WHERE workos_event_id IS NOT NULL
                GROUP BY workos_event_id, type, directory_user_id, directory_group_id HAVING count(*) > 1) d
            """) == 0, "an event applied twice")
        // Each leaver disabled once and each hire created once (by its event or by a listing, never both).
        let disables = try await harness.rows("""
            SELECT d.workos_id, count(*) AS n FROM workos_dsync.events e
            JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE e.type = 'user.disabled' GROUP BY d.workos_id
            """)
        let disabledCounts = Dictionary(uniqueKeysWithValues: try disables.map {
            (try $0.decode(String.self, "workos_id"), try $0.decode(Int.self, "n")) })
        #expect(Set(disabledCounts.keys) == Set(deactivated), "every leaver disabled, nobody else")
        let twice = disabledCounts.filter { $0.value > 1 }.map(\.key)
        let detail = try await harness.rows("""
            SELECT d.workos_id || ' ' || e.type || ' ' || coalesce(e.reason, '-') || ' run ' || coalesce(e.run_id::text, '-')
                || ' event ' || coalesce(e.workos_event_id, '-') || ' ' || e.payload::text AS line
            FROM workos_dsync.events e JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE d.workos_id = ANY(\(Array(twice.prefix(2)))::text[]) ORDER BY e.id
            """).map { try $0.decode(String.self, "line") }
        #expect(twice.isEmpty, "\(twice.count) leavers disabled more than once: \(detail.joined(separator: "\n"))")
        let creates = try await harness.rows("""
            SELECT d.workos_id, count(*) AS n FROM workos_dsync.events e
            JOIN workos_dsync.directory_users d ON d.id = e.directory_user_id
            WHERE e.type = 'user.created' AND d.workos_id = ANY(\(hired)::text[]) GROUP BY d.workos_id
            """)
        #expect(creates.count == hired.count, "every hire created")
        #expect(try creates.allSatisfy { try $0.decode(Int.self, "n") == 1 }, "a hire created more than once")
        for (id, name) in renamed where !deactivated.contains(id) {
            #expect(try await harness.account(id)?.decode(String?.self, "last_name") == name)
        }

        // The final state equals the simulator's: a listing now plans nothing.
        let directory = try #require(try await harness.runtime.client.listDirectories().first)
        let listing = PreparedListing(try await harness.runtime.client.snapshot(of: directory))
        let stored = try await harness.runtime.store.loadState(directoryID: directory.id, for: listing)
        let plan = try Planner.plan(listing, stored: stored, policy: Self.guardOff)
        #expect(plan.isEmpty, "the database differs from the simulator: \(plan.summary.line)")
        let applied = try await cursor(harness)?.eventsApplied ?? 0
        print("events kill test: \(rounds) kills, \(killedMidStream) before the feed was caught up; \(harness.simulator.events().count) events, \(deactivated.count) leavers, \(hired.count) hires; cursor counted \(applied) applied")
        await harness.stop()
    }
}
