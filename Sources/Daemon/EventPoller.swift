public import Foundation
public import Logging
import Metrics
import Reconciler
public import ServiceLifecycle
public import Store
import Synchronization
public import WorkOS
public import WorkOSModel
public import SyncCore

/// The events poller (`sync.mode: hybrid`): pages `GET /events` for the
/// `dsync.*` events after the last applied one, applies each through the
/// same store, rules and outbox as a full reconcile — the changes and the
/// cursor in ONE transaction, so a crash can neither lose nor double an
/// event — until caught up, then waits `events.interval`.
///
/// One poller per API key whatever the number of replicas: it runs only
/// while its session holds the key's advisory lock; a replica without it
/// waits and tries again each interval.
///
/// A cursor that is unknown (first start), refused by WorkOS or older than
/// the retention falls back to complete listings: every directory must have
/// a complete listing that started within the retention (the poller runs the
/// missing ones itself), then polling resumes from the earliest of those
/// starts. Events between that time and now are replayed; a replay changes
/// nothing (`updated_at` is compared), so there is no gap and no double apply.
public final class EventPoller: Service, Sendable {
    /// What one poll did.
    public struct PollResult: Sendable, Hashable {
        /// False when another replica holds the poller lock.
        public var polled = false
        public var eventsHandled = 0
        /// True when the poll reached the end of the feed.
        public var caughtUp = false
        /// True when the cursor was replaced after complete listings.
        public var fellBack = false
    }

    private let client: WorkOSClient
    private let store: SyncStore
    private let settings: SettingsBox
    private let metrics: EventMetrics
    private let keyID: String
    private let logger: Logger
    private let lockHeld = Atomic<Bool>(false)
    /// Whether the poller runs the complete listings a fallback needs itself
    /// (standalone), or waits for the scheduler's (the daemon: listings stay
    /// within `sync.concurrency`; a refused cursor then resumes after the
    /// scheduler's next round, within `sync.interval`).
    private let runsListings: Bool

