public import Logging
import Synchronization
import WorkOSModel

/// One PostgreSQL session over libpq.
///
/// Every blocking libpq call runs on the connection's own thread; async
/// callers wait on continuations, so Swift's cooperative pool never blocks.
/// Calls from several tasks are served one after another. A connection that
/// broke (e.g. the server restarted, or `pg_terminate_backend`) is
/// re-established on its next use — except inside `withTransaction`, where
/// the transaction fails with `.connectionLost` instead. After a reconnect the
/// session's advisory locks are gone (PostgreSQL released them when the old
/// session died): callers holding one should check `sessionNumber`.
public final class PostgresConnection: Sendable {
    final class Core: Sendable {
        let thread: ConnectionThread
        let lock = AsyncLock()
        let logger: Logger
        init(thread: ConnectionThread, logger: Logger) {
            self.thread = thread
            self.logger = logger
        }
        deinit { thread.stop() }
    }

    /// Marks the connection lent to a `withTransaction` body; ends with it.
    final class TransactionToken: Sendable {
        private let active = Atomic<Bool>(true)
        func end() { active.store(false, ordering: .sequentiallyConsistent) }
        func check() throws {
            guard active.load(ordering: .sequentiallyConsistent) else {
                throw PostgresError(code: .misuse, message: "a transaction's connection was used after the transaction ended")
            }
        }
    }

    private let core: Core
    private let token: TransactionToken?

    private init(core: Core, token: TransactionToken?) {
        self.core = core
        self.token = token
    }

    /// Connects to PostgreSQL.
    ///
    /// - Parameters:
    ///   - conninfo: a libpq connection string (`host=… dbname=…`) or URI
    ///     (`postgresql://…`); `nil` (or `""`) uses libpq's own `PG*`
    ///     environment variables and `.pgpass`.
    ///   - logger: receives connection events; never the password.
    /// - Throws: `PostgresError` with code `.connectionFailed` (message redacted).
    public static func connect(_ conninfo: String?, logger: Logger) async throws -> PostgresConnection {
        let connection = PostgresConnection(
            core: Core(thread: ConnectionThread(conninfo: conninfo, logger: logger), logger: logger), token: nil)
        try await connection.exclusive { thread in try await thread.submit { try $0.ensureConnected() } }
        return connection
    }

    /// Whether this is the connection lent to a `withTransaction` body.
    public var isInTransaction: Bool { token != nil }

    /// Closes the connection now (it also closes when the last reference goes).
    public func close() async {
        _ = try? await exclusive { thread in try await thread.submit { $0.close() } }
    }

