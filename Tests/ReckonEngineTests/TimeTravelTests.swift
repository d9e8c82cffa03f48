import Foundation
import Logging
import ReckonCore
import ReckonEngine
import Testing

@Suite(.serialized) struct TimeTravelTests {
    @Test func valuesAsTheyWereAtAPointOfTheLog() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(Fixtures.path("fixtures/slurm/dump-epoch.psv"))      // observed at 1795746541
        let afterIngest = try h.events() - 1
        try await h.withClient { client in
            _ = try await h.reconciler(client).run(months: SimulatorHarness.months, options: .init())
            let end = try h.events() - 1
            // An instant before the first poll: nothing; at the poll: the ingest and the writes that followed it.
            #expect(try h.ledger.store.read { try TimeTravel.sequence(atOrBefore: 1_795_746_540, in: $0) } == nil)
            #expect(try h.ledger.store.read { try TimeTravel.sequence(atOrBefore: 1_795_746_541, in: $0) } == end)
            let before = try TimeTravel.snapshot(ledger: h.ledger, until: afterIngest, offering: h.offering)
            let after = try TimeTravel.snapshot(ledger: h.ledger, until: end, offering: h.offering)
            #expect(before.rows.allSatisfy { $0.confirmed == nil })
            #expect(before.rows.map(\.desired) == after.rows.map(\.desired))
            // After the sync every non-zero desired total is confirmed at exactly that value.
            #expect(after.rows.filter { $0.desired != .zero }.allSatisfy { $0.confirmed == $0.desired })
            #expect(after.rows.contains { $0.account == "hpc_alloc_b" && $0.component == "cpu" && $0.desired != .zero })
        }
    }
}
