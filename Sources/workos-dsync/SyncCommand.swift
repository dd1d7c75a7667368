import ArgumentParser
import Foundation
import Reconciler
import Store
import SyncCore
import WorkOSModel

/// `workos-dsync sync --once`: one reconciliation of every directory (or one), then exit.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Reconcile every directory once (a backfill after an outage, or a cron-style timer), then exit.",
        discussion: ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Run one cycle and exit (required: the long-running daemon is `workos-dsync run`).")
    var once = false
    @Option(help: "Only this directory id.")
    var directory: String?
    @Flag(help: "Print what would change; write nothing.")
    var dryRun = false

    func validate() throws {
        guard once else { throw ValidationError("sync needs --once; the daemon is `workos-dsync run`") }
    }

    func run() async throws {
        let runtime = try await options.runtime(label: "workos-dsync.sync")
        let reports: [DirectoryReport]
        do {
            reports = try await runtime.engine.reconcileAll(only: directory, mode: dryRun ? .dryRun : .apply)
        } catch {
            printError("cannot list directories, nothing applied: \(error)")
            await runtime.close()
            throw ExitStatus.fetchFailed.exitCode
        }
        for report in reports {
            print(ReportText.line(report))
            if dryRun, let plan = report.plan {
                for line in PlanDescription.lines(plan) { print("  \(line)") }
            }
        }
        await runtime.close()
        let status = ReportText.exitStatus(reports)
        if status != .success { throw status.exitCode }
    }
}

/// One-line forms of reports, and the exit status they add up to.
enum ReportText {
    static func line(_ report: DirectoryReport) -> String {
        var text = "\(report.directory.id): \(report.outcome.rawValue)"
        if let summary = report.summary { text += " (\(summary.line))" }
        if let runID = report.runID { text += ", run \(runID)" }
        if let held = report.heldPlanID { text += ", held plan \(held): approve with `workos-dsync approve --directory \(report.directory.id)`" }
        if let detail = report.detail, report.outcome == .failed || report.outcome == .skipped { text += ": \(detail)" }
        return text
    }

    /// Failed beats refused beats held beats success.
    static func exitStatus(_ reports: [DirectoryReport]) -> ExitStatus {
        if reports.contains(where: { $0.outcome == .failed && !$0.approvalRefused }) { return .fetchFailed }
        if reports.contains(where: \.approvalRefused) { return .approvalRefused }
        if reports.contains(where: { $0.outcome == .held }) { return .held }
        return .success
    }
}
