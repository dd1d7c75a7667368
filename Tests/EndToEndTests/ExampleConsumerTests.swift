import Foundation
import Glibc
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `examples/consumer/consumer.py` (Python, psycopg 3) against a real PostgreSQL after real
/// syncs: it follows the outbox by id with LISTEN, stores its cursor, reassigns a departed
/// person's documents to the fallback owner, and a re-run is a no-op.
@Suite struct ExampleConsumerTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/consumer/consumer.py")

    func consumer(_ harness: Harness, fallback: UUID, _ extra: [String]) throws -> SpawnedProcess {
        let process = SpawnedProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--dsn", harness.databaseURL, "--fallback-owner", fallback.uuidString] + extra
        return process
    }

    /// Runs `consumer.py --once` and returns its status and output.
    func runOnce(_ harness: Harness, fallback: UUID) throws -> (status: Int32, output: String) {
        let process = try consumer(harness, fallback: fallback, ["--once"])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func person(_ harness: Harness, _ user: SimulatedUser) async throws -> UUID {
        try #require(try await harness.account(user.id)?.decode(UUID?.self, "user_id"))
    }

    func owner(_ harness: Harness, document title: String) async throws -> UUID? {
        try await harness.rows("SELECT owner_person_id FROM app.documents WHERE title = \(title)").first?.decode(UUID.self, "owner_person_id")
    }

    func cursor(_ harness: Harness) async throws -> Int64? {
        try await harness.rows("SELECT last_event_id FROM app.event_cursor WHERE consumer = 'documents'").first?
            .decode(Int64.self, "last_event_id")
    }

    func lastEventID(_ harness: Harness) async throws -> Int64 {
        try await harness.rows("SELECT max(id) AS id FROM workos_dsync.events")[0].decode(Int64.self, "id")
    }

    @Test func theExampleConsumerReassignsADepartedPersonsDocumentsOnceAndKeepsItsCursor() async throws {
        let harness = try await Harness.start(users: 5, groups: 1)
        try await harness.sync()
        let users = harness.activeUsers()
        let (keeper, stayer, firstLeaver, secondLeaver) = (users[0], users[1], users[2], users[3])
        let fallback = try await person(harness, keeper)

        // First run: creates its tables, handles the provisioning events, stores its cursor.
        let first = try runOnce(harness, fallback: fallback)
        #expect(first.status == 0, "\(first.output)")
        #expect(try await cursor(harness) == (try await lastEventID(harness)))
        for (title, user) in [("plan.md", stayer), ("notes.md", firstLeaver), ("budget.xlsx", secondLeaver)] {
            try await harness.runtime.store.connection.execute("""
                INSERT INTO app.documents (title, owner_person_id) VALUES (\(title), \(try await person(harness, user)))
                """)
        }

        // Following the feed: a NOTIFY wakes it long before its 300 s poll.
        let follower = try consumer(harness, fallback: fallback, ["--poll-seconds", "300"])
        follower.standardOutput = FileHandle.nullDevice
        try follower.run()
        defer { if follower.isRunning { kill(follower.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .milliseconds(500))  // its first catch-up and LISTEN
        harness.simulator.deleteUser(firstLeaver.id)
        try await harness.sync()
        let followed = try await eventually(timeout: .seconds(30)) { try await owner(harness, document: "notes.md") == fallback }
        #expect(followed)
        follower.terminate()
        let stopped = try await eventually(timeout: .seconds(10)) { !follower.isRunning }
        #expect(stopped, "the consumer stops on SIGTERM")
        if !stopped { kill(follower.processIdentifier, SIGKILL) }
        follower.waitUntilExit()

        // Deprovisioned while no consumer ran: the next run catches up.
        harness.simulator.deleteUser(secondLeaver.id)
        try await harness.sync()
        let second = try runOnce(harness, fallback: fallback)
        #expect(second.status == 0)
        #expect(second.output.contains("reassigned 1 documents"), "\(second.output)")
        #expect(try await owner(harness, document: "budget.xlsx") == fallback)
        #expect(try await owner(harness, document: "plan.md") == (try await person(harness, stayer)))
        let stored = try await cursor(harness)
        #expect(stored == (try await lastEventID(harness)))

        // A re-run is a no-op.
        let third = try runOnce(harness, fallback: fallback)
        #expect(third.output.contains("handled 0 events, reassigned 0 documents"), "\(third.output)")
        #expect(try await cursor(harness) == stored)
        #expect(try await harness.count("SELECT count(*) FROM app.document_reassignments") == 2)
        await harness.stop()
    }
}
