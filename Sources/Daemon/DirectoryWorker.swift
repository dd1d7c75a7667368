import Foundation
import Logging
import Reconciler
import Store
import SyncCore
import WorkOS
import WorkOSModel

/// One of the scheduler's `sync.concurrency` lanes: its own PostgreSQL
/// session (a session serialises its callers, and holds the directory
/// leases), store and engine. A run builds its engine from the settings in
/// force, so a reload changes the guard and the scope of the next run.
final class DirectoryWorker: Sendable {
    let index: Int
    let store: SyncStore
    let client: WorkOSClient
    let logger: Logger

    init(index: Int, connection: PostgresConnection, client: WorkOSClient, logger: Logger) {
        self.index = index
        self.client = client
        var logger = logger
        logger[metadataKey: "worker"] = "\(index)"
        self.logger = logger
        self.store = SyncStore(connection: connection, logger: logger)
    }

    /// Reconciles one listed directory (or one that vanished from the listing), then reads its gauges.
    func run(_ directory: Directory, vanished: Bool, settings: Settings) async -> (DirectoryReport, DirectoryGauges?) {
        let engine = SyncEngine(
            client: client, store: store,
            configuration: .init(settings: settings),
            logger: logger)
        let report = vanished ? await engine.reconcileRemoved(directory, mode: .apply) : await engine.reconcile(directory, mode: .apply)
        let gauges = try? await store.gauges(directoryID: directory.id)
        return (report, gauges)
    }

    func close() async { await store.connection.close() }
}
