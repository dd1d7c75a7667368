import Foundation
public import Logging
public import ServiceLifecycle
public import Store
public import SyncCore

/// The daemon's housekeeping, on its own PostgreSQL session: once at start
/// and then every `purge.schedule` (when set) or every 24 hours, it deletes
/// `sync_runs` older than `retention.sync_runs` (and `events` older than
/// `retention.events`, when set); with `purge.schedule` set it also runs the
/// purge (`purge --older-than` = `purge.cooling_off`, legal holds kept).
///
/// Least privilege: deleting old `sync_runs` is granted to the daemon's role;
/// the purge and the `events` retention need the opt-in role
/// `workos_dsync_purger` of `sql/roles.sql`. Without it a tick logs the
/// refusal and changes nothing; the syncs are not affected.
public final class MaintenanceService: Service, Sendable {
    private let store: SyncStore
    private let settings: SettingsBox
    private let logger: Logger

    public init(connection: PostgresConnection, settings: SettingsBox, logger: Logger) {
        var logger = logger
        logger[metadataKey: "component"] = "maintenance"
        self.store = SyncStore(connection: connection, logger: logger)
        self.settings = settings
        self.logger = logger
    }

    /// How long between two ticks: `purge.schedule`, else a day.
    static func interval(_ settings: Settings) -> Duration {
        settings.purgeSchedule ?? .seconds(86_400)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.tick()
                try? await Task.sleep(for: Self.interval(self.settings.current))
            }
        }
    }

    /// One round: retention, then (when scheduled) the purge; each in its own transaction.
    public func tick() async {
        let current = settings.current
        do {
            let retention = try await store.applyRetention(
                syncRuns: current.syncRunsRetention, events: current.eventTableRetention, dryRun: false)
            if retention.syncRunsDeleted > 0 || retention.eventsDeleted > 0 {
                logger.info("retention applied", metadata: [
                    "sync_runs.deleted": "\(retention.syncRunsDeleted)", "events.deleted": "\(retention.eventsDeleted)",
                ])
            }
        } catch {
            logger.error("retention failed, nothing deleted", metadata: ["error": "\(error)"])
        }
        guard current.purgeSchedule != nil else { return }
        do {
            let result = try await store.purge(olderThan: current.purgeCoolingOff, coolingOff: current.purgeCoolingOff, dryRun: false)
            logger.notice("scheduled purge", metadata: [
                "persons.anonymized": "\(result.persons.count)", "accounts.unlinked": "\(result.unlinkedAccounts)",
                "persons.legal_hold": "\(result.legalHolds)",
            ])
        } catch {
            logger.error(
                "scheduled purge failed, nothing changed (it needs the workos_dsync_purger role, see sql/roles.sql)",
                metadata: ["error": "\(error)"])
        }
    }
}
