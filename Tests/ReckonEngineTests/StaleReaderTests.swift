import Foundation
import ReckonCore
import ReckonEngine
import Testing

/// A reader whose settings differ from the ones the state was written with (another time zone
/// or TRES source) rebuilds the projection in memory; window queries must still see every run.
/// (Found by the Slurm integration suite.)
@Suite struct StaleReaderTests {
    @Test func windowQueriesWorkOnARebuiltReadOnlyProjection() throws {
        let dir = NSTemporaryDirectory() + "reckon-stale-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tallinn = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "Europe/Tallinn")!, tresSource: .alloc)
        let writer = try StateStore.openLedger(directory: dir, settings: tallinn, maxMapSizeMB: 64, readOnly: false)
        _ = try IngestService(ledger: writer).ingestFile(path: Fixtures.path("fixtures/slurm/dump-epoch.psv"), timeZone: Fixtures.utc,
                                                        observedAt: 1_795_746_541, defaultCluster: "x")
        let window = TimeWindow(start: 1_795_746_501, end: 1_795_746_541)!
        let expected = try UsageQuery(ledger: writer).nativeUsage(window: window).usage
        #expect(!expected.isEmpty)
        for settings in [ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc),
                         ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "Europe/Tallinn")!, tresSource: .req)] {
            let reader = try StateStore.openLedger(directory: dir, settings: settings, maxMapSizeMB: 64, readOnly: true)
            let got = try UsageQuery(ledger: reader).nativeUsage(window: window).usage
            #expect(!got.isEmpty)
            if settings.tresSource == .alloc { #expect(got == expected) }
        }
    }
}