    public init(
        client: WorkOSClient, connection: PostgresConnection, settings: SettingsBox, metrics: EventMetrics, keyID: String,
        logger: Logger, runsListings: Bool = true
    ) {
        self.runsListings = runsListings
        var logger = logger
        logger[metadataKey: "component"] = "events"
        self.client = client
        self.store = SyncStore(connection: connection, logger: logger)
        self.settings = settings
        self.metrics = metrics
        self.keyID = keyID
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.poll()
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.warning("events poll failed; retrying next interval", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.settings.current.eventsInterval)
            }
        }
    }

    /// One poll: applies every event after the cursor until the feed is
    /// caught up (or falls back to complete listings when the cursor is not usable).
    public func poll() async throws -> PollResult {
        var result = PollResult()
        guard try await holdLock() else { return result }
        result.polled = true
        let current = settings.current
        var cursor = try await store.eventCursor(keyID: keyID)
        let horizon = Self.horizon(retention: current.eventsRetention)
        if cursor == nil || (cursor?.eventID == nil && cursor?.rangeStart == nil) || (cursor?.readUpTo ?? .distantPast) < horizon {
            let reason = cursor == nil ? "no events cursor stored yet" : "the events cursor is older than the retention"
            result.fellBack = try await fallBack(reason: reason)
            if !result.fellBack { return result }
            cursor = try await store.eventCursor(keyID: keyID)
        }
        var after = cursor?.eventID
        var rangeStart = after == nil ? cursor?.rangeStart : nil
        while !Task.isCancelled {
            let page: EventPage
            do {
                page = try await client.events(after: after, rangeStart: rangeStart, types: DirectoryEvent.types, limit: 100)
            } catch let rejected as EventCursorRejected {
                logger.warning("WorkOS refused the events cursor; falling back to complete listings", metadata: ["error": "\(rejected)"])
                result.fellBack = try await fallBack(reason: "cursor refused")
                return result
            }
            for event in page.events {
                try await handle(event, previous: after, settings: current)
                after = event.id
                rangeStart = nil
                result.eventsHandled += 1
                if let createdAt = event.createdAt { metrics.lag.record(max(0, Date().timeIntervalSince(createdAt))) }
            }
            if page.events.count < 100 {
                result.caughtUp = true
                try await store.markEventsCaughtUp(keyID: keyID)
                metrics.lag.record(0)
                metrics.lastPoll.record(Date().timeIntervalSince1970)
                break
            }
        }
        return result
    }

    /// Takes (or checks) the poller lock: a session lost and re-established lost it too.
    private func holdLock() async throws -> Bool {
        if lockHeld.load(ordering: .relaxed), try await store.connection.holdsAdvisoryLock(AdvisoryLockKey.eventPoller(keyID: keyID)) {
            return true
        }
        let held = try await store.tryLockEventPoller(keyID: keyID)
        if held != lockHeld.load(ordering: .relaxed) {
            logger.notice(held ? "this replica polls the WorkOS events" : "another replica polls the WorkOS events; standing by")
        }
        lockHeld.store(held, ordering: .relaxed)
        return held
    }

    private func engine(_ settings: Settings) -> SyncEngine {
        SyncEngine(
            client: client, store: store,
            configuration: .init(settings: settings),
            logger: logger)
    }

    private func handle(_ event: Event, previous: String?, settings: Settings) async throws {
        var typed: DirectoryEvent?
        do {
            typed = try DirectoryEvent(event)
        } catch {
            logger.warning("WorkOS event skipped: the full reconcile covers it", metadata: ["workos.event_id": "\(event.id)", "error": "\(error)"])
        }
        // Directories outside `sync.directories` are not this daemon's.
        if let known = typed, !settings.directories.isEmpty, !settings.directories.contains(known.directoryID) { typed = nil }
        let policy = settings.safety
        let applied = try await store.applyEvent(
            event, typed: typed, keyID: keyID, previous: previous, guardWindow: settings.eventsGuardWindow,
            revokeSessionsSQL: settings.revokeSessionsSQL
        ) { typed, slice in
            EventPlanner.plan(typed, slice: slice, policy: policy)
        }
        var metadata: Logger.Metadata = ["workos.event_id": "\(event.id)", "workos.event": "\(event.event)"]
        if let typed { metadata["directory.id"] = "\(typed.directoryID)" }
        switch applied.decision {
        case .reconcileDirectory(let directoryID):
            logger.notice("directory event: reconciling the directory from a complete listing", metadata: metadata)
            let reports = try await engine(settings).reconcileAll(only: directoryID, mode: .apply)
            if let failed = reports.first(where: { $0.outcome == .failed }) {
                throw ReconcileFailure(detail: "reconcile after \(event.event) failed: \(failed.detail ?? "")")
            }
            try await store.advanceEventCursor(keyID: keyID, previous: previous, to: event)
        case .skip(let reason):
            metadata["reason"] = "\(reason)"
            logger.debug("WorkOS event changes nothing", metadata: metadata)
        case .apply(let plan):
            metadata["changes"] = "\(plan.summary.line)"
            if applied.heldPlanID != nil {
                metadata["held_plan.id"] = "\(applied.heldPlanID ?? 0)"
                logger.warning("disables from events held by the mass-disable guard; approve them with `workos-dsync approve`", metadata: metadata)
                metrics.held.increment(by: plan.heldDisables.count)
            } else {
                logger.info("WorkOS event applied", metadata: metadata)
            }
            if applied.disabled > 0 { metrics.disables.increment(by: applied.disabled) }
        }
        metrics.recordApplied(type: event.event)
    }

    /// The oldest point the feed can still be read from safely: now less the
    /// retention, plus a margin (1 h, or a quarter of a short retention).
    static func horizon(retention: Duration, now: Date = Date()) -> Date {
        let seconds = Double(retention.components.seconds)
        return now.addingTimeInterval(-(seconds - min(3_600, seconds / 4)))
    }

    /// Replaces an unusable cursor: makes sure every healthy directory has a
    /// complete listing that started within the retention (running the
    /// missing ones), then stores "resume from the earliest of those starts".
    /// False when a listing could not be completed yet (retried next poll).
    private func fallBack(reason: String) async throws -> Bool {
        metrics.fallbacks.increment()
        let current = settings.current
        let selected = { (id: String) in current.directories.isEmpty || current.directories.contains(id) }
        let directories = try await (runsListings ? client.listDirectories() : store.knownDirectories())
            .filter { selected($0.id) && $0.state.isHealthy }
        let horizon = Self.horizon(retention: current.eventsRetention)
        var starts = try await store.latestCompleteListingStarts()
        let stale = directories.filter { (starts[$0.id] ?? .distantPast) < horizon }
        if !stale.isEmpty && runsListings {
            logger.notice("events cursor unusable: reconciling directories from complete listings first", metadata: [
                "reason": "\(reason)", "directories": "\(stale.count)",
            ])
            let engine = engine(current)
            for directory in stale { _ = await engine.reconcile(directory, mode: .apply) }
            starts = try await store.latestCompleteListingStarts()
        }
        if let missing = directories.first(where: { (starts[$0.id] ?? .distantPast) < horizon }) {
            logger.debug("events wait for a complete listing of a directory", metadata: ["directory.id": "\(missing.id)"])
            return false
        }
        let resume = directories.compactMap { starts[$0.id] }.min() ?? Date()
        try await store.resetEventCursor(keyID: keyID, rangeStart: resume)
        logger.notice("events resume from the start of the complete listings", metadata: ["range_start": "\(Timestamp.format(resume))"])
        return true
    }
}