    /// Runs `body` with exclusive use of the session: holds the connection's
    /// lock, or (for a transaction's connection) checks the transaction is live.
    private func exclusive<T: Sendable>(_ body: (ConnectionThread) async throws -> T) async throws -> T {
        if let token {
            try token.check()
            return try await body(core.thread)
        }
        await core.lock.lock()
        do {
            let value = try await body(core.thread)
            core.lock.unlock()
            return value
        } catch {
            core.lock.unlock()
            throw error
        }
    }

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await exclusive { thread in try await thread.submit { try $0.run(query).rows } }
    }

    /// Runs a `SELECT` through a server-side cursor (in a transaction of its
    /// own, or a savepoint inside the caller's) and hands its rows to `body`
    /// `batchSize` at a time, so a large
    /// result — a directory's accounts — never sits in memory whole, neither
    /// in libpq's result nor as rows.
    public func forEachBatch(
        of query: PostgresQuery, batchSize: Int = 10_000, _ body: ([PostgresRow]) throws -> Void
    ) async throws {
        precondition(batchSize > 0 && !query.isUnsafeSQL, "a parameterised SELECT and a positive batch size")
        try await withTransaction { transaction in
            try await transaction.execute(query.prefixed(by: "DECLARE dsync_batches NO SCROLL CURSOR FOR "))
            while true {
                let rows = try await transaction.query(PostgresQuery(sql: "FETCH FORWARD \(batchSize) FROM dsync_batches", binds: []))
                if !rows.isEmpty { try body(rows) }
                if rows.count < batchSize { break }
            }
            // Closed now, not at commit: a caller already in a transaction (a savepoint here) may read again.
            try await transaction.execute(PostgresQuery(sql: "CLOSE dsync_batches", binds: []))
        }
    }

    /// Runs a statement and returns the number of rows it affected
    /// (inserted, updated, deleted, copied or selected).
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await exclusive { thread in try await thread.submit { try $0.run(query).affected } }
    }

    /// The server process id of the current session (0 before connecting).
    public func backendPID() async throws -> Int32 {
        try await exclusive { thread in
            try await thread.submit { connection in
                try connection.ensureConnected()
                return connection.backendPID
            }
        }
    }

    /// Counts (re)connections: changes when the session was re-established,
    /// i.e. when session state such as advisory locks was lost.
    public func sessionNumber() async throws -> Int {
        try await exclusive { thread in try await thread.submit { $0.sessionNumber } }
    }

    /// Runs `body` in a transaction: `COMMIT` when it returns, `ROLLBACK`
    /// when it throws (then the body's error is rethrown; if the rollback
    /// fails as well, a `PostgresTransactionError` carrying both is thrown).
    ///
    /// The body gets a connection that belongs to this transaction: other
    /// callers of this connection wait until it ends, and using it after the
    /// transaction ended throws `.misuse`. Nested calls on that connection
    /// use savepoints. A connection lost inside the transaction fails it with
    /// `.connectionLost`; nothing is reconnected until the transaction ended.
    /// If the body swallowed a statement error (leaving the transaction
    /// aborted), the commit is refused with `.misuse` and the work rolled back.
    @discardableResult
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await exclusive { thread in
            try await thread.submit { try $0.begin() }
            let lent = PostgresConnection(core: core, token: TransactionToken())
            let value: T
            do {
                value = try await body(lent)
            } catch {
                lent.token?.end()
                do {
                    try await thread.submit { try $0.rollback() }
                } catch let rollbackError {
                    throw PostgresTransactionError(error: error, rollbackError: rollbackError)
                }
                throw error
            }
            lent.token?.end()
            try await thread.submit { try $0.commit() }
            return value
        }
    }

    /// Bulk-loads rows with `COPY table (columns) FROM STDIN` in text format,
    /// streamed in chunks of about 1 MB. Returns the number of rows copied.
    ///
    /// Values are escaped (backslash, tab, newline, carriage return); `nil`
    /// is NULL (`\N`), so the text `\N` arrives as those two characters.
    ///
    /// **NUL bytes are refused**: PostgreSQL text cannot store U+0000, and
    /// silently stripping it would store something the directory did not
    /// say. A value containing one aborts the COPY (nothing is stored) with a
    /// `PostgresError` of code `.invalidText` naming the column and row. Code
    /// that must accept such input should strip or replace U+0000 itself,
    /// knowingly, before calling.
    ///
    /// - Parameters:
    ///   - table: the table, optionally schema-qualified (`workos_dsync.users`); quoted as an identifier.
    ///   - columns: the columns, in the order of each row's values; quoted as identifiers.
    @discardableResult
    public func copy(into table: String, columns: [String], rows: some Sequence<[String?]>) async throws -> Int {
        let sql = "COPY \(quoteQualifiedIdentifier(table)) (\(columns.map(quoteIdentifier).joined(separator: ", "))) FROM STDIN"
        return try await exclusive { thread in
            try await thread.submit { try $0.copyBegin(sql) }
            do {
                var encoder = CopyTextEncoder(columns: columns)
                for row in rows {
                    try encoder.append(row)
                    if encoder.buffer.count >= CopyTextEncoder.chunkSize {
                        let chunk = encoder.takeBuffer()
                        try await thread.submit { try $0.copyPut(chunk) }
                    }
                }
                let last = encoder.takeBuffer()
                return try await thread.submit { connection in
                    if !last.isEmpty { try connection.copyPut(last) }
                    return try connection.copyEnd(abortMessage: nil)
                }
            } catch {
                _ = try? await thread.submit { try $0.copyEnd(abortMessage: "aborted by the client: \(error)") }
                throw error
            }
        }
    }

    /// `pg_notify(channel, payload)`: delivered to listeners when the current
    /// transaction commits (at once outside a transaction).
    public func notify(_ channel: String, payload: String? = nil) async throws {
        try await query("SELECT pg_notify(\(channel), \(payload ?? ""))")
    }

    /// The notifications that arrived since the last call, on channels this
    /// session `LISTEN`s to (does not wait; poll, or wait for a query to return).
    public func pendingNotifications() async throws -> [PostgresNotification] {
        try await exclusive { thread in try await thread.submit { try $0.notifications() } }
    }

    /// `pg_try_advisory_lock(key)`: takes the session-level lock if free.
    /// PostgreSQL releases it when the session ends, including when the
    /// connection dies.
    public func tryAdvisoryLock(_ key: Int64) async throws -> Bool {
        try await query("SELECT pg_try_advisory_lock(\(key)) AS locked").first?.decode(Bool.self, "locked") ?? false
    }

    /// Whether this session holds the session-level advisory lock `key` (from
    /// `pg_locks`). False after a reconnect: the lock died with the old session.
    public func holdsAdvisoryLock(_ key: Int64) async throws -> Bool {
        try await query("""
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
                  AND classid = ((\(key) >> 32) & 4294967295)::oid AND objid = (\(key) & 4294967295)::oid
            ) AS held
            """).first?.decode(Bool.self, "held") ?? false
    }

    /// `pg_advisory_unlock(key)`: returns false when this session did not hold it.
    @discardableResult
    public func advisoryUnlock(_ key: Int64) async throws -> Bool {
        try await query("SELECT pg_advisory_unlock(\(key)) AS unlocked").first?.decode(Bool.self, "unlocked") ?? false
    }
}

/// A `NOTIFY` received by a listening session.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}
