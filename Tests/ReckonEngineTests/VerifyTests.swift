import Foundation
import Logging
import ReckonCore
import ReckonEngine
import ReckonSacct
import ReckonWaldur
import Testing

/// `verify` on real data: the log against a real `sacct --truncate` output of the same window
/// (played back by the stand-in sacct), and Waldur (the simulator) against the desired values.
@Suite(.serialized) struct VerifyTests {
    let bin = Fixtures.path("fixtures/demo/bin")
    let november = BillingMonth(year: 2026, month: 11)!

    func sacctCheck(_ ledger: Ledger, truncateFile: String = "truncate-whole.psv") throws -> Verifier.Report {
        var report = Verifier.Report()
        let window = MonthCalendar(timeZoneIdentifier: "UTC")!.window(of: november)!
        try Verifier.againstSacct(ledger: ledger, window: window, period: "2026-11", components: nil, command: { w in
            SacctCommand(binDirectory: bin, window: w, cluster: nil, truncate: true, fields: TruncatedUsage.fields,
                         baseEnvironment: ["RECKON_FAKE_SACCT_TRUNCATE_FILE": Fixtures.path("fixtures/slurm/" + truncateFile)])
        }, runner: SacctRunner(timeoutSeconds: 30), report: &report)
        return report
    }

    @Test func theLogAgreesWithRealSacctTruncate() throws {
        let ledger = try Fixtures.ledger()
        // Observed when the dump was taken: the truncated "whole" window ends at the same instant.
        _ = try IngestService(ledger: ledger).ingestFile(path: Fixtures.path("fixtures/slurm/dump-epoch.psv"), timeZone: Fixtures.utc,
                                                        observedAt: 1_795_746_541, defaultCluster: "x")
        let r = try sacctCheck(ledger)
        #expect(r.ok, "\(r.disagreements)")
        #expect(r.compared > 50)
    }

    @Test func anAlteredLogIsDetected() throws {
        let ledger = try Fixtures.ledger()
        let text = try String(contentsOfFile: Fixtures.path("fixtures/slurm/dump-epoch.psv"), encoding: .utf8)
            .replacingOccurrences(of: "|reckon|hpc_alloc_c|carol|COMPLETED|1795746501|1795746509|1795746519|", with: "|reckon|hpc_alloc_c|carol|COMPLETED|1795746501|1795746509|1795746529|")
        let path = NSTemporaryDirectory() + "altered-\(UUID().uuidString).psv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try IngestService(ledger: ledger).ingestFile(path: path, timeZone: Fixtures.utc, observedAt: 1_795_746_541, defaultCluster: "x")
        let r = try sacctCheck(ledger)
        #expect(!r.ok)
        // Job 10 ran 10 s longer in the altered log: 2 CPUs × 10 s = 20 CPU-s more for hpc_alloc_c/carol (1 CPU-minute = 1.00 at factor 1... in CPU-seconds/60).
        let cpu = try #require(r.disagreements.first { $0.resource == "hpc_alloc_c" && $0.user == "carol" && $0.component == "cpu" })
        #expect(cpu.difference == WaldurAmount(hundredths: 33))   // 20 CPU-s = 0.333 CPU-min → 0.33
        #expect(r.notes.contains { $0.contains("late or changed records") })
    }

    /// A month the log holds no sacct observation of is not compared (it is not reconciled either),
    /// and that is a failure of the check, not agreement.
    @Test func aMonthTheLogKnowsNothingOfFailsTheCheck() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try await h.withClient { client in
            var report = Verifier.Report()
            try await Verifier.againstWaldur(reconciler: try h.reconciler(client), month: november, report: &report)
            #expect(!report.ok)
            #expect(report.errors == ["2026-11: the log holds no sacct observation of this month; ingest it first (reckon ingest --start … --end …)"])
        }
    }

    @Test func waldurAgreesAfterSyncAndAnAlteredValueIsDetected() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(Fixtures.path("fixtures/slurm/dump-epoch.psv"))
        try await h.withClient { client in
            _ = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            var ok = Verifier.Report()
            try await Verifier.againstWaldur(reconciler: try h.reconciler(client), month: november, report: &ok)
            #expect(ok.ok, "\(ok.disagreements)")
            #expect(ok.compared > 10)
            // Someone changes a stored total in Waldur behind reckon's back.
            let resource = SimulatorHarness.resources["hpc_alloc_b"]!
            try await client.setUsage(resourceUUID: WaldurUUID(resource)!, usages: [WaldurUsageItem(type: "cpu", amount: ReckonWaldur.WaldurAmount("1.00")!)],
                                      date: Date(timeIntervalSince1970: TimeInterval(SimulatorHarness.now - 600)))
            var bad = Verifier.Report()
            try await Verifier.againstWaldur(reconciler: try h.reconciler(client), month: november, report: &bad)
            #expect(bad.disagreements.count == 1)
            #expect(bad.disagreements.first?.resource == resource && bad.disagreements.first?.theirs == WaldurAmount(hundredths: 100))
            // verify records nothing; a sync then corrects Waldur.
            let fixed = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(fixed.writes == 1)
            var again = Verifier.Report()
            try await Verifier.againstWaldur(reconciler: try h.reconciler(client), month: november, report: &again)
            #expect(again.ok)
        }
    }
}
