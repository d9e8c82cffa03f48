import Foundation
import Testing

// reckon end to end against a live Slurm cluster (tools/slurm-sandbox): the job mix is submitted
// by tools/slurm-sandbox/jobs.sh, reckon ingests through the real sacct, and every number reckon
// shows or sends is compared with sacct's own --truncate accounting of the same window, computed
// here with integer arithmetic (Exact.swift) and nothing from reckon. See docs/slurm-integration.md.
//
// Without a cluster (no Slurm tools, not root, or the sandbox not started) the end-to-end test is
// skipped and the reason printed; with RECKON_REQUIRE_SLURM=1 (CI) a missing cluster fails.

@Suite("Slurm end to end", .serialized)
struct SlurmEndToEndTests {
    @Test("RECKON_REQUIRE_SLURM=1 means a live cluster must be here")
    func requiredClusterIsPresent() {
        if SlurmCluster.required {
            #expect(SlurmCluster.unavailableReason == nil, "RECKON_REQUIRE_SLURM=1 but: \(SlurmCluster.unavailableReason ?? "")")
        }
    }

    // Enabled only when a cluster is up (or required: then it fails loudly instead of skipping).
    // The reason for a skip is printed on standard error by SlurmCluster.unavailableReason.
    @Test("ingest, usage, sync and verify through real sacct", .enabled(if: SlurmCluster.shouldRun,
          "needs a live Slurm cluster: tools/slurm-sandbox/up.sh as root (RECKON_REQUIRE_SLURM=1 makes its absence a failure)"),
          .timeLimit(.minutes(10)))
    func endToEnd() async throws {
        if let reason = SlurmCluster.unavailableReason {
            Issue.record("RECKON_REQUIRE_SLURM=1 but no usable Slurm cluster: \(reason)")
            return
        }
        let scenario = try Scenario()
        defer { scenario.finish() }
        try await scenario.run()
    }
}

/// What jobs.sh left in $RECKON_SLURM_DIR/jobs/last.
struct JobMix {
    var directory: String
    var start: Int64
    var end: Int64
    var jobIDs: [String: String]            // label → JobID
    var actions: [(epoch: Int64, action: String, label: String)]

    func actionTime(_ action: String) -> Int64? { actions.first { $0.action == action }?.epoch }

    static func load(_ dir: String) throws -> JobMix {
        let window = try String(contentsOfFile: dir + "/window", encoding: .utf8).split(separator: " ").compactMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard window.count == 2 else { throw ShellError(description: "\(dir)/window: expected 'START END'") }
        var ids: [String: String] = [:]
        for line in try String(contentsOfFile: dir + "/jobs.tsv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 2 { ids[f[0]] = f[1] }
        }
        var actions: [(Int64, String, String)] = []
        for line in try String(contentsOfFile: dir + "/actions.tsv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 4, let e = Int64(f[0]) { actions.append((e, f[1], f[3])) }
        }
        return JobMix(directory: dir, start: window[0], end: window[1], jobIDs: ids, actions: actions.map { (epoch: $0.0, action: $0.1, label: $0.2) })
    }
}

/// The expectation for one half-open window [w1, w2).
struct WindowExpectation {
    var name: String
    var w1: Int64
    var w2: Int64
    /// Σ AllocTRES × ElapsedRaw of sacct --truncate: the reference.
    var sacct: NativeUsage
    /// The same, with every suspended run's ElapsedRaw replaced by reckon's documented even
    /// spread of the suspension (ARCHITECTURE.md, "Suspended time"): equal to `sacct` unless the
    /// window cuts through a suspended run.
    var model: NativeUsage
    var rows: Int
    var suspensionNotes: [String]
}

