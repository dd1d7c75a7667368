import Daemon
import Foundation
import Glibc
import Reconciler
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOS
import WorkOSSimulator

/// The documented exit codes and output of the commands, run as the real binary.
@Suite struct CommandLineTests {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs the binary with `arguments`; `asNobody` runs it as uid/gid 65534 (nobody/nogroup)
    /// through `setpriv`, as a systemd service's unprivileged user would.
    /// `journalStream`: standard error is announced as the journal (`JOURNAL_STREAM`
    /// naming the pipe's device and inode), as systemd does for `StandardError=journal`.
    func run(
        _ arguments: [String], environment extra: [String: String], asNobody: Bool = false, journalStream: Bool = false
    ) throws -> Result {
        let process = SpawnedProcess()
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", try builtBinary().path] + arguments
        } else {
            process.executableURL = try builtBinary()
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        for key in ["WORKOS_API_KEY", "WORKOS_API_KEY_FILE", "WORKOS_BASE_URL", "DATABASE_URL"] { environment[key] = nil }
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        environment.merge(extra) { $1 }
        let output = Pipe(), errors = Pipe()
        if journalStream {
            var status = stat()
            #expect(fstat(errors.fileHandleForWriting.fileDescriptor, &status) == 0)
            environment["JOURNAL_STREAM"] = "\(status.st_dev):\(status.st_ino)"
        }
        process.environment = environment
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }

    func environment(_ harness: Harness) -> [String: String] {
        ["WORKOS_API_KEY": harness.simulator.apiKey, "WORKOS_BASE_URL": harness.runtime.settings.baseURL,
         "DATABASE_URL": harness.databaseURL]
    }

    /// `--version` prints the release version and the commit the binary was built from
    /// (`unknown` without `WORKOS_DSYNC_COMMIT` at build time; scripts/test sets it).
    @Test func versionPrintsTheReleaseVersionAndTheBuildCommit() throws {
        let result = try run(["--version"], environment: [:])
        #expect(result.status == 0)
        #expect(result.output == "\(BuildInfo.version) (commit \(BuildInfo.commit))\n")
        #expect(BuildInfo.commit == "unknown" || BuildInfo.commit.allSatisfy(\.isHexDigit))
        if let expected = ProcessInfo.processInfo.environment["WORKOS_DSYNC_COMMIT"], !expected.isEmpty {
            #expect(BuildInfo.commit == expected)
        }
    }

