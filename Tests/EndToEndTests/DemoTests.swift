import Daemon
import Demo
import Foundation
import Logging
import SyncCore
import Synchronization
import TestHelpers
import Testing

/// The `demo` command's function, run in-process: it completes, its closing
/// counts match the story it tells, and it leaves nothing behind.
@Suite struct DemoTests {
    @Test func theTourCompletesWithTheExpectedCountsAndCleansUp() async throws {
        var logger = Logger(label: "demo-test")
        logger.logLevel = .error
        let lines = Mutex<[String]>([])
        let summary = try await Demo.run(Demo.Configuration(), logger: logger) { line in lines.withLock { $0.append(line) } }
        let output = lines.withLock { $0 }

        // 40 accounts, never deleted; Ada (inactive) and 8 mass-dropped are disabled, Grace rehired.
        #expect(summary.accounts == 40)
        #expect(summary.activeAccounts == 31)
        #expect(summary.disabledAccounts == 9)
        #expect(summary.persons == 40)
        #expect(summary.activePersons == 31)
        #expect(summary.disabledPersons == 9)
        // first sync, profile, email, role, deactivation, deletion, held, approval, rehire.
        #expect(summary.syncRuns == 9)
        #expect(summary.heldPlansApplied == 1)
        #expect(summary.emailChanges == 1)
        #expect(summary.eventsByType["user.created"] == 40)
        #expect(summary.eventsByType["user.email_changed"] == 1)
        // Account and person events for Ada, Grace and the 8 dropped; Grace comes back once.
        #expect(summary.eventsByType["user.disabled"] == 20)
        #expect(summary.eventsByType["user.reactivated"] == 2)
        // Ada gains admin through "App Admins", then loses it when disabled.
        #expect(summary.eventsByType["user.roles_changed"] == 2)
        #expect(summary.events == summary.eventsByType.values.reduce(0, +))
        // One event per change: the 40 first-sync accounts list their groups in user.created, so the
        // only membership.added is Ada joining "App Admins"; 72 in all.
        #expect(summary.eventsByType["membership.added"] == 1)
        #expect(summary.events == 72)

        // The story was told, in order.
        let text = output.joined(separator: "\n")
        for heading in ["1. First sync", "4. A role through a group", "7. A mass drop trips the guard", "8. A rehire", "Summary"] {
            #expect(text.contains(heading))
        }
        #expect(text.contains("same account row as before: yes"))
        #expect(text.contains("can_sign_in: no"))
        #expect(text.contains("roles: admin"))

        // The throwaway server's directory is gone.
        #expect(!FileManager.default.fileExists(atPath: try Self.serverDirectory(in: output)))
    }

    @Test func aStepThatGoesWrongStopsTheTourAndStillCleansUp() async throws {
        var logger = Logger(label: "demo-test")
        logger.logLevel = .critical
        let lines = Mutex<[String]>([])
        var configuration = Demo.Configuration()
        // A guard that never trips: step 7 expects a hold and fails.
        configuration.guardMinUsers = 10_000
        await #expect(throws: Demo.Failure.self) {
            _ = try await Demo.run(configuration, logger: logger) { line in lines.withLock { $0.append(line) } }
        }
        let output = lines.withLock { $0 }
        #expect(output.contains { $0.hasPrefix("The demo stopped:") })
        #expect(!output.contains { $0.hasPrefix("8. A rehire") })
        #expect(!FileManager.default.fileExists(atPath: try Self.serverDirectory(in: output)))
    }

    /// The `demo` process on Ctrl-C: it stops its throwaway PostgreSQL and exits 130.
    @Test func anInterruptedDemoExits130AndLeavesNoPostgreSQLBehind() throws {
        let process = SpawnedProcess()
        // Line-buffered standard output, so the set-up line arrives while the tour runs.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
        process.arguments = ["-oL", try builtBinary().path, "demo"]
        var environment = ProcessInfo.processInfo.environment
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        process.environment = environment
        let pipe = Pipe()
        let received = Mutex("")
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            received.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func lines() -> [String] { received.withLock { $0 }.split(separator: "\n").map(String.init) }
        let deadline = ContinuousClock.now + .seconds(60)
        while !lines().contains(where: { $0.contains("throwaway server in ") }) && ContinuousClock.now < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let serverDirectory = try Self.serverDirectory(in: lines())
        #expect(process.isRunning, "the tour ended before it was interrupted")
        #expect(FileManager.default.fileExists(atPath: serverDirectory + "/data/postmaster.pid"))

        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 128 + SIGINT)
        #expect(!lines().contains { $0.hasPrefix("Summary") }, "interrupted before the end")
        #expect(!FileManager.default.fileExists(atPath: serverDirectory))
    }

    /// The throwaway server's directory, as the tour's set-up line names it.
    static func serverDirectory(in output: [String]) throws -> String {
        let setup = try #require(output.first { $0.contains("throwaway server in ") })
        return String(try #require(setup.split(separator: " ").first { $0.hasPrefix("/") }))
            .trimmingCharacters(in: CharacterSet(charactersIn: ","))
    }
}
