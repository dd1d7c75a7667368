import Foundation
import Store
import TestHelpers
import Testing

@Suite struct ConnectionTests {
    @Test func copyOf100kHostileRowsRoundTripsExactly() async throws {
        let (_, connection) = try await freshDatabase("copy_100k", migrated: false)
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE hostile (n integer PRIMARY KEY, a text, b text, c text)"))
        let pieces = [
            "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\.", "\\\\N", "'single'", "\"double\"",
            "emoji 🧑🏽‍💻👨‍👩‍👧‍👦", "combining e\u{301}\u{308}", "日本語", "trailing\\", "\\t literal", ",;|", "",
        ]
        func row(_ n: Int) -> [String?] {
            let a = pieces[n % pieces.count] + String(n)
            let b: String? = n % 7 == 0 ? nil : pieces[(n * 3) % pieces.count] + pieces[(n * 5) % pieces.count]
            let c = n % 11 == 0 ? "\\N" : pieces[(n / 3) % pieces.count]
            return [String(n), a, b, c]
        }
        let count = 100_000
        let clock = ContinuousClock()
        let copyStart = clock.now
        let copiedRows = try await connection.copy(into: "hostile", columns: ["n", "a", "b", "c"], rows: (0..<count).lazy.map(row))
        let copied = clock.now - copyStart
        #expect(copiedRows == count)
        let readStart = clock.now
        let readBack = try await connection.query("SELECT n, a, b, c FROM hostile ORDER BY n")
        let read = clock.now - readStart
        print("COPY of \(count) hostile rows: \(copied); reading them back: \(read)")
        #expect(readBack.count == count)
        var mismatches = 0
        for stored in readBack {
            let n = try stored.decode(Int.self, "n")
            let values = [String(n), try stored.decode(String.self, "a"), try stored.decode(String?.self, "b"), try stored.decode(String.self, "c")]
            if values != row(n) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(try await connection.query("SELECT count(*) AS n FROM hostile WHERE b IS NULL")[0].decode(Int.self, "n") == (count + 6) / 7)
    }

    @Test func aCursorHandsRowsOverInBatchesWithTheirBinds() async throws {
        let (_, connection) = try await freshDatabase("cursor_batches", migrated: false)
        var batches: [Int] = []
        var values: [Int] = []
        let limit = 25
        try await connection.forEachBatch(
            of: "SELECT n FROM generate_series(1, \(limit)) AS n WHERE n % 5 <> \(0) ORDER BY n", batchSize: 7
        ) { rows in
            batches.append(rows.count)
            values += try rows.map { try $0.decode(Int.self, "n") }
        }
        #expect(batches == [7, 7, 6])
        #expect(values == (1...limit).filter { $0 % 5 != 0 })
        // No rows: the body is not called; an error in the body ends the transaction and the cursor.
        try await connection.forEachBatch(of: "SELECT 1 AS n WHERE \(false)") { _ in Issue.record("no rows expected") }
        struct Stop: Error {}
        let error = await thrownError {
            try await connection.forEachBatch(of: "SELECT n FROM generate_series(1, 10) AS n", batchSize: 3) { _ in throw Stop() }
        }
        #expect(error is Stop)
        #expect(try await connection.query("SELECT count(*) AS n FROM pg_cursors WHERE name = 'dsync_batches'")[0].decode(Int.self, "n") == 0)
    }

    @Test func aThrownErrorRollsTheTransactionBack() async throws {
        let (_, connection) = try await freshDatabase("tx_rollback", migrated: false)
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE t (v text)"))
        struct Boom: Error {}
        let error = await thrownError {
            try await connection.withTransaction { transaction in
                try await transaction.execute("INSERT INTO t VALUES (\("lost"))")
                throw Boom()
            }
        }
        #expect(error is Boom)
        #expect(try await connection.query("SELECT * FROM t").isEmpty)
        let kept = try await connection.withTransaction { transaction in
            try await transaction.execute("INSERT INTO t VALUES (\("kept"))")
            // A nested transaction is a savepoint: its failure leaves the outer work.
            _ = await thrownError {
                try await transaction.withTransaction { inner in
                    try await inner.execute("INSERT INTO t VALUES (\("inner"))")
                    throw Boom()
                }
            }
            return try await transaction.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, "n")
        }
        #expect(kept == 1)
        #expect(try await connection.query("SELECT v FROM t").map { try $0.decode(String.self, "v") } == ["kept"])
        // A statement error swallowed by the body must not commit half the work.
        let swallowed = await thrownError {
            try await connection.withTransaction { transaction in
                try await transaction.execute("INSERT INTO t VALUES (\("half"))")
                _ = await thrownError { try await transaction.execute("SELECT 1/0") }
            }
        }
        #expect((swallowed as? PostgresError)?.code == .misuse)
        #expect(try await connection.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, "n") == 1)
        // The lent connection is dead after the transaction.
        var escaped: PostgresConnection?
        try await connection.withTransaction { transaction in escaped = transaction }
        let misuse = await thrownError { try await escaped!.query("SELECT 1") }
        #expect((misuse as? PostgresError)?.code == .misuse)
    }

