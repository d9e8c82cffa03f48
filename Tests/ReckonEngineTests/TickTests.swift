import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonEngine
import ReckonLMDB
import ReckonSacct
import ReckonWaldur
import Testing

/// Whole ticks: a stand-in `sacct` executable prints a real sacct dump (the shared samples'
/// `--format=ALL` output, with its multi-line and `|`-in-name records), the tick polls it, and
/// reconciles against the simulator.
@Suite(.serialized) struct TickTests {
    func standIn(_ h: SimulatorHarness, printing file: String) throws -> OfferingConfiguration {
        let bin = h.directory + "-sacct"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"$@\" >> '\(bin)/argv.log'\ncat '\(file)'\n".write(toFile: bin + "/sacct", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/sacct")
        var o = h.offering
        o.slurmBinPath = bin
        return o
    }

    /// A directory holding a `sacct` that fails as it does when slurmdbd is down.
    func failingSacct(_ h: SimulatorHarness) throws -> String {
        let bad = h.directory + "-bad"
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        try "#!/bin/sh\necho 'sacct: error: Problem talking to the database: Connection refused' >&2\nexit 1\n".write(toFile: bad + "/sacct", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bad + "/sacct")
        return bad
    }

    /// One tick of `ledger` under `cfg` at the harness's "now".
    func tick(_ ledger: Ledger, _ cfg: ReckonConfiguration, _ client: WaldurClient, dryRun: Bool = false) async -> ReconcileTick.Result {
        await ReconcileTick(ledger: ledger, config: cfg, clock: FixedClock(SimulatorHarness.now), logger: Logger(label: "test"),
                            clients: [cfg.offerings[0].offeringUUID: client]).run(dryRun: dryRun)
    }

    @Test func anIdleTickAppendsOnlyThePollRecordAndWritesNothing() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        let o = try standIn(h, printing: Fixtures.shared("sacct-samples/allocations_ALL.psv"))
        var cfg = h.config
        cfg.offerings = [o]
        try await h.withClient { client in
            let tick = ReconcileTick(ledger: h.ledger, config: cfg, clock: FixedClock(SimulatorHarness.now), logger: Logger(label: "test"),
                                     clients: [o.offeringUUID: client])
            let first = await tick.run()
            #expect(first.ok, "\(first.errors) \(first.reports.flatMap(\.errors))")
            #expect(first.ingest?.records == 18)
            #expect(first.ingest?.malformedCount == 0)
            #expect(first.reports.first?.writes ?? 0 > 0)
            let events = try h.events(), posts = await h.posts()
            let before = await h.sim.requestCounts()
            let second = await tick.run()
            #expect(second.ok)
            #expect(second.ingest?.newVersions == 0)
            #expect(try h.events() == events + 1)            // the poll record only
            #expect(await h.posts() == posts)                // no Waldur write
            let after = await h.sim.requestCounts()
            let listCalls = after.filter { $0.key.hasPrefix("GET") }.values.reduce(0, +) - before.filter { $0.key.hasPrefix("GET") }.values.reduce(0, +)
            #expect(listCalls == 2)                          // one read-back per open month
            // sacct was asked exactly as documented: one call for all accounts, no --truncate.
            let argv = try String(contentsOfFile: o.slurmBinPath + "/argv.log", encoding: .utf8).split(separator: "\n")
            #expect(argv.count == 2)
            #expect(argv.allSatisfy { $0.hasPrefix("--allusers --allocations --duplicates --parsable2 --noconvert --starttime=") && !$0.contains("--truncate") && !$0.contains("--accounts") })
        }
    }

