import ArgumentParser
import Foundation
import Reconciler
import Store
import SyncCore
import WorkOSModel

/// `workos-dsync plan`: what a sync would change, with a reason per change; writes nothing.
struct PlanCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a sync would change and why (\"would disable ana@acme.test (missing, last listed in run 41)\"); writes nothing.",
        discussion: ExitStatus.helpText)

    @OptionGroup var options: ConfigOptions
    @Option(help: "Only this directory id.")
    var directory: String?
    @Option(help: "table (default) or json.")
    var format: Format = .table
    @Flag(help: "Exit 0 when nothing would change, 2 when something would.")
    var detailedExitcode = false

    func run() async throws {
        let runtime = try await options.runtime(label: "workos-dsync.plan")
        let reports: [DirectoryReport]
        do {
            reports = try await runtime.engine.reconcileAll(only: directory, mode: .dryRun)
        } catch {
            printError("cannot list directories: \(error)")
            await runtime.close()
            throw ExitStatus.fetchFailed.exitCode
        }
        var lastComplete: [String: Int64] = [:]
        for report in reports {
            lastComplete[report.directory.id] = try? await runtime.store.lastCompleteRunID(directoryID: report.directory.id)
        }
        await runtime.close()
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let plans = reports.map { PlanDescription.json($0, lastCompleteRunID: lastComplete[$0.directory.id]) }
            print(String(decoding: try encoder.encode(plans), as: UTF8.self))
        case .table:
            for report in reports {
                print(ReportText.line(report))
                if let plan = report.plan {
                    for line in PlanDescription.lines(plan, lastCompleteRunID: lastComplete[report.directory.id]) { print("  \(line)") }
                }
            }
            let changing = reports.filter { !($0.plan?.isEmpty ?? true) }.count
            print("Plan: \(changing) of \(reports.count) directories would change.")
        }
        let failed = ReportText.exitStatus(reports)
        if failed == .fetchFailed { throw failed.exitCode }
        if detailedExitcode && reports.contains(where: { !($0.plan?.isEmpty ?? true) }) {
            throw ExitStatus.changesPending.exitCode
        }
    }
}
