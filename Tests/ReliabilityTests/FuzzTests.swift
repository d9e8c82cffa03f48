import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonSacct
import Testing

/// Issue 7, fuzzing: the sacct parser (and what it feeds: the recorder, the projection, the usage
/// report) and the config loader, seeded with the real samples. No crash, no hang, bounded
/// retained memory, and the same answer whatever the chunking. Budget: RECKON_FUZZ_SECONDS.
@Suite struct FuzzTests {
    static let sacctDictionary = [
        "|", "||||", "\n", "\r\n", "\u{0}", "\u{FEFF}", "Unknown", "None", "INVALID", "-1", "0", "18446744073709551615",
        "99999999999999999999999999", "9223372036854775807", "-9223372036854775808", "1-00:00:00", "32-00:00:00", "00:61:00",
        "cpu=", "cpu=9223372036854775807", "mem=", "mem=1T", "mem=999999999999P", "mem=1.5G", "gres/gpu=", "gres/gpu:a100=",
        "billing=", "node=1", ",", "=", "RUNNING", "REQUEUED", "CANCELLED by 0", "PENDING", "COMPLETED",
        "2026-11-27T02:28:21", "2026-13-45T25:61:61", "1795746504", "4102444800", "-62135596800", "Unknown|Unknown",
        "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES\n",
        "JobName", "SubmitLine", "Comment", ".batch", ".extern", "_", "+", "[1-3]", "ä", "\u{10FFFF}", "\u{FF}",
    ]

    static var sacctCorpus: [[UInt8]] {
        // The first 32 KiB of each real sample: every format and quirk, small enough to mutate fast.
        (Corpus.files("fixtures/slurm", extensions: [".psv"]) + Corpus.files("../shared/sacct-samples", extensions: [".psv", ".txt"])
            + Corpus.files("../shared/sacct-samples/cgroup-mode", extensions: [".psv"])).map { Array($0.prefix(32_768)) }
    }

    static let calendar = MonthCalendar(timeZoneIdentifier: "UTC")!

    struct Parsed: Equatable {
        var runs: [JobRun] = []
        var records: UInt64 = 0, steps: UInt64 = 0, malformedCount: UInt64 = 0
        var malformed: [MalformedRecord] = []
        var error: String?
    }

    static func parse(_ bytes: [UInt8], chunks: [Int]) -> Parsed {
        var p = SacctStreamParser(timeZone: TimeZone(identifier: "UTC")!, defaultCluster: "dflt")
        var out = Parsed()
        var i = 0, k = 0
        do {
            while i < bytes.count {
                let n = min(max(1, chunks[k % chunks.count]), bytes.count - i)
                k += 1
                try bytes[i..<i + n].withUnsafeBytes { try p.consume($0) { out.runs.append($0) } }
                i += n
            }
            try p.finish { out.runs.append($0) }
        } catch {
            out.error = "\(error)"
        }
        out.records = p.records
        out.steps = p.steps
        out.malformedCount = p.malformedCount
        out.malformed = p.malformed
        return out
    }

    @Test func sacctParserRecorderAndProjection() async throws {
        let corpus = Self.sacctCorpus
        #expect(corpus.count >= 10, "the real samples are missing: \(corpus.count) files")
        let fuzzer = Fuzzer(name: "sacct", defaultSeed: 0x5AC7, corpus: corpus, dictionary: Self.sacctDictionary)
        let result = await fuzzer.runOffPool { input in
            let whole = Self.parse(input, chunks: [input.count])
            // The answer must not depend on where the stream was cut into chunks.
            var h: UInt64 = 1469598103934665603
            for b in input.prefix(64) { h = (h ^ UInt64(b)) &* 1099511628211 }
            let sizes = [1 + Int(h % 7), 1 + Int((h >> 8) % 97), 4096]
            let chunked = Self.parse(input, chunks: sizes)
            if whole != chunked { return "chunked parse (\(sizes)) differs from the whole parse" }
            // Retained memory is bounded: at most 100 malformed records kept, each at most 4096 characters.
            if whole.malformed.count > SacctObservation.maxKeptMalformed { return "kept \(whole.malformed.count) malformed records" }
            if let long = whole.malformed.first(where: { $0.text.count > 4096 }) { return "kept a malformed text of \(long.text.count) characters" }
            if whole.malformedCount < UInt64(whole.malformed.count) { return "malformed count below the kept records" }
            if whole.records != UInt64(whole.runs.count) { return "records \(whole.records) but \(whole.runs.count) runs" }
            guard whole.error == nil else { return nil }
            // What the parser accepts, the recorder, projection and report must take without trapping.
            do {
                let ledger = try Ledger(store: InMemoryEventStore(), settings: ProjectionSettings(calendar: Self.calendar, tresSource: .alloc))
                let recorder = ledger.recorder
                _ = try ledger.store.write { w in try recorder.record(whole.runs, in: w) }
                _ = try ledger.store.write { w in
                    try recorder.recordObservation(SacctObservation(source: .file(name: "fuzz", sha256: ""), cluster: "dflt", observedAt: 1_795_780_800), in: w)
                }
                // Recording the same runs again appends nothing (when each run appears once: a dump
                // holding two different records of one run flips between them; see docs/bad-input.md).
                if Set(whole.runs.map(\.identity)).count == whole.runs.count {
                    let again = try ledger.store.write { w in try recorder.record(whole.runs, in: w) }
                    if again.newVersions != 0 { return "re-recording the same runs appended \(again.newVersions) versions" }
                }
                let query = UsageQuery(ledger: ledger)
                for m in [BillingMonth(year: 2026, month: 11)!, BillingMonth(year: 2025, month: 10)!] {
                    let (native, marks) = try query.nativeUsage(month: m)
                    _ = UsageQuery.report(native, period: "\(m)", grouping: .user, components: nil, observedUntil: marks)
                }
                let check = try ReplayCheck.run(ledger) { 0 }
                if !check.identical { return "replay differs: \(check.differences)" }
            } catch {
                // Over-long names used to fail the whole batch (an LMDB key over 511 bytes); the
                // parser now bounds them and reports such a record as malformed.
                return "recording parsed runs failed: \(error)"
            }
            return nil
        }
        #expect(result.inputs > corpus.count, "no mutated input ran")
        let unknown = result.failures
        #expect(unknown.isEmpty, "\(unknown.joined(separator: "\n"))")
    }

