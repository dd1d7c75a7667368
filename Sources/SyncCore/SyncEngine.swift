public import Foundation
public import Logging
public import Reconciler
public import Store
public import WorkOS
public import WorkOSModel

/// One reconciliation of every directory (or one): list, fetch a complete
/// snapshot, plan, and apply under the directory's advisory-lock lease.
///
/// The safety rules live in the planner; the engine adds the ones about the
/// listing itself: a failed fetch records a `failed` run and applies nothing,
/// an unhealthy directory is `skipped`, and a directory held by another
/// replica is `skipped` too.
public final class SyncEngine: Sendable {
    /// What a run does with its plans.
    public enum Mode: Sendable, Hashable {
        /// Apply (`sync`, the daemon).
        case apply
        /// Plan only, write nothing (`plan`, `sync --dry-run`).
        case dryRun
        /// Apply, releasing the held plan (`approve`); nil means the newest held plan.
        case approve(heldPlanID: Int64?, approver: String)
    }

    /// Options of the engine, from `Settings`.
    public struct Configuration: Sendable {
        /// The mass-disable guard and the removed-directory rule.
        public var safety: SafetyPolicy
        /// Run in the apply transaction (in a savepoint: a failure is retried
        /// next run, never rolls back the disables) with the `uuid[]` of persons disabled.
        public var revokeSessionsSQL: String?
        /// Only these directories (empty: all of the API key's).
        public var directories: [String]
        /// Hybrid mode: a full reconcile cross-checks its `missing` disables
        /// against the event feed (once an events cursor exists).
        public var crossCheck: Bool
        /// How far back the cross-check looks for a deletion or deactivation
        /// event (`events.retention`, WorkOS keeps events 30 days).
        public var eventsRetention: Duration

        public init(
            safety: SafetyPolicy = SafetyPolicy(), revokeSessionsSQL: String? = nil, directories: [String] = [],
            crossCheck: Bool = false, eventsRetention: Duration = .seconds(30 * 86_400)
        ) {
            self.safety = safety
            self.revokeSessionsSQL = revokeSessionsSQL
            self.directories = directories
            self.crossCheck = crossCheck
            self.eventsRetention = eventsRetention
        }

        /// The engine's options as `settings` give them (`sync.mode: hybrid` turns the cross-check on).
        public init(settings: Settings) {
            self.init(
                safety: settings.safety, revokeSessionsSQL: settings.revokeSessionsSQL, directories: settings.directories,
                crossCheck: settings.mode == .hybrid, eventsRetention: settings.eventsRetention)
        }
    }

    let client: WorkOSClient
    let store: SyncStore
    let configuration: Configuration
    let logger: Logger

