public import Foundation
public import Metrics
import Reconciler
public import Store
public import SyncCore
public import WorkOS
import Synchronization
import WorkOS
public import WorkOSModel

/// The daemon's metrics, created once per directory with fixed label names,
/// every outcome and kind registered at zero as soon as the directory is known:
///
/// - `workos_dsync_build_info{version,commit}` (1: what is running, ``BuildInfo``)
/// - `workos_dsync_directory_info{directory,name}` (1: the directory's name, to join on in dashboards)
/// - `workos_dsync_runs_total{directory,outcome}` (applied, unchanged, held, failed, skipped)
/// - `workos_dsync_run_duration_seconds{directory}` (histogram, buckets 0.1 s to 4 h)
/// - `workos_dsync_changes_total{directory,kind}` (create, update, email_change,
///   reactivation, disable, held, group_change, membership_change)
/// - `workos_dsync_accounts{directory,status}` (gauge, active/disabled)
/// - `workos_dsync_last_complete_listing_age_seconds{directory}` (gauge; counted from the
///   daemon's start for a directory never listed completely)
/// - `workos_dsync_last_complete_listing_timestamp_seconds{directory}` (gauge: Unix time of
///   `directories.last_complete_sync_at`, 0 when never)
/// - `workos_dsync_held_plans{directory}` (gauge)
/// - `workos_dsync_unexplained_disappearances{directory}` (gauge: the last
///   complete listing's `missing` accounts the event feed does not explain;
///   hybrid mode's cross-check, 0 in full mode)
/// - `workos_dsync_link_conflicts_open{directory}` (gauge: accounts waiting
///   for an admin in `link_conflicts`) and
///   `workos_dsync_link_conflicts_oldest_timestamp_seconds{directory}` (gauge:
///   when the oldest open one was recorded, 0 when none)
/// - `workos_dsync_session_revocation_failures_total{directory}` (runs whose
///   `revoke_sessions_sql` failed; their persons are retried next run)
/// - `workos_dsync_listing_pages_in_flight{directory}` (gauge: pages fetched so
///   far by the listing in flight, 0 when none)
/// - `workos_dsync_replicas_live` (gauge: replicas whose heartbeat is live; each
///   paces the API key at `requests_per_second` divided by it)
///
/// The names are a contract: alert rules and dashboards in `deploy/` use them.
public final class DaemonMetrics: Sendable {
    /// The `kind` label values of `workos_dsync_changes_total`.
    public static let changeKinds = [
        "create", "update", "email_change", "reactivation", "disable", "held", "group_change", "membership_change",
    ]

