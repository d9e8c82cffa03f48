import Foundation
import Testing

/// Issue 7, faults outside reckon: sacct. Each fault gives a clear error or warning, keeps what
/// was recorded, and the next tick recovers. Real `reckon sync` processes, a stand-in sacct
/// script per fault, the Waldur simulator on loopback.
@Suite(.serialized) struct SacctFaultTests {
    struct Fault: CustomTestStringConvertible, Sendable {
        let name: String
        /// The stand-in sacct's body ($RECKON_TEST_DUMP is the good dump).
        let script: String
        /// Whether the tick fails (exit 1) or only warns (exit 0).
        let fails: Bool
        /// What standard error must say.
        let message: String
        /// Whether the new job version in the dump is recorded despite the fault.
        let recordsNewWork: Bool
        var binDir: String? = nil
        /// The script writes its process group to `$RECKON_TEST_SACCT_LOG.pgid`, and no process
        /// of that group may outlive the tick (the timeout stops the whole group, not just the
        /// script that sacct's place holds).
        var checksGroup = false
        var testDescription: String { name }
    }

    static let faults: [Fault] = [
        Fault(name: "exits non-zero", script: #"echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct exited with status 1: sacct: error: Problem talking to the database: Connection refused",
              recordsNewWork: false),
        Fault(name: "killed by a signal", script: #"kill -SEGV $$"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct was killed by signal 11", recordsNewWork: false),
        Fault(name: "warns on stderr", script: #"echo "sacct: warning: Conversion of mem units failed" >&2; cat "$RECKON_TEST_DUMP""#,
              fails: false, message: "sacct said: sacct: warning: Conversion of mem units failed", recordsNewWork: true),
        Fault(name: "prints garbage", script: #"printf 'Segmentation fault (core dumped)\n\001\377\376 garbage ||| more\n'"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct header lacks required fields", recordsNewWork: false),
        Fault(name: "prints garbage after good records", script: #"cat "$RECKON_TEST_DUMP"; printf '12|12|99|reckon|acct|bob|COMPLETED|garbage\n\377\376|x\nnot a record at all\n'"#,
              fails: false, message: "sacct output had malformed records; the good ones were kept", recordsNewWork: true),
        Fault(name: "truncates its last line", script: #"head -c -120 "$RECKON_TEST_DUMP""#,
              fails: false, message: "sacct output had malformed records; the good ones were kept", recordsNewWork: true),
        Fault(name: "prints nothing", script: #"exit 0"#,
              fails: true, message: "reckon: error: sacct poll failed: the sacct output is empty: expected a header line", recordsNewWork: false),
        Fault(name: "hangs", script: #"exec sleep 600"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct did not finish within 1 s and was killed", recordsNewWork: false),
        // A wrapper script: its child keeps the output pipe open after the wrapper is killed.
        Fault(name: "hangs inside a wrapper", script: #"echo $$ > "$RECKON_TEST_SACCT_LOG.pgid"; sleep 600; exit 0"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct did not finish within 1 s and was killed", recordsNewWork: false,
              checksGroup: true),
        Fault(name: "hangs inside a wrapper, in the background", script: #"echo $$ > "$RECKON_TEST_SACCT_LOG.pgid"; sleep 600 & wait; exit 0"#,
              fails: true, message: "reckon: error: sacct poll failed: sacct did not finish within 1 s and was killed", recordsNewWork: false,
              checksGroup: true),
        Fault(name: "is missing", script: "", fails: true,
              message: "reckon: error: sacct poll failed: sacct not found at /nonexistent/slurm/bin/sacct: set backend_settings.slurm_bin_path to the directory holding sacct",
              recordsNewWork: false, binDir: "/nonexistent/slurm/bin"),
    ]

    /// The live processes whose process group is `group` (field 5 of /proc/PID/stat).
    static func members(ofGroup group: Int32) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        return pids.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
            let stat = String(decoding: raw, as: UTF8.self)
            // "PID (comm) STATE PPID PGRP …": comm may hold spaces, so split after its last ')'.
            guard let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[2]) == group && fields[0] != "Z"   // a zombie has ended
        }
    }

    @Test(arguments: faults)
    func aSacctFaultIsReportedKeepsTheLogAndTheNextTickRecovers(fault: Fault) async throws {
        let h = try CLIHarness()
        try await h.startSimulator()
        defer { Task { await h.stopSimulator() } }
        try h.writeConfig(extraReckon: "sacct_timeout_seconds: 1")
        let first = try await h.reckon("sync")
        #expect(first.status == 0, "\(first.all)")
        let before = try await h.events()
        let runsBefore = h.count("job_run_observed", in: before)
        #expect(runsBefore == 14)
        let storedBefore = try await h.storedTotals()
        #expect(storedBefore == (try await h.desiredTotals()))

        // New work: job 6 (hpc_alloc_b, 4 CPUs) ran 100 s longer; it is the 6th record, far from the end.
        let dump = try String(contentsOfFile: h.dumpPath, encoding: .utf8)
        let changed = dump.replacingOccurrences(of: "|1795746504|1795746512|8|00:00:00|billing=4",
                                                with: "|1795746504|1795746612|108|00:00:00|billing=4")
        #expect(changed != dump)
        try CLIHarness.write(changed, to: h.dumpPath)

        try h.installSacct(fault.script)
        if let bin = fault.binDir { try h.writeConfig(extraReckon: "sacct_timeout_seconds: 1", binDir: bin) }
        let faulty = try await h.reckon("sync")
        #expect(faulty.status == (fault.fails ? 1 : 0), "\(faulty.all)")
        #expect(faulty.stderr.contains(fault.message), "expected \(fault.message)\ngot: \(faulty.stderr)")
        #expect(!faulty.signalled)
        if fault.checksGroup {
            // bash defers a SIGTERM while a foreground child runs: signalling only the script
            // left the tick waiting out its 5 s grace and the `sleep` running.
            let text = try String(contentsOfFile: h.sacctLog + ".pgid", encoding: .utf8)
            let group = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(Self.members(ofGroup: group).isEmpty, "processes of the stand-in's group \(group) outlived the tick: \(Self.members(ofGroup: group))")
        }
        // Nothing recorded was lost; the log still replays; the tick still reconciled.
        let during = try await h.events()
        #expect(Array(during.prefix(before.count)).map { "\($0["seq"]!)\($0["kind"]!)" } == before.map { "\($0["seq"]!)\($0["kind"]!)" })
        #expect(h.count("job_run_observed", in: during) == runsBefore + (fault.recordsNewWork ? 1 : 0))
        #expect(try await h.reckon("replay").status == 0)
        #expect(faulty.stdout.contains("offering \(CLIHarness.offering):"), "the tick did not go on to reconcile: \(faulty.all)")
        let storedDuring = try await h.storedTotals()
        #expect(storedDuring == (try await h.desiredTotals()))
        #expect((storedDuring != storedBefore) == fault.recordsNewWork)

        // sacct is well again: the next tick records the change and converges.
        try h.installSacct(CLIHarness.goodSacct)
        if fault.binDir != nil { try h.writeConfig(extraReckon: "sacct_timeout_seconds: 1") }
        let next = try await h.reckon("sync")
        #expect(next.status == 0, "\(next.all)")
        let after = try await h.events()
        #expect(h.count("job_run_observed", in: after) == runsBefore + 1)
        let storedAfter = try await h.storedTotals()
        #expect(storedAfter == (try await h.desiredTotals()))
        #expect(storedAfter != storedBefore)
        let plan = try await h.reckon("plan", ["--json"])
        #expect(plan.status == 0 && plan.stdout.isEmpty, "\(plan.all)")
    }
}
