import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// reckon's window usage against real `sacct --truncate` output of a real Slurm 22.05 cluster
/// (fixtures/slurm: a running job, a requeued job, a suspended job, an array, GPUs). The
/// expected values are sacct's own: Σ AllocTRES count × truncated ElapsedRaw, computed by
/// tools/slurm-sandbox/expected.py (method in fixtures/slurm/expected.md), never by reckon.
@Suite struct SlurmFixtureTests {
    /// When dump-epoch.psv was taken (MANIFEST: "observed: 1795746541..", and the running job's
    /// ElapsedRaw 37 = 1795746541 − Start 1795746504).
    static let dumpTime: EpochSeconds = 1_795_746_541
    /// When the `open` window's truncate call ran (its capped End of the running job, MANIFEST).
    static let openWindowCallTime: EpochSeconds = 1_795_746_544
    /// Run DBIndex 4 (physics/carol) was suspended during [1795746508, 1795746517)
    /// (db-suspend-intervals.tsv); sacct gives only the 9 s total, see ARCHITECTURE.md.
    static let suspendedRun = (start: EpochSeconds(1_795_746_504), end: EpochSeconds(1_795_746_529))

    func ingest(_ file: String, observedAt: EpochSeconds) throws -> Ledger {
        let ledger = try Fixtures.ledger()
        _ = try IngestService(ledger: ledger).ingestFile(path: Fixtures.path("fixtures/slurm/" + file), timeZone: Fixtures.utc,
                                                        observedAt: observedAt, defaultCluster: "x")
        return ledger
    }

    @Test(arguments: ["dump-epoch.psv", "dump-iso.psv"])
    func everyWindowMatchesSacctTruncate(file: String) throws {
        let ledger = try ingest(file, observedAt: Self.dumpTime)
        let expected = try Fixtures.tsv(Fixtures.path("fixtures/slurm/expected.tsv"))
        let windows = Dictionary(grouping: expected) { $0["window"] ?? "" }
        #expect(windows.count == 10)
        var compared = 0, skipped = 0
        for (name, rows) in windows {
            guard let w1 = rows.first?["w1"].flatMap({ Int64($0) }), let w2 = rows.first?["w2"].flatMap({ Int64($0) }),
                  let window = TimeWindow(start: w1, end: w2) else { Issue.record("bad window \(name)"); continue }
            if name == "open" {
                // The running job counts up to the last observation: record that it was still
                // running when this window's sacct call ran (no job event is appended).
                _ = try IngestService(ledger: ledger).ingestFile(path: Fixtures.path("fixtures/slurm/" + file), timeZone: Fixtures.utc,
                                                                observedAt: Self.openWindowCallTime, defaultCluster: "x")
            }
            let (usage, _) = try UsageQuery(ledger: ledger).nativeUsage(window: window)
            var ours: [String: Int128] = [:]
            for (k, v) in usage { ours["\(k.account)|\(k.user)|\(k.tres)", default: 0] += v }
            let cutsSuspension = window.start > Self.suspendedRun.start && window.start < Self.suspendedRun.end
                || window.end > Self.suspendedRun.start && window.end < Self.suspendedRun.end
            for row in rows {
                let key = "\(row["account"]!)|\(row["user"]!)|\(row["tres"]!)"
                let want = Int128(row["value"].flatMap { Int64($0) } ?? -1)
                if cutsSuspension && key.hasPrefix("physics|carol|") { skipped += 1; continue }   // see suspensionSpreadIsExactOverTheWholeRun
                #expect(ours[key, default: 0] == want, "\(file) window \(name) \(key)")
                compared += 1
            }
        }
        #expect(compared + skipped == expected.count)
        // physics/carol has 5 TRES (billing, cpu, mem, node + none of GPUs) in the windows cutting the suspension
        #expect(skipped > 0 && skipped < compared / 5)
    }

    /// Where a window cuts through the suspended run, sacct subtracts the suspension where it
    /// really happened (slurmdbd's interval table); reckon only has the 9 s total and spreads it
    /// evenly. The two agree on any window holding the whole run, and reckon's parts add up.
    @Test func suspensionSpreadIsExactOverTheWholeRun() throws {
        let ledger = try ingest("dump-epoch.psv", observedAt: Self.dumpTime)
        let expected = try Fixtures.tsv(Fixtures.path("fixtures/slurm/expected.tsv"))
        func sacct(_ window: String) -> Int128 {
            Int128(expected.first { $0["window"] == window && $0["account"] == "physics" && $0["user"] == "carol" && $0["tres"] == "cpu" }
                .flatMap { $0["value"] }.flatMap { Int64($0) } ?? -1)
        }
        func ours(_ s: EpochSeconds, _ e: EpochSeconds) throws -> Int128 {
            let (u, _) = try UsageQuery(ledger: ledger).nativeUsage(window: TimeWindow(start: s, end: e)!)
            return u.filter { $0.key.account == "physics" && $0.key.user == "carol" && $0.key.tres == "cpu" }.values.reduce(0, +)
        }
        // whole = [1795746501, 1795746541), split at 1795746514
        let whole = try ours(1_795_746_501, 1_795_746_541)
        #expect(whole == sacct("whole"))
        #expect(try ours(1_795_746_501, 1_795_746_514) + ours(1_795_746_514, 1_795_746_541) == whole)
        #expect(sacct("split-1") + sacct("split-2") == sacct("whole"))
    }

    @Test func reimportingAppendsNoJobEvent() throws {
        let ledger = try ingest("dump-epoch.psv", observedAt: Self.dumpTime)
        let before = try ledger.store.read { try $0.eventCount() }
        let o = try IngestService(ledger: ledger).ingestFile(path: Fixtures.path("fixtures/slurm/dump-iso.psv"), timeZone: Fixtures.utc,
                                                            observedAt: Self.dumpTime + 60, defaultCluster: "x")
        #expect(o.newVersions == 0)
        #expect(o.unchanged == 14)
        #expect(try ledger.store.read { try $0.eventCount() } == before + 1)   // the import record only
    }

    @Test func requeuedRunsBothCount() throws {
        let ledger = try ingest("dump-epoch.psv", observedAt: Self.dumpTime)
        let (usage, _) = try UsageQuery(ledger: ledger).nativeUsage(window: TimeWindow(start: 1_795_746_501, end: 1_795_746_541)!)
        // Job 2 (bob, hpc_alloc_b, 2 CPUs): run 1 DBIndex 3 ran 7 s (REQUEUED), run 2 DBIndex 27 ran 15 s → 44 CPU-s.
        let bobCPU = usage.filter { $0.key.user == "bob" && $0.key.account == "hpc_alloc_b" && $0.key.tres == "cpu" }.values.reduce(0, +)
        // bob's GPU job 9 adds 1 CPU × 6 s.
        #expect(bobCPU == 2 * 7 + 2 * 15 + 1 * 6)
    }
}
