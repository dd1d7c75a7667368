public import Foundation
public import Logging
public import Metrics
public import Prometheus
import ServiceLifecycle
import Store
public import SyncCore
import Synchronization
import UnixSignals
public import WorkOS

/// `workos-dsync run`, built in one place: `build` checks the database and
/// the schema, binds the HTTP listener and prepares the services; `run`
/// sends `READY=1` and runs one `ServiceGroup` (scheduler, HTTP endpoints,
/// `SIGHUP` reloads) until SIGTERM/SIGINT or ``shutdown()``.
public final class DaemonApp: Sendable {
    /// How the daemon is started; the command line fills it, tests too.
    public struct Options: Sendable {
        /// `--config` (nil: the default path, which may be absent).
        public var configPath: String?
        /// The environment settings and systemd variables are read from.
        public var environment: [String: String]
        /// Trap SIGTERM/SIGINT (graceful shutdown) and SIGHUP (reload). Default true; in-process tests turn it off.
        public var trapSignals: Bool
        /// Loop timing.
        public var scheduler: Scheduler.Configuration
        /// Adjusts the WorkOS client (tests: small pages, no pacing).
        public var tuneClient: @Sendable (inout WorkOSClient.Configuration) -> Void
        /// The level control a reload changes (the bootstrapped handlers'); nil: none.
        public var levelControl: LogLevelControl?
        /// Settings given as flags (`--log-level`, `run --interval`, `--listen`, `--mode`, `--events-interval`):
        /// they win over the file and the environment, also across reloads.
        public var overrides: [SettingOverride]

        public init(
            configPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
            trapSignals: Bool = true, scheduler: Scheduler.Configuration = Scheduler.Configuration(),
            tuneClient: @escaping @Sendable (inout WorkOSClient.Configuration) -> Void = { _ in },
            levelControl: LogLevelControl? = nil, overrides: [SettingOverride] = []
        ) {
            self.overrides = overrides
            self.configPath = configPath
            self.environment = environment
            self.trapSignals = trapSignals
            self.scheduler = scheduler
            self.tuneClient = tuneClient
            self.levelControl = levelControl
        }
    }

    /// Why the daemon refused to start; the description tells the operator what to do.
    public enum StartError: Error, Sendable, CustomStringConvertible {
        case databaseUnreachable(String)
        case migrationsPending([String])

        public var description: String {
            switch self {
            case .databaseUnreachable(let detail): "cannot reach the database: \(detail)"
            case .migrationsPending(let names):
                "the database schema is not current (pending migrations: \(names.joined(separator: ", "))): run `workos-dsync migrate` first"
            }
        }
    }

    /// The Prometheus registry `/metrics` shows (the client's counters and the daemon's).
    public let registry: PrometheusCollectorRegistry
    /// The factory over ``registry``.
    public let metricsFactory: any MetricsFactory
    /// The bound HTTP port.
    public var httpPort: Int { http.port }
    /// The settings in force.
    public var settings: Settings { settingsBox.current }
    /// The scheduler's last status line.
    public var status: String { scheduler.status }

    private let options: Options
    private let settingsBox: SettingsBox
    private let scheduler: Scheduler
    private let http: HTTPService
    private let group: ServiceGroup
    private let notifier: SystemdNotifier
    private let connections: [PostgresConnection]
    private let logger: Logger

    private init(
        options: Options, settingsBox: SettingsBox, factory: DocumentedPrometheusFactory, scheduler: Scheduler, http: HTTPService,
        group: ServiceGroup, notifier: SystemdNotifier, connections: [PostgresConnection], logger: Logger
    ) {
        self.options = options
        self.settingsBox = settingsBox
        self.registry = factory.registry
        self.metricsFactory = factory
        self.scheduler = scheduler
        self.http = http
        self.group = group
        self.notifier = notifier
        self.connections = connections
        self.logger = logger
    }

