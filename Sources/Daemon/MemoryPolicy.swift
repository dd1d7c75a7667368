#if canImport(Glibc)
import CMalloc
#endif

/// Keeps the daemon's resident memory at the size of the largest directory.
///
/// glibc gives threads that allocate at once arenas of their own (up to eight
/// per core) and keeps freed blocks inside them. Directories decoded on
/// different threads of Swift's pool would each leave pages behind, and the
/// peak RSS would grow with the number of directories. Two arenas, and the free
/// pages handed back after each directory, keep it at one directory's worth
/// (`dsync-bench`: 5 × 10k users within 1.06 × of one 10k directory, 1.31 ×
/// before).
enum MemoryPolicy {
    /// At most two malloc arenas for the process; call before the work starts.
    static func limitArenas() {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, 2)
        #endif
    }

    /// Gives the free pages of a finished directory's listing and plan back to the kernel.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
