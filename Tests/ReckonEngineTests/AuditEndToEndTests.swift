import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// The audit of a ledger written by the real pipeline: real sacct output from a live Slurm
/// (fixtures/slurm/dump-epoch.psv), the reconciler and the Waldur simulator over loopback HTTP,
/// then an admin's correction of job 6 and the decrease it causes.
@Suite(.serialized) struct AuditEndToEndTests {
    @Test func auditOfARealSyncAndCorrection() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        let dump = Fixtures.path("fixtures/slurm/dump-epoch.psv")
        try h.ingest(dump)
        let changedSeq = try await h.withClient { client in
            _ = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            let text = try String(contentsOfFile: dump, encoding: .utf8)
                .replacingOccurrences(of: "6|6|7|reckon|hpc_alloc_b|alice|COMPLETED|1795746501|1795746504|1795746512|8|",
                                      with: "6|6|7|reckon|hpc_alloc_b|alice|COMPLETED|1795746501|1795746504|1795746508|4|")
            let changed = h.directory + "-audit.psv"
            try text.write(toFile: changed, atomically: true, encoding: .utf8)
            try h.ingest(changed, observedAt: 1_795_746_541)
            let changedSeq = try h.events() - 2
            let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(r.errors.isEmpty, "\(r.errors)")
            return changedSeq
        }

        let report = try AuditQuery(ledger: h.ledger, offerings: h.config.offerings)
            .audit(resource: "HPC_ALLOC_B", month: BillingMonth(year: 2026, month: 11)!)
        let uuid = SimulatorHarness.resources["hpc_alloc_b"]!
        #expect(report.primaryResource?.uuid == uuid)

        // Jobs of hpc_alloc_b by start: 1 (running, to the observation at …541), the first run of
        // the requeued job 2, 9, 6 (corrected later, with its old version), then job 2's rerun.
        #expect(report.contributions.map(\.jobID) == ["1", "2", "9", "6", "2"])
        #expect(report.contributions.first { $0.jobID == "1" }?.latest.countedUntil == 1_795_746_541)
        let six = try #require(report.contributions.first { $0.jobID == "6" })
        #expect(six.latest.sequence == changedSeq && six.superseded.count == 1)
        #expect(six.latest.share.native["cpu"] == 16 && six.superseded[0].share.native["cpu"] == 32)
        #expect(report.projectionCheck.agrees)

        // cpu: 2×37 + 2×7 + 2×15 + 4×4 + 1×6 = 140 CPU-seconds = 2.33 CPU-minutes, sent and confirmed.
        let cpu = try #require(report.totals.first { $0.component == "cpu" })
        #expect(cpu.native == 140 && cpu.desired == WaldurAmount(parsing: "2.33") && cpu.confirmed == WaldurAmount(parsing: "2.33"))
        #expect(report.totals.allSatisfy { $0.agrees })
        #expect(report.users.first { $0.user == "alice" && $0.component == "cpu" }?.confirmed == WaldurAmount(parsing: "1.50"))

        // Two set_usage writes (first sight, then the decrease naming job 6's new version) and the
        // user writes under them, every one confirmed by a read-back.
        let totals = report.submissions.filter { if case .totals = $0.kind { return true } else { return false } }
        #expect(totals.count == 2)
        #expect(report.submissions.allSatisfy { $0.status == "confirmed" && $0.resource == uuid })
        #expect(report.submissions.count > 2)
        let decrease = try #require(totals.last)
        #expect(decrease.cause == [changedSeq])
        let item = try #require(decrease.items.first { $0.component == "cpu" && $0.user == nil })
        #expect(item.basedOn == WaldurAmount(parsing: "2.60") && item.amount == WaldurAmount(parsing: "2.33"))
        #expect(decrease.date == SimulatorHarness.now - SubmissionDate.skewMargin)
        #expect(decrease.configFingerprint == "v1;tz=\(h.ledger.settings.calendar.timeZoneIdentifier);tres=alloc;components=cpu:1,mem:1024,gres/gpu:1")
        #expect(decrease.configFingerprint == report.currentFingerprint)
        #expect(report.series.map(\.month.description) == ["2026-11", "2026-11", "2026-11"])
    }
}