    @Test func aFailingSacctKeepsTheLogAndTheNextTickRecovers() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        var o = try standIn(h, printing: Fixtures.path("fixtures/slurm/dump-epoch.psv"))
        let good = o.slurmBinPath
        let bad = try failingSacct(h)
        o.slurmBinPath = bad
        var cfg = h.config
        cfg.offerings = [o]
        try await h.withClient { client in
            let failing = await tick(h.ledger, cfg, client)
            #expect(!failing.ok)
            #expect(failing.errors.first?.contains("sacct exited with status 1: sacct: error: Problem talking to the database") == true)
            o.slurmBinPath = good
            cfg.offerings = [o]
            let recovered = await tick(h.ledger, cfg, client)
            #expect(recovered.ok)
            #expect(recovered.ingest?.newVersions == 14)
        }
    }

    /// Offerings on two clusters (each its `cluster_name` and `slurm_bin_path`): a tick polls
    /// each once, with `--clusters` set, and records both clusters' runs and observations. Each
    /// cluster keeps its own poll marks: when one cluster's poll fails, its next poll re-scans the
    /// open months while the other's goes on incrementally.
    @Test func everyClusterTheOfferingsNameIsPolled() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        let dump = Fixtures.path("fixtures/slurm/dump-epoch.psv")
        var alpha = try standIn(h, printing: dump)
        alpha.clusterName = "reckon"                       // the dump's Cluster column
        let otherDump = h.directory + "-other.psv"
        let text = try String(contentsOfFile: dump, encoding: .utf8)
        try text.replacingOccurrences(of: "|reckon|", with: "|other|").write(toFile: otherDump, atomically: true, encoding: .utf8)
        let otherBin = h.directory + "-other-sacct"
        try FileManager.default.createDirectory(atPath: otherBin, withIntermediateDirectories: true)
        func otherSacct(failing: Bool) throws {
            let body = failing ? "echo 'sacct: error: Problem talking to the database' >&2\nexit 1" : "cat '\(otherDump)'"
            try "#!/bin/sh\necho \"$@\" >> '\(otherBin)/argv.log'\n\(body)\n".write(toFile: otherBin + "/sacct", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: otherBin + "/sacct")
        }
        var beta = alpha
        beta.clusterName = "other"
        beta.slurmBinPath = otherBin
        beta.offeringUUID = "0f0e0d0c0b0a09080706050403020100"   // not in Waldur, and given no client: polled, not reconciled
        var cfg = h.config
        cfg.offerings = [alpha, beta]
        try await h.withClient { client in
            try otherSacct(failing: true)
            let first = await tick(h.ledger, cfg, client)
            #expect(first.errors.count == 1 && first.errors[0].hasPrefix("sacct poll failed (cluster \"other\", \(otherBin)): sacct exited with status 1"), "\(first.errors)")
            #expect(first.ingest?.observations.map(\.cluster) == ["reckon"])
            #expect(first.reports.count == 1 && first.reports.first?.writes ?? 0 > 0)

            try otherSacct(failing: false)
            let second = await tick(h.ledger, cfg, client)
            #expect(second.ok, "\(second.errors) \(second.reports.flatMap(\.errors))")
            #expect(second.ingest?.observations.map(\.cluster) == ["reckon", "other"])
            #expect(second.ingest?.newVersions == 14)          // the other cluster's runs; ours are known

            func starts(_ log: String, cluster: String) throws -> [Substring] {
                let argv = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
                #expect(argv.count == 2 && argv.allSatisfy { $0.contains("--clusters=\(cluster)") }, "\(log): \(argv)")
                return argv.compactMap { $0.split(separator: " ").first { $0.hasPrefix("--starttime=") } }
            }
            let ours = try starts(alpha.slurmBinPath + "/argv.log", cluster: "reckon")
            let theirs = try starts(otherBin + "/argv.log", cluster: "other")
            #expect(ours.count == 2 && ours[1] != ours[0], "our second poll is incremental: \(ours)")
            #expect(theirs.count == 2 && theirs[1] == ours[0], "the other cluster's poll after a failure re-scans the open months: \(theirs) vs \(ours)")
        }
    }

    /// An offering whose cluster the log has no observation of is not reconciled because another
    /// cluster of the config was observed; with no other cluster named (a single-cluster site
    /// whose sacct spells the name otherwise) any cluster's coverage stands for it.
    @Test func anotherClustersCoverageDoesNotStandForThisOne() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        try h.ingest(Fixtures.path("fixtures/slurm/dump-epoch.psv"))   // observations of cluster "reckon"
        try await h.withClient { client in
            var other = h.offering
            other.clusterName = "other"
            var options = OfferingReconciler.Options()
            options.otherClusters = ["reckon"]
            let reconciler = { try OfferingReconciler(ledger: h.ledger, offering: other, client: client, clock: FixedClock(SimulatorHarness.now), logger: Logger(label: "test")) }
            let strict = try await reconciler().run(months: SimulatorHarness.months, options: options)
            #expect(strict.writes == 0 && strict.desired.isEmpty)
            #expect(strict.notes.filter { $0.contains("sacct has not been observed since the month began") }.count == 2)
            let lenient = try await reconciler().run(months: SimulatorHarness.months, options: OfferingReconciler.Options())
            #expect(lenient.writes > 0)
        }
    }

    /// A log that knows only an earlier window (`reckon ingest --start 2026-10-01 --end 2026-11-01`,
    /// run in November) knows nothing of November, although the import ran in November: with the
    /// first poll failing, October is reconciled and November, which Waldur holds values for, is
    /// left alone. (Before, the import's run time counted as November's coverage, and the tick
    /// zeroed every November value.)
    @Test func anImportOfAnEarlierWindowCoversOnlyThatWindow() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        let dump = Fixtures.path("fixtures/slurm/dump-epoch.psv")
        var o = try standIn(h, printing: dump)
        var cfg = h.config
        cfg.offerings = [o]
        try await h.withClient { client in
            let filled = await tick(h.ledger, cfg, client)
            #expect(filled.ok && filled.reports.first?.writes ?? 0 > 0)
            let november = try await h.stored(SimulatorHarness.months[1], client: client)
            #expect(november.values.contains { $0 != .zero })
            let posts = await h.posts()

            // October's sacct output: no job (the header only).
            let header = try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n")[0]
            let empty = h.directory + "-october.psv"
            try (header + "\n").write(toFile: empty, atomically: true, encoding: .utf8)
            let october = try standIn(h, printing: empty)
            let dir = h.directory + "-fresh"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let fresh = try Ledger(store: try LMDBEventStore(directory: dir), settings: h.ledger.settings)
            let window = TimeWindow(start: 1_790_812_800, end: 1_793_491_200)!   // [2026-10-01, 2026-11-01) UTC, by `date -u -d … +%s`
            _ = try IngestService(ledger: fresh).ingestSacct(command: SacctCommand(binDirectory: october.slurmBinPath, window: window, cluster: nil),
                                                             window: window, runner: SacctRunner(timeoutSeconds: 30),
                                                             observedAt: SimulatorHarness.now, defaultCluster: "x")
            let bad = try failingSacct(h)
            o.slurmBinPath = bad
            cfg.offerings = [o]
            let failing = await tick(fresh, cfg, client)
            let notes = failing.reports.first?.notes.filter { $0.contains("sacct has not been observed since the month began") } ?? []
            #expect(notes.count == 1 && notes.first?.hasPrefix("2026-11") == true, "\(notes)")
            #expect(failing.reports.first?.writes == 0)
            #expect(await h.posts() == posts)
            #expect(try await h.stored(SimulatorHarness.months[1], client: client) == november)
        }
    }

    /// A new state directory (a site switching over from the site-agent) whose first poll fails
    /// knows nothing of the open months: their desired usage is not zero but unknown, so the tick
    /// sends nothing and Waldur keeps what it holds. Once a poll succeeds, they are reconciled.
    @Test func aFreshLogWhoseFirstPollFailsDoesNotZeroWaldur() async throws {
        let h = try await SimulatorHarness.start()
        defer { Task { await h.stop() } }
        var o = try standIn(h, printing: Fixtures.path("fixtures/slurm/dump-epoch.psv"))
        var cfg = h.config
        cfg.offerings = [o]
        try await h.withClient { client in
            // What Waldur holds before the switch: the usage of the dump, written by a first log.
            let filled = await tick(h.ledger, cfg, client)
            #expect(filled.ok && filled.reports.first?.writes ?? 0 > 0)
            var before: [UsageTarget: ReckonCore.WaldurAmount] = [:]
            for m in SimulatorHarness.months { before.merge(try await h.stored(m, client: client)) { a, _ in a } }
            #expect(before.values.contains { $0 != .zero })
            let posts = await h.posts()

            let bad = try failingSacct(h)
            let good = o.slurmBinPath
            o.slurmBinPath = bad
            cfg.offerings = [o]
            let dir = h.directory + "-fresh"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let fresh = try Ledger(store: try LMDBEventStore(directory: dir), settings: h.ledger.settings)
            let failing = await tick(fresh, cfg, client)
            #expect(!failing.ok)
            #expect(failing.reports.first?.writes == 0)
            #expect(failing.reports.first?.notes.filter { $0.contains("sacct has not been observed since the month began") }.count == 2)
            #expect(await h.posts() == posts)
            var after: [UsageTarget: ReckonCore.WaldurAmount] = [:]
            for m in SimulatorHarness.months { after.merge(try await h.stored(m, client: client)) { a, _ in a } }
            #expect(after == before)
            // `plan` (a dry run) on that log proposes nothing either.
            let planned = await tick(fresh, cfg, client, dryRun: true)
            #expect(planned.reports.first.map { $0.plan.totalWrites.isEmpty && $0.plan.userWrites.isEmpty } == true)

            // The next poll succeeds: the months are known, and agree with what Waldur holds.
            o.slurmBinPath = good
            cfg.offerings = [o]
            let recovered = await tick(fresh, cfg, client)
            #expect(recovered.ok)
            #expect(recovered.reports.first?.notes.contains { $0.contains("sacct has not been observed") } == false)
            #expect(recovered.reports.first?.writes == 0)
        }
    }
}