    @Test func planSyncAndApproveExitWithTheDocumentedCodes() async throws {
        let harness = try await Harness.start(users: 40, groups: 2, pageSize: 100)
        let env = environment(harness)

        let pending = try run(["plan", "--detailed-exitcode"], environment: env)
        #expect(pending.status == 2, "changes pending: \(pending.errors)")
        #expect(pending.output.contains("would create"))

        let synced = try run(["sync", "--once"], environment: env)
        #expect(synced.status == 0, "\(synced.errors)")
        #expect(synced.output.contains(": applied"))

        let clean = try run(["plan", "--detailed-exitcode"], environment: env)
        #expect(clean.status == 0, "\(clean.errors)")

        let leaver = try #require(harness.activeUsers().first { $0.email != nil })
        harness.simulator.deleteUser(leaver.id)
        let plan = try run(["plan", "--format", "json"], environment: env)
        #expect(plan.status == 0)
        #expect(plan.output.contains("would disable \(leaver.email!) (\(leaver.id)) (missing, last listed in run"))

        for user in harness.activeUsers().prefix(30) { harness.simulator.deleteUser(user.id) }
        let held = try run(["sync", "--once"], environment: env)
        #expect(held.status == 3, "\(held.errors)")
        #expect(held.output.contains("held plan"))

        let status = try run(["status"], environment: env)
        #expect(status.status == 3, "a held plan waits for a human")
        #expect(status.output.contains("HELD plan"))

        harness.simulator.deleteUser(try #require(harness.activeUsers().first).id)
        let stale = try run(["approve", "--directory", harness.directoryID], environment: env)
        #expect(stale.status == 5, "\(stale.errors)")
        #expect(stale.errors.contains("stale"))

        // The guard holds the new, larger set; approving that one applies it.
        _ = try run(["sync", "--once"], environment: env)
        let approved = try run(["approve", "--directory", harness.directoryID], environment: env)
        #expect(approved.status == 0, "\(approved.errors)")
        #expect(approved.output.contains("disabled"))
        await harness.stop()
    }

    @Test func aFailedListingExitsFourAndAppliesNothing() async throws {
        let harness = try await Harness.start(users: 10, groups: 1)
        harness.simulator.scriptFault(.status(503), matching: RequestMatcher(pathPrefix: "/directory_users"), times: 1_000)
        let result = try run(["sync", "--once"], environment: environment(harness))
        #expect(result.status == 4, "\(result.errors)")
        #expect(try await harness.count("SELECT count(*) FROM workos_dsync.directory_users") == 0)
        await harness.stop()
    }

    @Test func aWrongSettingOrAMissingKeyExitsSixAndNamesIt() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try "guard:\n  fraction: 2\n".write(to: config, atomically: true, encoding: .utf8)
        let bad = try run(["sync", "--once", "--config", config.path], environment: ["WORKOS_API_KEY": "sk_test"])
        #expect(bad.status == 6)
        #expect(bad.errors.contains("guard.fraction"))
        let missing = try run(["plan"], environment: ["DATABASE_URL": "host=127.0.0.1 port=1"])
        #expect(missing.status == 6)
        #expect(missing.errors.contains("WORKOS_API_KEY"))
        let plainHTTP = try run(["plan"], environment: ["WORKOS_API_KEY": "sk_test", "WORKOS_BASE_URL": "http://api.workos.com"])
        #expect(plainHTTP.status == 6)
        #expect(plainHTTP.errors.contains("WORKOS_BASE_URL"))
        try "database:\n  url: postgresql://app:s3cret-pw@db/app: x\n".write(to: config, atomically: true, encoding: .utf8)
        let broken = try run(["plan", "--config", config.path], environment: ["WORKOS_API_KEY": "sk_test"])
        #expect(broken.status == 6)
        #expect(broken.errors.contains("\(config.path) is not valid YAML: line 2, column"), "\(broken.errors)")
        #expect(!broken.errors.contains("s3cret-pw"))
    }

    /// Each command that reads the settings, with the arguments it needs to get that far.
    static let settingsCommands: [[String]] = [
        ["migrate"], ["run"], ["sync", "--once"], ["plan"], ["approve", "--directory", "directory_1"], ["status"],
        ["purge", "--older-than", "90"], ["portal-link", "--organization", "org_1"], ["check"],
    ]

    @Test func everyCommandTakesConfigAndLogLevelAndRefusesAWrongOneNamingIt() throws {
        let missing = "/nonexistent/\(UUID().uuidString).yaml"
        for command in Self.settingsCommands {
            let noFile = try run(command + ["--config", missing, "--log-level", "debug"], environment: [:])
            #expect(noFile.status == 6, "\(command): \(noFile.errors)")
            #expect(noFile.errors.contains("\(missing) does not exist"), "\(command): \(noFile.errors)")
            let loud = try run(command + ["--log-level", "loud"], environment: [:])
            #expect(loud.status == 6, "\(command): \(loud.errors)")
            #expect(loud.errors.contains("--log-level (log.level) must be one of"), "\(command): \(loud.errors)")
            let variable = try run(command, environment: ["WORKOS_DSYNC_SYNC_INTERVALL": "10m"])
            #expect(variable.status == 6, "\(command): \(variable.errors)")
            #expect(variable.errors.contains("WORKOS_DSYNC_SYNC_INTERVALL names no setting"), "\(command): \(variable.errors)")
        }
    }