    /// Checks the database (reachable, migrations current), binds the
    /// listener and builds the services. Throws ``StartError`` or `SettingsError`
    /// (also when the listen address cannot be bound: restarting would not help).
    public static func build(settings: Settings, options: Options, logger: Logger) async throws -> DaemonApp {
        let listenKey = options.overrides.last { $0.key == "http.listen" }?.source ?? "http.listen"
        let listen = try ListenAddress(settings.listen, key: listenKey)
        let registry = PrometheusCollectorRegistry()
        let factory = DocumentedPrometheusFactory(
            registry: registry,
            durationBuckets: [
                DaemonMetrics.runDurationName: DaemonMetrics.runDurationBuckets,
                WorkOSMetrics.durationName: WorkOSMetrics.durationBuckets,
            ])
        let tune = options.tuneClient
        let client = try Runtime.makeClient(settings: settings, logger: logger, tune: { tune(&$0) }, metricsFactory: factory)

        var connections: [PostgresConnection] = []
        func connect() async throws -> PostgresConnection {
            do {
                let connection = try await PostgresConnection.connect(settings.databaseURL, logger: logger)
                connections.append(connection)
                return connection
            } catch {
                throw StartError.databaseUnreachable(ConnectionString.redact("\(error)", conninfo: settings.databaseURL))
            }
        }
        func closeAll() async { for connection in connections { await connection.close() } }

        let control: PostgresConnection
        do {
            control = try await connect()
            let pending = try await Migrator.pending(on: control, logger: logger)
            guard pending.isEmpty else { throw StartError.migrationsPending(pending.map { "\($0.version) \($0.name)" }) }
        } catch let error as StartError {
            await closeAll()
            throw error
        } catch {
            await closeAll()
            throw StartError.databaseUnreachable(ConnectionString.redact("\(error)", conninfo: settings.databaseURL))
        }

        do {
            var workers: [DirectoryWorker] = []
            for index in 0..<settings.concurrency {
                workers.append(DirectoryWorker(index: index, connection: try await connect(), client: client, logger: logger))
            }
            let health = try await connect()
            let box = SettingsBox(settings)
            let startedAt = Date()
            let metrics = DaemonMetrics(factory: factory, startedAt: startedAt)
            let notifier = SystemdNotifier(environment: options.environment)
            let readiness = Readiness(store: SyncStore(connection: health, logger: logger), settings: box, startedAt: startedAt)
            let http: HTTPService
            do {
                http = try HTTPService(
                    host: listen.host, port: listen.port, registry: registry, metrics: metrics, readiness: readiness, logger: logger)
            } catch {
                throw SettingsError(key: listenKey, problem: "\"\(settings.listen)\" cannot be listened on (\(error))")
            }
            let scheduler = Scheduler(
                client: client, control: SyncStore(connection: control, logger: logger), workers: workers, settings: box,
                metrics: metrics, notifier: notifier, configuration: options.scheduler, logger: logger)

            // Hybrid mode: the events poller, on its own session (it holds the API key's poller lock).
            var poller: EventPoller?
            if settings.mode == .hybrid {
                poller = EventPoller(
                    client: client, connection: try await connect(), settings: box,
                    metrics: EventMetrics(factory: factory), keyID: SyncStore.eventKeyID(apiKey: try settings.requireAPIKey().reveal()),
                    logger: logger, runsListings: false)
            }

            // Shutdown goes in reverse order: the scheduler drains first, the endpoints stay up meanwhile.
            let reloader = ReloadService(logger: logger)
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            if options.trapSignals { services.append(.init(service: reloader)) }
            services.append(.init(service: http))
            if let poller { services.append(.init(service: poller)) }
            services.append(.init(service: MaintenanceService(connection: try await connect(), settings: box, logger: logger)))
            services.append(.init(service: scheduler))
            var configuration = ServiceGroupConfiguration(services: services, logger: logger)
            if options.trapSignals { configuration.gracefulShutdownSignals = [.sigterm, .sigint] }
            configuration.maximumGracefulShutdownDuration = options.scheduler.shutdownGrace + .seconds(15)
            configuration.maximumCancellationDuration = .seconds(10)
            let app = DaemonApp(
                options: options, settingsBox: box, factory: factory, scheduler: scheduler, http: http,
                group: ServiceGroup(configuration: configuration), notifier: notifier, connections: connections, logger: logger)
            reloader.app.withLock { $0 = app }
            return app
        } catch {
            await closeAll()
            throw error
        }
    }

