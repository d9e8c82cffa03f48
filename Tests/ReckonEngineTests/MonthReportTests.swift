import Foundation
import ReckonCore
@testable import ReckonEngine
import ReckonLMDB
import ReckonSacct
import Testing

/// `reckon usage --month` builds its report while reading the usage table in key order
/// (``UsageQuery/monthReport(_:grouping:components:)``). It must give exactly the rows of the
/// dictionary path it replaced (``UsageQuery/report(_:period:grouping:components:observedUntil:)``
/// of ``UsageQuery/nativeUsage(month:)``) — in the same order — whatever the names, with running
/// runs, with an import's pending tail, and for names that are not ASCII (which fall back).
@Suite struct MonthReportTests {
    static let t0: Int64 = 1_772_323_200   // 2026-03-01T00:00:00Z
    let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
    let months = [BillingMonth(year: 2026, month: 2)!, BillingMonth(year: 2026, month: 3)!, BillingMonth(year: 2026, month: 4)!]

    /// Accounts and users chosen so that byte order and the report's order are easy to get
    /// wrong: one name a prefix of another, names that differ after a shared prefix, `_` (0x5f)
    /// beside letters and digits.
    static let accounts = ["a", "ab", "a_b", "b", "hpc_x1", "hpc_x10", "hpc_x2"]
    static let users = ["u", "u1", "u_1", "uu", "v"]

    /// `count` runs spread over the accounts and users: finished, running (End `Unknown`), some
    /// spanning the end of February, two TRES lists (one with a GPU).
    static func lines(count: Int, users: [String] = users, seed: Int = 0) -> [String] {
        (0..<count).map { i in
            let id = 5000 + i + seed * 10_000
            let submit = t0 - 2 * 86_400 + Int64(i * 997 % 200_000), start = submit + 30
            let running = i % 9 == 4
            let elapsed = 300 + (i * 7_919) % 90_000
            let end = running ? "Unknown" : "\(start + Int64(elapsed))"
            let tres = i % 3 == 0 ? "billing=8,cpu=8,gres/gpu=1,mem=16G,node=1"
                : i % 5 == 1 ? "billing=4,cpu=4,gres/gpu:a100=1,license/matlab=2,mem=2G,node=1"   // names numbered from 256
                : "billing=2,cpu=2,mem=3900M,node=1"
            let account = accounts[(i * 5 + seed) % accounts.count], user = users[(i * 3 + seed) % users.count]
            return "\(id)|\(id)|\(id)|hpc1|\(account)|\(user)|\(running ? "RUNNING" : "COMPLETED")|\(submit)|\(start)|\(end)|\(elapsed)|00:00:00|\(tres)|\(tres)"
        }
    }

    static func dump(_ lines: [String]) -> String {
        (["JobIDRaw|JobID|DBIndex|Cluster|Account|User|State|Submit|Start|End|ElapsedRaw|Suspended|AllocTRES|ReqTRES"] + lines)
            .joined(separator: "\n") + "\n"
    }

    /// Config-like components: two present, one not in any run, and a TRES left out (`node`).
    static let components = [Component(name: "cpu", unitFactor: ExactDecimal(digits: 60_000, scale: 0)),
                             Component(name: "mem", unitFactor: ExactDecimal(digits: 61_440, scale: 0)),
                             Component(name: "gres/gpu", unitFactor: ExactDecimal(digits: 60, scale: 0)),
                             Component(name: "fpga", unitFactor: ExactDecimal(digits: 1, scale: 0))]

