import Foundation
import Testing

/// SIGTERM while a tick is under way stops the daemon at once, cleanly, instead of after the
/// tick: here the tick is retrying a Waldur that does not answer (a closed loopback port).
@Suite(.serialized) struct DaemonStopTests {
    @Test func sigtermDuringWaldurRetriesStopsTheTickAndExitsZero() async throws {
        let h = try CLIHarness()
        let closed = try MetricsEndpointTests.freePort()   // nothing listens there
        try h.writeConfig(apiURL: "http://127.0.0.1:\(closed)/api/")
        let daemon = try h.spawn("daemon", ["--log-level", "debug"])
        // The tick has polled sacct (the stand-in logs its arguments) and gone on to Waldur.
        try await waitFor(h.sacctLog, while: daemon)
        try await Task.sleep(for: .seconds(2))
        #expect(daemon.isRunning, "the daemon ended before SIGTERM")
        daemon.signal(SIGTERM)
        let end = await daemon.finished()
        #expect(end.status == 0 && !end.signalled, "\(end.all)")
        #expect(end.stderr.contains("Waldur request failed, retrying"), "the tick never reached Waldur's retries: \(end.stderr)")
        // The default policy makes 6 attempts over ~13 s; before, the tick went through all of
        // them (and each one waited out a 10 s connect timeout) before the daemon could stop.
        #expect(!end.stderr.contains("gave up after"), "the tick ran its retries to the end: \(end.stderr)")
        #expect(end.stderr.contains("reckon daemon stopped"), "\(end.stderr)")
    }
}
