import ReckonCore
import Testing

/// The recorder and projection on the in-memory store. Expected amounts are computed by hand in
/// the comments: native = TRES amount × active seconds.
@Suite struct JobRunRecorderTests {
    let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
    // 2026-11-30T23:00:00Z and the December edge 2026-12-01T00:00:00Z
    let lateNov: EpochSeconds = 1_796_079_600
    let decEdge: EpochSeconds = 1_796_083_200

    func run(_ idx: UInt64, start: EpochSeconds?, end: EpochSeconds?, cpus: Int64 = 2, user: String = "alice",
             account: String = "hpc_a", state: String = "COMPLETED") -> JobRun {
        JobRun(identity: .dbIndex(cluster: "c", index: idx), jobID: String(idx), account: account, user: user, state: state,
               submit: (start ?? lateNov) - 10, start: start, end: end, suspended: 0,
               allocTRES: TRESQuantities([("cpu", cpus), ("mem", 100)]), reqTRES: TRESQuantities([("cpu", 1)]))
    }

    func record(_ store: InMemoryEventStore, _ runs: [JobRun], observedAt: EpochSeconds) throws -> JobRunRecorder.BatchResult {
        let rec = JobRunRecorder(settings: settings)
        return try store.write { w in
            let r = try rec.record(runs, in: w)
            try rec.recordObservation(SacctObservation(source: .file(name: "t", sha256: "x"), cluster: "c", observedAt: observedAt), in: w)
            return r
        }
    }

    /// A first import holds three batches of prepared runs at once; the run is kept at 48 bytes
    /// (it was 72), its line digest and offsets packed, and reads back what it was given.
    @Test func aPreparedRunIsFortyEightBytesAndKeepsWhatItWasGiven() throws {
        #expect(MemoryLayout<JobRunRecorder.PreparedRun>.stride == 48)
        let arena = PreparedRunArena(capacity: 64)
        UnsafeMutableRawBufferPointer(arena.free).copyBytes(from: Array(0..<40) as [UInt8])
        _ = arena.seal(40)
        var run = JobRunRecorder.PreparedRun(arena: arena, start: 3, keyStart: 30, end: 37, cluster: "hpc", ownerAt: 5)
        #expect(run.firstVersion == Array(3..<30) && run.key == Array(30..<37) && run.cluster == "hpc")
        #expect(run.lineDigest == nil)
        run.lineDigest = 0
        #expect(run.lineDigest == 0)
        run.lineDigest = -7
        #expect(run.lineDigest == -7)
        run.lineDigest = nil
        #expect(run.lineDigest == nil)
    }

    @Test func sameFactsAppendNothing() throws {
        let store = InMemoryEventStore()
        let runs = [run(1, start: lateNov, end: lateNov + 600), run(2, start: lateNov, end: nil)]
        #expect(try record(store, runs, observedAt: lateNov + 700).newVersions == 2)
        let second = try record(store, runs, observedAt: lateNov + 900)
        #expect(second.newVersions == 0)
        #expect(second.unchanged == 2)
        // 2 job events + 2 observation records
        #expect(try store.read { try $0.eventCount() } == 4)
    }

    @Test func splitsAcrossTheMonthEdgeExactly() throws {
        let store = InMemoryEventStore()
        // 2 CPUs from 23:00 Nov 30 to 01:00 Dec 1: 3600 s in each month → 7200 CPU-s each.
        _ = try record(store, [run(1, start: lateNov, end: decEdge + 3_600)], observedAt: decEdge + 4_000)
        let p = try store.read { try UsageProjection.load(from: $0) }
        let nov = UsageKey(month: BillingMonth(year: 2026, month: 11)!, account: "hpc_a", user: "alice", tres: "cpu")
        let dec = UsageKey(month: BillingMonth(year: 2026, month: 12)!, account: "hpc_a", user: "alice", tres: "cpu")
        #expect(p.closed[nov] == 7_200)
        #expect(p.closed[dec] == 7_200)
    }

    @Test func aChangedVersionReplacesTheOldContribution() throws {
        let store = InMemoryEventStore()
        _ = try record(store, [run(1, start: lateNov, end: lateNov + 1_000)], observedAt: lateNov + 2_000)
        // an admin fixes the end time: 1000 s → 400 s; 2 CPUs → 800 CPU-s
        _ = try record(store, [run(1, start: lateNov, end: lateNov + 400)], observedAt: lateNov + 2_100)
        let p = try store.read { try UsageProjection.load(from: $0) }
        let nov = UsageKey(month: BillingMonth(year: 2026, month: 11)!, account: "hpc_a", user: "alice", tres: "cpu")
        #expect(p.closed[nov] == 800)
        let events = try store.read { try $0.events(from: 0, limit: 10) }
        guard case .jobRunObserved(let second) = events[2].event else { Issue.record("expected a job run"); return }
        #expect(second.supersedes == 0)
    }

