/// Records observed job runs in a store, exactly once per version, and keeps the persisted
/// projection in step in the same transaction.
///
/// For each run: look up its identity in the run index; identical facts append nothing; new or
/// changed facts append a ``JobRunObserved`` that names the version it supersedes, move the
/// index, and apply the difference to the usage table (old contribution out, new one in) and to
/// the open-run set. The arithmetic is ``UsageContribution``'s, the same as replay's.
public struct JobRunRecorder {
    public let settings: ProjectionSettings

    public init(settings: ProjectionSettings) { self.settings = settings }

    /// What recording a batch did.
    public struct BatchResult: Equatable, Sendable {
        public var newVersions: UInt64 = 0
        public var unchanged: UInt64 = 0
        public init() {}
    }

    /// A run made ready for the write transaction — by ``IngestService`` on its parsing thread —
    /// as bytes: the encoding of its first version (`supersedes` nil) and its run-index key. The
    /// transaction appends the ready bytes for a run it has not seen, compares bytes for one it
    /// has, and reads the usage of a finished run from the bytes too; the `JobRun` is decoded
    /// again only in the rare cases that need it (a changed or a running run).
    ///
    /// 48 bytes, stored in this order so that nothing is padding: a first import holds three
    /// batches of up to ~25,000 runs at once (one being recorded, one waiting, one being filled),
    /// and each page of those arrays is a page fault when first written.
    public struct PreparedRun: Sendable {
        /// The first version's encoded event, then the run-index key, at `[start, end)` of an
        /// arena shared with other runs (see ``PreparedRunArena``); offsets in 32 bits (an
        /// arena's runs are within its first 4 GiB: see ``init(arena:start:keyStart:end:cluster:ownerAt:)``).
        private let arena: PreparedRunArena
        public let cluster: String
        /// ``lineDigest``'s value when ``hasLineDigest``.
        private var digest = 0
        private let start: UInt32
        private let keyStart: UInt32
        private let end: UInt32
        /// Where the account's length starts in ``firstVersion``, when the bytes were written
        /// straight from a line (the sacct fast path knows it); 0 when not known. The presumed
        /// usage reads the run from there, past its identity and job id.
        let ownerAt: UInt16
        /// Whether this run's first-version usage is already in the presumed usage (see
        /// ``JobRunRecorder/presumeNew(_:into:)``).
        public internal(set) var usageCounted = false
        private var hasLineDigest = false

        /// The digest of the one sacct line this run was read from, when the reader keeps a
        /// memory of recorded lines (the daemon; see `SacctLineMemory`); nil otherwise.
        public var lineDigest: Int? {
            get { hasLineDigest ? digest : nil }
            set { hasLineDigest = newValue != nil; digest = newValue ?? 0 }
        }

        /// The first version as an encoded ``Event/jobRunObserved(_:)``, superseding nothing.
        public var firstVersion: [UInt8] { withFirstVersion { Array($0) } }
        /// The run's ``JobRunIdentity/keyBytes``.
        public var key: [UInt8] { withKey { Array($0) } }

        /// ``firstVersion``, lent for the call.
        @inline(__always)
        public func withFirstVersion<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try withExtendedLifetime(arena) { try body(heldFirstVersion) }
        }

        /// ``firstVersion``'s bytes, valid only while this run is held where nothing else can
        /// drop it (no copy of the run, so no count of a reference to its arena).
        @inline(__always)
        var heldFirstVersion: UnsafeRawBufferPointer { arena.bytes(Int(start), Int(keyStart)) }

        /// ``key``'s bytes, valid as ``heldFirstVersion``'s.
        @inline(__always)
        var heldKey: UnsafeRawBufferPointer { arena.bytes(Int(keyStart), Int(end)) }

