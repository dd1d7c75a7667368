import ArgumentParser
import Daemon
import Foundation
import Logging
import SyncCore

/// Options every command that talks to WorkOS or PostgreSQL takes.
struct ConfigOptions: ParsableArguments {
    @Option(help: "The config file (optional; default \(Settings.defaultPath)). Environment: WORKOS_API_KEY, WORKOS_API_KEY_FILE, WORKOS_BASE_URL, DATABASE_URL.")
    var config: String?

    /// Loads the settings, printing the named setting and exiting 6 when one is wrong.
    func loadSettings() throws -> Settings {
        do {
            return try Settings.load(path: config, environment: ProcessInfo.processInfo.environment)
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