    @Test func requeuedRunsAreDistinct() throws {
        let store = InMemoryEventStore()
        // same JobIDRaw, two DBIndex values (Slurm gives each run its own row): both runs count.
        var a = run(10, start: lateNov, end: lateNov + 100)
        var b = run(11, start: lateNov + 200, end: lateNov + 300)
        a.jobID = "77"; b.jobID = "77"; a.state = "REQUEUED"
        _ = try record(store, [a, b], observedAt: lateNov + 400)
        let p = try store.read { try UsageProjection.load(from: $0) }
        #expect(p.closed[UsageKey(month: BillingMonth(year: 2026, month: 11)!, account: "hpc_a", user: "alice", tres: "cpu")] == 400)
    }

    @Test func runningRunsAreOpenUntilTheyEnd() throws {
        let store = InMemoryEventStore()
        _ = try record(store, [run(1, start: lateNov, end: nil)], observedAt: lateNov + 50)
        var p = try store.read { try UsageProjection.load(from: $0) }
        #expect(p.closed.isEmpty)
        #expect(p.open.count == 1)
        #expect(p.observedUntil["c"] == lateNov + 50)
        _ = try record(store, [run(1, start: lateNov, end: lateNov + 60)], observedAt: lateNov + 70)
        p = try store.read { try UsageProjection.load(from: $0) }
        #expect(p.open.isEmpty)
        let total: Int128 = p.closed.values.reduce(0, +)
        let expected: Int128 = 2 * 60 + 100 * 60   // cpu and mem over 60 s
        #expect(total == expected)
    }

    @Test func replayEqualsTheLiveProjection() throws {
        let store = InMemoryEventStore()
        _ = try record(store, [run(1, start: lateNov, end: decEdge + 10), run(2, start: lateNov, end: nil, user: "bob"),
                               run(3, start: nil, end: nil, state: "PENDING")], observedAt: decEdge + 20)
        _ = try record(store, [run(1, start: lateNov, end: decEdge + 5), run(2, start: lateNov, end: decEdge + 15, user: "bob"),
                               run(3, start: decEdge, end: nil)], observedAt: decEdge + 30)
        try store.read { r in
            let (replayed, n) = try UsageProjection.replay(r, settings: settings)
            #expect(n == 8)
            #expect(replayed == (try UsageProjection.load(from: r)))
            #expect(!replayed.closed.isEmpty)
        }
    }

    /// Presuming a batch new (the ingest does it on its parsing thread) and letting the recorder
    /// correct it ends with the same tables as recording without: runs new, unchanged, changed,
    /// running, pending and finished-after-running, across three batches.
    @Test func presumedUsageEndsTheSameAsRecordingWithout() throws {
        let rec = JobRunRecorder(settings: settings)
        let batches: [[JobRun]] = [
            [run(1, start: lateNov, end: decEdge + 10), run(2, start: lateNov, end: nil, user: "bob"),
             run(3, start: nil, end: nil, state: "PENDING"), run(4, start: lateNov, end: lateNov + 99, cpus: 7)],
            [run(1, start: lateNov, end: decEdge + 10), run(2, start: lateNov, end: decEdge + 15, user: "bob"),
             run(3, start: decEdge, end: nil), run(4, start: lateNov, end: lateNov + 50, cpus: 7), run(5, start: lateNov, end: lateNov + 5)],
            [run(1, start: lateNov, end: decEdge + 20), run(2, start: lateNov, end: decEdge + 15, user: "bob"),
             run(3, start: decEdge, end: decEdge + 600), run(5, start: lateNov, end: lateNov + 5)],
        ]
        let plain = InMemoryEventStore(), presumed = InMemoryEventStore()
        for batch in batches {
            try plain.write { w in _ = try rec.record(batch, in: w) }
            try presumed.write { w in
                var prepared = batch.map(JobRunRecorder.PreparedRun.init)
                let usage = rec.presumeNew(&prepared)
                _ = try rec.record(prepared: prepared, presumed: usage, in: w)
            }
            let a = try plain.read { try UsageProjection.load(from: $0) }
            let b = try presumed.read { try UsageProjection.load(from: $0) }
            #expect(a == b)
            #expect(!a.closed.isEmpty)
            #expect(try presumed.read { r in try UsageProjection.replay(r, settings: settings).projection } == b)
        }
        #expect(try plain.read { try $0.eventCount() } == (try presumed.read { try $0.eventCount() }))
    }

    @Test func aThrowingWriteLeavesNoTrace() throws {
        let store = InMemoryEventStore()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.write { w in
                _ = try JobRunRecorder(settings: settings).record([run(1, start: lateNov, end: lateNov + 5)], in: w)
                throw Boom()
            }
        }
        #expect(try store.read { try $0.eventCount() } == 0)
        #expect(try store.read { try UsageProjection.load(from: $0) } == UsageProjection())
    }
}
