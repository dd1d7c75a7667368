import Foundation
import Logging

/// Re-executes this binary with `--scenario`, so each scenario's peak RSS and CPU time are its own.
enum ChildProcess {
    static let apiKeyVariable = "DSYNC_BENCH_API_KEY"

    static func run(_ scenario: Scenario, target: ScenarioTarget, logger: Logger) async throws -> Measurement {
        try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = [
                "--scenario", scenario.rawValue, "--base-url", target.baseURL, "--database-url", target.databaseURL,
            ]
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
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            do {
                return try JSONDecoder().decode(Measurement.self, from: Data(line.utf8))
            } catch {
                throw BenchFailure("scenario \(scenario.rawValue) printed no measurement: \(line.prefix(200))")
            }
        }
    }
}