    public init(client: WorkOSClient, store: SyncStore, configuration: Configuration, logger: Logger) {
        self.client = client
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// Reconciles every directory of the listing (or only `directoryID`),
    /// then handles directories that vanished from it. A failure to list
    /// directories at all throws: nothing is touched.
    public func reconcileAll(only directoryID: String? = nil, mode: Mode) async throws -> [DirectoryReport] {
        let listed = try await client.listDirectories().filter { isSelected($0.id, only: directoryID) }
        var reports: [DirectoryReport] = []
        for directory in listed {
            reports.append(await reconcile(directory, mode: mode))
        }
        let listedIDs = Set(listed.map(\.id))
        for known in try await store.knownDirectories() where !listedIDs.contains(known.id) && isSelected(known.id, only: directoryID) {
            reports.append(await reconcileRemoved(known, mode: mode))
        }
        return reports
    }

    private func isSelected(_ id: String, only directoryID: String?) -> Bool {
        if let directoryID { return id == directoryID }
        return configuration.directories.isEmpty || configuration.directories.contains(id)
    }

    /// Reconciles one directory; never throws: every failure is a report (and a `sync_runs` row unless dry).
    public func reconcile(_ directory: Directory, mode: Mode) async -> DirectoryReport {
        await leased(directory, mode: mode) { report, logger in
            if mode != .dryRun { try await store.recordDirectory(directory) }
            guard directory.state.isHealthy else {
                report.outcome = .skipped
                report.detail = "directory state is \(directory.state.rawValue), not linked: nobody is disabled"
                if mode != .dryRun {
                    report.runID = try await store.recordRun(
                        directoryID: directory.id, outcome: .skipped, startedAt: report.startedAt, error: report.detail)
                }
                return
            }
            let clock = ContinuousClock()
            var phaseStarted = clock.now
            let snapshot: DirectorySnapshot
            do {
                snapshot = try await client.snapshot(of: directory)
            } catch {
                throw ReconcileFailure(detail: "listing incomplete, nothing applied: \(error)")
            }
            report.pages = snapshot.pagesFetched
            report.listedUsers = snapshot.users.count
            report.phases.listing = clock.now - phaseStarted
            phaseStarted = clock.now
            let listing = await PreparedListing.prepare(consume snapshot)
            // After the listing, not during its fetch: decoding pages keeps every core busy
            // there, and the stored accounts share the listing's strings.
            var stored = try await store.loadState(directoryID: directory.id, for: listing)
            if configuration.crossCheck {
                stored.eventFeed = try await store.loadEventFeedHistory(
                    directoryID: directory.id, missing: Planner.missingAccounts(listing, accounts: stored.accounts),
                    retention: configuration.eventsRetention)
            }
            var plan = try Planner.plan(listing, stored: stored, policy: configuration.safety)
            report.detail = plan.quarantine.detail
            Self.logQuarantine(of: plan, logger: logger)
            report.phases.planning = clock.now - phaseStarted
            phaseStarted = clock.now
            try await finish(&plan, mode: mode, report: &report)
            report.phases.apply = clock.now - phaseStarted
        }
    }

    /// One warning per quarantined record, naming its page when known and
    /// its id, never its values; one more when disables of missing users are held for it.
    private static func logQuarantine(of plan: Plan, logger: Logger) {
        for record in plan.quarantine.records {
            var metadata: Logger.Metadata = ["directory_user.workos_id": "\(record.id ?? "")", "reason": "\(record.reason)"]
            if let page = record.page { metadata["workos.page"] = "\(page)" }
            if let requestID = record.requestID { metadata["request_id"] = "\(requestID)" }
            logger.warning("directory user quarantined: its account is left as it is this run", metadata: metadata)
        }
        if plan.missingDisablesWithheld > 0 {
            logger.warning(
                "disables of missing users held this run: a quarantined record without an id could be any of them",
                metadata: ["accounts": "\(plan.missingDisablesWithheld)"])
        }
    }

    /// A directory known to the database that WorkOS no longer lists: its
    /// accounts are held (or disabled, per `guard.on_directory_removed`).
    public func reconcileRemoved(_ directory: Directory, mode: Mode) async -> DirectoryReport {
        await leased(directory, mode: mode) { report, _ in
            report.detail = "directory vanished from the WorkOS listing"
            var stored = try await store.loadState(directoryID: directory.id, for: nil)
            if configuration.crossCheck {
                stored.eventFeed = try await store.loadEventFeedHistory(
                    directoryID: directory.id, missing: [], retention: configuration.eventsRetention)
            }
            var plan = Planner.planDirectoryRemoved(directory: directory, stored: stored, policy: configuration.safety)
            try await finish(&plan, mode: mode, report: &report)
        }
    }

    /// Runs `body` under the directory's advisory-lock lease (not for a dry
    /// run), turning every error into a report and, unless dry, a `failed` run.
    private func leased(
        _ directory: Directory, mode: Mode,
        body: (inout DirectoryReport, Logger) async throws -> Void
    ) async -> DirectoryReport {
        var logger = logger
        logger[metadataKey: "directory.id"] = "\(directory.id)"
        var report = DirectoryReport(directory: directory, outcome: .failed, startedAt: Date())
        do {
            // The run starts once the lease is held (runs of one directory never overlap in `sync_runs`),
            // by the database's clock.
            let leasedAt = mode == .dryRun ? try await store.databaseNow() : try await store.tryLock(directoryID: directory.id)
            guard let leasedAt else {
                // Another replica is reconciling it right now: its run is the record.
                report.outcome = .skipped
                report.leaseHeldElsewhere = true
                report.detail = "another replica holds this directory's lease"
                return report.finished(logger: logger)
            }
            report.startedAt = leasedAt
            var failure: (any Error)?
            do {
                try await body(&report, logger)
            } catch {
                failure = error
            }
            if mode != .dryRun {
                // A lease that cannot be released died with its session: the run's outcome (committed or not) stands.
                do {
                    try await store.unlock(directoryID: directory.id)
                } catch {
                    logger.warning("cannot release the directory's lease; it ended with its session", metadata: ["error": "\(error)"])
                }
            }
            MemoryPolicy.returnFreedMemory()
            if let failure { throw failure }
        } catch let refused as ApprovalRefused {
            report.outcome = .failed
            report.approvalRefused = true
            report.detail = refused.detail
        } catch {
            report.outcome = .failed
            report.detail = "\(error)"
            if mode != .dryRun {
                report.runID = try? await store.recordRun(
                    directoryID: directory.id, outcome: .failed, startedAt: report.startedAt, pages: report.pages,
                    error: report.detail)
            }
        }
        return report.finished(logger: logger)
    }

    private func finish(_ plan: inout Plan, mode: Mode, report: inout DirectoryReport) async throws {
        var approver: String?
        if case .approve(let heldPlanID, let approvedBy) = mode {
            approver = approvedBy
            guard let held = try await store.heldPlan(directoryID: plan.directory.id, id: heldPlanID) else {
                throw ApprovalRefused(detail: "no held plan\(heldPlanID.map { " \($0)" } ?? "") waits for approval in \(plan.directory.id)")
            }
            do {
                plan = try plan.approving(held)
            } catch {
                throw ApprovalRefused(detail: error.description)
            }
        }
        report.summary = plan.summary
        report.verdict = plan.verdict
        if mode != .apply { report.plan = plan }
        if mode == .dryRun {
            report.outcome = plan.isEmpty ? .unchanged : (plan.verdict.holdsDisables ? .held : .applied)
            return
        }
        let applied = try await store.apply(
            plan, pages: report.pages, startedAt: report.startedAt, revokeSessionsSQL: configuration.revokeSessionsSQL,
            approvedBy: approver)
        report.outcome = applied.outcome
        report.runID = applied.runID
        report.heldPlanID = applied.heldPlanID
        report.sessionRevocationFailure = applied.sessionRevocationFailure
    }
}

/// A reconciliation that could not complete; nothing was applied.
package struct ReconcileFailure: Error, CustomStringConvertible {
    package var detail: String
    package var description: String { detail }
    package init(detail: String) { self.detail = detail }
}

/// `approve` refused: no held plan, or it no longer matches the listing.
public struct ApprovalRefused: Error, Sendable, CustomStringConvertible {
    public var detail: String
    public var description: String { detail }
}

/// What happened to one directory in one run.
public struct DirectoryReport: Sendable {
    public var directory: Directory
    public var outcome: RunOutcome
    public var startedAt: Date
    public var finishedAt: Date?
    public var runID: Int64?
    public var heldPlanID: Int64?
    public var pages = 0
    /// Users in the complete listing (nil: the run took none); the next listing's expected size.
    public var listedUsers: Int?
    /// What the plan changes (or would change, for a dry run), when a complete listing was taken.
    public var summary: PlanSummary?
    /// The safety verdict of that plan.
    public var verdict: SafetyVerdict?
    /// Every change, kept for a dry run and an approval, whose callers print
    /// them; an applied daemon cycle keeps only the summary, so a cycle's
    /// memory does not grow with the number of directories.
    public var plan: Plan?
    /// Why it failed or was skipped.
    public var detail: String?
    /// True when `approve` was refused (no held plan, or a stale one); nothing applied.
    public var approvalRefused = false
    /// True when another session held the directory's lease: nothing was listed or
    /// recorded here (an unhealthy directory is `skipped` too, but was looked at).
    public var leaseHeldElsewhere = false
    /// Set when `revoke_sessions_sql` failed; the rest of the run committed.
    public var sessionRevocationFailure: SessionRevocationFailure?
    /// How long each phase took (logged as `listing_ms`, `planning_ms`, `apply_ms`).
    public var phases = Phases()

