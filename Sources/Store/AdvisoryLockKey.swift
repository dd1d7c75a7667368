/// Stable 64-bit keys for PostgreSQL advisory locks.
public enum AdvisoryLockKey {
    /// The key of a directory's sync lock: FNV-1a 64 of
    /// `"workos_dsync.directory:" + directoryID`, as a signed bigint. Stable
    /// across processes, versions and platforms (unlike `hashValue`).
    public static func directory(_ directoryID: String) -> Int64 {
        fnv1a64("workos_dsync.directory:" + directoryID)
    }

    /// The key `Migrator` holds while applying migrations.
    public static let migrations: Int64 = fnv1a64("workos_dsync.migrations")

    /// FNV-1a, 64-bit, over the UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
