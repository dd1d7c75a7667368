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
        let settings = try options.loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: "workos-dsync.status")
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(settings.databaseURL, logger: logger)
        } catch {
            printError("cannot reach the database: \(error)")
            throw ExitStatus.error.exitCode
        }
        let store = SyncStore(connection: connection, logger: logger)
        let statuses = try await store.status()
        let cursors = try await store.eventCursors()
        await connection.close()
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
