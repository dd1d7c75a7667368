import Foundation
import Logging
import Reconciler
import Store
import SyncCore
import WorkOS
import WorkOSModel

/// One measured scenario, run in a fresh child process so its peak RSS is its own.
enum Scenario: String, Codable, Sendable, CaseIterable {
    case floorFetch = "floor-fetch"
    case floorDecode = "floor-decode"
    case floorWrite = "floor-write"
    /// Floor c again, with the foreign keys the schema contract requires (not a target's floor: it shows their cost).
    case floorWriteWithKeys = "floor-write-keys"
    case fullSync = "full-sync"
    case unchangedResync = "unchanged-resync"
    case churnResync = "churn-resync"
    case throttled = "throttled"
    case manyDirectories = "many-directories"
    /// Events mode: deactivation → `status = 'disabled'` through the poller, WorkOS's limits on;
    /// its child process measures the paced full listing of the same directory.
    case eventsLatency = "events-latency"

    /// Listings in flight within one directory (the client's default).
    static let concurrency = WorkOSClient.Configuration(apiKey: "x").concurrencyPerDirectory
}

/// What a child measured; printed as one JSON line on its stdout.
struct Measurement: Codable, Sendable {
    var wallSeconds: Double
    var cpuSeconds: Double
    var peakRSSBytes: Int
    var writes: RowWrites?
    /// Rows copied by the write floor.
    var rowsCopied: Int?
    /// Requests counted by the bare fetch itself (the parent also reads the simulator's count).
    var requests: Int?
    var outcomes: [String]?
}

/// Where the child finds the simulator and the database.
struct ScenarioTarget: Sendable {
    var baseURL: String
    var apiKey: String
    var databaseURL: String
}

/// Runs one scenario in this (child) process.
struct ScenarioRunner {
    var scenario: Scenario
    var target: ScenarioTarget
    var logger: Logger

    func run() async throws -> Measurement {
        // Every scenario under the daemon's memory policy, so floors and syncs compare alike.
        MemoryPolicy.apply()
        switch scenario {
        case .floorFetch: return try await floorFetch()
        case .floorDecode: return try await floorDecode()
        case .floorWrite: return try await floorWrite(foreignKeys: false)
        case .floorWriteWithKeys: return try await floorWrite(foreignKeys: true)
        case .fullSync, .unchangedResync, .churnResync, .manyDirectories: return try await sync(paced: false)
        case .throttled, .eventsLatency: return try await sync(paced: true)
        }
    }

    /// A client as the daemon builds it, pacing lifted (the simulator has no rate limit there).
    private func unpacedClient() throws -> WorkOSClient {
        try Runtime.makeClient(settings: settings(), logger: logger) { Self.liftPacing(&$0) }
    }

    static func liftPacing(_ configuration: inout WorkOSClient.Configuration) {
        configuration.directoryUsersPerSecond = 1_000_000
        configuration.requestsPerSecond = 1_000_000
    }

    private func settings() -> Settings {
        var settings = Settings()
        settings.apiKey = Secret(target.apiKey)
        settings.baseURL = target.baseURL
        settings.databaseURL = target.databaseURL
        return settings
    }

    private func floorFetch() async throws -> Measurement {
        let client = try unpacedClient()
        let directories = try await client.listDirectories()
        let before = ResourceUsage.now()
        let clock = Stopwatch()
        var requests = 0
        for directory in directories {
            let fetch = BareFetch(
                baseURL: target.baseURL, apiKey: target.apiKey, directoryID: directory.id,
                concurrency: Scenario.concurrency)
            requests += try await onOwnThread { try fetch.run() }
        }
        return finish(before, clock, requests: requests)
    }

    private func floorDecode() async throws -> Measurement {
        let client = try unpacedClient()
        let before = ResourceUsage.now()
        let clock = Stopwatch()
        for directory in try await client.listDirectories() {
            _ = try await client.snapshot(of: directory)
        }
        return finish(before, clock)
    }

    /// COPY of the rows a full sync ends with (persons, accounts, groups, memberships) into
    /// scratch tables shaped like the real ones (`LIKE … INCLUDING ALL`: defaults, checks,
    /// unique and primary-key indexes; with `foreignKeys`, also the schema's foreign keys between
    /// them), in one transaction. Only the COPY is timed.
    private func floorWrite(foreignKeys: Bool) async throws -> Measurement {
        let client = try unpacedClient()
        var tables = FloorTables()
        for directory in try await client.listDirectories() {
            tables.add(try await client.snapshot(of: directory))
        }
        let connection = try await PostgresConnection.connect(target.databaseURL, logger: logger)
        for statement in FloorTables.setup + (foreignKeys ? FloorTables.foreignKeys : []) {
            try await connection.execute(PostgresQuery(unsafeSQL: statement))
        }
        let before = ResourceUsage.now()
        let clock = Stopwatch()
        let copied = try await connection.withTransaction { connection in
            var copied = 0
            copied += try await connection.copy(into: "bench_floor.persons", columns: FloorTables.personColumns, rows: tables.persons)
            copied += try await connection.copy(into: "bench_floor.accounts", columns: FloorTables.accountColumns, rows: tables.accounts)
            copied += try await connection.copy(into: "bench_floor.groups", columns: FloorTables.groupColumns, rows: tables.groups)
            copied += try await connection.copy(
                into: "bench_floor.memberships", columns: FloorTables.membershipColumns, rows: tables.memberships)
            return copied
        }
        var measurement = finish(before, clock)
        measurement.rowsCopied = copied
        try await connection.execute("DROP SCHEMA bench_floor CASCADE")
        await connection.close()
        return measurement
    }

    /// One `sync --once` as the daemon runs it; row writes counted on its own session.
    private func sync(paced: Bool) async throws -> Measurement {
        let runtime = try await Runtime.connect(settings: settings(), logger: logger) { configuration in
            if !paced { Self.liftPacing(&configuration) }
        }
        let connection = runtime.store.connection
        let start = try await RowWrites.read(on: connection)
        let before = ResourceUsage.now()
        let clock = Stopwatch()
        let reports = try await runtime.engine.reconcileAll(mode: .apply)
        var measurement = finish(before, clock)
        measurement.writes = RowWrites.delta(from: start, to: try await RowWrites.read(on: connection))
        measurement.outcomes = reports.map(\.outcome.rawValue)
        if let failed = reports.first(where: { $0.outcome.rawValue == "failed" }) {
            throw BenchFailure("sync failed: \(failed.detail ?? "?")")
        }
        await runtime.close()
        return measurement
    }

    private func finish(_ before: ResourceUsage, _ clock: Stopwatch, requests: Int? = nil) -> Measurement {
        let wall = clock.seconds
        let after = ResourceUsage.now()
        return Measurement(
            wallSeconds: wall, cpuSeconds: after.cpuSeconds - before.cpuSeconds, peakRSSBytes: after.peakRSSBytes,
            requests: requests)
    }
}

/// Runs blocking work on a dedicated thread, not the cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
