public import Foundation

/// One directory's row of the shared schedule (`directory_schedule`), as a replica sees it.
public struct ScheduledDirectory: Sendable, Hashable {
    public var directoryID: String
    /// How long until it may be claimed: until its next due time, or until
    /// another replica's claim expires, whichever is later (zero: claimable now).
    public var claimableIn: Duration
    /// Users in its last complete listing (nil: never listed).
    public var lastUsers: Int?

    public init(directoryID: String, claimableIn: Duration, lastUsers: Int?) {
        self.directoryID = directoryID
        self.claimableIn = claimableIn
        self.lastUsers = lastUsers
    }
}

/// The answer to a claim: the directory is this replica's until its run ends, or it waits.
public enum ScheduleClaim: Sendable, Hashable {
    /// Claimed; run it now.
    case claimed
    /// Not due yet across the replicas, or another replica holds it.
    case notClaimable(ScheduledDirectory)
}

/// The schedule replicas share (migration 0008): each directory's next due
/// time and claim, and each replica's heartbeat. PostgreSQL's clock decides
/// every due time and expiry, so replicas need no synchronised clocks.
extension SyncStore {
    /// The rows of `ids`, created (due now) where missing.
    public func schedule(of ids: [String]) async throws -> [ScheduledDirectory] {
        guard !ids.isEmpty else { return [] }
        try await connection.execute("""
            INSERT INTO workos_dsync.directory_schedule (directory_id)
            SELECT unnest(\(ids)::text[]) ON CONFLICT (directory_id) DO NOTHING
            """)
        return try await connection.query("""
            SELECT directory_id, last_users,
                   extract(epoch FROM greatest(next_due_at, coalesce(claimed_until, next_due_at)) - now())::float8 AS wait
            FROM workos_dsync.directory_schedule WHERE directory_id = ANY(\(ids)::text[]) ORDER BY directory_id
            """).map(Self.scheduledDirectory)
    }

    /// Claims `directoryID` for `replica` until `ttl` from now when it is due and
    /// nobody holds a live claim on it (`FOR UPDATE SKIP LOCKED`: a row another
    /// replica is claiming at this moment is not waited for, it is theirs).
    public func claim(_ directoryID: String, replica: String, ttl: Duration) async throws -> ScheduleClaim {
        try await connection.execute("""
            INSERT INTO workos_dsync.directory_schedule (directory_id) VALUES (\(directoryID))
            ON CONFLICT (directory_id) DO NOTHING
            """)
        let claimed = try await connection.query("""
            WITH due AS (
                SELECT directory_id FROM workos_dsync.directory_schedule
                WHERE directory_id = \(directoryID) AND next_due_at <= now()
                  AND (claimed_until IS NULL OR claimed_until <= now() OR claimed_by = \(replica))
                FOR UPDATE SKIP LOCKED)
            UPDATE workos_dsync.directory_schedule s
            SET claimed_by = \(replica), claimed_until = now() + make_interval(secs => \(ttl.secondsValue)), updated_at = now()
            FROM due WHERE s.directory_id = due.directory_id
            RETURNING s.directory_id
            """)
        if !claimed.isEmpty { return .claimed }
        let rows = try await connection.query("""
            SELECT directory_id, last_users,
                   extract(epoch FROM greatest(next_due_at, coalesce(claimed_until, next_due_at)) - now())::float8 AS wait
            FROM workos_dsync.directory_schedule WHERE directory_id = \(directoryID)
            """)
        // A row locked by a claim in progress elsewhere reads as due now: ask again a little later.
        var row = try rows.first.map(Self.scheduledDirectory) ?? ScheduledDirectory(directoryID: directoryID, claimableIn: .zero, lastUsers: nil)
        row.claimableIn = max(row.claimableIn, .seconds(1))
        return .notClaimable(row)
    }

    /// Ends `replica`'s claim on `directoryID`: the next run is due `nextDueIn`
    /// from now; `users` (a complete listing's) becomes the expected size;
    /// `ran` false (the lease was held elsewhere) leaves `last_run_by` alone.
    /// Does nothing when the claim is no longer this replica's.
    public func release(_ directoryID: String, replica: String, nextDueIn: Duration, users: Int?, ran: Bool = true) async throws {
        try await connection.execute("""
            UPDATE workos_dsync.directory_schedule
            SET next_due_at = now() + make_interval(secs => \(nextDueIn.secondsValue)), claimed_by = NULL, claimed_until = NULL,
                last_run_by = CASE WHEN \(ran) THEN claimed_by ELSE last_run_by END,
                last_users = coalesce(\(users), last_users), updated_at = now()
            WHERE directory_id = \(directoryID) AND claimed_by = \(replica)
            """)
    }

    /// The replica's heartbeat: records it as live, extends its claims on
    /// `running` to `ttl` from now, forgets replicas silent for a day, and
    /// returns how many replicas were seen within `ttl` (itself included).
    public func heartbeat(replica: String, host: String, pid: Int, running: [String], ttl: Duration) async throws -> Int {
        try await connection.execute("""
            INSERT INTO workos_dsync.replicas (replica_id, host, pid) VALUES (\(replica), \(host), \(pid))
            ON CONFLICT (replica_id) DO UPDATE SET seen_at = now()
            """)
        if !running.isEmpty {
            try await connection.execute("""
                UPDATE workos_dsync.directory_schedule SET claimed_until = now() + make_interval(secs => \(ttl.secondsValue))
                WHERE claimed_by = \(replica) AND directory_id = ANY(\(running)::text[])
                """)
        }
        try await connection.execute("DELETE FROM workos_dsync.replicas WHERE seen_at < now() - interval '1 day'")
        let rows = try await connection.query("""
            SELECT count(*) AS live FROM workos_dsync.replicas
            WHERE seen_at > now() - make_interval(secs => \(ttl.secondsValue)) OR replica_id = \(replica)
            """)
        return try rows[0].decode(Int.self, "live")
    }

    /// A start or reload with a shorter `sync.interval`: nobody waits longer than
    /// `interval` from now. The capped due times are spread over its last tenth,
    /// so the directories it pulls in do not all come due at one instant.
    public func capNextDue(within interval: Duration) async throws {
        try await connection.execute("""
            UPDATE workos_dsync.directory_schedule
            SET next_due_at = now() + make_interval(secs => \(interval.secondsValue) * (0.9 + 0.1 * random())), updated_at = now()
            WHERE next_due_at > now() + make_interval(secs => \(interval.secondsValue))
            """)
    }

    /// A replica stopping: its row goes, its remaining claims expire now (others may take them at once).
    public func leave(replica: String) async throws {
        try await connection.execute("""
            UPDATE workos_dsync.directory_schedule SET claimed_until = now() WHERE claimed_by = \(replica)
            """)
        try await connection.execute("DELETE FROM workos_dsync.replicas WHERE replica_id = \(replica)")
    }

    private static func scheduledDirectory(_ row: PostgresRow) throws -> ScheduledDirectory {
        let wait = max(try row.decode(Double.self, "wait"), 0)
        return ScheduledDirectory(
            directoryID: try row.decode(String.self, "directory_id"), claimableIn: .milliseconds(Int64((wait * 1_000).rounded(.up))),
            lastUsers: try row.decode(Int?.self, "last_users"))
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (for `make_interval(secs => …)`).
    var secondsValue: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
