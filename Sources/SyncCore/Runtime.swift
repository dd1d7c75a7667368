import Foundation
public import Logging
public import Metrics
public import Store
public import WorkOS

/// The parts every command and the daemon share, built from `Settings` in
/// one place: the WorkOS client, the PostgreSQL connection and the engine.
public struct Runtime: Sendable {
    public let settings: Settings
    public let client: WorkOSClient
    public let store: SyncStore
    public let engine: SyncEngine

    /// Connects to PostgreSQL and builds the client. Fails with a
    /// `SettingsError` for a missing key or bad URL, and a `PostgresError`
    /// (password redacted) when the database cannot be reached.
    ///
    /// - Parameter tuneClient: adjusts the WorkOS client's configuration (tests use
    ///   small pages and fast retries); production passes nothing.
    public static func connect(
        settings: Settings, logger: Logger,
        tuneClient: (inout WorkOSClient.Configuration) -> Void = { _ in }
    ) async throws -> Runtime {
        MemoryPolicy.apply()
        let client = try makeClient(settings: settings, logger: logger, tune: tuneClient)
        let connection = try await PostgresConnection.connect(settings.databaseURL, logger: logger)
        let store = SyncStore(connection: connection, logger: logger)
        let engine = SyncEngine(
            client: client, store: store,
            configuration: .init(settings: settings),
            logger: logger)
        return Runtime(settings: settings, client: client, store: store, engine: engine)
    }

    /// The WorkOS client alone (for `portal-link`).
    public static func makeClient(
        settings: Settings, logger: Logger, tune: (inout WorkOSClient.Configuration) -> Void = { _ in },
        metricsFactory: (any MetricsFactory)? = nil
    ) throws(SettingsError) -> WorkOSClient {
        guard let baseURL = URL(string: settings.baseURL) else {
            throw SettingsError(key: "workos.base_url", problem: "is not a URL")
        }
        var configuration = WorkOSClient.Configuration(
            baseURL: baseURL, apiKey: try settings.requireAPIKey(), caFile: settings.caFile,
            connectTimeout: settings.connectTimeout, requestTimeout: settings.requestTimeout,
            directoryUsersPerSecond: settings.directoryUsersPerSecond, requestsPerSecond: settings.requestsPerSecond)
        // A request paced and then queued behind busy transport threads reaches WorkOS late, bunched with
        // the next ones of its directory (a 429 from the 4/s window): one thread per lane, 8 at least.
        // (A thread for each of a lane's 4 listings, 128 per replica, kept one connection each: three
        // replicas in the fleet bench passed the bundled simulator's connection limit and drew 503s.)
        configuration.transportThreads = max(8, settings.concurrency)
        tune(&configuration)
        return WorkOSClient(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
    }

    /// Ends the database session (its advisory-lock leases with it).
    public func close() async {
        await store.connection.close()
    }
}