        /// ``key``, lent for the call.
        @inline(__always)
        public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try withExtendedLifetime(arena) { try body(heldKey) }
        }

        /// Bytes made elsewhere (the sacct parser's fast path writes them straight from a line);
        /// they must be exactly what ``init(_:)`` makes of the same run.
        public init(firstVersion: [UInt8], key: [UInt8], cluster: String) {
            self = firstVersion.withUnsafeBytes { f in key.withUnsafeBytes { k in PreparedRun(firstVersion: f, key: k, cluster: cluster) } }
        }

        /// ``init(firstVersion:key:cluster:)`` from bytes lent for the call, copied once into an
        /// arena of their own.
        public init(firstVersion: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, cluster: String) {
            let total = firstVersion.count + key.count
            let arena = PreparedRunArena(capacity: total)
            let free = UnsafeMutableRawBufferPointer(arena.free)
            free.copyMemory(from: firstVersion)
            UnsafeMutableRawBufferPointer(rebasing: free[firstVersion.count...]).copyMemory(from: key)
            let at = arena.seal(total)
            self.init(arena: arena, start: at, keyStart: at + firstVersion.count, end: at + total, cluster: cluster)
        }

        /// A run whose first version is sealed in `arena` at `[start, keyStart)` and its key at
        /// `[keyStart, end)` (the sacct fast path writes both there directly).
        ///
        /// A run that ends past an arena's first 4 GiB (no reader makes such arenas: theirs are
        /// 256 KiB, or one line's size) is copied into an arena of its own.
        public init(arena: PreparedRunArena, start: Int, keyStart: Int, end: Int, cluster: String, ownerAt: Int = 0) {
            precondition(0 <= start && start <= keyStart && keyStart <= end && end <= arena.used, "a prepared run outside its arena's sealed bytes")
            var arena = arena, start = start, keyStart = keyStart, end = end
            if end > Int(UInt32.max) {
                let own = PreparedRunArena(capacity: end - start)
                UnsafeMutableRawBufferPointer(own.free).copyMemory(from: arena.bytes(start, end))
                (keyStart, end) = (keyStart - start, end - start)
                start = own.seal(end)
                arena = own
            }
            self.arena = arena
            self.start = UInt32(start)
            self.keyStart = UInt32(keyStart)
            self.end = UInt32(end)
            self.cluster = cluster
            self.ownerAt = ownerAt > 0 && ownerAt < keyStart - start && ownerAt <= Int(UInt16.max) ? UInt16(ownerAt) : 0
        }

        public init(_ run: JobRun) {
            self.init(firstVersion: EventCodec.encode(.jobRunObserved(JobRunObserved(run: run, supersedes: nil))),
                      key: run.identity.keyBytes, cluster: run.identity.cluster)
        }

        /// The run, decoded from its own encoding.
        func run() throws -> JobRun {
            do {
                guard case .jobRunObserved(let e) = try EventCodec.decode(firstVersion) else {
                    throw EventStoreError.corrupt("a prepared run is not a job run")
                }
                return e.run
            } catch let e as ByteDecodingError {
                throw EventStoreError.corrupt("a prepared run does not decode: \(e)")
            }
        }
    }

    /// Records `runs` inside the caller's write transaction.
    public func record(_ runs: [JobRun], in writer: any EventStoreWriter) throws -> BatchResult {
        try record(prepared: runs.map(PreparedRun.init), in: writer)
    }

    /// The usage of a batch as if every run in it were new, computed ahead of the write
    /// transaction (by ``IngestService`` on its parsing thread, so that the two threads share the
    /// work): each run whose first version ``UsageAccumulator/addFinishedFirstVersion(_:settings:sign:)``
    /// reads is marked ``PreparedRun/usageCounted``, and ``record(prepared:presumed:in:)`` takes
    /// the usage of the runs that turn out not to be new back out. Sums are exact and the order of
    /// additions does not matter, so the table ends the same either way.
    public func presumeNew(_ runs: inout [PreparedRun]) -> UsageAccumulator {
        var presumed = UsageAccumulator()
        presumeNew(&runs, into: &presumed)
        return presumed
    }

    /// ``presumeNew(_:)`` adding into `presumed`: an import keeps one sum for all its batches
    /// on its parsing thread, and the recording thread only the corrections
    /// (``recordDeferringUsage(prepared:presumed:in:)`` with no `presumed` of its own).
    public func presumeNew(_ runs: inout [PreparedRun], into presumed: inout UsageAccumulator) {
        // Through the buffer, so that reading a run's bytes does not copy the run (and count a
        // reference to its arena, atomically) as an array element's read does here.
        runs.withUnsafeMutableBufferPointer { runs in
            for i in runs.indices {
                let firstVersion = runs[i].heldFirstVersion   // the array holds the run's arena
                runs[i].usageCounted = presumed.addFinishedFirstVersion(firstVersion, settings: settings, ownerAt: Int(runs[i].ownerAt))
            }
        }
    }

    /// Records prepared runs inside the caller's write transaction; `presumed` is the usage
    /// ``presumeNew(_:)`` computed for (some of) them.
    public func record(prepared runs: [PreparedRun], presumed: UsageAccumulator? = nil,
                       in writer: any EventStoreWriter) throws -> BatchResult {
        let (result, delta) = try recordDeferringUsage(prepared: runs, presumed: presumed, in: writer)
        // While an import's usage is pending, these events are after its mark: readers and the
        // import's completion take them from the log's tail, so the table must not hold them too.
        if try UsageTable.pendingFrom(writer) == nil { try UsageTable.add(delta, in: writer) }
        return result
    }

    /// ``record(prepared:presumed:in:)`` without writing the usage table: returns the batch's
    /// usage difference instead, for an import that writes it once at its end (``UsageTable``;
    /// the caller marks the table with ``UsageTable/markPending(from:in:)`` first).
    public func recordDeferringUsage(prepared runs: [PreparedRun], presumed: UsageAccumulator? = nil,
                                     in writer: any EventStoreWriter) throws -> (BatchResult, UsageAccumulator) {
        try writer.setMeta(ProjectionMeta.runsGeneration, StoreBytes.u64(try Self.generation(writer) &+ 1))
        var result = BatchResult()
        var delta = presumed ?? UsageAccumulator()
        /// A run that is not new after all: its presumed usage comes back out.
        func notNew(_ p: PreparedRun) {
            if p.usageCounted { _ = delta.addFinishedFirstVersion(p.heldFirstVersion, settings: settings, sign: -1, ownerAt: Int(p.ownerAt)) }
        }
        // Through the buffer, whose runs `runs` holds for the call: each run's bytes are read in
        // place, without a copy of the run (a count of a reference to its arena, atomically).
        try runs.withUnsafeBufferPointer { runs in
            for i in runs.indices {
                let firstVersion = runs[i].heldFirstVersion, keyBytes = runs[i].heldKey
                // The run index gets the next sequence number unless the run is there already
                // (key and value lent, as the event below: no array per run).
                let next = try writer.eventCount()
                let present = try withUnsafeBytes(of: next.bigEndian) { seq in
                    try writer.insertIfAbsent(valueBytes: seq, in: .runs, keyBytes: keyBytes)
                }
                if let seqBytes = present {
                    let prepared = runs[i]
                    let key = prepared.key
                    guard let seq = StoreBytes.u64(seqBytes),
                          let same = try writer.withEventBytes(at: seq, { old in Self.sameRun(old, firstVersion) }) else {
                        throw EventStoreError.corrupt("run index entry for key \(key) points at no job run")
                    }
                    // Equal encodings are equal facts: no need to decode either version.
                    if same { result.unchanged += 1; notNew(prepared); continue }
                    let decoded: Event
                    do { decoded = try EventCodec.decode(try writer.eventBytes(at: seq) ?? []) } catch {
                        throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
                    }
                    guard case .jobRunObserved(let old) = decoded else {
                        throw EventStoreError.corrupt("run index entry for key \(key) points at no job run")
                    }
                    let run = try prepared.run()
                    notNew(prepared)
                    if old.run == run { result.unchanged += 1; continue }
                    let newSeq = try writer.append(.jobRunObserved(JobRunObserved(run: run, supersedes: seq)))
                    try writer.put(StoreBytes.u64(newSeq), in: .runs, key: key)
                    result.newVersions += 1
                    if old.run.end != nil {
                        delta.add(old.run, sign: -1, settings: settings)
                    } else if old.run.start != nil {
                        try writer.delete(in: .openRuns, key: key)
                    }
                    try addNew(run, seq: newSeq, key: key, to: &delta, writer: writer)
                    continue
                }
                let seq = try writer.append(bytes: firstVersion)
                guard seq == next else { throw EventStoreError.corrupt("event appended at \(seq), expected \(next)") }
                result.newVersions += 1
                if runs[i].usageCounted { continue }   // its usage is in the presumed delta already
                if !delta.addFinishedFirstVersion(firstVersion, settings: settings) {
                    try addNew(try runs[i].run(), seq: seq, key: runs[i].key, to: &delta, writer: writer)
                }
            }
        }
        return (result, delta)
    }

    /// The new version's part: its usage when it has ended, else its place in the open-run set.
    private func addNew(_ run: JobRun, seq: Sequence64, key: [UInt8], to delta: inout UsageAccumulator,
                        writer: any EventStoreWriter) throws {
        if run.end != nil {
            delta.add(run, sign: 1, settings: settings)
        } else if run.start != nil {
            try writer.put(StoreBytes.u64(seq), in: .openRuns, key: key)
        }
    }

    /// ``ProjectionMeta/runsGeneration``: 0 in a log where no run was ever recorded.
    public static func generation(_ reader: any EventStoreReader) throws -> UInt64 {
        guard let v = try reader.meta(ProjectionMeta.runsGeneration) else { return 0 }
        guard let g = StoreBytes.u64(v) else { throw EventStoreError.corrupt("undecodable \(ProjectionMeta.runsGeneration)") }
        return g
    }

    /// Whether two encoded events are job-run versions (kind 1, version 1) with byte-equal runs,
    /// whatever versions they supersede.
    static func sameRun(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        func runStart(_ e: UnsafeRawBufferPointer) -> Int? {
            guard e.count > 3, e[0] == 1, e[1] == 1 else { return nil }
            var i = 2
            while i < e.count && e[i] >= 0x80 { i += 1 }   // the `supersedes` varint
            return i + 1
        }
        guard let i = runStart(a), let j = runStart(b), a.count - i == b.count - j else { return false }
        return EventCodec.memoryEqual(UnsafeBufferPointer(rebasing: a.assumingMemoryBound(to: UInt8.self)[i...]),
                                      UnsafeBufferPointer(rebasing: b.assumingMemoryBound(to: UInt8.self)[j...]))
    }

    /// Appends the record of one observation and advances the cluster's observation mark.
    @discardableResult
    public func recordObservation(_ o: SacctObservation, in writer: any EventStoreWriter) throws -> Sequence64 {
        let seq = try writer.append(.sacctObserved(o))
        let name = ProjectionMeta.observedPrefix + o.cluster
        let old = try writer.meta(name).flatMap(StoreBytes.u64).map { Int64(bitPattern: $0) }
        if old == nil || o.observedAt > old! {
            try writer.setMeta(name, StoreBytes.u64(UInt64(bitPattern: o.observedAt)))
        }
        let covered = ProjectionMeta.coveredPrefix + o.cluster
        let before = try writer.meta(covered).flatMap(StoreBytes.u64).map { Int64(bitPattern: $0) }
        if before == nil || o.coveredUntil > before! {
            try writer.setMeta(covered, StoreBytes.u64(UInt64(bitPattern: o.coveredUntil)))
        }
        return seq
    }
}
