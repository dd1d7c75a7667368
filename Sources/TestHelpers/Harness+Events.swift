public import Daemon
import Foundation
public import Store
public import SyncCore
import WorkOSSimulator

extension Harness {
    /// An events-mode poller on its own PostgreSQL session, as the daemon
    /// builds it (events interval 200 ms unless `configure` says otherwise).
    public func eventPoller(
        configure: (inout Settings) -> Void = { _ in }
    ) async throws -> (EventPoller, SettingsBox, PostgresConnection) {
        var settings = self.settings
        settings.eventsInterval = .milliseconds(200)
        configure(&settings)
        let box = SettingsBox(settings)
        let connection = try await PostgresConnection.connect(databaseURL, logger: logger)
        let poller = EventPoller(
            client: runtime.client, connection: connection, settings: box, metrics: EventMetrics(),
            keyID: SyncStore.eventKeyID(apiKey: simulator.apiKey), logger: logger)
        return (poller, box, connection)
    }

    /// An account's status and disable reason, by its WorkOS id.
    public func accountStatus(_ workosID: String) async throws -> (status: String, reason: String?)? {
        guard let row = try await account(workosID) else { return nil }
        return (try row.decode(String.self, "status"), try row.decode(String?.self, "disabled_reason"))
    }
}

extension Harness {
    /// A complete listing, then a poller whose first poll stored the cursor
    /// (hybrid mode from then on). Close the connection when done.
    public func syncedEventPoller(
        configure: (inout Settings) -> Void = { _ in }
    ) async throws -> (EventPoller, PostgresConnection) {
        _ = try await sync()
        let (poller, _, connection) = try await eventPoller(configure: configure)
        _ = try await poller.poll()
        return (poller, connection)
    }
}
