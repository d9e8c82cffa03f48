import Foundation
import Testing

/// `reckon sync` ends by logging its own CPU time and peak memory (getrusage of the process, and
/// of the sacct children apart): tools/bench/daemon-scale reads it to measure an idle tick.
@Suite(.serialized) struct ProcessResourcesTests {
    @Test func syncLogsItsOwnResourceUsageLast() async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let r = try await h.reckon("sync", ["--log-format", "json"])
        #expect(r.status == 0, "\(r.all)")
        let last = try #require(r.stderr.split(separator: "\n").last.map(String.init))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(doc["message"] as? String == "process resources")
        func number(_ key: String) -> Double? { (doc[key] as? String).flatMap(Double.init) }
        let user = try #require(number("cpu_user_seconds")), system = try #require(number("cpu_system_seconds"))
        let total = try #require(number("cpu_seconds")), children = try #require(number("children_cpu_seconds"))
        let rss = try #require(number("max_rss_kib"))
        #expect(user > 0 && system >= 0 && children >= 0 && rss > 0)
        #expect(abs(total - (user + system)) < 0.000_002)
    }

    /// A log that cannot be written (standard error on a full disk, or closed) must not stop the
    /// work: `reckon sync` still records, submits and exits 0, in either log format. (Foundation's
    /// non-throwing `FileHandle.write(_:)` traps on such an error; reckon uses the throwing one.)
    @Test(arguments: ["text", "json"])
    func aFullOrClosedStandardErrorDoesNotStopSync(format: String) async throws {
        for redirect in ["2>/dev/full", "2>&-"] {
            let h = try CLIHarness()
            try await h.startSimulator()
            try h.writeConfig()
            let s = try Spawned("/bin/sh", ["-c", "exec \"$0\" \"$@\" " + redirect, CLIHarness.reckonPath, "sync", "-c", h.configPath,
                                            "--now", CLIHarness.now, "--log-format", format, "--log-level", "debug"], env: h.environment)
            let r = await s.finished(safetyTimeout: 300)
            #expect(r.status == 0, "stderr \(redirect), \(format): \(r.all)")
            let desired = try await h.desiredTotals()
            #expect(!desired.isEmpty)
            #expect(try await h.storedTotals() == desired, "stderr \(redirect), \(format)")
            await h.stopSimulator()
        }
    }
}

/// `reckon daemon --ticks N` runs N ticks and exits 0; each tick logs its own CPU (`tick
/// resources`), and from its second tick on the daemon recalls the sacct lines it recorded
/// instead of reading them (the `sacct poll` line's `recalled`), appending only the poll record.
@Suite(.serialized) struct DaemonTicksTests {
    @Test func aDaemonWithTicksStopsAfterThemAndItsSecondPollRecallsEveryLine() async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig()
        let r = try await h.reckon("daemon", ["--ticks", "2", "--interval-seconds", "0", "--log-format", "json"])
        #expect(r.status == 0, "\(r.all)")
        let docs = r.stderr.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        let ticks = docs.filter { $0["message"] as? String == "tick resources" }
        let polls = docs.filter { $0["message"] as? String == "sacct poll" }
        #expect(ticks.count == 2)
        #expect(polls.count == 2)
        guard ticks.count == 2, polls.count == 2 else { return }
        func int(_ d: [String: Any], _ k: String) -> Int? { (d[k] as? String).flatMap { Int($0) } }
        // The shared dump-epoch fixture: 14 job records, all plain lines.
        #expect(int(polls[0], "records") == 14)
        #expect(int(polls[0], "recalled") == 0)
        #expect(int(polls[1], "records") == 14)
        #expect(int(polls[1], "recalled") == 14)
        #expect(int(polls[1], "new_versions") == 0)
        #expect(int(ticks[0], "remembered_lines") == 14)
        #expect(int(ticks[1], "events_appended") == 1)   // the poll record only
        #expect((ticks[1]["cpu_seconds"] as? String).flatMap(Double.init).map { $0 >= 0 } == true)
    }
}
