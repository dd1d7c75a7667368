import Foundation
import Store
import Testing

@Suite struct ConcurrencyTests {
    /// Many tasks share one connection: calls are served one at a time, each gets its own answer.
    @Test func concurrentCallsOnOneConnectionAreSerialised() async throws {
        let (_, connection) = try await freshDatabase("concurrency_calls", migrated: false)
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<200 {
                group.addTask { (index, try await connection.query("SELECT \(index) * 2 AS doubled")[0].decode(Int.self, "doubled")) }
            }
            var answers: [Int: Int] = [:]
            for try await (index, doubled) in group { answers[index] = doubled }
            return answers
        }
        #expect(answers.count == 200)
        #expect(answers.allSatisfy { $0.value == $0.key * 2 })

        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<1000 { try await connection.query("SELECT 1") }
        print("1000 sequential round trips (SELECT 1): \(clock.now - start)")
    }

    /// Other callers of a connection wait while it is lent to a transaction:
    /// their statements never run inside someone else's transaction.
    @Test func otherCallersWaitForTheTransaction() async throws {
        let (_, connection) = try await freshDatabase("concurrency_tx", migrated: false)
        try await connection.execute(PostgresQuery(unsafeSQL: "CREATE TABLE t (v int)"))
        let inTransaction = AsyncFlag()
        let transaction = Task {
            try await connection.withTransaction { transaction in
                try await transaction.execute("INSERT INTO t VALUES (1)")
                await inTransaction.set()
                try await Task.sleep(for: .milliseconds(200))
                throw CancellationError()  // roll back
            }
        }
        await inTransaction.wait()
        // Runs only after the transaction ended (rolled back): it sees no row and is not part of it.
        let count = try await connection.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, "n")
        #expect(count == 0)
        #expect(await transaction.result.isFailure)
        try await connection.execute("INSERT INTO t VALUES (2)")
        #expect(try await connection.query("SELECT v FROM t")[0].decode(Int.self, "v") == 2)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
