import ReckonCore

/// What a long-running poller (the daemon) remembers of the sacct lines it has recorded, so a
/// re-scan that prints the same lines again skips them before splitting or transcoding them.
///
/// A line is remembered by a 64-bit digest (SipHash-1-3 under the process's random seed, so no
/// job name can be chosen to collide) only once the batch holding it has committed, and only as
/// the latest version of its run: when a run gets a newer version, its older line is forgotten.
/// A remembered line is therefore one the ledger already holds as its run's latest version,
/// and recording it again would append nothing: skipping it changes no event and no table, only
/// the cost. The memory is tied to the header line, the time zone and the default cluster it
/// was built under (a change empties it), and to the ledger's record of who recorded runs: when
/// another process (a `reckon ingest` beside the daemon) has recorded runs since the memory last
/// learnt, or during the poll, it is emptied (``generation``). It is never stored.
public struct SacctLineMemory: Sendable {
    /// One remembered line: its run (by a digest of the run-index key), its cluster (an index
    /// into ``clusters``) and the last tick that recorded or saw it.
    struct Entry: Sendable {
        var runDigest: Int
        var cluster: UInt16
        var tick: UInt32
    }

    /// Line digest → entry.
    private(set) var known: [Int: Entry] = [:]
    /// Run digest → the digest of its latest line.
    private var latest: [Int: Int] = [:]
    private(set) var clusters: [String] = []
    /// The digest of what the lines were read under (header, time zone, default cluster).
    private var context: Int?
    /// The current tick (bumped by ``beginTick()``).
    private(set) var tick: UInt32 = 0
    /// The log's ``ProjectionMeta/runsGeneration`` when the memory last learnt: a poll that finds
    /// another value (another process recorded runs since) starts from an empty memory.
    public var generation: UInt64?

    public init() {}

    /// Lines remembered.
    public var count: Int { known.count }

    /// The digest of one line (without its newline), or of a run-index key.
    @inline(__always)
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: bytes)
        return h.finalize()
    }

    /// Starts a tick: lines seen or recorded from now on are marked with it.
    public mutating func beginTick() { tick &+= 1 }

    /// Makes room for `n` lines, so learning a whole month does not rehash as it grows.
    public mutating func reserve(_ n: Int) {
        known.reserveCapacity(n)
        latest.reserveCapacity(n)
    }

    /// Forgets everything (after a failed ingest, a different header, or another writer).
    public mutating func forget() {
        known = [:]
        latest = [:]
        clusters = []
        generation = nil
    }

    /// Binds the memory to what lines are read under; a different context forgets everything.
    mutating func bind(context c: Int) {
        if context != c { forget() }
        context = c
    }

    /// The cluster a remembered line belongs to (and marks it seen this tick), or nil.
    @inline(__always)
    mutating func recall(_ lineDigest: Int) -> UInt16? {
        guard let i = known.index(forKey: lineDigest) else { return nil }
        known.values[i].tick = tick
        return known.values[i].cluster
    }

    /// The index of a cluster name in ``clusters``, adding it when new.
    public mutating func clusterIndex(_ name: String) -> UInt16 {
        if let i = clusters.firstIndex(of: name) { return UInt16(truncatingIfNeeded: i) }
        clusters.append(name)
        return UInt16(truncatingIfNeeded: clusters.count - 1)
    }

    /// A run read in this poll without the memory (a changed line, or a line never seen): its
    /// remembered line is no longer its latest version, even before the poll commits, so a
    /// later line of the same run in the same output must not be skipped on its account.
    public mutating func forgetRun(key: [UInt8]) {
        key.withUnsafeBytes { forgetRun(keyBytes: $0) }
    }

    /// ``forgetRun(key:)`` with the key lent for the call.
    public mutating func forgetRun(keyBytes key: UnsafeRawBufferPointer) {
        if let d = latest.removeValue(forKey: Self.digest(key)) { known[d] = nil }
    }

    /// A run that a committed batch recorded (a new version or an unchanged one) from the line
    /// with digest `lineDigest` (nil when it was not read from one plain line: nothing to skip
    /// next time, but its older line is forgotten all the same). `runDigest` is ``digest(_:)``
    /// of its run-index key.
    public mutating func recorded(runDigest run: Int, lineDigest: Int?, cluster: UInt16) {
        if let old = latest[run], old != lineDigest { known[old] = nil }
        if let d = lineDigest {
            latest[run] = d
            known[d] = Entry(runDigest: run, cluster: cluster, tick: tick)
        } else {
            latest[run] = nil
        }
    }

    /// After a re-scan of every open month: forgets lines this tick neither saw nor recorded
    /// (runs of months no longer polled, or gone from sacct), once they are a quarter or more.
    public mutating func forgetUnseen() {
        let stale = known.values.reduce(0) { $0 + ($1.tick == tick ? 0 : 1) }
        guard stale > 0, stale * 4 >= known.count else { return }
        known = known.filter { $0.value.tick == tick }
        latest = latest.filter { known[$0.value]?.runDigest == $0.key }
    }
}