final class Scenario: @unchecked Sendable {
    let root: String
    let log: ArtifactLog
    let sacct: Sacct
    let reckon: String
    let zone = "Europe/Tallinn"   // not UTC on purpose: sacct is always read in UTC, months are local
    /// Waldur components of the offering: name, unit_factor, measured unit.
    let components: [(String, String, String)] = [("cpu", "1", "CPU-minutes"), ("mem", "1024", "GiB-minutes"), ("gres/gpu", "1", "GPU-minutes")]
    /// A second, read-only view of the same state with every TRES and odd unit factors (usage only).
    let everyTRES: [(String, String, String)] = [("cpu", "0.25", "quarter-CPU-minutes"), ("mem", "1", "MiB-minutes"), ("gres/gpu", "0.1", "GPU-deciminutes"),
                                                  ("gres/gpu:a100", "1", "A100-minutes"), ("node", "7", "node-weeks"), ("billing", "3", "billing")]
    var sim: SimulatorProcess?
    var config = "", configEvery = ""
    var timings: [(String, Double)] = []
    var compared = 0
    var report: [String] = []

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("reckon-slurmit-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let artifacts = SlurmCluster.environment["RECKON_SLURMIT_ARTIFACTS"] ?? root + "/artifacts"
        log = try ArtifactLog(directory: artifacts)
        sacct = Sacct(cluster: SlurmCluster.clusterName, log: log)
        reckon = SlurmCluster.reckonBinary!
        say("work directory \(root); sacct outputs and commands in \(artifacts) (MANIFEST.txt); reckon \(reckon)")
    }

    func finish() {
        sim?.stop()
        say("timings: " + timings.map { "\($0.0) \(String(format: "%.1f", $0.1)) s" }.joined(separator: ", "))
        try? report.joined(separator: "\n").write(toFile: log.directory + "/comparison.txt", atomically: true, encoding: .utf8)
    }

    func say(_ s: String) { print("[slurm-it] \(s)") }

