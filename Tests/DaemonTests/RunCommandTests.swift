import Daemon
import Foundation
import Glibc
import LoopbackHTTP
import PostgresTestSupport
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// The built `workos-dsync run` as systemd runs it: notify socket, watchdog,
/// SIGHUP reload, SIGTERM, and the refusal to start on an old schema.
@Suite(.serialized) struct RunCommandTests {
    func start(
        _ binary: URL, arguments: [String], environment extra: [String: String], log: URL
    ) throws -> SpawnedProcess {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = SpawnedProcess()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }

    @Test func runUnderANotifySocketReloadsOnSighupAndStopsOnSigterm() async throws {
        let binary = try builtBinary()
        let harness = try await DaemonHarness.make(directories: 1, users: 8, groups: 1)
        let listener = try NotifyListener(abstract: true)
        defer { listener.close() }
        let folder = FileManager.default.temporaryDirectory
        let config = folder.appendingPathComponent("run-\(UUID().uuidString).yaml")
        let log = folder.appendingPathComponent("run-\(UUID().uuidString).log")
        try "workos:\n  directory_users_per_second: 1000\nsync:\n  interval: 1h\nlog:\n  format: json\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let process = try start(
            binary, arguments: ["run", "--config", config.path, "--listen", "127.0.0.1:0"],
            environment: [
                "WORKOS_API_KEY": harness.simulator.apiKey, "WORKOS_BASE_URL": harness.settings.baseURL,
                "DATABASE_URL": harness.databaseURL, "NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "600000",
            ],
            log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        let petted = await eventually(timeout: .seconds(20)) { listener.messages.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        #expect(petted, "\(logText().suffix(800))")
        let messages = listener.messages
        #expect(messages.first?.split(separator: "\n").first == "READY=1")
        let applied = try await eventually {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs WHERE outcome = 'applied'") == 1
        }
        #expect(applied)

        // SIGHUP with a changed file: the interval changes and the change is logged.
        try "workos:\n  directory_users_per_second: 1000\nsync:\n  interval: 1s\nlog:\n  format: json\n  level: debug\n"
            .write(to: config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        let rerun = try await eventually(timeout: .seconds(30)) {
            try await harness.count("SELECT count(*) AS count FROM workos_dsync.sync_runs") >= 2
        }
        #expect(rerun, "the 1 s interval took effect")
        #expect(logText().contains("sync.interval 1h → 1s"))
        // An invalid file keeps the running settings.
        try "sync:\n  interval: never\n".write(to: config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(await eventually(timeout: .seconds(30)) { logText().contains("keeping the old settings") })
        #expect(process.isRunning)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(await eventually(timeout: .seconds(30)) { listener.messages.contains("STOPPING=1") })
        // JSON lines, one object each, none carrying the API key.
        let lines = logText().split(separator: "\n")
        #expect(lines.count > 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["msg"] != nil, "\(line)")
            #expect(!line.contains(harness.simulator.apiKey))
        }
        #expect(lines.contains { $0.contains("\"directory.id\":\"\(harness.simulator.directoryIDs[0])\"") && $0.contains("\"run.id\":") })
        harness.simulator.stop()
        for file in [config, log] { try? FileManager.default.removeItem(at: file) }
    }

    @Test func aListenAddressThatCannotBeBoundExitsWithTheConfigurationCode() async throws {
        let binary = try builtBinary()
        let harness = try await DaemonHarness.make(directories: 1, users: 3, groups: 1)
        let taken = LoopbackHTTPServer { _ in .text(200, "taken") }
        let port = try taken.start()
        defer { taken.stop() }
        for (listen, reason) in [("127.0.0.1:\(port)", "Address already in use"), ("example.com:9464", "IP address")] {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).log")
            let process = try start(
                binary, arguments: ["run", "--listen", listen],
                environment: [
                    "WORKOS_API_KEY": harness.simulator.apiKey, "WORKOS_BASE_URL": harness.settings.baseURL,
                    "DATABASE_URL": harness.databaseURL,
                ],
                log: log)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            process.waitUntilExit()
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 6, "\(text)")
            #expect(text.contains("configuration error: --listen") && text.contains(listen) && text.contains(reason), "\(text)")
            try? FileManager.default.removeItem(at: log)
        }
        harness.simulator.stop()
    }

    @Test func pendingMigrationsExitWithAMessageAndNoReady() async throws {
        let binary = try builtBinary()
        let url = try await TestDatabase.create("run_unmigrated", logger: quietLogger)
        let listener = try NotifyListener(abstract: false)
        defer { listener.close() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString).log")
        let process = try start(
            binary, arguments: ["run", "--listen", "127.0.0.1:0"],
            environment: [
                "WORKOS_API_KEY": "sk_test_x", "WORKOS_BASE_URL": "http://127.0.0.1:9", "DATABASE_URL": url,
                "NOTIFY_SOCKET": listener.address,
            ],
            log: log)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("run `workos-dsync migrate` first"), "\(text)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(!listener.messages.contains { $0.contains("READY=1") })
        try? FileManager.default.removeItem(at: log)
    }
}
