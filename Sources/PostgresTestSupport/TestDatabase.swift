import Foundation
public import Logging
import Store
import Synchronization

/// Fresh, empty databases for tests (and the demo).
///
/// With `DATABASE_URL` set, each call creates a new database on that server
/// (the URL's user needs `CREATEDB`). Otherwise one `ThrowawayPostgres` is
/// started lazily for the whole process and stopped when the process exits.
public enum TestDatabase {
    private actor Shared {
        var starting: Task<ThrowawayPostgres, any Error>?
        func server(logger: Logger) async throws -> ThrowawayPostgres {
            // One start for every caller: the task is stored before the first suspension.
            if let starting { return try await starting.value }
            let task = Task {
                let started = try await ThrowawayPostgres.start(logger: logger)
                registerForExit(started)
                return started
            }
            starting = task
            return try await task.value
        }
    }
    private static let shared = Shared()

    /// Creates a database named after `prefix` plus a random suffix and
    /// returns its connection string.
    public static func create(_ prefix: String = "test", logger: Logger = Logger(label: "workos-dsync.test-database")) async throws -> String {
        let sanitized = String(prefix.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(30))
        let name = "wds_\(sanitized)_\(UUID().uuidString.prefix(8).lowercased())"
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            let admin = try await PostgresConnection.connect(url, logger: logger)
            try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name))"))
            await admin.close()
            guard let conninfo = ConnectionString.replacingDatabase(in: url, with: name) else {
                throw ThrowawayPostgres.Failure(description: "DATABASE_URL cannot be parsed by libpq")
            }
            return conninfo
        }
        return try await shared.server(logger: logger).createDatabase(name, logger: logger)
    }

    /// The shared throwaway server's connection string for `database`
    /// (starts the server when needed); `nil` when `DATABASE_URL` is used.
    public static func throwawayServer(logger: Logger = Logger(label: "workos-dsync.test-database")) async throws -> ThrowawayPostgres? {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return nil }
        return try await shared.server(logger: logger)
    }
}

private let serversToStopAtExit = Mutex<[ThrowawayPostgres]>([])

private func registerForExit(_ server: ThrowawayPostgres) {
    let first = serversToStopAtExit.withLock { servers in
        servers.append(server)
        return servers.count == 1
    }
    if first {
        atexit {
            let servers = serversToStopAtExit.withLock { $0 }
            for server in servers { server.stop() }
        }
    }
}
