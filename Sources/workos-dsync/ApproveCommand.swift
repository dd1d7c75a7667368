import ArgumentParser
import Foundation
import Reconciler
import Store
import SyncCore
import WorkOSModel

/// `workos-dsync approve`: release the disables the mass-disable guard held,
/// exactly that set, if a fresh complete listing still says the same.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Apply a held plan's disables, exactly that set, after checking a fresh complete listing still matches it.",
        discussion: ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The directory whose held plan to release.")
    var directory: String
    @Option(name: .customLong("plan"), help: "The held plan id (default: the newest held plan of the directory).")
    var planID: Int64?

    func run() async throws {
        let runtime = try await options.runtime(label: "workos-dsync.approve")
        let environment = ProcessInfo.processInfo.environment
        let approver = environment["SUDO_USER"] ?? environment["USER"] ?? "cli"
        let reports: [DirectoryReport]
        do {
            reports = try await runtime.engine.reconcileAll(only: directory, mode: .approve(heldPlanID: planID, approver: approver))
        } catch {
            printError("cannot list directories, nothing applied: \(error)")
            await runtime.close()
            throw ExitStatus.fetchFailed.exitCode
        }
        await runtime.close()
        guard let report = reports.first else {
            printError("directory \(directory) is neither listed by WorkOS nor known to the database")
            throw ExitStatus.approvalRefused.exitCode
        }
        if report.approvalRefused {
            printError("approval refused: \(report.detail ?? "")")
            throw ExitStatus.approvalRefused.exitCode
        }
        print(ReportText.line(report))
        if let plan = report.plan {
            for line in PlanDescription.lines(plan, applied: report.outcome == .applied) { print("  \(line)") }
        }
        let status = ReportText.exitStatus(reports)
        if status != .success { throw status.exitCode }
    }
}
