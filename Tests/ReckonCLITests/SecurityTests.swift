import Foundation
import Testing
import WaldurSimulator

/// Issue 7, security: the token never leaks; file permissions; no shell; one daemon per state
/// directory while readers keep working. Every test runs the real `reckon` executable.
@Suite(.serialized) struct SecurityTests {
    /// Distinctive, valid for the simulator (no spaces), and unlike anything else in the repo.
    static let token = "zqX7tokenCANARY9f3e1d2c4b5a69788a7b6c5d4e3f2a1b0"

    @Test func theTokenAppearsInNoOutputLogEventErrorOrFile() async throws {
        let h = try CLIHarness(token: Self.token)
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        var outputs: [(String, CLIHarness.Result)] = []
        func run(_ cmd: String, _ args: [String] = [], withConfig: Bool = true) async throws {
            outputs.append(("\(cmd) \(args.joined(separator: " "))", try await h.reckon(cmd, args, withConfig: withConfig)))
        }
        for format in ["text", "json"] {
            let log = ["--log-level", "trace", "--log-format", format]
            try await run("ingest", ["--from", h.dumpPath, "--observed-at", "2026-11-27T02:29:01Z"] + log)
            try await run("ingest", ["--start", "2026-11-01", "--end", "2026-11-28"] + log)
            try await run("usage", ["--month", "2026-11"] + log)
            try await run("usage", ["--month", "2026-11", "--by", "user", "--json"] + log)
            try await run("plan", log)
            try await run("plan", ["--json"] + log)
            try await run("sync", log)
            try await run("sync", ["--no-poll"] + log)
            try await run("events", log)
            try await run("events", ["--json"] + log)
            try await run("replay", log)
            try await run("ingest", ["--help"], withConfig: false)
        }
        // The daemon: one tick (the heartbeat shows it), then a graceful stop.
        let daemon = try h.spawn("daemon", ["--log-level", "trace", "--log-format", "json"])
        try await waitFor(h.stateDir + "/heartbeat", while: daemon)
        daemon.signal(SIGTERM)
        outputs.append(("daemon", await daemon.finished()))
        // Error paths: Waldur refuses the token (401), a broken config, an unreachable Waldur.
        await h.stopSimulator()
        try await h.startSimulator(seedToken: "someOtherToken00000000000000000000000000")
        try h.writeConfig()
        try await run("sync", ["--log-level", "trace"])
        try await run("plan", ["--log-level", "trace", "--log-format", "json"])
        try CLIHarness.write("offerings:\n  - waldur_api_url: \"http://127.0.0.1:9/api/\"\n    waldur_api_token: [\(Self.token)]\n    waldur_offering_uuid: x\n",
                             to: h.configPath)
        try await run("usage", ["--month", "2026-11"])
        try CLIHarness.write("offerings:\n  - waldur_api_url: \"http://127.0.0.1:9/api/\"\n    waldur_api_token: \"\(Self.token)\"\n    waldur_offering_uuid: not-a-uuid\n",
                             to: h.configPath)
        try await run("sync")
        try CLIHarness.write("reckon:\n  state_dir: \(h.stateDir)\n  bogus: \(Self.token)\n", to: h.configPath)
        try await run("events")

        #expect(outputs.contains { $0.1.status == 0 && $0.0.hasPrefix("sync") }, "no sync succeeded: nothing was exercised")
        #expect(outputs.contains { $0.1.status != 0 && $0.0.hasPrefix("sync") }, "no failing sync: the error paths were not exercised")
        for (cmd, r) in outputs {
            #expect(!r.stdout.contains(Self.token), "stdout of reckon \(cmd) holds the token")
            #expect(!r.stderr.contains(Self.token), "stderr of reckon \(cmd) holds the token")
        }
        // Every file reckon wrote: the LMDB files, the lock, the heartbeat; and what sacct was given.
        let written = CLIHarness.files(under: h.stateDir)
        #expect(written.contains { $0.hasSuffix("data.mdb") })
        for f in written + [h.sacctLog] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: f))
            #expect(bytes.range(of: Data(Self.token.utf8)) == nil, "\(f) holds the token")
        }
        let events = try String(contentsOfFile: h.sacctLog, encoding: .utf8)
        #expect(events.contains("argv:"))
    }

    @Test func aConfigWithATokenReadableByOthersGetsAWarning() async throws {
        let h = try CLIHarness()
        for (mode, warns) in [(mode_t(0o644), true), (0o640, true), (0o604, true), (0o600, false), (0o400, false)] {
            try h.writeConfig(mode: mode)
            let r = try await h.reckon("usage", ["--month", "2026-11"])
            #expect(r.status == 0, "\(r.all)")
            let warning = "\(h.configPath) holds a Waldur API token and is readable by group or others (mode 0\(String(mode, radix: 8)))"
            #expect(r.stderr.contains(warning) == warns, "mode \(String(mode, radix: 8)): \(r.stderr)")
            #expect(!r.all.contains(h.token))
        }
        // No token, no warning.
        try CLIHarness.write("timezone: UTC\nreckon:\n  state_dir: \(h.stateDir)\n", to: h.configPath, mode: 0o644)
        let r = try await h.reckon("usage", ["--month", "2026-11"])
        #expect(r.status == 0 && !r.stderr.contains("readable by group or others"), "\(r.all)")
    }

    @Test(arguments: [mode_t(0o777), 0o775, 0o757, 0o1777, 0o722])
    func aStateDirectoryWritableByOthersIsRefused(mode: mode_t) async throws {
        let h = try CLIHarness()
        try h.writeConfig()
        #expect(mkdir(h.stateDir, 0o700) == 0)
        #expect(chmod(h.stateDir, mode) == 0)
        let octal = String(repeating: "0", count: max(0, 4 - String(mode, radix: 8).count)) + String(mode, radix: 8)
        for (cmd, args) in [("ingest", ["--from", h.dumpPath]), ("sync", []), ("usage", ["--month", "2026-11"]), ("events", []), ("replay", [])] {
            let r = try await h.reckon(cmd, args)
            #expect(r.status == 1, "\(cmd): \(r.all)")
            #expect(r.stderr.contains("the state directory \(h.stateDir) is writable by group or others (mode \(octal))"), "\(cmd): \(r.stderr)")
        }
        // Nothing was written into it (no lock file, no store).
        #expect(CLIHarness.files(under: h.stateDir).isEmpty)
        // Fixed, it works.
        #expect(chmod(h.stateDir, 0o700) == 0)
        let ok = try await h.reckon("ingest", ["--from", h.dumpPath])
        #expect(ok.status == 0, "\(ok.all)")
    }

    @Test func aStateDirectoryReckonCreatesIsPrivate() async throws {
        let h = try CLIHarness()
        try h.writeConfig()
        let r = try await h.reckon("ingest", ["--from", h.dumpPath])
        #expect(r.status == 0, "\(r.all)")
        var st = stat()
        #expect(stat(h.stateDir, &st) == 0)
        #expect(st.st_mode & 0o077 == 0, "mode \(String(st.st_mode & 0o7777, radix: 8))")
    }

    /// sacct is run with an argument vector: hostile cluster names, bin paths, Waldur backend_ids
    /// and account names reach it (or not) as inert text, never as shell syntax.
    @Test func hostileNamesCannotInjectCommands() async throws {
        let h = try CLIHarness()
        let canary = h.dir + "/PWNED"
        let hostile = [
            "x; touch \(canary)", "$(touch \(canary))", "`touch \(canary)`", "x && touch \(canary)", "x | touch \(canary)",
            "x\ntouch \(canary)", "'; touch \(canary); '", "--format=JobID", "-h",
        ]
        // A bin directory whose own name is shell syntax (a file name cannot hold '/': the canary
        // of this one lands in the working directory).
        let pathCanary = FileManager.default.currentDirectoryPath + "/PWNED-by-bin-path"
        let evilBin = h.dir + "/bin $(touch PWNED-by-bin-path); `touch PWNED-by-bin-path`"
        #expect(mkdir(evilBin, 0o700) == 0)
        let script = try String(contentsOfFile: h.binDir + "/sacct", encoding: .utf8)
        try CLIHarness.write(script, to: evilBin + "/sacct", mode: 0o700)
        // Accounts named like commands in the dump and as Waldur backend_ids.
        let dump = try String(contentsOfFile: h.dumpPath, encoding: .utf8)
            .replacingOccurrences(of: "|hpc_alloc_c|", with: "|hpc_alloc_c;touch \(canary)|")
            .replacingOccurrences(of: "|physics|", with: "|$(touch \(canary))|")
        try CLIHarness.write(dump, to: h.dumpPath)
        var ids = CLIHarness.resources
        ids["hpc_alloc_c;touch \(canary)"] = ids.removeValue(forKey: "hpc_alloc_c")
        ids["$(touch \(canary))"] = ids.removeValue(forKey: "physics")
        try await h.startSimulator(backendIDs: ids)
        defer { Task { await h.stopSimulator() } }
        for name in hostile {
            try? FileManager.default.removeItem(atPath: h.sacctLog)
            try h.writeConfig(clusterName: name, binDir: evilBin)
            let r = try await h.reckon("sync")
            #expect(r.status == 0, "cluster \(name): \(r.all)")
            let log = try String(contentsOfFile: h.sacctLog, encoding: .utf8)
            // The cluster name arrived as one argument, byte for byte.
            #expect(log.contains(" [--clusters=\(name)] "), "cluster \(name): \(log)")
            #expect(!FileManager.default.fileExists(atPath: canary), "cluster \(name) ran a command")
        }
        // The hostile accounts were matched to their resources and reported like any other.
        let stored = try await h.storedUsages()
        #expect(stored.totals.keys.contains { $0.hasPrefix(CLIHarness.resources["hpc_alloc_c"]!) })
        #expect(stored.totals.keys.contains { $0.hasPrefix(CLIHarness.resources["physics"]!) })
        #expect(!FileManager.default.fileExists(atPath: canary))
        #expect(!FileManager.default.fileExists(atPath: pathCanary))
    }

    @Test func oneDaemonPerStateDirectoryAndReadersWorkWhileItWrites() async throws {
        let h = try CLIHarness()
        // Slow answers keep the daemon's first tick (and its writes) going while readers run.
        try await h.startSimulator(faults: SimulatorFaults(latencyMilliseconds: 150))
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let seed = try await h.reckon("ingest", ["--from", h.dumpPath, "--observed-at", "2026-11-27T02:29:01Z"])
        #expect(seed.status == 0, "\(seed.all)")
        let daemon = try h.spawn("daemon")
        var readersDuringTick = 0
        while !FileManager.default.fileExists(atPath: h.stateDir + "/heartbeat") && daemon.isRunning {
            for (cmd, args) in [("usage", ["--month", "2026-11"]), ("events", ["--json"]), ("replay", [String]())] {
                let r = try await h.reckon(cmd, args)
                #expect(r.status == 0, "\(cmd) while the daemon writes: \(r.all)")
            }
            readersDuringTick += 1
        }
        #expect(daemon.isRunning)
        // A second daemon, and a sync, on the same state directory are refused, naming the holder.
        for cmd in ["daemon", "sync"] {
            let second = try await h.reckon(cmd)
            #expect(second.status == 1, "\(cmd): \(second.all)")
            #expect(second.stderr.contains("another reckon daemon (pid \(daemon.pid)) already runs on this state directory"), "\(second.stderr)")
        }
        let r = try await h.reckon("events", ["--json"])
        #expect(r.status == 0)
        daemon.signal(SIGTERM)
        let end = await daemon.finished()
        #expect(end.status == 0 && !end.signalled, "\(end.all)")
        // The lock went with it.
        let after = try await h.reckon("sync")
        #expect(after.status == 0, "\(after.all)")
        _ = readersDuringTick   // how many reader rounds overlapped the tick depends on the machine; correctness does not
    }
}

/// Waits (without any time assertion) until `path` exists or the process ends.
func waitFor(_ path: String, while process: Spawned, safety: TimeInterval = 240) async throws {
    let deadline = Date().addingTimeInterval(safety)
    while !FileManager.default.fileExists(atPath: path) {
        guard process.isRunning else {
            let r = await process.finished()
            throw HarnessError("the process ended (status \(r.status)) before \(path) appeared:\n\(r.all)")
        }
        guard Date() < deadline else { throw HarnessError("\(path) did not appear") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
