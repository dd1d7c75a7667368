import Foundation
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `workos-dsync check` against a good setup and broken ones, as the real binary.
extension CommandLineTests {
    /// A libpq key=value string for the same database as `conninfo`, as `user`.
    func conninfo(_ conninfo: String, user: String) throws -> String {
        var parts = try #require(ConnectionString.parse(conninfo))
        parts["user"] = user
        parts["password"] = nil
        return parts.sorted { $0.key < $1.key }.map { "\($0.key)=\(ConnectionString.quote($0.value))" }.joined(separator: " ")
    }

    @Test func checkPassesOnAGoodSetupAndNamesEachBrokenPart() async throws {
        let harness = try await Harness.start(users: 3, groups: 1)
        let admin = try await PostgresConnection.connect(harness.databaseURL, logger: harness.logger)
        try await Harness.createRoles(on: admin)
        try await admin.execute(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS check_daemon; CREATE ROLE check_daemon LOGIN IN ROLE workos_dsync_daemon"))
        try await admin.execute(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS check_reader; CREATE ROLE check_reader LOGIN IN ROLE workos_dsync_reader"))
        var good = environment(harness)
        good["DATABASE_URL"] = try conninfo(harness.databaseURL, user: "check_daemon")
        good["WORKOS_DSYNC_HTTP_LISTEN"] = "127.0.0.1:0"

        let passed = try run(["check"], environment: good)
        #expect(passed.status == 0, "\(passed.output)\(passed.errors)")
        for line in ["ok   credentials.workos_api_key", "ok   database: connected as check_daemon", "ok   database.migrations: current",
                     "ok   database.grants", "ok   workos: ", "ok   http.listen: 127.0.0.1:0"] {
            #expect(passed.output.contains(line), "\(line) in \(passed.output)")
        }
        #expect(!passed.output.contains("FAIL"))
        #expect(passed.output.contains("  http.listen: 127.0.0.1:0"), "the settings in force are printed")
        #expect(!passed.output.contains(harness.simulator.apiKey), "the API key is never printed")

        var wrongKey = good
        wrongKey["WORKOS_API_KEY"] = "sk_test_wrong_key_4711"
        let refused = try run(["check"], environment: wrongKey)
        #expect(refused.status == 1)
        #expect(refused.output.contains("FAIL workos: ") && refused.output.contains("refused the API key (401)"), "\(refused.output)")
        #expect(!refused.output.contains("sk_test_wrong_key_4711") && !refused.errors.contains("sk_test_wrong_key_4711"))

        // --log-level and WORKOS_DSYNC_LOG_LEVEL reach the handler; the flag wins over the variable.
        let quiet = try run(["check", "--log-level", "error"], environment: wrongKey)
        #expect(quiet.status == 1 && !quiet.errors.contains("WorkOS request failed"), "\(quiet.errors)")
        var quietVariable = wrongKey
        quietVariable["WORKOS_DSYNC_LOG_LEVEL"] = "error"
        #expect(!(try run(["check"], environment: quietVariable)).errors.contains("WorkOS request failed"))
        #expect(try run(["check", "--log-level", "warning"], environment: quietVariable).errors.contains("WorkOS request failed"))

        // Under journald (JOURNAL_STREAM is standard error) each log line carries its priority.
        let journaled = try run(["check"], environment: wrongKey, journalStream: true)
        let warnings = journaled.errors.split(separator: "\n").filter { $0.contains("WorkOS request failed") }
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.hasPrefix("<4>") }, "\(journaled.errors)")
        #expect(refused.errors.contains("WorkOS request failed") && !refused.errors.contains("<4>"), "plain without the journal")

        var reader = good
        reader["DATABASE_URL"] = try conninfo(harness.databaseURL, user: "check_reader")
        let readOnly = try run(["check"], environment: reader)
        #expect(readOnly.status == 1)
        #expect(readOnly.output.contains("FAIL database.grants: check_reader lacks"), "\(readOnly.output)")
        #expect(readOnly.output.contains("INSERT on workos_dsync.directory_users"))

        var taken = good
        taken["WORKOS_DSYNC_HTTP_LISTEN"] = try #require(URL(string: harness.settings.baseURL)).host.map { "\($0):\(URL(string: harness.settings.baseURL)!.port!)" }
        let inUse = try run(["check"], environment: taken)
        #expect(inUse.status == 1)
        #expect(inUse.output.contains("FAIL http.listen: "), "\(inUse.output)")

        var noKey = good
        noKey["WORKOS_API_KEY"] = nil
        let unusable = try run(["check"], environment: noKey)
        #expect(unusable.status == 6, "\(unusable.output)")
        #expect(unusable.output.contains("FAIL credentials.workos_api_key: not set"))

        try await admin.execute(PostgresQuery(unsafeSQL: "DELETE FROM workos_dsync.schema_migrations WHERE version = (SELECT max(version) FROM workos_dsync.schema_migrations)"))
        let pending = try run(["check"], environment: good)
        #expect(pending.status == 1)
        #expect(pending.output.contains("FAIL database.migrations: pending: "), "\(pending.output)")
        #expect(pending.output.contains("skip database.grants: migrations not current"))
        await admin.close()
        await harness.stop()
    }

    @Test func checkExitsSixWhenTheServiceUserCannotReadTheConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.yaml")
        try "sync:\n  interval: 10m\n".write(to: config, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o640, .ownerAccountID: 0, .groupOwnerAccountID: 0], ofItemAtPath: config.path)
        let unreadable = try run(["check", "--config", config.path], environment: ["WORKOS_API_KEY": "sk_test"], asNobody: true)
        #expect(unreadable.status == 6, "\(unreadable.output)\(unreadable.errors)")
        #expect(unreadable.errors.contains("--config cannot read \(config.path)"), "\(unreadable.errors)")
        // Readable through the group, as docs/deploy.md installs it: the config is fine, the rest fails (no database).
        try FileManager.default.setAttributes([.groupOwnerAccountID: 65_534], ofItemAtPath: config.path)
        let readable = try run(
            ["check", "--config", config.path],
            environment: ["WORKOS_API_KEY": "sk_test", "DATABASE_URL": "host=127.0.0.1 port=1", "WORKOS_DSYNC_HTTP_LISTEN": "127.0.0.1:0"],
            asNobody: true)
        #expect(readable.status == 1, "\(readable.output)\(readable.errors)")
        #expect(readable.output.contains("  sync.interval: 10m"))
        #expect(readable.output.contains("FAIL database: cannot connect"))
    }
}
