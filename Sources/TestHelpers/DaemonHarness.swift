public import Daemon
public import Foundation
import Glibc
public import Logging
import LoopbackHTTP
import PostgresTestSupport
public import Store
public import SyncCore
import Synchronization
public import WorkOS
public import WorkOSSimulator

/// A migrated database, the bundled simulator on loopback, and settings
/// pointing at both; `start` builds an in-process daemon with the same
/// `DaemonApp.build` the `run` command uses.
public struct DaemonHarness: Sendable {
    public let simulator: WorkOSSimulator
    public let databaseURL: String
    public var settings: Settings

    public static func make(
        directories: Int = 2, users: Int = 30, groups: Int = 3, latency: Duration = .zero, interval: Duration = .seconds(60),
        concurrency: Int = 2, databaseURL: String? = nil
    ) async throws -> DaemonHarness {
        let url: String
        if let databaseURL { url = databaseURL } else { url = try await TestDatabase.create("daemon", logger: quietLogger) }
        let admin = try await PostgresConnection.connect(url, logger: quietLogger)
        _ = try await Migrator.apply(on: admin, logger: quietLogger)
        await admin.close()
        let simulator = WorkOSSimulator(SimulatorConfiguration(
            seed: 5, directories: directories, usersPerDirectory: users, groupsPerDirectory: groups, rateLimit: nil, latency: latency))
        let baseURL = try simulator.start()
        var settings = Settings()
        settings.apiKey = Secret(simulator.apiKey)
        settings.baseURL = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        settings.databaseURL = url
        settings.interval = interval
        settings.concurrency = concurrency
        settings.listen = "127.0.0.1:0"
        // These tests are about the scheduler and its metrics; events mode has its own (EventsModeTests).
        settings.mode = .full
        return DaemonHarness(simulator: simulator, databaseURL: url, settings: settings)
    }

    /// Options for tests: no signal traps, no pacing, fast retries, the given environment.
    public static func options(
        environment: [String: String] = [:], configPath: String? = nil, shutdownGrace: Duration = .seconds(20),
        pageSize: Int = 100
    ) -> DaemonApp.Options {
        DaemonApp.Options(
            configPath: configPath, environment: environment, trapSignals: false,
            scheduler: Scheduler.Configuration(tick: .milliseconds(100), backoffBase: .milliseconds(500), shutdownGrace: shutdownGrace),
            tuneClient: { client in
                client.pageSize = pageSize
                client.directoryUsersPerSecond = .infinity
                client.requestsPerSecond = .infinity
                client.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
            })
    }

    public func build(_ options: DaemonApp.Options = DaemonHarness.options()) async throws -> DaemonApp {
        try await DaemonApp.build(settings: settings, options: options, logger: quietLogger)
    }

    /// A read-only look at the database on a connection of its own.
    public func query(_ sql: PostgresQuery) async throws -> [PostgresRow] {
        let connection = try await PostgresConnection.connect(databaseURL, logger: quietLogger)
        defer { Task { await connection.close() } }
        return try await connection.query(sql)
    }

    public func count(_ sql: PostgresQuery) async throws -> Int {
        try await query(sql)[0].decode(Int.self, "count")
    }
}

/// Runs a daemon in a task; `stop` shuts it down gracefully and waits.
public final class RunningDaemon: Sendable {
    public let app: DaemonApp
    public let task: Task<Void, any Error>

    public init(_ app: DaemonApp) {
        self.app = app
        task = Task { try await app.run() }
    }

    public func stop() async throws {
        await app.shutdown()
        try await task.value
    }
}

/// An `AF_UNIX` datagram socket standing in for systemd's notify socket.
public final class NotifyListener: Sendable {
    /// The value for `NOTIFY_SOCKET` (`@name` for the abstract namespace).
    public let address: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let open = Atomic<Bool>(true)

    public init(abstract: Bool) throws {
        let name = abstract
            ? "@workos-dsync-test-\(UUID().uuidString.prefix(12))"
            : NSTemporaryDirectory() + "/wds-notify-\(UUID().uuidString.prefix(8)).sock"
        address = name
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure(description: "socket failed") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TestFailure(description: "bind \(name) failed: errno \(errno)") }
        let thread = Thread { [self] in receiveLoop() }
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while open.load(ordering: .sequentiallyConsistent) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                let message = String(decoding: buffer[0..<count], as: UTF8.self)
                received.withLock { $0.append(message) }
            }
        }
        Glibc.close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// Every datagram so far, in arrival order.
    public var messages: [String] { received.withLock { $0 } }

    public func close() { open.store(false, ordering: .sequentiallyConsistent) }
}
