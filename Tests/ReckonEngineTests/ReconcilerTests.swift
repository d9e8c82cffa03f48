import Foundation
import Logging
import ReckonCore
import ReckonEngine
import ReckonWaldur
import Testing
import WaldurSimulator

/// End to end over real loopback HTTP: real LMDB ledger, real sacct fixture from a live Slurm,
/// the reconciler, the Waldur client and the simulator. Amounts in the harness: cpu in
/// CPU-minutes (unit factor 1), mem in GiB-minutes (1024), gres/gpu in GPU-minutes (1).
@Suite(.serialized) struct ReconcilerTests {
    let dump = Fixtures.path("fixtures/slurm/dump-epoch.psv")

    /// Desired values of the months, from the same ledger (the projection's own correctness is
    /// checked against real sacct --truncate in SlurmFixtureTests).
    func desired(_ r: OfferingReconciler.Report) -> [UsageTarget: ReckonCore.WaldurAmount] {
        var out: [UsageTarget: ReckonCore.WaldurAmount] = [:]
        for (_, d) in r.desired { for (k, v) in d.values where v != .zero { out[k] = v } }
        return out
    }

    func storedNonZero(_ h: SimulatorHarness, _ c: WaldurClient) async throws -> [UsageTarget: ReckonCore.WaldurAmount] {
        var all: [UsageTarget: ReckonCore.WaldurAmount] = [:]
        for m in SimulatorHarness.months { all.merge(try await h.stored(m, client: c)) { a, _ in a } }
        return all.filter { $0.value != .zero }
    }

