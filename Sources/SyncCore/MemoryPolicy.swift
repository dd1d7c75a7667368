#if canImport(Glibc)
import CMalloc
#endif

/// Keeps the daemon's resident memory at the size of the largest directory.
///
/// glibc gives threads that allocate at once arenas of their own (up to eight
/// per core) and keeps freed blocks inside them. Directories decoded on
/// different threads of Swift's pool would each leave pages behind, and the
/// peak RSS would grow with the number of directories. Two arenas for the
/// process, and the free pages handed back after each directory, keep it at
/// about one directory's worth (`dsync-bench`: 5 × 10k users at 1.06 × one
/// 10k directory, 1.31 × before; 100k users 30–35 MiB lower). Two arenas cost
/// about 10 % of decoding speed on two cores, which production — paced at
/// WorkOS's 4 requests per second per directory — never notices.
///
/// Blocks of 1 MiB and more (the arrays and hash tables of a large listing,
/// which grow by doubling) are mapped on their own and unmapped when freed.
/// glibc would otherwise raise that threshold after the first such block is
/// freed (up to 32 MiB) and carve later large arrays from the heap, where the
/// holes they leave keep the peak high (`dsync-bench`, 300k users: peak RSS
/// 7–9 % lower, CPU unchanged; a 128 KiB threshold cost 10 % more CPU,
/// one mapping per page body).
public enum MemoryPolicy {
    /// At most two malloc arenas for this process and a fixed 1 MiB mapping
    /// threshold. `Runtime.connect` applies it; the benchmark applies it to
    /// its floors too, so they compare alike.
    public static func apply() {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, 2)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }

    /// Gives the free pages of a finished directory's listing and plan back to the kernel.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }
}
