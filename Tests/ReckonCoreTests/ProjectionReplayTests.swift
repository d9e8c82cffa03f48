import ReckonCore
import Testing

/// The fast replay (``UsageProjection/replay(_:settings:until:)``) against the definition: the
/// event-by-event fold ``UsageProjection/apply(_:superseded:settings:)`` over decoded events,
/// and against the live projection the recorder keeps. Seeded random logs full of the forms the
/// fast reader must hand to the general path: superseding versions, running and pending runs,
/// unusual TRES names, zero amounts, suspensions, month edges, every identity kind.
@Suite struct ProjectionReplayTests {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    }

    // 2026-10-01T00:00:00Z: runs fall in October–December, many across an edge.
    let base: EpochSeconds = 1_790_812_800

    func randomTRES(_ g: inout Rng) -> TRESQuantities? {
        if g.int(20) == 0 { return nil }
        var pairs: [(String, Int64)] = [("cpu", Int64(1 + g.int(64)))]
        if g.int(3) > 0 { pairs.append(("mem", Int64(g.pick([0, 512, 4096, 250_000])))) }
        if g.int(4) == 0 { pairs.append((g.pick(["gres/gpu", "gres/gpu:a100", "gres/gpu:tesla", "license/matlab"]), Int64(g.int(9)))) }
        if g.int(10) == 0 { pairs.append(("billing", Int64(g.int(100)))) }
        return TRESQuantities(pairs)
    }

    func randomRun(_ g: inout Rng, index: UInt64) -> JobRun {
        let cluster = g.pick(["alpha", "beta"])
        let identity: JobRunIdentity
        switch g.int(3) {
        case 0: identity = .dbIndex(cluster: cluster, index: index)
        case 1: identity = .jobIDRaw(cluster: cluster, id: index, submit: base)
        default: identity = .jobID(cluster: cluster, id: "\(index)_\(g.int(4))", submit: base)
        }
        let submit = base + EpochSeconds(g.int(80 * 86_400))
        let start: EpochSeconds? = g.int(15) == 0 ? nil : submit + EpochSeconds(g.int(3_600))
        let end: EpochSeconds? = start.flatMap { s in g.int(8) == 0 ? nil : s + EpochSeconds(g.int(20 * 86_400)) }
        let alloc = randomTRES(&g)
        return JobRun(identity: identity, jobID: String(index), account: g.pick(["hpc_a", "hpc_b", "ünï", "a"]),
                      user: g.pick(["alice", "bob", "carol", "b"]), state: g.pick(["COMPLETED", "RUNNING", "CANCELLED by 1001", "WEIRD"]),
                      submit: submit, start: start, end: end, suspended: g.int(6) == 0 ? EpochSeconds(g.int(7_200)) : 0,
                      allocTRES: alloc, reqTRES: g.int(2) == 0 ? alloc : randomTRES(&g))
    }

    /// Equality, reported as the first few differing cells rather than two whole projections.
    func expectSame(_ a: UsageProjection, _ b: UsageProjection, _ what: String) {
        let diffs = Set(a.closed.keys).union(b.closed.keys).filter { a.closed[$0] != b.closed[$0] }.sorted()
        #expect(diffs.isEmpty, "\(what): \(diffs.count) cells differ, e.g. \(diffs.prefix(3).map { "\($0): \(a.closed[$0] ?? 0) vs \(b.closed[$0] ?? 0)" })")
        #expect(a.open == b.open, "\(what): open runs differ")
        #expect(a.observedUntil == b.observedUntil, "\(what): observation marks differ")
    }

    /// The definition: decode every event and fold it with `apply`.
    func reference(_ r: any EventStoreReader, settings: ProjectionSettings) throws -> UsageProjection {
        var p = UsageProjection()
        for e in try r.events(from: 0, limit: Int.max) {
            var superseded: JobRun?
            if case .jobRunObserved(let j) = e.event, let s = j.supersedes, case .jobRunObserved(let old)? = try r.event(at: s) {
                superseded = old.run
            }
            p.apply(e, superseded: superseded, settings: settings)
        }
        return p
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func fastReplayEqualsTheDefinition(seed: UInt64) throws {
        var g = Rng(s: seed)
        for source in TRESSource.allCases {
            let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: seed % 2 == 0 ? "UTC" : "Europe/Tallinn")!,
                                              tresSource: source)
            let store = InMemoryEventStore()
            let recorder = JobRunRecorder(settings: settings)
            var runs: [JobRun] = (0..<300).map { randomRun(&g, index: $0) }
            for round in 0..<3 {
                if round > 0 {   // change some runs: new versions that supersede the old ones
                    for i in runs.indices where g.int(4) == 0 {
                        if runs[i].end == nil, let s = runs[i].start { runs[i].end = s + EpochSeconds(g.int(90_000)) }
                        else { runs[i].allocTRES = randomTRES(&g); runs[i].state = "COMPLETED" }
                    }
                }
                try store.write { w in
                    _ = try recorder.record(runs, in: w)
                    try recorder.recordObservation(SacctObservation(source: .file(name: "r\(round)", sha256: "x"), cluster: "alpha",
                                                                    observedAt: base + EpochSeconds(round * 86_400)), in: w)
                }
            }
            try store.read { r in
                let (fast, n) = try UsageProjection.replay(r, settings: settings)
                #expect(n == (try r.eventCount()))
                let definition = try reference(r, settings: settings)
                expectSame(fast, definition, "fast replay vs the definition")
                expectSame(fast, try UsageProjection.load(from: r), "fast replay vs the live projection")
                #expect(!fast.closed.isEmpty)
                // `until` stops at a sequence number just as the fold would
                let mid = (try r.eventCount()) / 2
                let (part, m) = try UsageProjection.replay(r, settings: settings, until: mid)
                #expect(m == mid + 1)
                var partial = UsageProjection()
                for e in try r.events(from: 0, limit: Int(mid) + 1) {
                    var superseded: JobRun?
                    if case .jobRunObserved(let j) = e.event, let s = j.supersedes, case .jobRunObserved(let old)? = try r.event(at: s) {
                        superseded = old.run
                    }
                    partial.apply(e, superseded: superseded, settings: settings)
                }
                expectSame(part, partial, "replay until \(mid)")
            }
        }
    }

    /// A hand-built event whose TRES list names `cpu` twice (the encoder never writes this; the
    /// codec's decoder keeps the later amount). The fast reader must defer, not add both.
    @Test func aDuplicateTRESCodeTakesTheGeneralPath() throws {
        let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
        var w = ByteWriter()
        w.u8(1); w.u8(1); w.varint(0)                       // job run observed v1, supersedes nothing
        w.u8(1); w.string("c"); w.varint(7)                 // identity: DBIndex 7 on cluster c
        w.string("7"); w.string("acct"); w.string("u")      // job ID, account, user
        w.u8(1)                                             // COMPLETED
        w.zigzag(base); w.u8(1 | 2 | 4)                     // submit; start, end, AllocTRES
        w.zigzag(0); w.zigzag(100); w.zigzag(0)             // start = submit, end = start + 100 s, no suspension
        w.varint(2); w.u8(1); w.zigzag(3); w.u8(1); w.zigzag(5)   // cpu=3, cpu=5
        let store = InMemoryEventStore()
        try store.write { wr in _ = try wr.append(w.bytes) }
        let p = try store.read { try UsageProjection.replay($0, settings: settings).projection }
        // the decoder's reading: cpu = 5 (the later one) over 100 s = 500 CPU-s, not (3 + 5) × 100
        let key = UsageKey(month: BillingMonth(year: 2026, month: 10)!, account: "acct", user: "u", tres: "cpu")
        #expect(p.closed == [key: 500])
    }

    @Test func aCorruptEventIsReportedWithItsSequenceNumber() throws {
        let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
        let store = InMemoryEventStore()
        try store.write { wr in
            _ = try wr.append(.sacctObserved(SacctObservation(source: .file(name: "f", sha256: "x"), cluster: "c", observedAt: base)))
            _ = try wr.append([1, 1, 0, 1])   // a job run cut short
        }
        #expect { try store.read { try UsageProjection.replay($0, settings: settings) } } throws: { error in
            "\(error)".contains("event 1 does not decode")
        }
    }
}