    @Test func firstTickSendsEverythingSecondSendsNothing() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(dump)
        try await h.withClient { client in
            let r1 = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(r1.errors.isEmpty, "\(r1.errors)")
            #expect(r1.writes > 0)
            #expect(r1.accepted == r1.writes && r1.confirmed == r1.writes && r1.diverged == 0)
            // 4 resources have November usage: one set_usage each, then one set_user_usages per (resource, component) with users.
            #expect(r1.plan.totalWrites.count == 4)
            let want = desired(r1)
            #expect(want[UsageTarget(resource: SimulatorHarness.resources["hpc_alloc_b"]!, month: SimulatorHarness.months[1], component: "cpu")] != nil)
            // The upper-case backend_id PHYSICS matched the lower-case Slurm account physics.
            #expect(want.keys.contains { $0.resource == SimulatorHarness.resources["PHYSICS"]! })
            #expect(try await storedNonZero(h, client) == want)

            let postsBefore = await h.posts()
            let eventsBefore = try h.events()
            var quiet = OfferingReconciler.Options()
            quiet.refreshDirectory = false
            quiet.readUserUsages = false
            let r2 = try await h.reconciler(client).run(months: SimulatorHarness.months, options: quiet)
            #expect(r2.writes == 0)
            #expect(r2.listCalls == 2)                 // one read-back per open month
            #expect(await h.posts() == postsBefore)
            #expect(try h.events() == eventsBefore)    // nothing appended
        }
    }

    @Test func aChangedJobSendsOnlyTheAffectedKeysAndExplainsTheDecrease() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(dump)
        try await h.withClient { client in
            _ = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            // An admin shortens job 6 (hpc_alloc_b, alice, 4 CPUs): End 1795746512 → 1795746508.
            let text = try String(contentsOfFile: dump, encoding: .utf8)
                .replacingOccurrences(of: "6|6|7|reckon|hpc_alloc_b|alice|COMPLETED|1795746501|1795746504|1795746512|8|",
                                      with: "6|6|7|reckon|hpc_alloc_b|alice|COMPLETED|1795746501|1795746504|1795746508|4|")
            let changed = h.directory + "-changed.psv"
            try text.write(toFile: changed, atomically: true, encoding: .utf8)
            try h.ingest(changed, observedAt: 1_795_746_541)   // same time: the running job 1 does not move
            let changedSeq = try h.events() - 2    // the new version, then the import record
            let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(r.errors.isEmpty, "\(r.errors)")
            #expect(r.plan.totalWrites.count == 1)
            let w = try #require(r.plan.totalWrites.first)
            #expect(w.resource == SimulatorHarness.resources["hpc_alloc_b"]!)
            #expect(Set(w.items.map(\.target.component)) == ["cpu", "mem"])   // job 6 had no GPU
            #expect(w.items.allSatisfy { $0.isDecrease })
            #expect(r.decreases >= 1)
            // alice's share under hpc_alloc_b, for cpu and mem
            #expect(r.plan.userWrites.count == 2)
            #expect(r.plan.userWrites.allSatisfy { $0.items.map(\.target.user) == ["alice"] })
            // The intent names the job-run version that caused the decrease.
            let intents = try h.ledger.store.read { try $0.events(from: 0, limit: 10_000) }.compactMap { e -> SubmissionIntent? in
                if case .submissionIntended(let i) = e.event, i.items.contains(where: \.isDecrease), case .totals = i.kind { return i }
                return nil
            }
            #expect(intents.last?.cause == [changedSeq])
            #expect(try await storedNonZero(h, client) == desired(r))
        }
    }

    @Test func heldDecreasesAreRecordedNotSentUntilReleased() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(dump)
        try await h.withClient { client in
            _ = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            let text = try String(contentsOfFile: dump, encoding: .utf8)
                .replacingOccurrences(of: "|1795746504|1795746512|8|", with: "|1795746504|1795746506|2|")
            let changed = h.directory + "-held.psv"
            try text.write(toFile: changed, atomically: true, encoding: .utf8)
            try h.ingest(changed, observedAt: 1_795_746_541)   // same time: the running job 1 does not move
            var hold = OfferingReconciler.Options()
            hold.decision.holdDecreases = true
            let posts = await h.posts()
            let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: hold)
            #expect(r.writes == 0)
            #expect(!r.plan.held.isEmpty)
            #expect(r.heldRecorded == r.plan.held.count)
            #expect(await h.posts() == posts)
            // Holding again records nothing new.
            let again = try await h.reconciler(client).run(months: SimulatorHarness.months, options: hold)
            #expect(again.heldRecorded == 0)
            hold.decision.releaseHeld = true
            let released = try await h.reconciler(client).run(months: SimulatorHarness.months, options: hold)
            #expect(released.writes > 0 && released.confirmed == released.writes)
            #expect(try await storedNonZero(h, client) == desired(released))
        }
    }

    @Test func faultsStillConvergeExactly() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(dump)
        // No client retries: every fault reaches the reconciler as an outcome.
        try await h.withClient(retry: .none) { client in
            try await h.sim.setFaults(SimulatorFaults(paths: ["/api/marketplace-component-usages/set_usage/"],
                                                      script: [.init(kind: "status", status: 503), .init(kind: "drop_after_write"),
                                                               .init(kind: "rate_limit", retryAfterSeconds: 1), .init(kind: "drop_after_write")]))
            var ambiguous = 0
            for _ in 0..<4 {
                let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
                ambiguous += r.ambiguous
                if r.writes == 0 { break }
            }
            #expect(ambiguous == 4)                // 503 and 429 without retries, and the two drops
            let final = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(final.writes == 0)
            #expect(try await storedNonZero(h, client) == desired(final))
            // No intent left open, and no target was intended twice while open.
            let state = try h.ledger.store.read { try ReconcileState.replay($0) }
            #expect(state.openIntents.isEmpty)
        }
    }

    @Test func anIntentLeftByACrashIsResolvedByReadingBack() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(dump)
        try await h.withClient { client in
            // Plan, then "crash" after committing the first intent and sending it, before its outcome.
            let planned = try await h.reconciler(client).run(months: SimulatorHarness.months, options: { var o = OfferingReconciler.Options(); o.dryRun = true; return o }())
            let w = try #require(planned.plan.totalWrites.first)
            let intent = SubmissionIntent(offering: SimulatorHarness.offering, kind: .totals, resource: w.resource, month: w.month,
                                          date: SimulatorHarness.now - 600, items: w.items, configFingerprint: "test")
            let seq = try h.ledger.store.write { try $0.append(.submissionIntended(intent)) }
            try await client.setUsage(resourceUUID: WaldurUUID(w.resource)!, usages: w.items.map {
                WaldurUsageItem(type: $0.target.component, amount: ReckonWaldur.WaldurAmount(hundredths: $0.amount.hundredths)!)
            }, date: Date(timeIntervalSince1970: TimeInterval(SimulatorHarness.now - 600)))
            // A second intent that never reached Waldur.
            let w2 = try #require(planned.plan.totalWrites.dropFirst().first)
            let lost = try h.ledger.store.write { try $0.append(.submissionIntended(SubmissionIntent(offering: SimulatorHarness.offering, kind: .totals,
                resource: w2.resource, month: w2.month, date: SimulatorHarness.now - 600, items: w2.items, configFingerprint: "test"))) }

            let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(r.resolvedIntents == 2)
            let settled = try h.ledger.store.read { try $0.events(from: seq, limit: 100_000) }.compactMap { e -> SubmissionConfirmation? in
                if case .submissionConfirmed(let c) = e.event { return c } else { return nil }
            }
            #expect(settled.first { $0.intent == seq }?.agreed == true)
            #expect(settled.first { $0.intent == lost }?.agreed == false)
            // The applied one is not sent again; the lost one is.
            #expect(!r.plan.totalWrites.contains { $0.resource == w.resource })
            #expect(r.plan.totalWrites.contains { $0.resource == w2.resource })
            #expect(try await storedNonZero(h, client) == desired(r))
        }
    }

    @Test func pastMonthWithoutStaffIsRecordedAndNotRetried() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        // An October job of hpc_alloc_a: 2 CPUs for 600 s = 20 CPU-minutes.
        let october = h.directory + "-october.psv"
        try """
        JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES
        900|900|900|reckon|hpc_alloc_a|alice|COMPLETED|1792000000|1792000000|1792000600|600|00:00:00|cpu=2,mem=1024M|cpu=2

        """.write(toFile: october, atomically: true, encoding: .utf8)
        try h.ingest(october, observedAt: 1_792_001_000)
        try await h.withClient { client in
            let r = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(r.needsStaff == 1)
            let posts = await h.posts()
            let again = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            #expect(again.writes == 0)
            #expect(again.plan.waitingForStaff == [ResourceMonth(resource: SimulatorHarness.resources["hpc_alloc_a"]!, month: SimulatorHarness.months[0])])
            #expect(await h.posts() == posts)
        }
    }
}
