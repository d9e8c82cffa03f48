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

    /// Records `runs` inside the caller's write transaction.
    public func record(_ runs: [JobRun], in writer: any EventStoreWriter) throws -> BatchResult {
        var result = BatchResult()
        var delta: [UsageKey: Int128] = [:]
        for run in runs {
            let key = run.identity.keyBytes
            var supersedes: Sequence64?
            var previous: JobRun?
            if let seqBytes = try writer.value(in: .runs, key: key) {
                guard let seq = StoreBytes.u64(seqBytes), case .jobRunObserved(let old)? = try writer.event(at: seq) else {
                    throw EventStoreError.corrupt("run index entry for \(run.identity) points at no job run")
                }
                if old.run == run { result.unchanged += 1; continue }
                supersedes = seq
                previous = old.run
            }
            let seq = try writer.append(.jobRunObserved(JobRunObserved(run: run, supersedes: supersedes)))
            try writer.put(StoreBytes.u64(seq), in: .runs, key: key)
            result.newVersions += 1
            if let old = previous {
                if old.end != nil {
                    UsageContribution.forEachMonth(of: old, observedUntil: nil, settings: settings) { k, v in delta[k, default: 0] -= v }
                } else if old.start != nil {
                    try writer.delete(in: .openRuns, key: key)
                }
            }
            if run.end != nil {
                UsageContribution.forEachMonth(of: run, observedUntil: nil, settings: settings) { k, v in delta[k, default: 0] += v }
            } else if run.start != nil {
                try writer.put(StoreBytes.u64(seq), in: .openRuns, key: key)
            }
        }
        for (k, d) in delta where d != 0 {
            let kb = k.bytes
            let current = try writer.value(in: .usage, key: kb).flatMap(StoreBytes.i128) ?? 0
            let n = current + d
            if n == 0 { try writer.delete(in: .usage, key: kb) } else { try writer.put(StoreBytes.i128(n), in: .usage, key: kb) }
        }
        return result
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
        return seq
    }
}
