import Daemon
import Foundation
import Glibc
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// Two `workos-dsync run` processes on one database share the directories
/// through the advisory-lock lease alone: one directory is never applied by
/// both at once, and when one replica is killed the other carries on.
@Suite(.serialized) struct ReplicaTests {
    final class Replica {
        let process = SpawnedProcess()
        let log: URL

        init(binary: URL, harness: DaemonHarness, config: String, name: String, interval: String = "1s") throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("replica-\(name)-\(UUID().uuidString.prefix(6)).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = binary
            process.arguments = ["run", "--config", config, "--interval", interval, "--listen", "127.0.0.1:0"]
            var environment = ProcessInfo.processInfo.environment
            environment["WORKOS_API_KEY"] = harness.simulator.apiKey
            environment["WORKOS_BASE_URL"] = harness.settings.baseURL
            environment["DATABASE_URL"] = harness.databaseURL
            environment["no_proxy"] = "127.0.0.1,localhost,::1"
            environment.removeValue(forKey: "NOTIFY_SOCKET")
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
        }

        /// `run.id`s of the runs this replica wrote (from its logfmt lines).
        func runIDs() -> Set<Int64> {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            var ids: Set<Int64> = []
            for line in text.split(separator: "\n") where line.contains("msg=\"directory reconciled\"") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("run.id=") }), let id = Int64(field.dropFirst(7)) {
                    ids.insert(id)
                }
            }
            return ids
        }

        var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    struct Run {
        var id: Int64
        var directory: String
        var started: Date
        var finished: Date
    }

    func runs(_ harness: DaemonHarness) async throws -> [Run] {
        try await harness.query("""
            SELECT id, directory_id, started_at, finished_at FROM workos_dsync.sync_runs
            WHERE finished_at IS NOT NULL ORDER BY directory_id, started_at
            """).map { row in
            Run(
                id: try row.decode(Int64.self, "id"), directory: try row.decode(String.self, "directory_id"),
                started: try row.decode(Date.self, "started_at"), finished: try row.decode(Date.self, "finished_at"))
        }
    }

    @Test func twoReplicasNeverApplyOneDirectoryAtOnceAndTheSurvivorTakesOver() async throws {
        let binary = try builtBinary()
        let harness = try await DaemonHarness.make(directories: 4, users: 200, groups: 4, latency: .milliseconds(2))
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("replicas-\(UUID().uuidString).yaml")
        try """
            workos:
              directory_users_per_second: 1000
              requests_per_second: 10000
            sync:
              concurrency: 2
            log:
              format: logfmt
            """.write(to: config, atomically: true, encoding: .utf8)
        let first = try Replica(binary: binary, harness: harness, config: config.path, name: "a")
        let second = try Replica(binary: binary, harness: harness, config: config.path, name: "b")
        defer {
            for replica in [first, second] where replica.process.isRunning { kill(replica.process.processIdentifier, SIGKILL) }
        }

        // Both work for a while; every directory is applied, and keeps being reconciled.
        let shared = try await eventually(timeout: .seconds(30)) {
            guard first.process.isRunning, second.process.isRunning else {
                throw TestFailure(description: "a replica exited: \(first.logText.suffix(500)) \(second.logText.suffix(500))")
            }
            let directories = try await harness.count("SELECT count(DISTINCT directory_id) AS count FROM workos_dsync.sync_runs")
            return !first.runIDs().isEmpty && !second.runIDs().isEmpty && directories == 4
        }
        #expect(shared, "both replicas wrote runs")
        try await Task.sleep(for: .seconds(3))

        // Kill one replica at an arbitrary moment: its session (and any lease) dies with it.
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let killedAt = Date()
        let killedRuns = first.runIDs()

        // Changes made after the kill reach the database through the survivor within about one interval.
        var hires: [String: String] = [:]
        for directory in harness.simulator.directoryIDs {
            hires[directory] = harness.simulator.createUser(
                in: directory, email: "late.\(UUID().uuidString.prefix(6))@example.com", firstName: "Late", lastName: "Hire")
        }
        // One interval is 1 s; the bound leaves room for a loaded CI machine.
        let tookOver = try await eventually(timeout: .seconds(20)) {
            for (_, user) in hires {
                let found = try await harness.count("SELECT count(*) AS count FROM workos_dsync.directory_users WHERE workos_id = \(user)")
                if found != 1 { return false }
            }
            return true
        }
        #expect(tookOver, "the surviving replica applied every directory after the kill")
        let tookOverAt = Date()
        #expect(tookOverAt.timeIntervalSince(killedAt) < 20)

        // SIGTERM: the survivor drains and exits 0.
        kill(second.process.processIdentifier, SIGTERM)
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 0)
        #expect(second.logText.contains("workos-dsync run stopped"))

        // No two runs of one directory overlap in time, across both replicas.
        let all = try await runs(harness)
        #expect(all.count >= 8)
        for directory in harness.simulator.directoryIDs {
            let ofDirectory = all.filter { $0.directory == directory }.sorted { $0.started < $1.started }
            for (previous, next) in zip(ofDirectory, ofDirectory.dropFirst()) {
                #expect(next.started >= previous.finished, "runs \(previous.id) and \(next.id) of \(directory) overlap")
            }
        }
        // Every recorded run was written by one of the two replicas, and the survivor wrote the late ones.
        // The survivor stopped gracefully, so its log names all of its runs; the killed replica may have
        // committed a run (at most `concurrency` of them) and died before logging it — such a run must
        // have started before the kill.
        let survivorRuns = second.runIDs()
        let unlogged = all.filter { !killedRuns.contains($0.id) && !survivorRuns.contains($0.id) }
        #expect(unlogged.count <= 2, "runs logged by neither replica: \(unlogged.map(\.id))")
        #expect(unlogged.allSatisfy { $0.started < killedAt }, "an unlogged run started after the kill: \(unlogged.map(\.id))")
        let afterKill = all.filter { $0.started > killedAt }
        #expect(!afterKill.isEmpty && afterKill.allSatisfy { survivorRuns.contains($0.id) })
        harness.simulator.stop()
        for file in [first.log, second.log, config] { try? FileManager.default.removeItem(at: file) }
    }
}
