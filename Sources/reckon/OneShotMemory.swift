#if os(Linux)
import CMalloc
#endif

/// glibc's malloc tuned for a command that reads a large input once and exits (`reckon ingest`,
/// `usage`, `replay`, `backfill`, `verify`), not for a long-running daemon.
///
/// By default glibc hands allocations of 128 KiB and more to `mmap` and gives freed memory at the
/// top of a heap back to the kernel, raising both thresholds only as it learns. An import frees
/// and allocates megabytes again and again (batches, read buffers, a run's arena, usage sums);
/// each time it got fresh pages, and a page fault for each page — costly in a VM. Keeping freed
/// memory for reuse cut the peer import's CPU time by ~4–7% (tools/bench/ab, docs/performance.md).
/// The process keeps its peak memory until it exits, which a one-shot command does soon; the
/// daemon keeps glibc's defaults.
enum OneShotMemory {
    static func keepFreedMemory() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 64 << 20)   // allocations up to 64 MiB from the heaps
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)  // freed memory kept, up to 256 MiB at a heap's top
        #endif
    }
}
