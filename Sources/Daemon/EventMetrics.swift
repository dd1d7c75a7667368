public import Foundation
public import Metrics
import Reconciler
import Synchronization

/// The events poller's metrics, registered at zero when the poller is built:
///
/// - `workos_dsync_events_applied_total{type}`: WorkOS events handled, by
///   `dsync.*` type (applied or found to change nothing)
/// - `workos_dsync_events_lag_seconds`: now − `created_at` of the newest
///   applied event while the poller is behind; 0 once a poll reached the end
///   of the feed
/// - `workos_dsync_events_last_poll_timestamp_seconds`: when a poll last
///   reached the end of the feed (alert when it stops moving)
/// - `workos_dsync_events_disables_total` / `workos_dsync_events_held_total`:
///   accounts disabled by events, and disables the guard held
/// - `workos_dsync_events_cursor_fallbacks_total`: full reconciles that
///   replaced an unknown, refused or expired cursor
public final class EventMetrics: Sendable {
    /// Help text of each metric above, for `/metrics`.
    public static let help: [String: String] = [
        "workos_dsync_events_applied_total": "WorkOS events handled by the events poller, by dsync.* type.",
        "workos_dsync_events_lag_seconds":
            "Seconds between now and the newest applied event while the poller is behind; 0 at the end of the feed.",
        "workos_dsync_events_last_poll_timestamp_seconds": "Unix time when a poll last reached the end of the event feed.",
        "workos_dsync_events_disables_total": "Accounts disabled by events.",
        "workos_dsync_events_held_total": "Disables from events that the mass-disable guard held.",
        "workos_dsync_events_cursor_fallbacks_total":
            "Full reconciles that replaced an unknown, refused or expired events cursor.",
    ]

    private let applied: [String: Counter]
    let lag: Gauge
    let lastPoll: Gauge
    let disables: Counter
    let held: Counter
    let fallbacks: Counter

    /// Without a factory the metrics go nowhere (tests, one-shot commands).
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        var applied: [String: Counter] = [:]
        for type in DirectoryEvent.types {
            applied[type] = Counter(label: "workos_dsync_events_applied_total", dimensions: [("type", type)], factory: factory)
        }
        self.applied = applied
        lag = Gauge(label: "workos_dsync_events_lag_seconds", factory: factory)
        lastPoll = Gauge(label: "workos_dsync_events_last_poll_timestamp_seconds", factory: factory)
        disables = Counter(label: "workos_dsync_events_disables_total", factory: factory)
        held = Counter(label: "workos_dsync_events_held_total", factory: factory)
        fallbacks = Counter(label: "workos_dsync_events_cursor_fallbacks_total", factory: factory)
        lag.record(0)
        lastPoll.record(0)
    }

    func recordApplied(type: String) {
        applied[type]?.increment()
    }
}
