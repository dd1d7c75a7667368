import Foundation
import Store
import TestHelpers
import Testing

/// A run starts when its directory's lease is taken, by the database's clock:
/// the apply compares that start with the times the events poller wrote
/// (`clock_timestamp()`), so a replica's own clock never enters the comparison.
@Suite struct LeaseClockTests {
    @Test func aLeaseIsTakenOnceAndDatedByTheDatabasesClock() async throws {
        let (conninfo, owner) = try await freshDatabase("lease_clock")
        let first = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        let second = try await PostgresConnection.connect(conninfo, logger: quietLogger)
        func databaseNow() async throws -> Date {
            try await owner.query("SELECT clock_timestamp() AS now")[0].decode(Date.self, "now")
        }
        let before = try await databaseNow()
        let takenAt = try #require(try await SyncStore(connection: first, logger: quietLogger).tryLock(directoryID: "directory_1"))
        let after = try await databaseNow()
        #expect(before <= takenAt && takenAt <= after)
        // Another session (another replica) does not get it while it is held; it does once released.
        let other = SyncStore(connection: second, logger: quietLogger)
        #expect(try await other.tryLock(directoryID: "directory_1") == nil)
        try await SyncStore(connection: first, logger: quietLogger).unlock(directoryID: "directory_1")
        #expect(try await other.tryLock(directoryID: "directory_1") != nil)
        await first.close()
        await second.close()
        await owner.close()
    }
}
