import ArgumentParser
import Daemon
import Foundation
import SyncCore

/// `workos-dsync check`: can this deployment start? The config, the database,
/// the WorkOS key and the listen address, one line each. Writes nothing.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the config, the database (reachable, migrations current, grants), the WorkOS key and the listen address.",
        discussion: """
            Prints the settings in force (secrets redacted), then one line per check: ok, FAIL or skip (not checked \
            because an earlier check failed). Writes nothing. Exits 0 when every check passed, 1 when one failed, \
            6 when the config cannot be used (unreadable file, a wrong setting, no API key). Run it before the first \
            start and after each change; `run` binds http.listen, so while a daemon runs the http.listen check fails.
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let settings = try options.loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: "workos-dsync.check")
        print("config: \(options.config ?? Settings.defaultPath)\(options.config == nil && !FileManager.default.fileExists(atPath: Settings.defaultPath) ? " (absent: defaults and environment)" : "")")
        for line in settings.redactedLines { print("  \(line)") }
        let findings = await SetupCheck.run(settings: settings, environment: ProcessInfo.processInfo.environment, logger: logger)
        for finding in findings { print(finding.description) }
        if findings.contains(where: { $0.check == "credentials.workos_api_key" && $0.verdict == .fail }) {
            throw ExitStatus.configuration.exitCode
        }
        if findings.contains(where: { $0.verdict == .fail }) { throw ExitStatus.error.exitCode }
    }
}
