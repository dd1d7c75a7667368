import Foundation
import Store
import Synchronization
import TestHelpers
import Testing
import WorkOSModel

@Suite struct LockAndOutboxTests {
    @Test func twoConnectionsCompeteForAnAdvisoryLock() async throws {
        let (conninfo, first) = try await freshDatabase("lock_compete", migrated: false)
        let second = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let key = AdvisoryLockKey.directory("directory_01HXYZ")
        #expect(key == AdvisoryLockKey.directory("directory_01HXYZ"))
        #expect(key != AdvisoryLockKey.directory("directory_01HXY0"))
        #expect(AdvisoryLockKey.fnv1a64("") == Int64(bitPattern: 0xcbf2_9ce4_8422_2325))
        #expect(try await first.tryAdvisoryLock(key))
        #expect(try await !second.tryAdvisoryLock(key))
        #expect(try await first.advisoryUnlock(key))
        #expect(try await second.tryAdvisoryLock(key))
        #expect(try await !first.tryAdvisoryLock(key))
        #expect(try await !first.advisoryUnlock(key), "first does not hold it")
    }

    @Test func aKilledConnectionReleasesItsLockAndReconnects() async throws {
        let (conninfo, victim) = try await freshDatabase("lock_killed", migrated: false)
        let other = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let key = AdvisoryLockKey.directory("directory_killed")
        #expect(try await victim.tryAdvisoryLock(key))
        let pid = try await victim.backendPID()
        let session = try await victim.sessionNumber()
        #expect(try await !other.tryAdvisoryLock(key))
        #expect(try await other.query("SELECT pg_terminate_backend(\(pid)) AS ok")[0].decode(Bool.self, "ok"))
        try #require(try await eventually(timeout: .seconds(30)) { try await other.tryAdvisoryLock(key) })
        // Next use reconnects transparently; the new session does not hold the lock.
        #expect(try await victim.query("SELECT 1 AS one")[0].decode(Int.self, "one") == 1)
        #expect(try await victim.backendPID() != pid)
        #expect(try await victim.sessionNumber() == session + 1)
        #expect(try await !victim.tryAdvisoryLock(key))
    }

    @Test func aConnectionLostInsideATransactionFailsIt() async throws {
        let (conninfo, victim) = try await freshDatabase("lock_killed_tx", migrated: false)
        let other = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        try await victim.execute(PostgresQuery(unsafeSQL: "CREATE TABLE t (v int)"))
        let error = await thrownError {
            try await victim.withTransaction { transaction in
                try await transaction.execute("INSERT INTO t VALUES (1)")
                let pid = try await transaction.backendPID()
                try await other.query("SELECT pg_terminate_backend(\(pid))")
                try await Task.sleep(for: .milliseconds(100))
                try await transaction.execute("INSERT INTO t VALUES (2)")
            }
        }
        #expect((error as? PostgresError)?.code == .connectionLost)
        #expect(try await victim.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, "n") == 0)
    }

    /// Two writers append events concurrently while a reader polls
    /// `id > last seen`; every id that ever commits must be seen by the reader.
    @Test func theOutboxReaderNeverSkipsACommittedEvent() async throws {
        let (conninfo, reader) = try await freshDatabase("outbox_order")
        let writers = [
            try await PostgresConnection.connect(conninfo, logger: quietLogger),
            try await PostgresConnection.connect(conninfo, logger: quietLogger),
        ]
        let done = Shared(0)
        let transactionsPerWriter = 60
        async let writing: Void = withThrowingTaskGroup(of: Void.self) { group in
            for (index, writer) in writers.enumerated() {
                group.addTask {
                    for round in 0..<transactionsPerWriter {
                        try await writer.withTransaction { transaction in
                            // Plain INSERTs: the schema's trigger takes the append lock.
                            try await transaction.execute("""
                                INSERT INTO workos_dsync.events (type, reason, payload)
                                SELECT 'user.updated', \("writer \(index)"), jsonb_build_object('round', \(round), 'i', i)
                                FROM generate_series(1, 3) AS i
                                """)
                            // Hold the transaction open so the other writer tries to interleave.
                            try await transaction.query("SELECT pg_sleep(\(Double(round % 3) / 1000))")
                        }
                    }
                    done.withLock { $0 += 1 }
                }
            }
            try await group.waitForAll()
        }
        var seen: [Int64] = []
        var last: Int64 = 0
        while true {
            let finished = done.value == writers.count
            let rows = try await reader.query("SELECT id FROM workos_dsync.events WHERE id > \(last) ORDER BY id")
            for row in rows {
                let id = try row.decode(Int64.self, "id")
                seen.append(id)
                last = id
            }
            if finished { break }
        }
        try await writing
        let all = try await reader.query("SELECT id FROM workos_dsync.events ORDER BY id").map { try $0.decode(Int64.self, "id") }
        #expect(all.count == writers.count * transactionsPerWriter * 3)
        #expect(seen == all, "the reader skipped \(Set(all).subtracting(seen).count) committed events")
    }

