import ArgumentParser
import Daemon
import Foundation
import Logging
import Reconciler
import Store
import SyncCore
import WorkOSModel

/// `workos-dsync status`: last run per directory, outcome, counts, held plans, freshness.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the last run of each directory, its outcome and counts, held plans, and the age of the last complete listing.",
        discussion: ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let session = try await AdminSession.open(options, label: "workos-dsync.status")
        let (statuses, cursors, conflicts, holds) = try await session.run("status") { store in
            (try await store.status(), try await store.eventCursors(), try await store.openConflicts(), try await store.legalHolds())
        }
        if statuses.isEmpty { print("No directory synced yet. Run `workos-dsync sync --once`.") }
        let now = Date()
        for (keyID, cursor) in cursors {
            print(Self.describe(cursor, keyID: keyID, now: now))
        }
        for status in statuses {
            var line = "\(status.id) \(status.name.isEmpty ? "" : "(\(status.name)) ")state \(status.state.isEmpty ? "?" : status.state)"
            if status.removedAt != nil { line += ", removed" }
            line += ": \(status.activeAccounts) active, \(status.disabledAccounts) disabled accounts"
            print(line)
            let age = status.lastCompleteSyncAt.map { "\(DurationText.format(.seconds(Int64(max(1, now.timeIntervalSince($0)))))) ago" } ?? "never"
            print("  last complete listing: \(age)")
            if let runID = status.lastRunID {
                var run = "  last run \(runID): \(status.lastOutcome ?? "?")"
                if let counts = status.lastCounts, counts != "{}" { run += " \(counts)" }
                if let error = status.lastError { run += " — \(error)" }
                print(run)
                if let unexplained = status.lastUnexplainedDisappearances, unexplained > 0 {
                    print("  \(unexplained) accounts missing, unexplained by the event feed (guard.max_unexplained)")
                }
            }
            for held in status.heldPlans {
                print("  HELD plan \(held.id): \(held.accounts) disables wait for `workos-dsync approve --directory \(status.id) --plan \(held.id)`")
            }
            let open = conflicts.filter { $0.directoryID == status.id }
            if let oldest = open.first {
                print("  \(open.count) open link conflict\(open.count == 1 ? "" : "s") (oldest \(DurationText.format(.seconds(Int64(max(1, now.timeIntervalSince(oldest.createdAt)))))) old): "
                    + "`workos-dsync conflicts list --directory \(status.id)`")
            }
        }
        for hold in holds {
            print("legal hold: person \(hold.personID.uuidString.lowercased()) since \(Timestamp.format(hold.since)): \(hold.reason)")
        }
    }

    /// One line per events cursor: where the poller stands and how far behind the feed it is.
    static func describe(_ cursor: EventCursor, keyID: String, now: Date) -> String {
        func ago(_ date: Date?) -> String {
            date.map { "\(DurationText.format(.seconds(Int64(max(1, now.timeIntervalSince($0)))))) ago" } ?? "never"
        }
        let position = cursor.eventID.map { "after \($0)" }
            ?? cursor.rangeStart.map { "from \(Timestamp.format($0)) (after a full reconcile)" } ?? "none"
        return "events (key \(keyID)): cursor \(position); newest applied event \(ago(cursor.lastEventAt)), "
            + "caught up \(ago(cursor.caughtUpAt)), \(cursor.eventsApplied) events handled"
    }
}
