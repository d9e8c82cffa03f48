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

    /// A run with the encoding of its first version (`supersedes` nil), made ahead of the
    /// write transaction — by ``IngestService`` on its parsing thread — so that the transaction
    /// appends ready bytes for a run it has not seen and compares bytes for one it has.
    public struct PreparedRun: Sendable {
        public let run: JobRun
        public let firstVersion: [UInt8]

        public init(_ run: JobRun) {
            self.run = run
            firstVersion = EventCodec.encode(.jobRunObserved(JobRunObserved(run: run, supersedes: nil)))
        }
    }

    /// Records `runs` inside the caller's write transaction.
    public func record(_ runs: [JobRun], in writer: any EventStoreWriter) throws -> BatchResult {
        try record(prepared: runs.map(PreparedRun.init), in: writer)
    }

    /// Records prepared runs inside the caller's write transaction.
    public func record(prepared runs: [PreparedRun], in writer: any EventStoreWriter) throws -> BatchResult {
        var result = BatchResult()
        var delta = UsageDelta()
        for prepared in runs {
            let run = prepared.run
            let key = run.identity.keyBytes
            var supersedes: Sequence64?
            var previous: JobRun?
            if let seqBytes = try writer.value(in: .runs, key: key) {
                guard let seq = StoreBytes.u64(seqBytes), let oldBytes = try writer.eventBytes(at: seq) else {
                    throw EventStoreError.corrupt("run index entry for \(run.identity) points at no job run")
                }
                // Equal encodings are equal facts: no need to decode the stored version.
                if Self.sameRun(oldBytes, prepared.firstVersion) { result.unchanged += 1; continue }
                let decoded: Event
                do { decoded = try EventCodec.decode(oldBytes) } catch {
                    throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
                }
                guard case .jobRunObserved(let old) = decoded else {
                    throw EventStoreError.corrupt("run index entry for \(run.identity) points at no job run")
                }
                if old.run == run { result.unchanged += 1; continue }
                supersedes = seq
                previous = old.run
            }
            let seq = supersedes == nil ? try writer.append(prepared.firstVersion)
                                        : try writer.append(.jobRunObserved(JobRunObserved(run: run, supersedes: supersedes)))
            try writer.put(StoreBytes.u64(seq), in: .runs, key: key)
            result.newVersions += 1
            if let old = previous {
                if old.end != nil {
                    delta.add(old, sign: -1, settings: settings)
                } else if old.start != nil {
                    try writer.delete(in: .openRuns, key: key)
                }
            }
            if run.end != nil {
                delta.add(run, sign: 1, settings: settings)
            } else if run.start != nil {
                try writer.put(StoreBytes.u64(seq), in: .openRuns, key: key)
            }
        }
        try delta.apply(to: writer)
        return result
    }

    /// Whether two encoded events are job-run versions (kind 1, version 1) with byte-equal runs,
    /// whatever versions they supersede.
    static func sameRun(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        func runStart(_ e: [UInt8]) -> Int? {
            guard e.count > 3, e[0] == 1, e[1] == 1 else { return nil }
            var i = 2
            while i < e.count && e[i] >= 0x80 { i += 1 }   // the `supersedes` varint
            return i + 1
        }
        guard let i = runStart(a), let j = runStart(b), a.count - i == b.count - j else { return false }
        return a[i...].elementsEqual(b[j...])
    }

    /// The usage changes of one batch, summed per (account, user), then per (month, TRES) in a
    /// short list: one hash per run instead of one per (month, TRES) cell.
    struct UsageDelta {
        struct Owner: Hashable { let account: String; let user: String }
        struct Cell { let month: BillingMonth; let tres: String; var amount: Int128 }
        private var index: [Owner: Int] = [:]
        private var owners: [Owner] = []
        private var cells: [[Cell]] = []

        mutating func add(_ run: JobRun, sign: Int128, settings: ProjectionSettings) {
            var slot = -1
            UsageContribution.forEachMonthAndTRES(of: run, observedUntil: nil, settings: settings) { month, tres, v in
                if slot < 0 {
                    let owner = Owner(account: run.account, user: run.user)
                    if let s = index[owner] { slot = s } else {
                        slot = owners.count
                        index[owner] = slot
                        owners.append(owner)
                        cells.append([])
                    }
                }
                var k = 0
                let n = cells[slot].count
                while k < n {
                    if cells[slot][k].month == month && cells[slot][k].tres == tres { break }
                    k += 1
                }
                if k < n { cells[slot][k].amount += sign * v } else { cells[slot].append(Cell(month: month, tres: tres, amount: sign * v)) }
            }
        }

        /// Adds the changes to the persisted usage table.
        func apply(to writer: any EventStoreWriter) throws {
            for (slot, owner) in owners.enumerated() {
                for c in cells[slot] where c.amount != 0 {
                    let kb = UsageKey(month: c.month, account: owner.account, user: owner.user, tres: c.tres).bytes
                    let current = try writer.value(in: .usage, key: kb).flatMap(StoreBytes.i128) ?? 0
                    let n = current + c.amount
                    if n == 0 { try writer.delete(in: .usage, key: kb) } else { try writer.put(StoreBytes.i128(n), in: .usage, key: kb) }
                }
            }
        }
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