    @Test func sqlStatesMapToCodes() async throws {
        let (conninfo, connection) = try await freshDatabase("errors_mapping", migrated: false)
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)"))
        try await connection.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
        let duplicate = try #require(await thrownError { try await connection.execute("INSERT INTO t VALUES (1, 0)") } as? PostgresError)
        #expect(duplicate.code == .uniqueViolation)
        #expect(!duplicate.isRetryable)
        let syntax = try #require(await thrownError { try await connection.execute("SELEC 1") } as? PostgresError)
        #expect(syntax.code == .syntaxOrSchema)
        let missing = try #require(await thrownError { try await connection.execute("SELECT * FROM nowhere") } as? PostgresError)
        #expect(missing.code == .syntaxOrSchema)
        #expect(missing.sqlState == "42P01")
        let invalid = try #require(await thrownError { try await connection.query("SELECT \("not a uuid")::uuid") } as? PostgresError)
        #expect(invalid.code == .invalidText)

        // Serialization failure: a repeatable-read transaction updating a row changed since its snapshot.
        let other = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let serialization = await thrownError {
            try await connection.withTransaction { transaction in
                try await transaction.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                _ = try await transaction.query("SELECT v FROM t WHERE id = 1")
                try await other.execute("UPDATE t SET v = v + 1 WHERE id = 1")
                try await transaction.execute("UPDATE t SET v = v + 10 WHERE id = 1")
            }
        }
        let serializationError = try #require(serialization as? PostgresError)
        #expect(serializationError.code == .serializationFailure)
        #expect(serializationError.sqlState == "40001")
        #expect(serializationError.isRetryable)

        // Deadlock: each transaction holds the row the other one wants.
        let firstLocked = AsyncFlag()
        let secondLocked = AsyncFlag()
        let first = Task { try await connection.withTransaction { transaction in
            try await transaction.execute("UPDATE t SET v = 1 WHERE id = 1")
            await firstLocked.set()
            await secondLocked.wait()
            try await transaction.execute("UPDATE t SET v = 1 WHERE id = 2")
        } }
        let second = Task { try await other.withTransaction { transaction in
            try await transaction.execute("UPDATE t SET v = 2 WHERE id = 2")
            await secondLocked.set()
            await firstLocked.wait()
            try await transaction.execute("UPDATE t SET v = 2 WHERE id = 1")
        } }
        let results = [await first.result, await second.result]
        let failures = results.compactMap { result -> PostgresError? in
            if case .failure(let error) = result { return error as? PostgresError }
            return nil
        }
        #expect(failures.count == 1)
        #expect(failures.first?.code == .deadlockDetected)
        #expect(failures.first?.sqlState == "40P01")
    }

    @Test func passwordsNeverAppearInErrors() async throws {
        let secret = "s3cr3t-Pa55"
        let error = await thrownError {
            _ = try await PostgresConnection.connect(
                "host=127.0.0.1 port=1 user=nobody password=\(secret) dbname=x connect_timeout=2", logger: quietLogger)
        }
        let postgresError = try #require(error as? PostgresError)
        #expect(postgresError.code == .connectionFailed)
        #expect(!"\(postgresError)".contains(secret))
        #expect(!postgresError.message.contains(secret))
        let uriError = await thrownError {
            _ = try await PostgresConnection.connect("postgresql://nobody:\(secret)@127.0.0.1:1/x?connect_timeout=2", logger: quietLogger)
        }
        #expect(!"\(uriError!)".contains(secret))
        #expect(ConnectionString.redact("postgres://u:\(secret)@h/db and password=\(secret) and password = 'a b'", conninfo: nil)
            == "postgres://u:***@h/db and password=*** and password=***")
    }
}

/// A one-shot signal between tasks.
actor AsyncFlag {
    private var isSet = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func set() {
        isSet = true
        waiters.forEach { $0.resume() }
        waiters.removeAll()
    }
    func wait() async {
        if isSet { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
