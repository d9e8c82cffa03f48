/// The desired-usage projection as a value: closed native usage per ``UsageKey``, the set of runs
/// still going, and per cluster the time of the last observation (running runs count up to it).
///
/// `apply` is the pure fold used by replay; the store keeps the same state in its tables,
/// maintained by ``JobRunRecorder`` with the same arithmetic, and ``load(from:)`` reads it back
/// so `reckon replay` can check the two are bit-identical.
public struct UsageProjection: Equatable, Sendable {
    public var closed: [UsageKey: Int128] = [:]
    /// Identity key bytes → sequence number of the running version.
    public var open: [[UInt8]: Sequence64] = [:]
    public var observedUntil: [String: EpochSeconds] = [:]

    public init() {}

    /// Folds one event in. `superseded` is the run the event's version replaces (looked up by
    /// its sequence number by the caller), so the fold needs no memory of every run.
    public mutating func apply(_ event: StoredEvent, superseded: JobRun?, settings: ProjectionSettings) {
        switch event.event {
        case .jobRunObserved(let e):
            let key = e.run.identity.keyBytes
            if let old = superseded {
                if old.end != nil {
                    UsageContribution.forEachMonth(of: old, observedUntil: nil, settings: settings) { k, v in add(k, -v) }
                }
                open[key] = nil
            }
            if e.run.end != nil {
                UsageContribution.forEachMonth(of: e.run, observedUntil: nil, settings: settings) { k, v in add(k, v) }
            } else if e.run.start != nil {
                open[key] = event.sequence
            }
        case .sacctObserved(let o):
            observedUntil[o.cluster] = Swift.max(observedUntil[o.cluster] ?? o.observedAt, o.observedAt)
        case .directoryChanged, .waldurObserved, .submissionIntended, .submissionOutcome, .submissionConfirmed, .decreaseHeld:
            break   // the Waldur side; see ReconcileState
        }
    }

    /// Adds to one cell, hashing the key once (this is half of replay's work).
    mutating func add(_ k: UsageKey, _ v: Int128) {
        if let i = closed.index(forKey: k) {
            let n = closed.values[i] + v
            if n == 0 { closed.remove(at: i) } else { closed.values[i] = n }
        } else if v != 0 {
            closed[k] = v
        }
    }

    /// Rebuilds the projection from sequence 0 of a store snapshot (see ``ProjectionReplay``).
    public static func replay(_ reader: any EventStoreReader, settings: ProjectionSettings,
                              until last: Sequence64? = nil) throws -> (projection: UsageProjection, events: UInt64) {
        var fold = ProjectionReplay(settings: settings)
        var n: UInt64 = 0
        try reader.forEachEvent(from: 0) { seq, buf in
            if let last, seq > last { return false }
            try fold.fold(seq, buf, reader: reader)
            n += 1
            return true
        }
        return (fold.finish(), n)
    }

    /// Reads the persisted projection from the store's tables.
    /// Usage an import has not written into the table yet is read from the log's tail (see
    /// ``UsageTable``), which needs the `settings` it was built with; without them only the
    /// tables as stored are read.
    public static func load(from reader: any EventStoreReader, settings: ProjectionSettings? = nil) throws -> UsageProjection {
        var p = UsageProjection()
        if let settings {
            try UsageTable.forEachCell(reader, prefix: [], settings: settings) { k, amount in
                guard let key = UsageKey(bytes: k) else { throw EventStoreError.corrupt("undecodable usage row") }
                p.closed[key] = amount
            }
        } else {
            p.closed = try UsageTable.storedCells(reader)
        }
        try reader.forEachEntry(in: .openRuns, prefix: []) { k, v in
            guard let seq = StoreBytes.u64(v) else { throw EventStoreError.corrupt("undecodable open-run row") }
            p.open[k] = seq
            return true
        }
        try reader.forEachEntry(in: .meta, prefix: Array(ProjectionMeta.observedPrefix.utf8)) { k, v in
            guard let t = StoreBytes.u64(v) else { throw EventStoreError.corrupt("undecodable observation mark") }
            let cluster = String(decoding: k.dropFirst(ProjectionMeta.observedPrefix.utf8.count), as: UTF8.self)
            p.observedUntil[cluster] = Int64(bitPattern: t)
            return true
        }
        return p
    }

    /// Writes this projection into the store's tables, replacing what was there.
    public func save(to writer: any EventStoreWriter, settings: ProjectionSettings) throws {
        try UsageTable.replace(with: closed, in: writer)
        try writer.clear(.openRuns)
        for (k, s) in open { try writer.put(StoreBytes.u64(s), in: .openRuns, key: k) }
        for (c, t) in observedUntil { try writer.setMeta(ProjectionMeta.observedPrefix + c, StoreBytes.u64(UInt64(bitPattern: t))) }
        try writer.setMeta(ProjectionMeta.fingerprint, Array(settings.storedFingerprint.utf8))
        try writer.delete(in: .meta, key: Array(ProjectionMeta.usagePendingFrom.utf8))   // it holds every event now
    }
}

/// Names of the projection's metadata entries.
public enum ProjectionMeta {
    public static let fingerprint = "projection.fingerprint"
    /// How many times job runs have been recorded into this log (one per
    /// ``JobRunRecorder/recordDeferringUsage(prepared:presumed:in:)``): a writer that sees it
    /// move by exactly its own recordings knows no other process recorded runs in between.
    public static let runsGeneration = "runs.generation"
    /// The first event whose usage the usage table does not hold yet (see ``UsageTable``).
    public static let usagePendingFrom = "projection.usage_pending_from"
    public static let observedPrefix = "observed."
    /// Per cluster, the latest instant sacct output in the log speaks for
    /// (``SacctObservation/coveredUntil``). Not part of the projection (replay neither rebuilds
    /// nor checks it): the reconciler reads it to leave alone months the log knows nothing of.
    public static let coveredPrefix = "covered."
    public static let format = "format"
}
