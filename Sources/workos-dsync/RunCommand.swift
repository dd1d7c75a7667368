import ArgumentParser
import Daemon
import Foundation
import Logging
import Metrics
import SyncCore

/// `workos-dsync run`: the daemon (systemd `Type=notify`).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: reconcile every directory every interval, serve /metrics, /healthz and /readyz.",
        discussion: """
            Runs under systemd as Type=notify (READY=1 once the database is reachable, the schema current and the \
            listener bound; WATCHDOG=1 at half of WatchdogSec). SIGTERM/SIGINT: graceful shutdown (runs in flight \
            finish or roll back). SIGHUP: reload the config file (interval, guard, directories, log level); an \
            invalid file keeps the old settings. Several replicas may share one database. \
            Exits 1 when the database is unreachable or migrations are pending (run `workos-dsync migrate`), \
            6 on a configuration error (also an http.listen address that cannot be bound, e.g. already in use).
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "Reconcile each directory this often (overrides sync.interval), e.g. 90s, 10m, 1h.")
    var interval: String?
    @Option(help: "Address of /metrics, /healthz and /readyz (overrides http.listen), e.g. 127.0.0.1:9464.")
    var listen: String?
    @Option(help: "hybrid: poll the WorkOS Events API and reconcile from complete listings as the safety net; full: only reconcile (overrides sync.mode).")
    var mode: String?
    @Option(help: "In hybrid mode, poll the WorkOS events this often once caught up (overrides events.interval), e.g. 5s.")
    var eventsInterval: String?

    /// `--log-level` and this command's own flags, as settings: parsed and checked like the file's keys
    /// (a wrong value exits 6 naming the flag), and applied again on every reload.
    var overrides: [SettingOverride] {
        let flags: [(source: String, key: String, value: String?)] = [
            ("--interval", "sync.interval", interval), ("--listen", "http.listen", listen),
            ("--mode", "sync.mode", mode), ("--events-interval", "events.interval", eventsInterval),
        ]
        return options.overrides + flags.compactMap { flag in
            flag.value.map { SettingOverride(source: flag.source, key: flag.key, value: $0) }
        }
    }

    func run() async throws {
        let settings = try options.loadSettings(overrides: overrides)
        let logger = LogSetup.bootstrap(settings: settings, label: "workos-dsync.run")
        let daemonOptions = DaemonApp.Options(
            configPath: options.config, levelControl: LogSetup.levelControl, overrides: overrides)
        let app: DaemonApp
        do {
            app = try await DaemonApp.build(settings: settings, options: daemonOptions, logger: logger)
        } catch let error as SettingsError {
            printError(error.description)
            throw ExitStatus.configuration.exitCode
        } catch {
            printError("workos-dsync run: \(error)")
            throw ExitStatus.error.exitCode
        }
        // Anything else that reports through swift-metrics lands on the same /metrics.
        MetricsSystem.bootstrap(app.metricsFactory)
        try await app.run()
    }
}