    /// Without the append lock, a later id can commit first and an earlier
    /// one be skipped for ever: the situation the trigger prevents.
    @Test func withoutTheLockAReaderWouldSkip() async throws {
        let (conninfo, reader) = try await freshDatabase("outbox_control")
        let slow = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let fast = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        try await reader.execute(PostgresQuery(unsafeSQL: "CREATE TABLE unordered (id bigserial PRIMARY KEY)"))
        let skipped = try await slow.withTransaction { slowTransaction in
            try await slowTransaction.execute("INSERT INTO unordered DEFAULT VALUES")  // id 1, not yet committed
            try await fast.execute("INSERT INTO unordered DEFAULT VALUES")  // id 2, committed
            let last = try await reader.query("SELECT max(id) AS id FROM unordered")[0].decode(Int64.self, "id")
            return last
        }
        #expect(skipped == 2)
        #expect(try await reader.query("SELECT id FROM unordered WHERE id > 2").isEmpty, "id 1 is now visible but behind the reader")

        // With the schema's events table, the second writer waits for the first.
        let order = Shared<[String]>([])
        let firstInserted = AsyncFlag()
        async let first: Void = slow.withTransaction { transaction in
            try await EventLog.append([EventLog.Event(type: "user.created")], on: transaction)
            await firstInserted.set()
            try await transaction.query("SELECT pg_sleep(0.2)")
            order.withLock { $0.append("first commits") }
        }
        await firstInserted.wait()
        try await fast.withTransaction { transaction in
            try await EventLog.append([EventLog.Event(type: "user.updated")], on: transaction)
            order.withLock { $0.append("second inserted") }
        }
        try await first
        #expect(order.value == ["first commits", "second inserted"])
        let types = try await reader.query("SELECT type FROM workos_dsync.events ORDER BY id").map { try $0.decode(String.self, "type") }
        #expect(types == ["user.created", "user.updated"])
    }

    /// The schema's trigger takes the append lock before the insert draws an
    /// id: a plain INSERT waits for a transaction holding the lock, and gets
    /// a larger id than anything that transaction inserts afterwards.
    @Test func plainInsertsDrawIdsOnlyUnderTheAppendLock() async throws {
        let (conninfo, holder) = try await freshDatabase("outbox_trigger")
        let plain = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let holding = AsyncFlag()
        let plainFinished = Shared(false)
        let holderTask = Task {
            try await holder.withTransaction { transaction -> Int64 in
                try await EventLog.lockForAppend(on: transaction)
                await holding.set()
                try await transaction.query("SELECT pg_sleep(0.3)")  // the plain insert is waiting now
                #expect(plainFinished.value == false, "the plain INSERT did not wait for the append lock")
                let ids = try await EventLog.append([EventLog.Event(type: "user.created")], on: transaction)
                return ids[0]
            }
        }
        await holding.wait()
        let plainID = try await plain.query("INSERT INTO workos_dsync.events (type) VALUES ('user.updated') RETURNING id")[0]
            .decode(Int64.self, "id")
        plainFinished.withLock { $0 = true }
        let holderID = try await holderTask.value
        #expect(holderID < plainID, "the waiting INSERT drew its id before the lock")
    }

    @Test func notifyReachesAListener() async throws {
        let (conninfo, connection) = try await freshDatabase("notify")
        let listener = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        try await listener.execute("LISTEN workos_dsync")
        try await connection.notify("workos_dsync", payload: "hello")
        var received: [PostgresNotification] = []
        try #require(try await eventually(timeout: .seconds(30)) {
            received += try await listener.pendingNotifications()
            return !received.isEmpty
        })
        #expect(received.map(\.payload) == ["hello"])
        #expect(received.first?.channel == "workos_dsync")
        #expect(received.first?.senderPID == (try await connection.backendPID()))
        received = []
        try await connection.withTransaction { transaction in
            try await EventLog.append([EventLog.Event(type: "user.created", payload: PostgresJSON(#"{"a":1}"#))], on: transaction)
        }
        #expect(try await connection.query("SELECT count(*) AS n FROM workos_dsync.events")[0].decode(Int.self, "n") == 1)
        // Writing events notifies at commit, once per transaction.
        try #require(try await eventually(timeout: .seconds(30)) {
            received += try await listener.pendingNotifications()
            return !received.isEmpty
        })
        #expect(received.map(\.channel) == [EventLog.channel])
    }
}
