import Daemon
import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// Events mode measured: how long a deactivation takes to reach
/// `status = 'disabled'` through the poller (printed; bounded by two polls).
@Suite struct EventsLatencyTests {
    @Test func aDeactivationIsDisabledWithinTwoPollIntervals() async throws {
        let harness = try await Harness.start(users: 10, groups: 2)
        defer { Task { await harness.stop() } }
        try await harness.sync()
        let interval = Duration.seconds(3)
        let (poller, _, connection) = try await harness.eventPoller { $0.eventsInterval = interval }
        defer { Task { await connection.close() } }
        let loop = Task { try await poller.run() }
        defer { loop.cancel() }
        let keyID = SyncStore.eventKeyID(apiKey: harness.simulator.apiKey)
        while try await harness.runtime.store.eventCursor(keyID: keyID) == nil { try await Task.sleep(for: .milliseconds(50)) }
        let leaver = harness.activeUsers()[0].id
        let clock = ContinuousClock()
        let start = clock.now
        harness.simulator.deactivateUser(leaver)
        while try await harness.accountStatus(leaver)?.status != "disabled", clock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let latency = clock.now - start
        print("events mode: deactivation to status = 'disabled' in \(latency) (events.interval \(interval))")
        #expect(try await harness.accountStatus(leaver).map { [$0.status, $0.reason] } == ["disabled", "missing"])
        #expect(latency <= interval * 2)
    }
}