    /// `run`'s own flags are settings given on the command line: checked by the same parser as the file's
    /// keys, so a wrong value exits 6 naming the flag and its key, before anything connects.
    @Test func runsFlagsAreCheckedLikeTheSettingsTheyOverride() throws {
        let cases: [(flag: String, value: String, key: String)] = [
            ("--interval", "0s", "sync.interval"), ("--interval", "soon", "sync.interval"),
            ("--events-interval", "5 parsecs", "events.interval"), ("--mode", "fast", "sync.mode"),
            ("--listen", "not an address", "http.listen"),
        ]
        for (flag, value, key) in cases {
            let result = try run(["run", flag, value], environment: ["WORKOS_API_KEY": "sk_test_unused"])
            #expect(result.status == 6, "\(flag) \(value): \(result.errors)")
            #expect(result.errors.contains("configuration error: \(flag) (\(key))"), "\(flag) \(value): \(result.errors)")
        }
    }

    @Test func migrateAndPurgeReadTheOwnersConnectionFromANamedVariableNeverFromArguments() async throws {
        let harness = try await Harness.start(users: 4, groups: 1)
        let owner = ["OWNER_URL": harness.databaseURL]
        let migrated = try run(["migrate", "--database-url-env", "OWNER_URL"], environment: owner)
        #expect(migrated.status == 0, "\(migrated.errors)")
        #expect(migrated.output.contains("schema is current"))
        let purged = try run(["purge", "--older-than", "90", "--dry-run", "--database-url-env", "OWNER_URL"], environment: owner)
        #expect(purged.status == 0, "\(purged.errors)")
        #expect(purged.output.contains("Nobody to anonymise"))
        for command in [["migrate"], ["purge", "--older-than", "90"]] {
            let unset = try run(command + ["--database-url-env", "NO_SUCH_VARIABLE"], environment: owner)
            #expect(unset.status == 6)
            #expect(unset.errors.contains("NO_SUCH_VARIABLE"))
            let onArguments = try run(
                command + ["--database-url", "postgresql://app:s3cret-pw@127.0.0.1:1/app"], environment: owner)
            #expect(onArguments.status == 6)
            #expect(onArguments.errors.contains("--database-url-env"))
            #expect(!onArguments.errors.contains("s3cret-pw"))
        }
        let hostileDays = try run(["purge", "--older-than", "9223372036854775807", "--dry-run"], environment: owner)
        #expect(hostileDays.status == 64, "\(hostileDays.errors)")
        #expect(hostileDays.errors.contains("from 1 to 36500"))
        await harness.stop()
    }

    @Test func anUnreachableDatabaseExitsOneWithoutThePassword() throws {
        let result = try run(
            ["sync", "--once"],
            environment: ["WORKOS_API_KEY": "sk_test", "DATABASE_URL": "postgresql://app:s3cret-pw@127.0.0.1:1/app"])
        #expect(result.status == 1)
        #expect(result.errors.contains("cannot start"))
        #expect(!result.errors.contains("s3cret-pw"))
    }

    /// `simulate` prints its ready line only once SIGINT and SIGTERM are
    /// trapped: a SIGTERM sent the moment the line arrives stops it cleanly
    /// (exit 0, "stopped on signal 15"), never kills it by default action.
    @Test func simulateStopsCleanlyOnASigtermSentAsSoonAsItIsReady() throws {
        for _ in 1...3 {
            let process = SpawnedProcess()
            process.executableURL = try builtBinary()
            process.arguments = ["simulate", "--port", "0", "--directories", "1", "--users", "3", "--groups", "1"]
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // The ready line is one write: the first bytes end with its newline.
            var ready = Data()
            while !ready.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                ready += chunk
            }
            kill(process.processIdentifier, SIGTERM)
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(String(decoding: ready, as: UTF8.self).hasPrefix("{\"ready\":true"))
            #expect(process.terminationReason == .exit, "killed by the signal instead of handling it")
            #expect(process.terminationStatus == 0, "\(errorText)")
            #expect(errorText.contains("simulate: stopped on signal \(SIGTERM)"))
        }
    }
}
