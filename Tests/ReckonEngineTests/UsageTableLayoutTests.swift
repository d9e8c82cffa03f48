import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// A state whose usage table has the first layout (one record per cell, the fingerprint
/// without `usage-table=2`) is rebuilt into the current one when a writer opens it, with the
/// same cells.
@Suite struct UsageTableLayoutTests {
    @Test func aFirstLayoutTableIsRebuiltWithTheSameCells() throws {
        let ledger = try Fixtures.ledger()
        _ = try IngestService(ledger: ledger).ingestFile(path: Fixtures.path("fixtures/slurm/dump-epoch.psv"), timeZone: Fixtures.utc,
                                                         observedAt: 1_795_746_541, defaultCluster: "x")
        let cells = try ledger.store.read { try UsageTable.storedCells($0) }
        #expect(!cells.isEmpty)
        // Turn the table into the first layout, as an older reckon left it.
        try ledger.store.write { w in
            try w.clear(.usage)
            for (k, v) in cells { try w.put(StoreBytes.i128(v), in: .usage, key: k.bytes) }
            try w.setMeta(ProjectionMeta.fingerprint, Array(ledger.settings.fingerprint.utf8))
        }
        #expect(try ledger.projectionIsStale())
        let reopened = try Ledger(store: ledger.store, settings: ledger.settings)
        #expect(try !reopened.projectionIsStale())
        #expect(try reopened.store.read { try UsageTable.storedCells($0) } == cells)
        #expect(try reopened.store.read { try $0.meta(ProjectionMeta.fingerprint) } == Array((ledger.settings.fingerprint + ";usage-table=2").utf8))
    }
}
