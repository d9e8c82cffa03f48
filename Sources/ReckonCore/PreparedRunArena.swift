/// Memory that many ``JobRunRecorder/PreparedRun``s share: the sacct reader writes each run's
/// bytes (first version, then run-index key) straight into the free end of its current arena,
/// and each run keeps a reference to the arena and its range.
///
/// It exists because a first import prepares hundreds of thousands of runs: one array per run
/// cost an allocation on the parsing thread and a free on the recording thread, ~1k
/// instructions a run of ~18k in all. An arena is freed when its last run is.
///
/// Written by one thread; the bytes of a sealed run never change again, so runs may be read on
/// other threads once handed over (the hand-over — a queue, a join — orders the accesses).
public final class PreparedRunArena: @unchecked Sendable {
    private let base: UnsafeMutablePointer<UInt8>
    /// Bytes in all.
    public let capacity: Int
    /// Bytes sealed so far; ``free`` starts here.
    @exclusivity(unchecked) public private(set) var used = 0

    /// The size a reader's arenas have (256 KiB: ~2,000 runs of a typical sacct line).
    public static let standardCapacity = 256 * 1024

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The unsealed end, to write the next run into.
    public var free: UnsafeMutableBufferPointer<UInt8> {
        UnsafeMutableBufferPointer(start: base + used, count: capacity - used)
    }

    /// Seals the first `count` bytes of ``free`` and returns where they start.
    public func seal(_ count: Int) -> Int {
        precondition(count >= 0 && used + count <= capacity, "sealed past the arena's end")
        let start = used
        used += count
        return start
    }

    /// The sealed bytes `[start, end)`.
    @inline(__always)
    func bytes(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: end - start)
    }
}
