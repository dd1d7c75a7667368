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
        let statuses = try await SyncStore(connection: connection, logger: logger).status()
        await connection.close()
        if statuses.isEmpty { print("No directory synced yet. Run `workos-dsync sync --once`.") }
        let now = Date()
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
            }
            for held in status.heldPlans {
                print("  HELD plan \(held.id): \(held.accounts) disables wait for `workos-dsync approve --directory \(status.id) --plan \(held.id)`")
            }
        }
    }
}
