import Foundation
import Testing

/// The one-shot commands prepare malloc heaps advised for transparent huge pages before main
/// (Sources/CMallocTuning); `RECKON_MALLOC_TUNING=off` turns that off. The preparation must not
/// change a byte of what a command records or prints.
@Suite(.serialized) struct MallocTuningTests {
    @Test func oneShotCommandsPrepareHeapsUnlessTurnedOffAndPrintTheSameEitherWay() async throws {
        var outputs: [String: [String]] = [:]
        for setting in ["", "off"] {
            let h = try CLIHarness()
            try h.writeConfig()
            let env = setting.isEmpty ? [:] : ["RECKON_MALLOC_TUNING": setting]
            let ingest = try await h.reckon("ingest", ["--from", h.dumpPath, "--log-level", "debug"], env: env)
            #expect(ingest.status == 0, "\(ingest.all)")
            let usage = try await h.reckon("usage", ["--month", "2026-11", "--by", "user", "--log-level", "debug"], env: env)
            #expect(usage.status == 0, "\(usage.all)")
            let events = try await h.reckon("events", ["--log-level", "debug"], env: env)
            #expect(events.status == 0, "\(events.all)")
            for r in [ingest, usage] {
                if setting == "off" {
                    #expect(r.stderr.contains("malloc: heaps not prepared (RECKON_MALLOC_TUNING=off)"), "\(r.stderr)")
                } else if FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") {
                    #expect(r.stderr.contains("malloc: 4 heaps prepared with 32 MiB each advised for transparent huge pages"), "\(r.stderr)")
                } else {   // a kernel built without transparent huge pages refuses the advice
                    #expect(r.stderr.contains("malloc: heaps could not be prepared"), "\(r.stderr)")
                }
            }
            // `reckon events` is not a one-shot command of the list: it neither prepares nor says so.
            #expect(!events.stderr.contains("malloc:"), "\(events.stderr)")
            #expect(!usage.stdout.isEmpty)
            outputs[setting] = [ingest.stdout, usage.stdout, events.stdout]
        }
        #expect(outputs[""] == outputs["off"])
    }
}
