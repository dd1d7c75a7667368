import ArgumentParser
import Daemon
import Foundation
import Logging

/// `dsync-bench`: floors, full sync, unchanged and churned resyncs, throttling, peak RSS.
@main
struct DsyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsync-bench",
        abstract: "Benchmark workos-dsync against its floors on a throwaway PostgreSQL and the bundled simulator.")

    @Option(help: "Users per directory, comma-separated (1000000 on request).", transform: DsyncBench.parseSizes)
    var users: [Int] = [10_000, 100_000]

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Option(help: "Write the results as Markdown here (Benchmarks/RESULTS.md).")
    var markdown: String?

    @Option(help: "Users per directory of the throttled scenario (5 directories).")
    var throttledUsers = 1_000

    @Option(help: "Users per directory of the 5-directory memory check (0 skips it; default: the smallest size).")
    var manyDirectoriesUsers: Int?

    @Option(help: "Users of the events-latency directory (WorkOS's limits on; 0 skips it; default: the smallest size).")
    var eventsUsers: Int?

    @Option(help: "Deactivations measured one by one by the events-latency scenario (p50/p95 of their latency).")
    var eventsLeavers = 20

    @Option(help: "The poller's events.interval in the events-latency scenario, in seconds.")
    var eventsInterval = 5.0

    @Option(help: "Runs of the floors and the unchanged resync; the median is reported.")
    var repeats = 3

    @Option(help: "Only these scenarios, comma-separated (profiling runs; the churn needs the full sync first). `fleet` runs alone: one cycle of --directories × --users (the first size) × --groups under WorkOS's limits, with one replica then --replicas.")
    var only: String?

    @Option(help: "fleet: directories.")
    var directories = 200

    @Option(help: "fleet: groups per directory.")
    var groups = 10

    @Option(help: "fleet: replicas of the second cycle (1: only the single-replica cycle).")
    var replicas = 3

    @Option(help: .hidden)
    var scenario: Scenario?

    @Option(help: .hidden)
    var baseURL: String?

    @Option(help: .hidden)
    var databaseURL: String?

    static func parseSizes(_ text: String) throws -> [Int] {
        let sizes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--users takes positive integers separated by commas")
        }
        return sizes.compactMap { $0 }
    }

    func run() async throws {
        // DSYNC_BENCH_LOG=info shows the children's run logs (phase durations among them).
        let requestedLevel = ProcessInfo.processInfo.environment["DSYNC_BENCH_LOG"].flatMap(Logger.Level.init(rawValue:))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = requestedLevel ?? .notice
            return handler
        }
        var logger = Logger(label: "dsync-bench")
        if let scenario {
            logger.logLevel = requestedLevel ?? .warning
            guard let baseURL, let databaseURL, let apiKey = ProcessInfo.processInfo.environment[ChildProcess.apiKeyVariable] else {
                throw ValidationError("--scenario needs --base-url, --database-url and \(ChildProcess.apiKeyVariable)")
            }
            let runner = ScenarioRunner(
                scenario: scenario, target: ScenarioTarget(baseURL: baseURL, apiKey: apiKey, databaseURL: databaseURL),
                logger: logger)
            let measurement = try await runner.run()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(measurement), as: UTF8.self))
            return
        }
        if only == "fleet" {
            let fleet = FleetBench(directories: directories, users: users[0], groups: groups, replicas: max(1, replicas), logger: logger)
            let report = try await fleet.run()
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            }
            if let markdown {
                let command = "dsync-bench --only fleet --directories \(directories) --users \(users[0]) --groups \(groups) --replicas \(replicas)"
                try FleetBench.markdown(report, command: command).write(toFile: markdown, atomically: true, encoding: .utf8)
            }
            return
        }
        let orchestrator = Orchestrator(
            sizes: users, throttledUsers: throttledUsers,
            manyDirectoriesUsers: manyDirectoriesUsers == 0 ? nil : (manyDirectoriesUsers ?? users.min()),
            repeats: repeats,
            eventsUsers: eventsUsers == 0 ? nil : (eventsUsers ?? users.min()),
            eventsLeavers: max(1, eventsLeavers),
            eventsInterval: .milliseconds(Int(eventsInterval * 1000)),
            only: try only.map { list in
                Set(try list.split(separator: ",").map { name in
                    guard let scenario = Scenario(rawValue: String(name)) else { throw ValidationError("unknown scenario \(name)") }
                    return scenario
                })
            },
            logger: logger)
        // Interrupted, it stops its throwaway PostgreSQL and exits 128 + the signal.
        let results = try await orchestrator.run()
        print(ReportFormatter.text(results))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try encoder.encode(results).write(to: URL(fileURLWithPath: json))
        }
        if let markdown {
            try ReportFormatter.markdown(results).write(toFile: markdown, atomically: true, encoding: .utf8)
        }
    }
}

extension Scenario: ExpressibleByArgument {}