    /// Help text of each metric above, for `/metrics`.
    public static let help: [String: String] = [
        "workos_dsync_build_info": "Always 1; the version and commit of the running binary as labels.",
        "workos_dsync_directory_info": "Always 1; the directory's name as a label, to join on the directory id.",
        "workos_dsync_runs_total": "Finished runs by directory and outcome (applied, unchanged, held, failed, skipped).",
        runDurationName: "Duration of a directory's run (listing, planning and applying) in seconds.",
        "workos_dsync_changes_total": "Changes written by runs, by directory and kind.",
        "workos_dsync_accounts": "Accounts (directory users) stored for the directory, by status (active, disabled).",
        "workos_dsync_last_complete_listing_age_seconds":
            "Seconds since the directory's last complete listing (since the daemon started when never listed).",
        "workos_dsync_last_complete_listing_timestamp_seconds":
            "Unix time of the directory's last complete listing; 0 when it was never listed completely.",
        "workos_dsync_held_plans": "Plans held by the mass-disable guard that wait for approve.",
        "workos_dsync_unexplained_disappearances":
            "Accounts missing from the last complete listing that the event feed does not explain (hybrid mode).",
        "workos_dsync_session_revocation_failures_total": "Runs whose revoke_sessions_sql failed (retried next run).",
        "workos_dsync_listing_pages_in_flight": "Pages fetched so far by the directory's listing in progress (0: none running).",
        "workos_dsync_replicas_live": "Replicas whose heartbeat is live; each paces the API key at its share of workos.requests_per_second.",
        "workos_dsync_link_conflicts_open": "Accounts waiting in link_conflicts for an admin (workos-dsync conflicts resolve); they cannot sign in.",
        "workos_dsync_link_conflicts_oldest_timestamp_seconds": "When the oldest open link conflict was recorded (Unix time; 0: none open).",
    ]
    /// The run duration histogram's name.
    public static let runDurationName = "workos_dsync_run_duration_seconds"
    /// Its buckets: 100 ms to 4 h (a complete listing of 100k users takes ~21 min, 1M over 3 h).
    public static let runDurationBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1_800), .seconds(3_600),
        .seconds(7_200), .seconds(14_400),
    ]

    final class Series: Sendable {
        let runs: [RunOutcome: Counter]
        let duration: Metrics.Timer
        let changes: [String: Counter]
        let active: Gauge
        let disabled: Gauge
        let listingAge: Gauge
        let listingTimestamp: Gauge
        let heldPlans: Gauge
        let unexplained: Gauge
        let openConflicts: Gauge
        let oldestConflict: Gauge
        let pagesInFlight: Gauge
        let revocationFailures: Counter
        /// `directories.last_complete_sync_at`, to refresh the age at each scrape.
        let lastComplete = Mutex<Date?>(nil)
        /// The directory's name and its `workos_dsync_directory_info` series, once known.
        let info = Mutex<(name: String, gauge: Gauge)?>(nil)

        init(directory: String, factory: any MetricsFactory) {
            var runs: [RunOutcome: Counter] = [:]
            for outcome in RunOutcome.allCases {
                runs[outcome] = Counter(
                    label: "workos_dsync_runs_total", dimensions: [("directory", directory), ("outcome", outcome.rawValue)],
                    factory: factory)
            }
            self.runs = runs
            duration = Metrics.Timer(label: DaemonMetrics.runDurationName, dimensions: [("directory", directory)], factory: factory)
            var changes: [String: Counter] = [:]
            for kind in DaemonMetrics.changeKinds {
                changes[kind] = Counter(
                    label: "workos_dsync_changes_total", dimensions: [("directory", directory), ("kind", kind)], factory: factory)
            }
            self.changes = changes
            active = Gauge(label: "workos_dsync_accounts", dimensions: [("directory", directory), ("status", "active")], factory: factory)
            disabled = Gauge(label: "workos_dsync_accounts", dimensions: [("directory", directory), ("status", "disabled")], factory: factory)
            listingAge = Gauge(
                label: "workos_dsync_last_complete_listing_age_seconds", dimensions: [("directory", directory)], factory: factory)
            listingTimestamp = Gauge(
                label: "workos_dsync_last_complete_listing_timestamp_seconds", dimensions: [("directory", directory)],
                factory: factory)
            heldPlans = Gauge(label: "workos_dsync_held_plans", dimensions: [("directory", directory)], factory: factory)
            pagesInFlight = Gauge(label: "workos_dsync_listing_pages_in_flight", dimensions: [("directory", directory)], factory: factory)
            unexplained = Gauge(
                label: "workos_dsync_unexplained_disappearances", dimensions: [("directory", directory)], factory: factory)
            openConflicts = Gauge(label: "workos_dsync_link_conflicts_open", dimensions: [("directory", directory)], factory: factory)
            oldestConflict = Gauge(
                label: "workos_dsync_link_conflicts_oldest_timestamp_seconds", dimensions: [("directory", directory)],
                factory: factory)
            revocationFailures = Counter(
                label: "workos_dsync_session_revocation_failures_total", dimensions: [("directory", directory)], factory: factory)
            active.record(0)
            disabled.record(0)
            heldPlans.record(0)
            unexplained.record(0)
            openConflicts.record(0)
            oldestConflict.record(0)
            listingTimestamp.record(0)
            pagesInFlight.record(0)
        }

        /// Points `workos_dsync_directory_info` at `name` (a renamed directory's old series goes).
        func name(_ name: String, directory: String, factory: any MetricsFactory) {
            info.withLock { info in
                guard info?.name != name else { return }
                info?.gauge.destroy()
                let gauge = Gauge(
                    label: "workos_dsync_directory_info", dimensions: [("directory", directory), ("name", name)], factory: factory)
                gauge.record(1)
                info = (name, gauge)
            }
        }
    }

    private let factory: any MetricsFactory
    private let series = Mutex<[String: Series]>([:])
    private let listingsShown = Mutex<Set<String>>([])
    private let replicas: Gauge
    /// When the daemon started: the age of a directory never listed completely counts from here.
    let startedAt: Date

    public init(factory: any MetricsFactory, startedAt: Date = Date()) {
        self.factory = factory
        self.startedAt = startedAt
        Gauge(
            label: "workos_dsync_build_info", dimensions: [("version", BuildInfo.version), ("commit", BuildInfo.commit)],
            factory: factory
        ).record(1)
        self.replicas = Gauge(label: "workos_dsync_replicas_live", factory: factory)
        replicas.record(1)
    }

    /// Sets `workos_dsync_replicas_live`.
    public func replicasLive(_ count: Int) { replicas.record(count) }

    /// Sets `workos_dsync_listing_pages_in_flight` of the listings in flight, and 0 for those that ended.
    public func listingsInProgress(_ listings: [ListingProgress]) {
        let now = Set(listings.map(\.directoryID))
        let ended = listingsShown.withLock { shown in
            defer { shown = now }
            return shown.subtracting(now)
        }
        for id in ended { series(id).pagesInFlight.record(0) }
        for listing in listings { series(listing.directoryID).pagesInFlight.record(listing.pages) }
    }

    /// Registers a directory's series at zero (idempotent) and its name.
    public func register(directory: Directory) {
        series(directory.id).name(directory.name, directory: directory.id, factory: factory)
    }

    private func series(_ id: String) -> Series {
        series.withLock { all in
            if let existing = all[id] { return existing }
            let created = Series(directory: id, factory: factory)
            all[id] = created
            created.listingAge.record(max(0, Date().timeIntervalSince(startedAt)))
            return created
        }
    }

    /// Counts one finished run: its outcome, duration, a failed session
    /// revocation and (when it wrote) its changes by kind.
    public func record(_ report: DirectoryReport) {
        let series = series(report.directory.id)
        series.name(report.directory.name, directory: report.directory.id, factory: factory)
        series.runs[report.outcome]?.increment()
        if report.sessionRevocationFailure != nil { series.revocationFailures.increment() }
        let seconds = (report.finishedAt ?? Date()).timeIntervalSince(report.startedAt)
        series.duration.recordNanoseconds(Int64(max(0, seconds) * 1e9))
        if let summary = report.summary { series.unexplained.record(summary.unexplained ?? 0) }
        guard report.outcome == .applied || report.outcome == .held, let summary = report.summary else { return }
        let counts: [(String, Int)] = [
            ("create", summary.creates), ("update", summary.updates), ("email_change", summary.emailChanges),
            ("reactivation", summary.reactivations), ("disable", summary.disables), ("held", summary.held),
            ("group_change", summary.groupChanges), ("membership_change", summary.membershipChanges),
        ]
        for (kind, count) in counts where count > 0 {
            series.changes[kind]?.increment(by: count)
        }
    }

    /// Sets the gauges read from the database after a run.
    public func update(directory id: String, gauges: DirectoryGauges) {
        let series = series(id)
        series.active.record(gauges.activeAccounts)
        series.disabled.record(gauges.disabledAccounts)
        series.heldPlans.record(gauges.heldPlans)
        series.openConflicts.record(gauges.openLinkConflicts)
        series.oldestConflict.record(gauges.oldestLinkConflictAt?.timeIntervalSince1970 ?? 0)
        series.lastComplete.withLock { $0 = gauges.lastCompleteSyncAt }
        series.listingTimestamp.record(gauges.lastCompleteSyncAt?.timeIntervalSince1970 ?? 0)
        refreshAge(series, now: Date())
    }

    /// Recomputes every listing-age gauge for `now` (before each scrape).
    public func refreshListingAges(now: Date = Date()) {
        for series in series.withLock({ Array($0.values) }) { refreshAge(series, now: now) }
    }

    private func refreshAge(_ series: Series, now: Date) {
        let since = series.lastComplete.withLock { $0 } ?? startedAt
        series.listingAge.record(max(0, now.timeIntervalSince(since)))
    }
}
