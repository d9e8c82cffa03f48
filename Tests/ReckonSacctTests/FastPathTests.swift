import Foundation
@testable import ReckonCore
import ReckonSacct
import Testing

/// The byte-level fast path must say exactly what the general path says: same runs, same steps,
/// same malformed records (with their lines and reasons), on the real samples, on the fixtures
/// and on randomised lines full of edge forms.
@Suite struct FastPathTests {
    /// The fast and the general path's outcomes; and the transcoding path (plain lines straight
    /// into the recorder's bytes, `consumePrepared`) is checked here against the general path:
    /// the same runs (decoded back from its bytes) and byte-for-byte the same prepared runs.
    static func both(_ data: Data, zone: String = "UTC", chunk: Int) throws -> (fast: Outcome, general: Outcome) {
        let general = try run(data, zone: zone, chunk: chunk, mode: .general)
        let transcoded = try run(data, zone: zone, chunk: chunk, mode: .transcoded)
        #expect(transcoded == general, "transcoded vs general, zone \(zone) chunk \(chunk)")
        #expect(transcoded.prepared == general.prepared)
        // Every chunk read ahead on two threads, however small.
        let readAhead = try run(data, zone: zone, chunk: chunk, mode: .readAhead)
        #expect(readAhead == general, "read ahead vs general, zone \(zone) chunk \(chunk)")
        #expect(readAhead.prepared == general.prepared)
        // The header alone first (as a pipe may deliver it), so that the first chunk of records
        // is read ahead too, however large the chunks.
        let apart = try run(data, zone: zone, chunk: chunk, mode: .readAhead, headerApart: true)
        #expect(apart == general, "read ahead, header apart, vs general, zone \(zone) chunk \(chunk)")
        #expect(apart.prepared == general.prepared)
        return (try run(data, zone: zone, chunk: chunk, mode: .fast), general)
    }

    /// `transcoded`: ``SacctStreamParser/consumePrepared(_:emit:)`` one line at a time;
    /// `readAhead`: the same with every chunk's lines read ahead on two threads.
    enum Mode { case general, fast, transcoded, readAhead }

    struct Outcome: Equatable {
        var runs: [JobRun] = []
        var records: UInt64 = 0, steps: UInt64 = 0, malformedCount: UInt64 = 0
        var malformed: [MalformedRecord] = []
        var clusters: [String] = []
        var error: String?
        /// Each run as the recorder's bytes: event, key and cluster.
        var prepared: [[UInt8]] = []
    }

    static func flat(_ p: JobRunRecorder.PreparedRun) -> [UInt8] { p.firstVersion + [0xff] + p.key + [0xff] + Array(p.cluster.utf8) }

    /// How many times a chunk's side work ran (on whichever thread took it).
    final class SideWork: @unchecked Sendable {   // `lock` guards `count`
        private let lock = NSLock()
        private var count = 0
        func done() { lock.lock(); count += 1; lock.unlock() }
        var times: Int { lock.lock(); defer { lock.unlock() }; return count }
    }

