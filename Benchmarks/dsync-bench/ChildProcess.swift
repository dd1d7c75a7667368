import Foundation
import Logging

/// Re-executes this binary with `--scenario`, so each scenario's peak RSS and CPU time are its own.
enum ChildProcess {
    static let apiKeyVariable = "DSYNC_BENCH_API_KEY"

    /// Set `DSYNC_BENCH_PERF=<scenario>` to run that scenario's child under `perf record -g`
    /// (written to `/tmp/dsync-bench-<scenario>.perf`).
    static let perfVariable = "DSYNC_BENCH_PERF"
    /// Set `DSYNC_BENCH_HEAPTRACK=<scenario>` to run that scenario's child under `heaptrack`
    /// (written to `/tmp/dsync-bench-<scenario>.heaptrack.*`): where the peak memory goes.
    static let heaptrackVariable = "DSYNC_BENCH_HEAPTRACK"

    static func run(_ scenario: Scenario, target: ScenarioTarget, logger: Logger) async throws -> Measurement {
        try await onOwnThread {
            let process = Process()
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            var arguments = [
                "--scenario", scenario.rawValue, "--base-url", target.baseURL, "--database-url", target.databaseURL,
            ]
            if ProcessInfo.processInfo.environment[perfVariable] == scenario.rawValue {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/perf")
                arguments = ["record", "-q", "-F", "997", "-g", "-o", "/tmp/dsync-bench-\(scenario.rawValue).perf", "--", executable]
                    + arguments
            } else if ProcessInfo.processInfo.environment[heaptrackVariable] == scenario.rawValue {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/heaptrack")
                arguments = ["-o", "/tmp/dsync-bench-\(scenario.rawValue).heaptrack", executable] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: executable)
            }
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment[apiKeyVariable] = target.apiKey
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw BenchFailure("scenario \(scenario.rawValue) exited with \(process.terminationStatus)")
            }
            // The measurement is the last JSON line (a profiler may print its own lines).
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
            do {
                return try JSONDecoder().decode(Measurement.self, from: Data(line.utf8))
            } catch {
                throw BenchFailure("scenario \(scenario.rawValue) printed no measurement: \(line.prefix(200))")
            }
        }
    }
}
