/// How the simulator writes timestamps.
public enum TimestampStyle: String, Sendable, Hashable, CaseIterable {
    /// `2025-01-06T09:00:00.000Z`, what WorkOS normally sends.
    case iso8601
    /// `2025-01-06 09:00:00.000`: a space and no zone, as seen from some older records.
    case spaceWithoutZone
}
