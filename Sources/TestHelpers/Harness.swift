public import Daemon
public import Foundation
public import Logging
import PostgresTestSupport
public import Reconciler
public import Store
public import SyncCore
public import WorkOS
public import WorkOSSimulator

/// A real PostgreSQL database (migrated) and the bundled WorkOS simulator on
/// loopback, wired through the same `Runtime.connect` the commands use.
public struct Harness: Sendable {
    public let simulator: WorkOSSimulator
    public let databaseURL: String
    public let runtime: Runtime
    public let logger: Logger
    public let settings: Settings
    public let pageSize: Int

    public static func start(
        users: Int = 20, groups: Int = 4, directories: Int = 1, deactivation: Deactivation = .delete,
        safety: SafetyPolicy = SafetyPolicy(), revokeSessionsSQL: String? = nil, pageSize: Int = 7, seed: UInt64 = 7,
        prepare: (PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> Harness {
        let logger = quietLogger
        let databaseURL = try await TestDatabase.create("e2e", logger: logger)
        let admin = try await PostgresConnection.connect(databaseURL, logger: logger)
        _ = try await Migrator.apply(on: admin, logger: logger)
        try await prepare(admin)
        await admin.close()

        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: seed, directories: directories, usersPerDirectory: users, groupsPerDirectory: groups,
            deactivation: deactivation, rateLimit: nil))
        let baseURL = try simulator.start()
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString
        settings.databaseURL = databaseURL
        settings.safety = safety
        settings.revokeSessionsSQL = revokeSessionsSQL
        let runtime = try await connect(settings: settings, pageSize: pageSize, logger: logger)
        return Harness(
            simulator: simulator, databaseURL: databaseURL, runtime: runtime, logger: logger, settings: settings, pageSize: pageSize)
    }

    private static func connect(settings: Settings, pageSize: Int, logger: Logger) async throws -> Runtime {
        try await Runtime.connect(settings: settings, logger: logger) { client in
            client.pageSize = pageSize
            // The simulator runs without rate limits here; pacing is tested in WorkOSTests.
            client.directoryUsersPerSecond = 10_000
            client.requestsPerSecond = 10_000
            client.retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        }
    }

    /// Runs `sql/roles.sql` on `connection` (connected as the owner).
    public static func createRoles(on connection: PostgresConnection) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("sql/roles.sql"), encoding: .utf8)
        do {
            try await connection.execute(PostgresQuery(unsafeSQL: script))
        } catch {
            // Roles are cluster-wide: another test may have created them at the same moment.
            try await Task.sleep(for: .milliseconds(200))
            try await connection.execute(PostgresQuery(unsafeSQL: script))
        }
    }

    /// A second replica: the same settings, its own WorkOS client and PostgreSQL session.
    public func replica() async throws -> Runtime {
        try await Self.connect(settings: settings, pageSize: pageSize, logger: logger)
    }

    public var directoryID: String { simulator.directoryIDs[0] }

    /// One `sync --once` cycle.
    @discardableResult
    public func sync(_ mode: SyncEngine.Mode = .apply) async throws -> [DirectoryReport] {
        try await runtime.engine.reconcileAll(mode: mode)
    }

    /// A fresh read-only look at the database.
    public func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await runtime.store.connection.query(query)
    }

    public func count(_ query: PostgresQuery) async throws -> Int {
        try await rows(query)[0].decode(Int.self, "count")
    }

    /// The account of a simulator user id, by its current WorkOS id.
    public func account(_ workosID: String) async throws -> PostgresRow? {
        try await rows("SELECT * FROM workos_dsync.directory_users WHERE workos_id = \(workosID)").first
    }

    public func activeUsers(in directoryID: String? = nil) -> [SimulatedUser] {
        simulator.users(in: directoryID ?? self.directoryID).filter { $0.state == "active" }
    }

    public func stop() async {
        await runtime.close()
        simulator.stop()
    }
}

extension Harness {
    /// Starts `binary` (`workos-dsync`) with `arguments`, pointed at this harness's simulator
    /// and database through the environment; its output discarded.
    public func launch(_ binary: URL, arguments: [String]) throws -> SpawnedProcess {
        let process = SpawnedProcess()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["WORKOS_API_KEY"] = simulator.apiKey
        environment["WORKOS_BASE_URL"] = runtime.settings.baseURL
        environment["DATABASE_URL"] = databaseURL
        environment["no_proxy"] = "127.0.0.1,localhost,::1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
