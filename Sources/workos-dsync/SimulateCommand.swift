import ArgumentParser
import Daemon
import Foundation
import Glibc
import WorkOSSimulator

/// `workos-dsync simulate`: serves the bundled WorkOS simulator until SIGINT or SIGTERM.
///
/// Prints one JSON line when ready:
/// `{"ready":true,"base_url":"http://127.0.0.1:P","api_key":"…","directories":["directory_…",…]}`.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve a fake WorkOS Directory Sync API on loopback (for tests, demos and benchmarks)."
    )

    enum DeactivationOption: String, ExpressibleByArgument, CaseIterable {
        case delete
        case keepInactive = "keep-inactive"
    }

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 0

    @Option(help: "Address to bind (an IPv4 or IPv6 literal, e.g. 127.0.0.1 or ::1).")
    var host = "127.0.0.1"

    @Option(help: "Users per directory.")
    var users = 100

    @Option(help: "Groups per directory.")
    var groups = 10

    @Option(help: "Number of directories.")
    var directories = 2

    @Option(help: "Seed of the generated data.")
    var seed: UInt64 = 1

    @Option(name: .customLong("api-key"), help: "The API key the simulator accepts.")
    var apiKey = "sk_test_simulator"

    @Flag(help: "Embed each user's groups in `groups` (pre-2026 behaviour).")
    var embeddedGroups = false

    @Option(help: "What deactivating a user does: delete or keep-inactive.")
    var deactivation: DeactivationOption = .delete

    @Flag(help: "Turn WorkOS's rate limits off.")
    var noRateLimit = false

    @Option(help: "Milliseconds added to every response.")
    var latencyMs = 0

    @Flag(help: "Serve users without the deprecated emails, username, job_title and raw_attributes.")
    var noDeprecatedFields = false

    @Flag(help: "Write timestamps with a space and no zone (2025-01-06 09:00:00.000), as some older records do.")
    var legacyTimestamps = false

    @Flag(help: "Apply one change of every kind to the last directory (counts unchanged), so /events has one event of each dsync type.")
    var sampleEvents = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard users >= 0, groups >= 0, directories >= 0 else {
            throw ValidationError("--users, --groups and --directories must not be negative.")
        }
        guard !apiKey.isEmpty else { throw ValidationError("--api-key must not be empty.") }
        guard latencyMs >= 0 else { throw ValidationError("--latency-ms must not be negative.") }
    }

    func run() async throws {
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            apiKey: apiKey, seed: seed, directories: directories, usersPerDirectory: users,
            groupsPerDirectory: groups, embeddedGroups: embeddedGroups,
            deactivation: deactivation == .delete ? .delete : .keepInactive,
            rateLimit: noRateLimit ? nil : RateLimit(), latency: .milliseconds(latencyMs),
            includeDeprecatedFields: !noDeprecatedFields, timestampStyle: legacyTimestamps ? .spaceWithoutZone : .iso8601
        ))
        if sampleEvents, let last = simulator.directoryIDs.last {
            simulator.applySampleChanges(in: last)
        }
        let baseURL = try simulator.start(host: host, port: port)
        // Keys in a fixed order, so the line reads the same every time.
        func json(_ value: Any) throws -> String {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
        let ready = "{\"ready\":true,\"base_url\":\(try json(baseURL.absoluteString)),"
            + "\"api_key\":\(try json(simulator.apiKey)),\"directories\":\(try json(simulator.directoryIDs))}\n"
        let line = Data(ready.utf8)
        // The ready line once the signals are trapped: a SIGTERM right after it is not lost.
        let signal = await TerminationSignals.wait { FileHandle.standardOutput.write(line) }
        simulator.stop()
        FileHandle.standardError.write(Data("simulate: stopped on signal \(signal)\n".utf8))
    }
}
