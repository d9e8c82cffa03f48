import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonWaldur
import Testing
import WaldurSimulator

@Suite(.serialized) struct BackfillTests {
    let utc = MonthCalendar(timeZoneIdentifier: "UTC")!

    @Test func rangesAreCheckedFirst() throws {
        let now = SimulatorHarness.now
        #expect(try Backfill.range(start: "2026-08-15", end: "2026-10-02", calendar: utc, now: now).months.map(\.description) == ["2026-08", "2026-09", "2026-10"])
        #expect(try Backfill.range(start: "2025-12-31", end: "2026-01-01", calendar: utc, now: now).months.map(\.description) == ["2025-12", "2026-01"])
        #expect(throws: BackfillError.badDate(option: "--start-date", value: "2026-13-01")) { try Backfill.range(start: "2026-13-01", end: "2026-10-01", calendar: utc, now: now) }
        #expect(throws: BackfillError.badDate(option: "--end-date", value: "2026-02-30")) { try Backfill.range(start: "2026-01-01", end: "2026-02-30", calendar: utc, now: now) }
        #expect(throws: BackfillError.endBeforeStart(start: "2026-10-01", end: "2026-09-30")) { try Backfill.range(start: "2026-10-01", end: "2026-09-30", calendar: utc, now: now) }
        #expect(throws: BackfillError.future("2027-01-01")) { try Backfill.range(start: "2026-10-01", end: "2027-01-01", calendar: utc, now: now) }
        #expect(throws: BackfillError.self) { try Backfill.range(start: "2016-01-01", end: "2026-10-01", calendar: utc, now: now) }
    }