    static let configDictionary = [
        ": ", "- ", "\n", "\n  ", "{", "}", "[", "]", "&a ", "*a", "<<: *a\n", "!!binary ", "!!int ", "~", "null", "\"", "'", "#",
        "1e400", "-1", "0", "0x10", "9223372036854775808", "\t", "?", "|\n", ">\n", "...\n", "---\n", "%YAML 1.1\n",
        "timezone: ", "Europe/Tallinn", "Mars/Olympus", "reporting_periods: ", "offerings:\n", "waldur_api_url: ", "http://",
        "waldur_api_token: ", "waldur_offering_uuid: ", "backend_settings: ", "backend_components: ", "unit_factor: ",
        "accounting_type: ", "slurm_bin_path: ", "cluster_name: ", "reckon:\n  ", "state_dir: ", "usage_tres: ",
        "max_map_size_mb: ", "sacct_timeout_seconds: ", "interval_minutes: ", "decreases: ", "metrics_address: ",
        "waldur_time_zone: ", "heartbeat_file: ", "verify_ssl: ", "yes", "no", "on", "ä", "\u{0}", "\u{FEFF}",
    ]

    static let canary = "fuzzCANARYtoken7d1e0c9b8a7f6e5d4c3b2a19"

    @Test func configLoader() async throws {
        var corpus = Corpus.files("fixtures/config", extensions: [".yaml"]) + Corpus.files("fixtures/demo", extensions: [".yaml", ".yaml.in"])
        corpus = corpus.map { Array(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "demo0provider0token0000000000000000000001", with: Self.canary).utf8) }
        corpus.append(Array("timezone: UTC\nofferings:\n  - waldur_api_url: \"http://127.0.0.1/api/\"\n    waldur_api_token: \"\(Self.canary)\"\n    waldur_offering_uuid: 8f7e6d5c4b3a29180f1e2d3c4b5a6978\n    backend_components:\n      cpu: {unit_factor: 60}\nreckon:\n  state_dir: /tmp/x\n  max_map_size_mb: 64\n".utf8))
        #expect(corpus.count >= 3)
        let fuzzer = Fuzzer(name: "config", defaultSeed: 0xC0F1, corpus: corpus, dictionary: Self.configDictionary)
        let result = await fuzzer.runOffPool { input in
            let text = String(decoding: input, as: UTF8.self)
            do {
                let cfg = try ConfigLoader.parse(yaml: text)
                // Whatever loads is usable: its calendar and months work, and validation does not trap.
                _ = cfg.calendar.months(endingAt: 1_795_780_800, count: cfg.reportingPeriods)
                for o in cfg.offerings { _ = try? o.validatedUUID(); _ = "\(o.token)" }
                if "\(cfg.offerings.map(\.token))".contains(Self.canary) { return "a token printed itself" }
            } catch {
                let message = "\(error)"
                if message.isEmpty { return "an empty error message" }
                // The canary token may only be quoted if the input put it somewhere other than a token key.
                if message.contains(Self.canary) {
                    let lines = text.split(separator: "\n").filter { $0.contains(Self.canary) }
                    if lines.allSatisfy({ $0.contains("waldur_api_token") }) { return "an error quotes the token: \(message)" }
                }
            }
            return nil
        }
        #expect(result.inputs > corpus.count, "no mutated input ran")
        #expect(result.failures.isEmpty, "\(result.failures.joined(separator: "\n"))")
    }
}
