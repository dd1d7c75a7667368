import ArgumentParser
import Daemon
import Foundation
import Logging
import SyncCore

/// Options every command that reads the settings takes (a command picks them
/// up with `@OptionGroup var options: ConfigOptions`).
struct ConfigOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The config file (optional; default \(Settings.defaultPath)). Every key has an environment override "
                + "WORKOS_DSYNC_<KEY> (sync.interval: WORKOS_DSYNC_SYNC_INTERVAL); also WORKOS_API_KEY, "
                + "WORKOS_API_KEY_FILE, WORKOS_BASE_URL, DATABASE_URL. Flags win over the environment, the "
                + "environment over the file.",
            valueName: "FILE"))
    var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (overrides log.level and WORKOS_DSYNC_LOG_LEVEL).")
    var logLevel: String?

    /// The settings given as flags, applied over the environment and the file.
    var overrides: [SettingOverride] {
        logLevel.map { [SettingOverride(source: "--log-level", key: "log.level", value: $0)] } ?? []
    }

    /// Loads the settings (with `overrides`: these options' and a command's own flags),
    /// printing the named setting and exiting 6 when one is wrong.
    func loadSettings(overrides: [SettingOverride]? = nil) throws -> Settings {
        do {
            return try Settings.load(
                path: config, environment: ProcessInfo.processInfo.environment, overrides: overrides ?? self.overrides)
        } catch {
            printError(error.description)
            throw ExitStatus.configuration.exitCode
        }
    }

    /// Settings, logging and a connected runtime, or an exit with the documented code.
    func runtime(label: String) async throws -> Runtime {
        let settings = try loadSettings()
        let logger = LogSetup.bootstrap(settings: settings, label: label)
        do {
            return try await Runtime.connect(settings: settings, logger: logger)
        } catch let error as SettingsError {
            printError(error.description)
            throw ExitStatus.configuration.exitCode
        } catch {
            printError("cannot start: \(error)")
            throw ExitStatus.error.exitCode
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