    /// A fresh LMDB ledger in a temporary directory and a path for its dumps, both removed after `body`.
    func withLedger(_ body: (Ledger, _ dump: String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "reckon-monthreport-\(UUID().uuidString)"
        defer { for s in ["", ".psv"] { try? FileManager.default.removeItem(atPath: dir + s) } }
        try body(try Ledger(store: try LMDBEventStore(directory: dir), settings: settings), dir + ".psv")
    }

    /// `reckon ingest --from` of `lines` under the header, written to `path` first.
    @discardableResult
    func ingest(_ ledger: Ledger, _ lines: [String], dump path: String) throws -> IngestService.Outcome {
        try Self.dump(lines).write(toFile: path, atomically: true, encoding: .utf8)
        return try IngestService(ledger: ledger).ingestFile(path: path, timeZone: Fixtures.utc, observedAt: Self.t0 + 86_400,
                                                            defaultCluster: "hpc1")
    }

    /// `lines` recorded as an import's batch that committed without the import's end (a killed
    /// import): their usage is in the pending tail only.
    func recordWithoutCompleting(_ ledger: Ledger, _ lines: [String]) throws {
        var parser = SacctStreamParser(timeZone: Fixtures.utc, defaultCluster: "hpc1")
        var runs: [JobRunRecorder.PreparedRun] = []
        try Array(Self.dump(lines).utf8).withUnsafeBytes { try parser.consumePrepared($0) { runs.append($0) } }
        try parser.finishPrepared { runs.append($0) }
        try ledger.store.write { w in
            try UsageTable.markPending(from: try w.eventCount(), in: w)
            _ = try ledger.recorder.recordDeferringUsage(prepared: runs, in: w)
        }
        #expect(try ledger.store.read { try UsageTable.pendingFrom($0) } != nil)
    }

    /// Both paths, every month, both groupings, with and without components; returns how many
    /// rows were compared.
    @discardableResult
    func expectSameReports(_ ledger: Ledger) throws -> Int {
        let query = UsageQuery(ledger: ledger)
        var compared = 0
        for m in months {
            for grouping in UsageReport.Grouping.allCases {
                for comps in [nil, Self.components, Self.components + [Component(name: "cpu", unitFactor: ExactDecimal(digits: 1, scale: 0))]] {
                    let (native, marks) = try query.nativeUsage(month: m)
                    let want = UsageQuery.report(native, period: m.description, grouping: grouping, components: comps, observedUntil: marks)
                    let got = try query.monthReport(m, grouping: grouping, components: comps)
                    #expect(Self.firstDifference(got.rows, want.rows) == nil, "month \(m), by \(grouping), components \(comps == nil ? "none" : "config")")
                    #expect(got.period == want.period && got.observedUntil == want.observedUntil)
                    compared += want.rows.count
                }
            }
        }
        // Several months in one snapshot give each month's report.
        for grouping in UsageReport.Grouping.allCases {
            let together = try query.monthReports(months, grouping: grouping, components: Self.components)
            #expect(together.count == months.count)
            for (m, r) in zip(months, together) {
                #expect(Self.firstDifference(r.rows, try query.monthReport(m, grouping: grouping, components: Self.components).rows) == nil)
            }
        }
        return compared
    }

    /// Months read on two threads, each in a snapshot of its own (``UsageQuery/concurrentMonthReports``),
    /// are used only when both snapshots are the same commit: LMDB's transaction id tells them
    /// apart, and the reports are those of one snapshot.
    @Test func monthsReadOnTwoThreadsComeFromOneCommit() throws {
        try withLedger { l, dump in
            try ingest(l, Self.lines(count: 300), dump: dump)
            // Running runs, which the two threads share out (every other one each) before the months.
            #expect(try l.store.read { r in var n = 0; try r.forEachEntry(in: .openRuns, prefix: []) { _, _ in n += 1; return true }; return n } >= 2)
            let query = UsageQuery(ledger: l)
            let a = try l.store.read { $0.snapshotID }, b = try l.store.read { $0.snapshotID }
            #expect(a != nil && a == b)
            let concurrent = try query.concurrentMonthReports(months, grouping: .user, components: Self.components)
            #expect(concurrent?.count == months.count)
            for (m, r) in zip(months, concurrent ?? []) {
                #expect(r.period == m.description)
                #expect(Self.firstDifference(r.rows, try query.monthReport(m, grouping: .user, components: Self.components).rows) == nil)
            }
            // A commit in between: another snapshot.
            try ingest(l, Self.lines(count: 20, seed: 7), dump: dump)
            #expect(try l.store.read { $0.snapshotID } != a)
        }
        // A store that cannot name its snapshots: the months are read in one snapshot instead.
        let memory = try Ledger(store: InMemoryEventStore(), settings: settings)
        #expect(try UsageQuery(ledger: memory).concurrentMonthReports(months, grouping: .user, components: nil) == nil)
        #expect(try UsageQuery(ledger: memory).monthReports(months, grouping: .user, components: nil).count == months.count)
    }

    /// Where two row lists first differ, in one line (the lists run to hundreds of rows).
    static func firstDifference(_ a: UsageReport.Rows, _ b: UsageReport.Rows) -> String? {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return "row \(i): \(a[i]) against \(b[i])" }
        return a.count == b.count ? nil : "\(a.count) rows against \(b.count)"
    }

