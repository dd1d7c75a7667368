import ArgumentParser
import Daemon
import Foundation
import Logging
import Reconciler
import Store
import SyncCore
import WorkOSModel

/// `workos-dsync status`: per directory the last run, the last complete
/// listing, held plans, open link conflicts; the events cursor and its lag.
/// Exits 3 while a held plan waits for `approve`, 4 when a listing is stale.
struct StatusCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each directory's last run, last complete listing, held plans and open link conflicts, and the events cursor.",
        discussion: """
            A table by default, --format json for scripts. A directory's listing is stale when its last complete \
            listing is older than http.max_listing_age (or there was none); removed directories and those outside \
            sync.directories are not judged. Exits 0 when nothing needs attention, 3 when a held plan waits for \
            `workos-dsync approve`, 4 when a listing is stale (4 wins over 3), 1 when the database is unreachable, \
            6 on a configuration error.
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "table (default) or json.")
    var format: Format = .table

    func run() async throws {
        let session = try await AdminSession.open(options, label: "workos-dsync.status")
        let (statuses, cursors, conflicts, holds) = try await session.run("status") { store in
            (try await store.status(), try await store.eventCursors(), try await store.openConflicts(), try await store.legalHolds())
        }
        let report = StatusReport(
            statuses: statuses, cursors: cursors, conflicts: conflicts, holds: holds, settings: session.settings, now: Date())
        switch format {
        case .table: for line in report.tableLines() { print(line) }
        case .json: print(report.json())
        }
        if report.exitStatus != .success { throw report.exitStatus.exitCode }
    }
}

/// What `status` found, judged against the settings, as a table or JSON.
struct StatusReport {
    var statuses: [DirectoryStatus]
    var cursors: [(keyID: String, cursor: EventCursor)]
    /// Open `link_conflicts`, oldest first.
    var conflicts: [OpenLinkConflict]
    /// Persons under legal hold (never purged).
    var holds: [LegalHold]
    var maxListingAge: Duration
    var now: Date
    /// Directories whose last complete listing is older than `http.max_listing_age`, or missing.
    var staleDirectoryIDs: [String]

    init(
        statuses: [DirectoryStatus], cursors: [(keyID: String, cursor: EventCursor)], conflicts: [OpenLinkConflict],
        holds: [LegalHold], settings: Settings, now: Date
    ) {
        self.statuses = statuses
        self.cursors = cursors
        self.conflicts = conflicts
        self.holds = holds
        self.maxListingAge = settings.maxListingAge
        self.now = now
        staleDirectoryIDs = statuses.filter { status in
            guard status.removedAt == nil, settings.directories.isEmpty || settings.directories.contains(status.id) else { return false }
            guard let complete = status.lastCompleteSyncAt else { return true }
            return now.timeIntervalSince(complete) > Double(settings.maxListingAge.components.seconds)
        }.map(\.id)
    }

    var heldPlanCount: Int { statuses.reduce(0) { $0 + $1.heldPlans.count } }

    /// Accounts of the directory waiting in `link_conflicts`.
    func openConflicts(_ directoryID: String) -> Int { conflicts.lazy.filter { $0.directoryID == directoryID }.count }

    /// 4 when a listing is stale, else 3 when a held plan waits, else 0.
    var exitStatus: ExitStatus {
        if !staleDirectoryIDs.isEmpty { return .fetchFailed }
        if heldPlanCount > 0 { return .held }
        return .success
    }

    func age(_ date: Date?) -> String {
        date.map { "\(DurationText.format(.seconds(Int64(max(1, now.timeIntervalSince($0)))))) ago" } ?? "never"
    }

    /// Seconds since the poller last reached the end of the feed (nil: never).
    func lagSeconds(_ cursor: EventCursor) -> Int? {
        cursor.caughtUpAt.map { Int(max(0, now.timeIntervalSince($0))) }
    }

    func tableLines() -> [String] {
        if statuses.isEmpty { return ["No directory synced yet. Run `workos-dsync sync --once`."] }
        let header = ["DIRECTORY", "STATE", "ACTIVE", "DISABLED", "LAST RUN", "OUTCOME", "LAST COMPLETE LISTING", "HELD", "CONFLICTS", "UNEXPLAINED"]
        let rows = statuses.map { status -> [String] in
            let state = (status.state.isEmpty ? "?" : status.state) + (status.removedAt != nil ? " (removed)" : "")
            let listing = age(status.lastCompleteSyncAt) + (staleDirectoryIDs.contains(status.id) ? " STALE" : "")
            return [
                status.id + (status.name.isEmpty ? "" : " (\(status.name))"), state, "\(status.activeAccounts)", "\(status.disabledAccounts)",
                status.lastRunID.map { "\($0), \(age(status.lastRunAt))" } ?? "none", status.lastOutcome ?? "-", listing,
                "\(status.heldPlans.reduce(0) { $0 + $1.accounts })", "\(openConflicts(status.id))",
                status.lastUnexplainedDisappearances.map { "\($0)" } ?? "-",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var lines = [line(header)] + rows.map(line)
        for status in statuses {
            if let error = status.lastError, status.lastOutcome == "failed" || status.lastOutcome == "skipped" {
                lines.append("\(status.id): last run \(status.lastOutcome ?? ""): \(error)")
            }
            for held in status.heldPlans {
                lines.append("HELD plan \(held.id) (\(age(held.createdAt))): \(held.accounts) disables wait for `workos-dsync approve --directory \(status.id) --plan \(held.id)`")
            }
            if let oldest = conflicts.first(where: { $0.directoryID == status.id }) {
                lines.append(
                    "\(status.id): \(openConflicts(status.id)) accounts wait in link_conflicts for an admin (oldest \(age(oldest.createdAt))): "
                        + "`workos-dsync conflicts list --directory \(status.id)`")
            }
        }
        for (keyID, cursor) in cursors {
            let position = cursor.eventID.map { "after \($0)" }
                ?? cursor.rangeStart.map { "from \(Timestamp.format($0)) (after a full reconcile)" } ?? "none"
            lines.append(
                "events (key \(keyID)): cursor \(position); newest applied event \(age(cursor.lastEventAt)), "
                    + "caught up \(age(cursor.caughtUpAt)), \(cursor.eventsApplied) events handled")
        }
        for hold in holds {
            lines.append("legal hold: person \(hold.personID.uuidString.lowercased()) since \(Timestamp.format(hold.since)): \(hold.reason)")
        }
        if !staleDirectoryIDs.isEmpty {
            lines.append("STALE: no complete listing within http.max_listing_age (\(DurationText.format(maxListingAge))): \(staleDirectoryIDs.joined(separator: ", ")) (exit 4)")
        } else if heldPlanCount > 0 {
            lines.append("Waiting for a human: \(heldPlanCount) held plan\(heldPlanCount == 1 ? "" : "s") (exit 3)")
        }
        return lines
    }

    func json() -> String {
        func date(_ value: Date?) -> Any { value.map(Timestamp.format) ?? NSNull() }
        func optional(_ value: Any?) -> Any { value ?? NSNull() }
        let directories: [[String: Any]] = statuses.map { status in
            var lastRun: Any = NSNull()
            if let id = status.lastRunID {
                let counts = status.lastCounts.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
                lastRun = [
                    "id": id, "outcome": optional(status.lastOutcome), "started_at": date(status.lastRunAt),
                    "error": optional(status.lastError), "counts": optional(counts),
                ] as [String: Any]
            }
            return [
                "id": status.id, "name": status.name, "state": status.state, "removed_at": date(status.removedAt),
                "active_accounts": status.activeAccounts, "disabled_accounts": status.disabledAccounts, "last_run": lastRun,
                "last_complete_listing_at": date(status.lastCompleteSyncAt),
                "last_complete_listing_age_seconds": optional(status.lastCompleteSyncAt.map { Int(max(0, now.timeIntervalSince($0))) }),
                "stale": staleDirectoryIDs.contains(status.id),
                "held_plans": status.heldPlans.map { ["id": $0.id, "accounts": $0.accounts, "created_at": Timestamp.format($0.createdAt)] as [String: Any] },
                "open_conflicts": openConflicts(status.id),
                "unexplained_disappearances": optional(status.lastUnexplainedDisappearances),
            ]
        }
        let events: [[String: Any]] = cursors.map { keyID, cursor in
            [
                "key_id": keyID, "cursor": optional(cursor.eventID), "range_start": date(cursor.rangeStart),
                "last_event_at": date(cursor.lastEventAt), "caught_up_at": date(cursor.caughtUpAt),
                "lag_seconds": optional(lagSeconds(cursor)), "events_handled": cursor.eventsApplied,
            ]
        }
        let object: [String: Any] = [
            "directories": directories, "events": events,
            "max_listing_age_seconds": maxListingAge.components.seconds,
            "held_plans": heldPlanCount, "stale_directories": staleDirectoryIDs, "exit_code": Int(exitStatus.rawValue),
            "legal_holds": holds.map {
                ["person_id": $0.personID.uuidString.lowercased(), "email": optional($0.email), "since": Timestamp.format($0.since),
                 "reason": $0.reason] as [String: Any]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
