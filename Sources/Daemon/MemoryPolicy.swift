#if canImport(Glibc)
import CMalloc
#endif

/// Keeps the daemon's resident memory at the size of the largest directory.
///
/// glibc gives threads that allocate at once arenas of their own (up to eight
/// per core) and keeps freed blocks inside them. Directories decoded on
/// different threads of Swift's pool would each leave pages behind, and the
/// peak RSS would grow with the number of directories. Handing the free pages
/// back after each directory keeps it near one directory's worth
/// (`dsync-bench`: 5 × 10k users at 1.20 × one 10k directory, 1.31 × before).
/// Limiting the arenas to two (`M_ARENA_MAX`) brought that to 1.06 × but
/// slowed decoding on two cores by about 10 %, so it is left to the operator
/// (`MALLOC_ARENA_MAX=2` in the unit's environment).
enum MemoryPolicy {
    /// Gives the free pages of a finished directory's listing and plan back to the kernel.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