    static func run(_ data: Data, zone: String, chunk: Int, mode: Mode, headerApart: Bool = false) throws -> Outcome {
        var p = SacctStreamParser(timeZone: TimeZone(identifier: zone)!, defaultCluster: "dflt")
        p.usesFastPath = mode != .general
        p.parallelMinBytes = mode == .readAhead ? 0 : Int.max
        var o = Outcome()
        let bytes = [UInt8](data)
        var i = 0
        var firstChunk = headerApart ? (bytes.firstIndex(of: 10).map { $0 + 1 } ?? bytes.count) : 0
        // Read ahead, every chunk comes with side work (as an import's hashing): it must run
        // exactly once per chunk, whichever path the chunk takes, an error included.
        let side = SideWork()
        var chunks = 0
        defer { if mode == .readAhead { #expect(side.times == chunks, "side work per chunk, chunk \(chunk)") } }
        do {
            while i < bytes.count {
                let n = firstChunk > 0 ? firstChunk : min(chunk, bytes.count - i)
                firstChunk = 0
                if mode == .readAhead {
                    chunks += 1
                    try bytes[i..<i + n].withUnsafeBytes {
                        try p.consumePrepared($0, alongside: { side.done() }) { o.prepared.append(flat($0)); o.runs.append(try decoded($0)) }
                    }
                } else if mode == .transcoded {
                    try bytes[i..<i + n].withUnsafeBytes { try p.consumePrepared($0) { o.prepared.append(flat($0)); o.runs.append(try decoded($0)) } }
                } else {
                    try bytes[i..<i + n].withUnsafeBytes { try p.consume($0) { o.runs.append($0) } }
                }
                i += n
            }
            if mode == .transcoded || mode == .readAhead {
                try p.finishPrepared { o.prepared.append(flat($0)); o.runs.append(try decoded($0)) }
            } else {
                try p.finish { o.runs.append($0) }
            }
        } catch {
            o.error = "\(error)"
        }
        o.records = p.records; o.steps = p.steps; o.malformedCount = p.malformedCount
        o.malformed = p.malformed; o.clusters = p.clusters
        if mode != .transcoded && mode != .readAhead { o.prepared = o.runs.map { flat(JobRunRecorder.PreparedRun($0)) } }
        return o
    }

    static func decoded(_ p: JobRunRecorder.PreparedRun) throws -> JobRun {
        guard case .jobRunObserved(let e) = try EventCodec.decode(p.firstVersion) else { throw ByteDecodingError("not a job run") }
        return e.run
    }

    @Test func realSamplesAndFixtures() throws {
        var files: [String] = []
        let fm = FileManager.default
        for dir in [SampleFiles.shared.path, SampleFiles.shared.appendingPathComponent("cgroup-mode").path,
                    SampleFiles.repo.appendingPathComponent("fixtures/slurm").path] {
            for f in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where f.hasSuffix(".psv") { files.append(dir + "/" + f) }
        }
        #expect(files.count >= 10, "samples not found: \(files)")
        for f in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: f))
            for zone in ["UTC", "Europe/Tallinn"] {
                for chunk in [7, 97, 1 << 20] {
                    let (fast, general) = try Self.both(data, zone: zone, chunk: chunk)
                    #expect(fast == general, "\(f) zone \(zone) chunk \(chunk)")
                }
            }
        }
    }

    /// The presumed usage reads a run the fast path wrote from its account on
    /// (`PreparedRun.ownerAt`), past the identity and job id: it must add exactly what reading
    /// the whole event adds, for either TRES source, and count the same runs.
    @Test func usageReadFromTheAccountOnIsTheWholeEventsUsage() throws {
        let fm = FileManager.default
        let dir = SampleFiles.shared.path
        let files = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".psv") }.map { dir + "/" + $0 }
        #expect(files.count >= 5, "samples not found in \(dir)")
        var fromAccount = 0
        for source in [TRESSource.alloc, .req] {
            let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: source)
            var short = UsageAccumulator(), whole = UsageAccumulator()
            for f in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: f))
                // Dumps with a header only (some samples are the site-agent's four fields, headless).
                guard let firstLine = String(decoding: data.prefix(4096), as: UTF8.self).split(separator: "\n").first,
                      firstLine.contains("Account"), firstLine.contains("Start") else { continue }
                var p = SacctStreamParser(timeZone: TimeZone(identifier: "UTC")!, defaultCluster: "dflt")
                var runs: [JobRunRecorder.PreparedRun] = []
                try data.withUnsafeBytes { try p.consumePrepared($0) { runs.append($0) } }
                try p.finishPrepared { runs.append($0) }
                for r in runs {
                    if r.ownerAt > 0 { fromAccount += 1 }
                    r.firstVersion.withUnsafeBytes { bytes in
                        #expect(short.addFinishedFirstVersion(bytes, settings: settings, ownerAt: Int(r.ownerAt))
                                    == whole.addFinishedFirstVersion(bytes, settings: settings))
                    }
                }
            }
            #expect(short.closedUsage() == whole.closedUsage())
            #expect(!whole.closedUsage().isEmpty)
        }
        #expect(fromAccount > 100)
    }

    static let header = "JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"

    /// Random records whose every field is drawn from usual, odd and invalid forms.
    @Test func randomisedEdgeForms() throws {
        var rng = SystemRandomNumberGenerator()
        // A fixed seed (the same inputs on every run) and a new one (printed with any failure).
        for seed in [0x5eed_2026_1127, UInt64.random(in: 0...UInt64.max, using: &rng)] { try randomisedEdgeForms(seed: seed) }
    }

    func randomisedEdgeForms(seed: UInt64) throws {
        var g = LCG(state: seed)
        let ids = ["123", "123", "00123", "", " 7 ", "123.batch", "99999999999999999999", "+5", "-3", "1e3", "18446744073709551615"]
        let displays = ["123", "123_4", "123+1", "123.0", "", " 12_[1-3] ", "abc"]
        let dbs = ["5", "5", "0", "", "x", " 42 ", "99999999999999999999", "123456789012345678901", "+7", "007"]
        let clusters = ["c1", "", " c2 ", "hpc1"]
        let accounts = ["hpc_a", "HPC_A", " Hpc_B ", "", "phys\u{e9}", "a\tb", String(repeating: "a", count: 128), String(repeating: "A", count: 129),
                        "hpc\u{0}a"]
        let users = ["alice", "", " bob ", "u1\u{301}", "carol", String(repeating: "u", count: 129), "alice\u{0}", "\u{0}"]
        let states = ["COMPLETED", "RUNNING", "CANCELLED by 1001", "", " PENDING "]
        let times = ["1767225600", "1767230000", "Unknown", "None", "N/A", "", "2026-01-05T10:00:00", "2026-03-29T03:30:00",
                     "2026-10-25T03:30:00", "2026-02-30T00:00:00", "1767225600x", "99999999999999999999", "7258118400", " 1767229999 ",
                     "-5", "0"]
        let durations = ["00:00:00", "00:01:03", "1-00:00:00", "05:30", "05:30.123", "1-02:03:04.500000", "00:61:00", "INVALID",
                         "", "123", "1-", "-1-00:00:00", "1:2:3:4", "+1-00:00:00", "1-05:30", "05.5", "05:30.", "9999999999:00:00",
                         " 00:00:09 ", "Unknown", "18446744073709551616"]
        let tres = ["billing=4,cpu=4,mem=16000M,node=1", "cpu=4,mem=1G", "", "cpu=1,,mem=2K", "mem=15.62G,cpu=2", "cpu=x",
                    "cpu", "=4", "gres/gpu:a100=2,gres/gpu=2", "cpu=1,cpu=2", "mem=1.5", "energy=99999999999999999999",
                    "mem=8796093022208T", "fs/disk=1P", "cpu=4,mem=1G,", " cpu=2 ", "b=1,a=2", "mem=0.0001K", "gres/gpu=1\u{e9}",
                    "license/matlab=3,cpu=2", "gres/" + String(repeating: "x", count: 70) + "=1", "cpu=1,gres/gpu:a100=1,gres/gpu:a100=2",
                    (1...17).map { "t\($0)=1" }.joined(separator: ","), "billing=10,cpu=2,gres/gpu:a100=2,gres/gpu=2,mem=400M,node=1"]
        func pick(_ a: [String]) -> String { a[Int(g.next() % UInt64(a.count))] }
        var text = Self.header + "\n"
        for _ in 0..<4_000 {
            var fields = [pick(ids), pick(displays), pick(dbs), pick(clusters), pick(accounts), pick(users), pick(states),
                          pick(times), pick(times), pick(times), "12", pick(durations), pick(tres), pick(tres)]
            let r = g.next() % 40
            if r == 0 { fields.removeLast() }                      // too few: starts a continuation
            if r == 1 { fields.append("") }                        // `-p` trailing separator
            if r == 2 { fields.append("extra") }                   // too many
            var line = fields.joined(separator: "|")
            if r == 3 { line += "\r" }
            if r == 4 { line = "" }
            text += line + "\n"
        }
        let data = Data(text.utf8)
        for chunk in [13, 4096] {
            let (fast, general) = try Self.both(data, zone: "Europe/Tallinn", chunk: chunk)
            #expect(fast == general, "seed \(seed), chunk \(chunk)")
            #expect(fast.records > 50, "seed \(seed): too few good records to mean much")
        }
        // Cut short: the last line has no newline.
        let (fast, general) = try Self.both(data.dropLast(), zone: "UTC", chunk: 1 << 20)
        #expect(fast == general, "seed \(seed), last line without newline")
    }

    /// Every well-known TRES name and job state (the one-byte codes the transcoder looks up by
    /// length and bytes), and near misses of them, transcode exactly as the general path encodes.
    @Test func wellKnownNamesAndNearMissesTranscodeAsTheGeneralPathEncodes() throws {
        let names = ["cpu", "mem", "energy", "node", "billing", "fs/disk", "vmem", "pages", "gres/gpu", "gres/gpu:a100",
                     "gres/gpu:h100", "gres/gpu:v100", "gres/gpu:a40", "gres/gpu:l40s", "gres/gpu:mi250x", "gres/gpu:mi300x",
                     "cpus", "cp", "mem2", "nodes", "gres/gpu:a10", "gres/gpu:a1000", "gres/gpu:mi250", "gres/gpu:l40", "gres/gpu:b200",
                     "fs/lustre", "bb/datawarp", "license/x", "billinG", "gres/gpx", "energz", "pageS"]
        let states = ["COMPLETED", "RUNNING", "PENDING", "FAILED", "CANCELLED", "TIMEOUT", "REQUEUED", "NODE_FAIL", "OUT_OF_MEMORY",
                      "PREEMPTED", "SUSPENDED", "BOOT_FAIL", "DEADLINE", "RESIZING", "REVOKED", "REQUEUE_HOLD", "REQUEUE_FED",
                      "SPECIAL_EXIT", "CANCELLED by 0", "COMPLETE", "RUNNINGX", "completed", "C", "FAILED by x", "X"]
        var text = Self.header + "\n"
        var db = 100
        for (i, name) in names.enumerated() {
            db += 1
            text += "\(db)|\(db)|\(db)|c|acct|u|\(states[i % states.count])|1767225600|1767225660|1767229260|3600|0|\(name)=3|\(name)=3,cpu=1\n"
        }
        for state in states {
            db += 1
            text += "\(db)|\(db)|\(db)|c|acct|u|\(state)|1767225600|1767225660|1767229260|3600|0|cpu=1|cpu=1\n"
        }
        let (fast, general) = try Self.both(Data(text.utf8), chunk: 1 << 20)
        #expect(fast == general)
        #expect(general.runs.count == names.count + states.count)
    }

    /// A fixed, plainly formed file: every record takes the fast path and reads as expected.
    @Test func plainRecordsReadAsExpected() throws {
        let text = Self.header + "\n"
            + "10|10|20|c|HPC_X|alice|COMPLETED|1767225600|1767225660|1767229260|3600|00:10:00|billing=2,cpu=2,gres/gpu:a100=1,gres/gpu=1,mem=4G,node=1|cpu=2,mem=4096M\n"
            + "11|8_1|21|c|hpc_x|bob|RUNNING|1767225600|1767225600|Unknown|0|00:00:00|cpu=1,mem=512K|cpu=1\n"
        let (fast, general) = try Self.both(Data(text.utf8), chunk: 1 << 20)
        #expect(fast == general)
        #expect(fast.runs.count == 2)
        let r = fast.runs[0]
        #expect(r.identity == .dbIndex(cluster: "c", index: 20))
        #expect(r.account == "hpc_x")
        #expect(r.suspended == 600)
        #expect(r.allocTRES?["mem"] == 4_096)
        #expect(r.allocTRES?["gres/gpu:a100"] == 1)
        #expect(fast.runs[1].allocTRES?["mem"] == 0)   // 512 KiB = 0.5 MiB, half to even
        #expect(fast.runs[1].jobID == "8_1")
    }
}

/// A tiny deterministic generator for the randomised test (the seed is printed on failure).
struct LCG {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 17
    }
}