    /// Sends `READY=1` and runs until shutdown; closes the database sessions (and their leases) at the end.
    public func run() async throws {
        notifier.send("READY=1\nSTATUS=running; first runs starting")
        logger.notice("workos-dsync run is ready", metadata: [
            "http.port": "\(httpPort)", "sync.interval": "\(DurationText.format(settings.interval))",
            "sync.concurrency": "\(settings.concurrency)", "sync.mode": "\(settings.mode.rawValue)",
        ])
        do {
            try await group.run()
        } catch {
            // A run may still hold a session (e.g. a hung apply): do not wait for it.
            // The process exit closes every socket and PostgreSQL rolls back what was open.
            http.stop()
            logger.error("workos-dsync run stopped with an error", metadata: ["error": "\(error)"])
            throw error
        }
        http.stop()
        for connection in connections { await connection.close() }
        logger.notice("workos-dsync run stopped")
    }

    /// Begins a graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Re-reads the config file (as SIGHUP does): interval, guard, directories
    /// and log level take effect; other changes are logged as needing a restart.
    /// An invalid file is logged and the old settings stay. Returns whether it applied.
    @discardableResult
    public func reload() -> Bool {
        let loaded: Settings
        do {
            loaded = try Settings.load(path: options.configPath, environment: options.environment, overrides: options.overrides)
        } catch {
            logger.error("config reload failed; keeping the old settings", metadata: ["error": "\(error.description)"])
            return false
        }
        let old = settingsBox.current
        var new = old
        var changed: [String] = []
        /// Takes a setting that applies without a restart, noting its change.
        func take<Value: Equatable>(_ name: String, _ path: WritableKeyPath<Settings, Value>, _ show: (Value) -> String) {
            guard loaded[keyPath: path] != old[keyPath: path] else { return }
            changed.append("\(name) \(show(old[keyPath: path])) → \(show(loaded[keyPath: path]))")
            new[keyPath: path] = loaded[keyPath: path]
        }
        take("sync.interval", \.interval) { DurationText.format($0) }
        take("sync.directories", \.directories) { "\($0)" }
        take("guard", \.safety) { "\($0)" }
        if loaded.logLevel != old.logLevel, let level = Logger.Level(rawValue: loaded.logLevel) { options.levelControl?.level = level }
        take("log.level", \.logLevel) { $0 }
        take("events.interval", \.eventsInterval) { DurationText.format($0) }
        take("events.guard_window", \.eventsGuardWindow) { DurationText.format($0) }
        take("http.max_listing_age", \.maxListingAge) { DurationText.format($0) }
        // The maintenance service reads these at its next tick.
        take("purge.schedule", \.purgeSchedule) { $0.map(DurationText.format) ?? "off" }
        take("purge.cooling_off", \.purgeCoolingOff) { DurationText.format($0) }
        take("retention.sync_runs", \.syncRunsRetention) { DurationText.format($0) }
        take("retention.events", \.eventTableRetention) { $0.map(DurationText.format) ?? "keep" }
        if loaded.revokeSessionsSQL != old.revokeSessionsSQL {
            changed.append("revoke_sessions_sql")
            new.revokeSessionsSQL = loaded.revokeSessionsSQL
        }
        var needsRestart: [String] = []
        if loaded.concurrency != old.concurrency { needsRestart.append("sync.concurrency") }
        if loaded.maxUsersInMemory != old.maxUsersInMemory { needsRestart.append("sync.max_users_in_memory") }
        if loaded.claimTTL != old.claimTTL { needsRestart.append("sync.claim_ttl") }
        if loaded.mode != old.mode { needsRestart.append("sync.mode") }
        if loaded.listen != old.listen { needsRestart.append("http.listen") }
        if loaded.databaseURL != old.databaseURL { needsRestart.append("database.url") }
        if loaded.baseURL != old.baseURL { needsRestart.append("workos.base_url") }
        if loaded.logFormat != old.logFormat { needsRestart.append("log.format") }
        settingsBox.replace(new)
        if changed.isEmpty {
            logger.notice("config reloaded; nothing changed")
        } else {
            logger.notice("config reloaded", metadata: ["changed": .array(changed.map { .string($0) })])
        }
        if !needsRestart.isEmpty {
            logger.warning("config changes that take effect only after a restart", metadata: ["settings": "\(needsRestart.joined(separator: ", "))"])
        }
        return true
    }
}
