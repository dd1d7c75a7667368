import Foundation
import Glibc
import Store
import SyncCore
import TestHelpers
import Testing
import WorkOSSimulator

/// `deploy/workos-dsync.service` as systemd would start it: its `ExecStart=`
/// command line and `Environment=`, the documented file modes (config
/// root:group 0640, the key and the password file handed over as credentials),
/// run as an unprivileged user.
@Suite struct SystemdUnitTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `[Service]` section's `KEY=value` lines of a unit, in order.
    static func serviceLines(_ unit: String) throws -> [(key: String, value: String)] {
        let text = try String(contentsOf: root.appendingPathComponent("deploy/\(unit)"), encoding: .utf8)
        var section = ""
        var lines: [(key: String, value: String)] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            lines.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        return lines
    }

    static let canSwitchUser = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    @Test(.enabled(if: canSwitchUser, "needs root and /usr/bin/setpriv to run the unit's command as nobody:nogroup"))
    func theDaemonUnitStartsAsAnUnprivilegedUserWithTheDocumentedFileModes() async throws {
        let unit = try Self.serviceLines("workos-dsync.service")
        func values(_ key: String) -> [String] { unit.filter { $0.key == key }.map(\.value) }
        #expect(values("User") == ["workos-dsync"] && values("Group") == ["workos-dsync"])
        #expect(values("ExecReload") == ["/bin/kill -HUP $MAINPID"], "the daemon reloads on SIGHUP")
        #expect(values("LoadCredential").contains("pgpass:/etc/workos-dsync/pgpass"))
        #expect(values("Environment").contains("PGPASSFILE=%d/pgpass"))
        let execStart = try #require(values("ExecStart").first).split(separator: " ").map(String.init)

        let harness = try await Harness.start(users: 3, groups: 1)
        let (nobody, nogroup): (uid_t, gid_t) = (65_534, 65_534)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let etc = base.appendingPathComponent("etc/workos-dsync"), credentials = base.appendingPathComponent("credentials")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        func install(_ text: String, _ url: URL, mode: Int, owner: uid_t, group: gid_t) throws {
            try text.write(to: url, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes(
                [.posixPermissions: mode, .ownerAccountID: Int(owner), .groupOwnerAccountID: Int(group)], ofItemAtPath: url.path)
        }
        // As docs/deploy.md installs them: /etc/workos-dsync root:workos-dsync 0750, the config 0640, secrets root-only.
        try FileManager.default.setAttributes([.posixPermissions: 0o750, .groupOwnerAccountID: Int(nogroup)], ofItemAtPath: etc.path)
        var database = try #require(ConnectionString.parse(harness.databaseURL))
        database["password"] = nil
        let conninfo = database.sorted { $0.key < $1.key }.map { "\($0.key)=\(ConnectionString.quote($0.value))" }.joined(separator: " ")
        try install(
            "workos:\n  base_url: \(harness.settings.baseURL)\ndatabase:\n  url: \"\(conninfo)\"\nhttp:\n  listen: 127.0.0.1:0\n",
            etc.appendingPathComponent("config.yaml"), mode: 0o640, owner: 0, group: nogroup)
        let pgpass = "*:*:*:*:not-needed-under-trust-auth\n"
        try install(harness.simulator.apiKey, etc.appendingPathComponent("workos-api-key"), mode: 0o600, owner: 0, group: 0)
        try install(pgpass, etc.appendingPathComponent("pgpass"), mode: 0o600, owner: 0, group: 0)
        // What LoadCredential= makes of them: copies owned by the service's user, 0400, in a 0500 directory.
        try install(harness.simulator.apiKey, credentials.appendingPathComponent("workos-api-key"), mode: 0o400, owner: nobody, group: nogroup)
        try install(pgpass, credentials.appendingPathComponent("pgpass"), mode: 0o400, owner: nobody, group: nogroup)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o500, .ownerAccountID: Int(nobody), .groupOwnerAccountID: Int(nogroup)], ofItemAtPath: credentials.path)

        let binary = try builtBinary()
        func expand(_ word: String) -> String {
            word.replacingOccurrences(of: "/usr/local/bin/workos-dsync", with: binary.path)
                .replacingOccurrences(of: "/etc/workos-dsync", with: etc.path)
                .replacingOccurrences(of: "%d", with: credentials.path)
        }
        let listener = try NotifyListener(abstract: true)
        defer { listener.close() }
        var environment = [
            "PATH": "/usr/bin:/bin", "no_proxy": "127.0.0.1,localhost,::1", "CREDENTIALS_DIRECTORY": credentials.path,
            "NOTIFY_SOCKET": listener.address,
        ]
        for assignment in values("Environment") {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            environment[parts[0]] = expand(parts[1])
        }
        func launch(_ arguments: [String], output: URL) throws -> SpawnedProcess {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let process = SpawnedProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(nobody)", "--regid=\(nogroup)", "--clear-groups"] + arguments.map(expand)
            process.environment = environment
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = process.standardOutput
            try process.run()
            return process
        }

        let checkOutput = base.appendingPathComponent("check.out")
        let check = try launch(execStart.map { $0 == "run" ? "check" : $0 }, output: checkOutput)
        check.waitUntilExit()
        let checked = try String(contentsOf: checkOutput, encoding: .utf8)
        #expect(check.terminationStatus == 0, "\(checked)")
        #expect(checked.contains("ok   credentials.pgpassfile: \(credentials.path)/pgpass readable, mode 400"), "\(checked)")
        #expect(checked.contains("ok   database.migrations"))

        let log = base.appendingPathComponent("run.log")
        let daemon = try launch(execStart, output: log)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let ready = await eventually(timeout: .seconds(60)) { listener.messages.contains { $0.hasPrefix("READY=1") } }
        #expect(ready, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let synced = try await eventually(timeout: .seconds(60)) {
            try await harness.count("SELECT count(*) FROM workos_dsync.sync_runs WHERE outcome = 'applied'") >= 1
        }
        #expect(synced, "the daemon, as nobody, synced through the configured database")
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        await harness.stop()
    }
}