    /// Jobs in September, October and November 2026 for two accounts, served by a stand-in sacct.
    func harness(token: String) async throws -> (SimulatorHarness, OfferingConfiguration) {
        let h = try await SimulatorHarness.start(token: token)
        let bin = h.directory + "-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let dump = bin + "/dump.psv"
        // 2026-09-10T00:00Z = 1789000000 - 25600? computed: 2026-09-01T00:00Z = 1788220800
        try """
        JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES
        501|501|501|reckon|hpc_alloc_a|alice|COMPLETED|1788220800|1789000000|1789003600|3600|00:00:00|cpu=2,mem=2048M|cpu=2
        502|502|502|reckon|hpc_alloc_b|bob|COMPLETED|1788220800|1791600000|1791601800|1800|00:00:00|cpu=4,mem=1024M,gres/gpu=1|cpu=4
        503|503|503|reckon|hpc_alloc_a|carol|COMPLETED|1788220800|1794000000|1794000600|600|00:00:00|cpu=1,mem=512M|cpu=1

        """.write(toFile: dump, atomically: true, encoding: .utf8)
        try "#!/bin/sh\ncat '\(dump)'\n".write(toFile: bin + "/sacct", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/sacct")
        var o = h.offering
        o.slurmBinPath = bin
        return (h, o)
    }

    func backfill(_ h: SimulatorHarness, _ o: OfferingConfiguration, _ client: WaldurClient) -> Backfill {
        var cfg = h.config
        cfg.offerings = [o]
        return Backfill(ledger: h.ledger, config: cfg, offering: o, client: client, clock: FixedClock(SimulatorHarness.now), logger: Logger(label: "test"))
    }

    @Test func aNonStaffTokenIsRefusedClearly() async throws {
        let (h, o) = try await harness(token: SimulatorHarness.providerToken)
        defer { Task { await h.stop() } }
        try await withShutdown(of: try WaldurConnection.client(for: o, logger: Logger(label: "test"))) { client in
            await #expect(throws: BackfillError.notStaff(username: "reporter")) { try await backfill(h, o, client).checkStaff() }
        }
    }

    @Test func sendsEverythingOnceResumesAndThenSendsNothing() async throws {
        let (h, o) = try await harness(token: SimulatorHarness.staffToken)
        defer { Task { await h.stop() } }
        let range = try Backfill.range(start: "2026-09-01", end: "2026-11-15", calendar: utc, now: SimulatorHarness.now)
        // The second set_usage is applied and its answer dropped (the client does not retry): ambiguous.
        try await withShutdown(of: try WaldurConnection.client(for: o, logger: Logger(label: "test"), retry: .none, requestTimeoutSeconds: 5)) { flaky in
            try await h.sim.setFaults(SimulatorFaults(paths: ["/api/marketplace-component-usages/set_usage/"],
                                                      script: [.init(kind: "none"), .init(kind: "drop_after_write")]))
            try await backfill(h, o, flaky).checkStaff()
            let first = try await backfill(h, o, flaky).run(range, resources: [], dryRun: false, skipUserUsage: false) { _, _, _ in }
            #expect(first.map(\.month.description) == ["2026-09", "2026-10", "2026-11"])
            #expect(first.allSatisfy { $0.ok }, "\(first.map(\.errors))")
            // September: alice 2 CPUs × 3600 s = 120 CPU-min; October: bob 4 × 1800 s = 120 CPU-min, 30 GPU-min;
            // November: carol 1 × 600 s = 10 CPU-min (harness units: cpu factor 1, mem 1024, gpu 1).
            try await withShutdown(of: try WaldurConnection.client(for: o, logger: Logger(label: "test"))) { client in
                let sep = try await h.stored(BillingMonth(year: 2026, month: 9)!, client: client)
                #expect(sep[UsageTarget(resource: SimulatorHarness.resources["hpc_alloc_a"]!, month: BillingMonth(year: 2026, month: 9)!, component: "cpu")] == WaldurAmount(hundredths: 12_000))
                let oct = try await h.stored(BillingMonth(year: 2026, month: 10)!, client: client)
                #expect(oct[UsageTarget(resource: SimulatorHarness.resources["hpc_alloc_b"]!, month: BillingMonth(year: 2026, month: 10)!, component: "gres/gpu")] == WaldurAmount(hundredths: 3_000))
                #expect(oct[UsageTarget(resource: SimulatorHarness.resources["hpc_alloc_b"]!, month: BillingMonth(year: 2026, month: 10)!, component: "cpu", user: "bob")] == WaldurAmount(hundredths: 12_000))
                let nov = try await h.stored(BillingMonth(year: 2026, month: 11)!, client: client)
                #expect(nov[UsageTarget(resource: SimulatorHarness.resources["hpc_alloc_a"]!, month: BillingMonth(year: 2026, month: 11)!, component: "cpu")] == WaldurAmount(hundredths: 1_000))
                let posts = await h.posts()
                let second = try await backfill(h, o, client).run(range, resources: [], dryRun: false, skipUserUsage: false) { _, _, _ in }
                #expect(second.allSatisfy { $0.writes == 0 && $0.ok })
                #expect(await h.posts() == posts)
                #expect(try h.ledger.store.read { try ReconcileState.replay($0) }.openIntents.isEmpty)
            }
        }
    }

    @Test func resourceFilterAndDryRun() async throws {
        let (h, o) = try await harness(token: SimulatorHarness.staffToken)
        defer { Task { await h.stop() } }
        try await withShutdown(of: try WaldurConnection.client(for: o, logger: Logger(label: "test"))) { client in
            let range = try Backfill.range(start: "2026-09-01", end: "2026-10-31", calendar: utc, now: SimulatorHarness.now)
            let dry = try await backfill(h, o, client).run(range, resources: ["HPC_ALLOC_B"], dryRun: true, skipUserUsage: true) { _, _, _ in }
            #expect(dry.map(\.writes) == [0, 1])     // only hpc_alloc_b, only totals: October's one set_usage
            #expect(await h.posts() == 0)
            await #expect(throws: BackfillError.unknownResource("nope")) {
                _ = try await backfill(h, o, client).run(range, resources: ["nope"], dryRun: true, skipUserUsage: false) { _, _, _ in }
            }
        }
    }
}