    @Test func theStreamedReportIsTheDictionaryReport() throws {
        try withLedger { l, dump in
            try ingest(l, Self.lines(count: 400), dump: dump)
            // Running runs are in the open-run set, so their usage reaches the report by the merge.
            #expect(try l.store.read { r in var n = 0; try r.forEachEntry(in: .openRuns, prefix: []) { _, _ in n += 1; return true }; return n } > 0)
            let rows = try expectSameReports(l)
            #expect(rows > 500)
        }
    }

    @Test func anImportsPendingTailIsMergedInKeyOrder() throws {
        try withLedger { l, dump in
            try ingest(l, Self.lines(count: 200), dump: dump)
            // New owners, and cells already in the table, in the pending tail only.
            try recordWithoutCompleting(l, Self.lines(count: 150, users: ["u0", "t", "u"], seed: 3))
            try expectSameReports(l)
        }
    }

    @Test func namesThatAreNotASCIIGiveTheSameRows() throws {
        try withLedger { l, dump in
            // Two spellings of one name (`e` + combining acute, and `é`): `String` equality merges
            // them into one owner, bytes would not; and names that are NFC.
            try ingest(l, Self.lines(count: 120, users: ["zoë", "u", "Åsa", "u1", "re\u{301}mi", "r\u{e9}mi"]), dump: dump)
            let rows = try expectSameReports(l)
            #expect(rows > 100)
        }
    }

    /// Names with a NUL byte (a damaged dump; NUL is the usage key's separator): those records
    /// are reported as malformed, the rest are imported into the empty table, replay agrees with
    /// it, and both report paths agree.
    @Test func namesWithAZeroByteAreReportedAndTheRestImported() throws {
        try withLedger { l, dump in
            let lines = Self.lines(count: 90, users: ["alice", "alice\u{0}", "alice\u{0}\u{0}x", "b\u{0}c"])
            let outcome = try ingest(l, lines, dump: dump)
            let damaged = lines.filter { $0.contains("\u{0}") }.count
            #expect(damaged > 30)
            #expect(outcome.malformedCount == UInt64(damaged))
            #expect(outcome.malformed.allSatisfy { $0.reason == "User holds a NUL byte" })
            #expect(outcome.newVersions == UInt64(lines.count - damaged))
            #expect(try l.store.read { try UsageTable.pendingFrom($0) } == nil)   // the import completed
            #expect(try ReplayCheck.run(l, clock: { 0 }).identical)
            try expectSameReports(l)
        }
    }

    /// A pending tail that takes a cell back to exactly zero (a run moved to another account),
    /// with and without a running run of the same owner: the zero cell is left out, and kept
    /// when the running run adds to it — as the dictionary path does.
    @Test func aPendingTailThatCancelsACellToZero() throws {
        let t = Self.t0 + 3_600
        func line(_ id: Int, account: String, running: Bool = false) -> String {
            "\(id)|\(id)|\(id)|hpc1|\(account)|solo|\(running ? "RUNNING" : "COMPLETED")|\(t)|\(t + 10)|\(running ? "Unknown" : "\(t + 610)")|600|00:00:00|cpu=2,mem=1G|cpu=2,mem=1G"
        }
        for withRunning in [false, true] {
            try withLedger { l, dump in
                var first = [line(1, account: "acct_a"), line(2, account: "acct_b")]
                if withRunning { first.append(line(3, account: "acct_a", running: true)) }
                try ingest(l, first, dump: dump)
                try recordWithoutCompleting(l, [line(1, account: "acct_c")])   // run 1 moves to acct_c
                let report = try UsageQuery(ledger: l).monthReport(BillingMonth(year: 2026, month: 3)!, grouping: .user, components: nil)
                #expect(report.rows.contains { $0.resource == "acct_a" } == withRunning, "running \(withRunning)")
                #expect(report.rows.contains { $0.resource == "acct_c" })
                try expectSameReports(l)
            }
        }
    }
}