    func timed<T>(_ what: String, _ body: () async throws -> T) async rethrows -> T {
        let t0 = Date()
        defer { timings.append((what, Date().timeIntervalSince(t0))) }
        return try await body()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
    static func iso(_ t: Int64) -> String { Sacct.utc(t) + "Z" }

    /// Sleeps until the clock is past `t` (sacct treats -E equal to the current second as E + 1).
    static func waitPast(_ t: Int64) {
        while Double(t) + 1.05 > Date().timeIntervalSince1970 { usleep(50_000) }
    }

    // MARK: - the steps

    func run() async throws {
        let mix = try await timed("job mix") { try jobMix() }
        // The observation instant: every check counts running jobs up to `obs` (ingest --now obs,
        // sacct -E obs), so both sides stop the running job at the same second.
        // A few seconds after the mix settled, so that [START, obs) and [START, END) differ; one
        // second in the past, so that sacct never sees -E equal to its current second.
        Self.waitPast(mix.end + 3)
        let obs = Self.now() - 1
        say("job mix [\(mix.start), \(mix.end)) in \(mix.directory); observation instant \(obs) (\(Self.iso(obs)))")
        let dump = try sacct.rows(mix.start, obs, truncate: false, format: Sacct.dumpFormat, name: "dump-untruncated.psv")
        checkJobMix(dump, mix)

        try await timed("simulator and config") { try startSimulatorAndConfig() }

        // 1. reckon ingest through the real sacct
        let ingest = try await timed("reckon ingest") {
            try reckonRun(["ingest", "-c", config, "--now", Self.iso(obs), "--start", Self.iso(mix.start), "--end", Self.iso(obs)])
        }
        #expect(ingest.ok, "reckon ingest failed: \(ingest.summary)")
        #expect(ingest.stdout.contains("ingested \(dump.count) job records"), "reckon ingest: \(ingest.stdout) (sacct listed \(dump.count) runs)")

        // 2. reckon usage against sacct --truncate for windows cutting through running jobs
        var windows = try await timed("usage windows") { try checkUsageWindows(mix: mix, dump: dump, obs: obs) }

        // 3. reckon sync against the simulator, then the stored values
        Self.waitPast(Self.now())
        let syncAt = Self.now() - 1
        let sync = try await timed("reckon sync") { try reckonRun(["sync", "-c", config, "--now", Self.iso(syncAt)]) }
        #expect(sync.ok, "reckon sync failed: \(sync.summary)")
        let months = try await timed("stored values") { try await checkStoredValues(syncAt: syncAt) }

        // 4. reckon verify --against all for every open month, and against sacct on windows
        try await timed("reckon verify") {
            // --month: the sacct side runs sacct --truncate over [month start, last observation = T)
            // (agreement, unless a suspended run crosses the month edge: then exactly its difference);
            // the Waldur side compares the stored values with the desired ones (always agreement).
            for (label, e) in months {
                try verify(e, ["--month", label, "--against", "all", "--now", Self.iso(syncAt)])
            }
            windows = windows.filter { ["whole", "suspend-part", "odd-cut"].contains($0.name) }
            for w in windows { try verify(w, ["--from", Self.iso(w.w1), "--to", Self.iso(w.w2), "--against", "sacct"]) }
        }

        // 5. a second sync at the same instant sends nothing; the log replays bit for bit
        try await timed("idempotence and replay") {
            let before = try await sim!.writeRequests()
            let again = try reckonRun(["sync", "-c", config, "--now", Self.iso(syncAt)])
            #expect(again.ok, "second reckon sync: \(again.summary)")
            let after = try await sim!.writeRequests()
            #expect(after == before, "a second sync at the same instant wrote \(after - before) times")
            let replay = try reckonRun(["replay", "-c", config])
            #expect(replay.ok && replay.stdout.contains("identical"), "reckon replay: \(replay.summary)")
        }

        // the running job is still running at check time
        if let id = mix.jobIDs["still-running"] {
            let state = try Shell.run("squeue", ["-h", "-j", id, "-o", "%T"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(state == "RUNNING", "still-running (\(id)) is \(state.isEmpty ? "gone" : state) at the end of the checks")
        }
        say("compared \(compared) values; see \(log.directory)/comparison.txt")
    }

    /// Runs tools/slurm-sandbox/jobs.sh (about 40 s), or with RECKON_SLURM_JOBS=reuse reuses the
    /// last mix while its still-running job is still running (for quick iterations).
    func jobMix() throws -> JobMix {
        let last = SlurmCluster.sandboxDirectory + "/jobs/last"
        if SlurmCluster.environment["RECKON_SLURM_JOBS"] == "reuse", let mix = try? JobMix.load(last),
           let id = mix.jobIDs["still-running"],
           (try? Shell.run("squeue", ["-h", "-j", id, "-o", "%T"]))?.stdout.contains("RUNNING") == true {
            say("RECKON_SLURM_JOBS=reuse: reusing the job mix in \(last)")
            return mix
        }
        say("submitting the job mix (tools/slurm-sandbox/jobs.sh, about 40 s)")
        let r = try Shell.run(SlurmCluster.sandboxScripts + "/jobs.sh", [], timeout: 300)
        log.save("jobs.sh.log", r.stdout + r.stderr, note: "command: \(r.command)\nexit: \(r.status)")
        guard r.ok else { throw ShellError(description: "jobs.sh failed: \(r.summary)") }
        return try JobMix.load(last)
    }

    /// The mix really has what the issue asks for: a running job, a requeue, a suspension, a
    /// failure, a cancellation, an array and GPUs.
    func checkJobMix(_ dump: [SacctRow], _ mix: JobMix) {
        let byName = Dictionary(grouping: dump, by: { $0["JobName"] })
        let running = byName["still-running"] ?? []
        #expect(running.count == 1 && running.first?["State"] == "RUNNING" && running.first?["End"] == "Unknown", "still-running: \(running.map(\.fields))")
        let rq = byName["requeued"] ?? []
        #expect(rq.count >= 2 && Set(rq.map { $0["DBIndex"] }).count == rq.count && rq.contains { $0["State"] == "REQUEUED" },
                "requeued: expected two runs with their own DBIndex, one REQUEUED: \(rq.map(\.fields))")
        let su = byName["suspended"] ?? []
        #expect(su.count == 1 && (durationSeconds(su.first?["Suspended"] ?? "") ?? 0) > 0, "suspended: \(su.map(\.fields))")
        #expect(byName["fails"]?.first?["State"] == "FAILED", "fails: \(byName["fails"]?.map(\.fields) ?? [])")
        #expect(byName["cancelled-running"]?.first?["State"].hasPrefix("CANCELLED") == true, "cancelled-running")
        #expect((byName["array"] ?? []).count == 3, "array: 3 tasks")
        #expect(dump.filter { $0["AllocTRES"].contains("gres/gpu=") }.count >= 3, "GPU jobs")
        #expect(byName["never-started"] == nil, "a job cancelled while pending with a future --begin is not listed")
        say("job mix: \(dump.count) runs; requeued \(rq.map { "DBIndex \($0["DBIndex"]) \($0["State"]) [\($0["Start"]), \($0["End"]))" }.joined(separator: ", ")); suspended \(su.first?["Suspended"] ?? "?")")
    }

    func writeConfig(_ path: String, components: [(String, String, String)], url: String) throws {
        let slurmBin = URL(fileURLWithPath: Shell.which("sacct")!).deletingLastPathComponent().path
        var y = """
        # written by Tests/SlurmIntegrationTests: a waldur-site-agent config for the sandbox cluster
        timezone: "\(zone)"
        reporting_periods: 2
        offerings:
          - name: "Slurm sandbox"
            waldur_api_url: "\(url)/api/"
            waldur_api_token: "\(SimulatorProcess.token)"
            waldur_offering_uuid: "\(SimulatorProcess.offering)"
            reporting_backend: "slurm"
            backend_type: "slurm"
            backend_settings:
              slurm_bin_path: "\(slurmBin)"
              cluster_name: "\(SlurmCluster.clusterName)"
            backend_components:

        """
        for (name, factor, unit) in components {
            y += "      \(name):\n        measured_unit: \"\(unit)\"\n        unit_factor: \(factor)\n        accounting_type: \"usage\"\n        label: \"\(name)\"\n"
        }
        y += "reckon:\n  state_dir: \"\(root)/state\"\n  usage_tres: alloc\n"
        try y.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func startSimulatorAndConfig() throws {
        let seed = root + "/waldur-seed.yaml"
        try SimulatorProcess.seed(components: components.map { ($0.0, $0.2) }).write(toFile: seed, atomically: true, encoding: .utf8)
        let s = try SimulatorProcess(reckon: reckon, seedPath: seed, directory: root)
        sim = s
        config = root + "/config.yaml"
        configEvery = root + "/config-every-tres.yaml"
        try writeConfig(config, components: components, url: s.url)
        try writeConfig(configEvery, components: everyTRES, url: s.url)
        say("waldur-sim at \(s.url); config \(config)")
    }

    func reckonRun(_ args: [String], timeout: Double = 180) throws -> CommandResult {
        let r = try Shell.run(reckon, args + ["--log-level", "warning"], timeout: timeout)
        log.note("reckon: \(r.command)\n  exit \(r.status) after \(String(format: "%.2f", r.seconds)) s")
        return r
    }

    // MARK: - expectations

    func expectation(_ name: String, _ w1: Int64, _ w2: Int64) throws -> WindowExpectation {
        let truncated = try sacct.rows(w1, w2, truncate: true, format: Sacct.truncateFormat, name: "truncate-\(name).psv")
        let full = try sacct.rows(w1, w2, truncate: false, format: Sacct.dumpFormat, name: "rows-\(name).psv")
        let native = try Sacct.usage(ofTruncated: truncated, source: name)
        var model = native, notes: [String] = []
        let elapsedIn = Dictionary(truncated.map { ("\($0["JobIDRaw"])/\($0["DBIndex"])", $0.int("ElapsedRaw") ?? 0) }, uniquingKeysWith: { a, _ in a })
        for r in full {
            guard let suspended = durationSeconds(r["Suspended"]), suspended > 0 else { continue }
            guard let start = r.int("Start"), let end = r.int("End") else {
                throw ShellError(description: "\(name): run \(r["JobIDRaw"]) is suspended and still running; reckon's split of it is not modelled here")
            }
            // reckon: W = End − Start, A = W − Suspended, F(t) = ⌊(t − Start)·A/W⌋, window gets F(w2) − F(w1)
            let wall = end - start, active = wall - suspended
            #expect(Int64(r["ElapsedRaw"]) == active, "\(name): ElapsedRaw \(r["ElapsedRaw"]) != End − Start − Suspended for \(r.fields)")
            func f(_ t: Int64) -> Int128 { wall <= 0 ? 0 : floorDiv(Int128(min(max(t, start), end) - start) * Int128(active), Int128(wall)) }
            let spread = f(w2) - f(w1)
            let bySacct = Int128(elapsedIn["\(r["JobIDRaw"])/\(r["DBIndex"])"] ?? 0)
            guard spread != bySacct, let tres = parseTRES(r["AllocTRES"]) else { continue }
            for (t, count) in tres { model[UsageKey(account: r["Account"], user: r["User"], tres: t), default: 0] += count * (spread - bySacct) }
            notes.append("run \(r["JobIDRaw"]) (DBIndex \(r["DBIndex"]), \(r["Account"])/\(r["User"]), [\(start), \(end)), suspended \(suspended) s in all): "
                         + "sacct --truncate gives \(bySacct) s in the window (the real suspension intervals), reckon's even spread \(spread) s")
        }
        return WindowExpectation(name: name, w1: w1, w2: w2, sacct: native, model: model, rows: truncated.count, suspensionNotes: notes)
    }

    /// Expected cents per "account|user|component" ("account||component" for totals).
    func cents(_ native: NativeUsage, components: [(String, String, String)], accounts: Set<String>? = nil) -> [String: Cents] {
        var byUser: [String: [String: [String: Int128]]] = [:]
        for (k, v) in native { byUser[k.account.lowercased(), default: [:]][k.user, default: [:]][k.tres, default: 0] += v }
        var out: [String: Cents] = [:]
        for (account, users) in byUser where accounts?.contains(account) ?? true {
            for (name, factor, _) in components {
                let f = DecimalFactor(factor)!
                var total: Int128 = 0
                for (user, tres) in users {
                    total += tres[name] ?? 0
                    out["\(account)|\(user)|\(name)"] = f.cents(nativeSeconds: tres[name] ?? 0)
                }
                out["\(account)||\(name)"] = f.cents(nativeSeconds: total)   // rounded once from the exact total
            }
        }
        return out
    }

    func reckonUsage(config: String, _ w1: Int64, _ w2: Int64) throws -> [String: Cents] {
        var out: [String: Cents] = [:]
        for by in ["user", "resource"] {
            let r = try reckonRun(["usage", "-c", config, "--from", Self.iso(w1), "--to", Self.iso(w2), "--by", by, "--json"])
            guard r.ok else { throw ShellError(description: r.summary) }
            for line in r.stdout.split(separator: "\n") {
                guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let resource = o["resource"] as? String, let component = o["component"] as? String,
                      let amount = (o["amount"] as? String).flatMap(Cents.init(parsing:)) else {
                    throw ShellError(description: "reckon usage: unparsable line \(line)")
                }
                out["\(resource.lowercased())|\((o["user"] as? String) ?? "")|\(component)"] = amount
            }
        }
        return out
    }

    /// Compares expected with actual; missing keys count as 0. Returns the mismatches.
    func compare(_ what: String, expected: [String: Cents], actual: [String: Cents], reference: [String: Cents]? = nil) -> [String] {
        var bad: [String] = []
        for k in Set(expected.keys).union(actual.keys).sorted() {
            let e = expected[k] ?? .zero, a = actual[k] ?? .zero
            compared += 1
            var line = "\(what)  \(k.replacingOccurrences(of: "||", with: "|(total)|"))  expected \(e)  reckon \(a)"
            if let r = reference?[k] ?? (reference == nil ? nil : Cents.zero), r != e { line += "  (sacct --truncate \(r); difference \(e - r) from the suspended run)" }
            report.append(line)
            if e != a { bad.append(line) }
        }
        return bad
    }

    func windows(mix: JobMix, dump: [SacctRow], obs: Int64) -> [(String, Int64, Int64)] {
        let s = mix.start
        let rq = (dump.filter { $0["JobName"] == "requeued" }).sorted { (Int($0["DBIndex"]) ?? 0) < (Int($1["DBIndex"]) ?? 0) }
        var w: [(String, Int64, Int64)] = [
            ("whole", s, obs),                                   // still-running cut at the observation instant
            ("mix", s, mix.end),
            ("odd-cut", s + 7, s + 29),
            ("split-1", s, s + 13), ("split-2", s + 13, obs),
            ("one-second", s + 13, s + 14),
        ]
        if let a = mix.actionTime("suspend"), let b = mix.actionTime("resume") {
            w.append(("suspend-part", a - 3, b - 4))          // part of the suspension inside
            w.append(("after-suspend", b - 1, obs - 2))
        }
        if rq.count >= 2, let e1 = rq[0].int("End"), let s2 = rq[1].int("Start") {
            w.append(("requeue-gap", e1 - 3, s2 + 5))
        }
        var x = UInt64(bitPattern: s) &* 0x9E37_79B9_7F4A_7C15       // deterministic "odd" seconds per mix
        func next(_ n: Int64) -> Int64 {
            x = x &+ 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int64((z ^ (z >> 31)) % UInt64(max(n, 1)))
        }
        for i in 1...3 {
            let a = s + next(obs - s - 1)
            w.append(("random-\(i)", a, a + 1 + next(obs - a - 1)))
        }
        return w.filter { $0.1 < $0.2 && $0.2 <= obs && $0.1 >= s - 3600 }
    }

    func checkUsageWindows(mix: JobMix, dump: [SacctRow], obs: Int64) throws -> [WindowExpectation] {
        var all: [WindowExpectation] = []
        for (name, w1, w2) in windows(mix: mix, dump: dump, obs: obs) {
            let e = try expectation(name, w1, w2)
            all.append(e)
            report.append("## \(name) [\(w1), \(w2)) = [\(Self.iso(w1)), \(Self.iso(w2))), \(e.rows) sacct rows")
            report += e.suspensionNotes.map { "   " + $0 }
            let want = cents(e.model, components: components)
            let got = try reckonUsage(config: config, w1, w2)
            let bad = compare(name, expected: want, actual: got, reference: cents(e.sacct, components: components))
            #expect(bad.isEmpty, "reckon usage \(name) [\(w1), \(w2)) differs from sacct --truncate:\n\(bad.joined(separator: "\n"))")
            let wantEvery = cents(e.model, components: everyTRES)
            let gotEvery = try reckonUsage(config: configEvery, w1, w2)
            let badEvery = compare(name + " (every TRES)", expected: wantEvery, actual: gotEvery, reference: cents(e.sacct, components: everyTRES))
            #expect(badEvery.isEmpty, "reckon usage \(name), every TRES:\n\(badEvery.joined(separator: "\n"))")
            say("window \(name) [\(w1), \(w2)): \(e.rows) sacct rows, \(want.count + wantEvery.count) values "
                + (bad.isEmpty && badEvery.isEmpty ? "agree" : "DIFFER") + (e.suspensionNotes.isEmpty ? "" : "; " + e.suspensionNotes.joined(separator: "; ")))
        }
        // half-open windows add up (sacct's side; reckon's native values are checked through cents above)
        if let a = all.first(where: { $0.name == "split-1" }), let b = all.first(where: { $0.name == "split-2" }), let w = all.first(where: { $0.name == "whole" }) {
            let sum = a.sacct.merging(b.sacct, uniquingKeysWith: +)
            #expect(Set(sum.keys).union(w.sacct.keys).allSatisfy { (sum[$0] ?? 0) == (w.sacct[$0] ?? 0) }, "sacct: split-1 + split-2 != whole")
        }
        return all
    }

    /// The months reckon syncs (reporting_periods: 2): this one and the previous, in the config's zone.
    func openMonths(at t: Int64) -> [(String, Int64, Int64)] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: zone)!
        let now = Date(timeIntervalSince1970: TimeInterval(t))
        let thisStart = cal.date(from: cal.dateComponents([.year, .month], from: now))!
        var out: [(String, Int64, Int64)] = []
        for back in [-1, 0] {
            let s = cal.date(byAdding: .month, value: back, to: thisStart)!, e = cal.date(byAdding: .month, value: 1, to: s)!
            let c = cal.dateComponents([.year, .month], from: s)
            out.append((String(format: "%04d-%02d", c.year!, c.month!), Int64(s.timeIntervalSince1970), Int64(e.timeIntervalSince1970)))
        }
        return out
    }

    func checkStoredValues(syncAt: Int64) async throws -> [(month: String, expectation: WindowExpectation)] {
        let stored = try await sim!.storedUsages()
        let waldurAccounts = Set(SimulatorProcess.resources.keys.map { $0.lowercased() })
        var actual: [String: [String: Cents]] = [:]
        for (k, v) in stored { actual[String(k.period.prefix(7)), default: [:]]["\(k.account)|\(k.user ?? "")|\(k.component)"] = v }
        let months = openMonths(at: syncAt)
        var checked: [(month: String, expectation: WindowExpectation)] = []
        for (label, ms, me) in months {
            let w2 = min(me, syncAt)
            guard ms < w2 else { continue }
            let e = try expectation("month-\(label)", ms, w2)
            checked.append((label, e))
            report.append("## sync: month \(label) [\(ms), \(w2)) = [\(Self.iso(ms)), \(Self.iso(w2))), \(e.rows) sacct rows; values stored in the simulator")
            report += e.suspensionNotes.map { "   " + $0 }
            let bad = compare("stored \(label)", expected: cents(e.model, components: components, accounts: waldurAccounts),
                              actual: actual[label] ?? [:], reference: cents(e.sacct, components: components, accounts: waldurAccounts))
            #expect(bad.isEmpty, "values stored in Waldur for \(label) differ from sacct --truncate over [\(ms), \(w2)):\n\(bad.joined(separator: "\n"))")
            say("sync: \(label): \((actual[label] ?? [:]).count) stored values " + (bad.isEmpty ? "agree with sacct" : "DIFFER"))
        }
        let unknown = actual.keys.filter { k in !months.contains { $0.0 == k } }
        #expect(unknown.isEmpty, "the simulator holds values for months reckon should not touch: \(unknown)")
        return checked
    }

    /// `reckon verify`: agrees exactly where no suspended run is cut, and otherwise lists exactly
    /// the differences the even spread makes, all against sacct (never against Waldur).
    func verify(_ w: WindowExpectation, _ args: [String]) throws {
        let v = try reckonRun(["verify", "-c", config, "--json"] + args)
        let lines = v.stdout.split(separator: "\n").map(String.init)
        var listed: [String: (Cents, Cents)] = [:]
        for l in lines.dropLast() {
            guard let o = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else { continue }
            #expect(o["against"] as? String == "sacct", "reckon verify \(args.joined(separator: " ")): disagreement with Waldur \(l)")
            guard let ours = (o["reckon"] as? String).flatMap(Cents.init(parsing:)), let theirs = (o["other"] as? String).flatMap(Cents.init(parsing:)) else { continue }
            listed["\((o["resource"] as? String ?? "").lowercased())|\(o["user"] as? String ?? "")|\(o["component"] as? String ?? "")"] = (ours, theirs)
        }
        let model = cents(w.model, components: components), truth = cents(w.sacct, components: components)
        var expectedList: [String: (Cents, Cents)] = [:]
        for k in Set(model.keys).union(truth.keys) where (model[k] ?? .zero) != (truth[k] ?? .zero) {
            expectedList[k] = (model[k] ?? .zero, truth[k] ?? .zero)
        }
        let same = Set(listed.keys) == Set(expectedList.keys) && listed.allSatisfy { k, got in
            guard let e = expectedList[k] else { return false }
            return e.0 == got.0 && e.1 == got.1
        }
        #expect(same && v.ok == expectedList.isEmpty,
                "reckon verify \(args.joined(separator: " ")): expected \(expectedList.isEmpty ? "agreement" : "exactly the suspended run's difference \(expectedList)"), got exit \(v.status): \(v.stdout)")
        say("verify \(args.joined(separator: " ")): " + (expectedList.isEmpty ? "agrees" : "lists exactly the \(expectedList.count) differences of the even spread") + " — \(lines.last ?? "")")
    }
}