    /// Durations of a run's phases; nil for a phase the run did not reach.
    public struct Phases: Sendable {
        /// Fetching the complete listing from WorkOS.
        public var listing: Duration?
        /// Fingerprints, the stored state (read after the listing), and the plan.
        public var planning: Duration?
        /// The apply transaction (or, for a dry run, nothing).
        public var apply: Duration?
    }

    public init(directory: Directory, outcome: RunOutcome, startedAt: Date) {
        self.directory = directory
        self.outcome = outcome
        self.startedAt = startedAt
    }

    func finished(logger: Logger) -> DirectoryReport {
        var report = self
        report.finishedAt = Date()
        var metadata: Logger.Metadata = ["outcome": "\(outcome.rawValue)", "pages": "\(pages)"]
        if let runID { metadata["run.id"] = "\(runID)" }
        if let summary { metadata["changes"] = "\(summary.line)" }
        if let detail { metadata["detail"] = "\(detail)" }
        for (key, duration) in [("listing_ms", phases.listing), ("planning_ms", phases.planning), ("apply_ms", phases.apply)] {
            if let duration { metadata[key] = "\(duration.wholeMilliseconds)" }
        }
        if let failure = sessionRevocationFailure {
            logger.error(
                "revoke_sessions_sql failed; the disables are committed and these persons' sessions are retried on the next run",
                metadata: metadata.merging(["persons": "\(failure.persons)", "error": "\(failure.error)"]) { $1 })
        }
        switch outcome {
        case .failed: logger.error("directory run failed", metadata: metadata)
        case .held: logger.warning("disables held by the mass-disable guard; approve them with `workos-dsync approve`", metadata: metadata)
        case .skipped: logger.notice("directory skipped", metadata: metadata)
        case .applied, .unchanged: logger.info("directory reconciled", metadata: metadata)
        }
        return report
    }
}
