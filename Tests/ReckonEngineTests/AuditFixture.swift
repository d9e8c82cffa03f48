import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine

/// A known multi-month history for audit tests, written straight into an in-memory ledger with
/// the same recorder the ingest uses, plus the Waldur-side events a reconciler would append:
/// account `proj_x` (Waldur backend_id `PROJ_X`, upper case) in UTC, cpu in CPU-hours (factor
/// 60) and mem in GiB-hours (61440).
///
/// | month   | runs (cpu × hours)                              | confirmed cpu |
/// |---------|-------------------------------------------------|---------------|
/// | 2026-07 | #1 alice 4×10 = 40                              | 40.00         |
/// | 2026-08 | #2 bob 5×5 = 25                                 | 25.00         |
/// | 2026-09 | #3 alice 6×10 = 60; #4 bob 2×5, later moved to proj_y | 70.00 (sent before the move) |
/// | 2026-10 | #5 alice 2 CPUs, 10-31 12:00 → 11-01 12:00 (12 h here) = 24 | none |
/// | 2026-11 | #5's other 12 h = 24; #6 bob 1×26, end corrected from 30 h = 26 | 30.00 then 50.00 |
/// | 2026-12 | #7 carol 3 CPUs running since 12-01, observed until 12-02 00:00 = 72 | none |
///
/// mem is 1 GiB per CPU, so mem amounts equal cpu amounts. A read-back also finds a user value
/// (alice, cpu, 24.00) for November.
enum AuditFixture {
    static let offering = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
    static let resource = "50a0f810be1c43bbb651e8cbdbb90198"
    static let components = [
        Component(name: "cpu", unitFactor: ExactDecimal(parsing: "60")!, measuredUnit: "CPU-hours"),
        Component(name: "mem", unitFactor: ExactDecimal(parsing: "61440")!, measuredUnit: "GiB-hours"),
    ]
    static let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
    static let offeringConfig = OfferingConfiguration(name: "HPC", apiURL: "http://127.0.0.1:1/api/", token: SecretToken("t"),
                                                      offeringUUID: offering, components: components)

    static func t(_ iso: String) -> EpochSeconds {
        let f = ISO8601DateFormatter()
        return EpochSeconds(f.date(from: iso)!.timeIntervalSince1970)
    }

    static func run(_ n: UInt64, _ account: String, _ user: String, cpus: Int64, _ start: String, _ end: String?, state: String = "COMPLETED") -> JobRun {
        JobRun(identity: .dbIndex(cluster: "c1", index: n), jobID: String(n), account: account, user: user, state: end == nil ? "RUNNING" : state,
               submit: t(start) - 60, start: t(start), end: end.map(t), suspended: 0,
               allocTRES: TRESQuantities([("cpu", cpus), ("mem", cpus * 1024), ("node", 1)]), reqTRES: nil)
    }

    static func month(_ s: String) -> BillingMonth { BillingMonth(parsing: s)! }
    static func target(_ m: String, _ c: String, _ user: String? = nil) -> UsageTarget {
        UsageTarget(resource: resource, month: month(m), component: c, user: user)
    }
    static func amount(_ s: String) -> WaldurAmount { WaldurAmount(parsing: s)! }

    /// Sequence numbers of interest, filled in by ``build()``.
    struct Sequences {
        var moved: Sequence64 = 0          // run #4's second version (account proj_y)
        var corrected: Sequence64 = 0      // run #6's second version (end corrected)
        var novemberFirst: Sequence64 = 0  // the first November totals intent
        var novemberSecond: Sequence64 = 0 // the decrease
        var observation: Sequence64 = 0    // the read-back that found alice's November value
    }

    static func build() throws -> (ledger: Ledger, seq: Sequences) {
        let ledger = try Ledger(store: InMemoryEventStore(), settings: settings)
        let recorder = ledger.recorder
        var seq = Sequences()
        let fingerprint = AuditFingerprint.current(settings: settings, components: components)
        func observe(_ at: String) throws {
            try ledger.store.write { w in
                _ = try recorder.recordObservation(SacctObservation(source: .file(name: "dump.psv", sha256: "00"), cluster: "c1", observedAt: t(at)), in: w)
            }
        }
        func record(_ runs: [JobRun]) throws { _ = try ledger.store.write { w in try recorder.record(runs, in: w) } }
        func append(_ e: Event) throws -> Sequence64 { try ledger.store.write { w in try w.append(e) } }
        func submit(_ m: String, _ items: [(String, String, String?)], date: String, after: [(String, String?)], agreed: Bool) throws -> Sequence64 {
            let intent = SubmissionIntent(offering: offering, kind: .totals, resource: resource, month: month(m), date: t(date),
                                          items: items.map { .init(target: target(m, $0.0), amount: amount($0.1), basedOn: $0.2.map(amount)) },
                                          configFingerprint: fingerprint)
            let s = try append(.submissionIntended(intent))
            _ = try append(.submissionOutcome(SubmissionOutcome(intent: s, result: .accepted)))
            _ = try append(.submissionConfirmed(SubmissionConfirmation(
                intent: s, observed: after.map { ObservedValue(target: target(m, $0.0), amount: $0.1.map(amount), componentUsage: "cu" + m) },
                agreed: agreed)))
            return s
        }

        var dir = DirectoryChange(offering: offering)
        dir.upsertedResources = [DirectoryResource(uuid: resource, backendID: "PROJ_X", state: "OK", name: "project x")]
        _ = try append(.directoryChanged(dir))

        try record([run(1, "proj_x", "alice", cpus: 4, "2026-07-10T00:00:00Z", "2026-07-10T10:00:00Z"),
                    run(2, "proj_x", "bob", cpus: 5, "2026-08-03T00:00:00Z", "2026-08-03T05:00:00Z"),
                    run(3, "proj_x", "alice", cpus: 6, "2026-09-01T00:00:00Z", "2026-09-01T10:00:00Z"),
                    run(4, "proj_x", "bob", cpus: 2, "2026-09-02T00:00:00Z", "2026-09-02T05:00:00Z")])
        try observe("2026-09-30T00:00:00Z")
        _ = try submit("2026-07", [("cpu", "40.00", nil), ("mem", "40.00", nil)], date: "2026-07-15T12:00:00Z",
                       after: [("cpu", "40.00"), ("mem", "40.00")], agreed: true)
        _ = try submit("2026-08", [("cpu", "25.00", nil), ("mem", "25.00", nil)], date: "2026-08-15T12:00:00Z",
                       after: [("cpu", "25.00"), ("mem", "25.00")], agreed: true)
        _ = try submit("2026-09", [("cpu", "70.00", nil), ("mem", "70.00", nil)], date: "2026-09-29T23:55:00Z",
                       after: [("cpu", "70.00"), ("mem", "70.00")], agreed: true)
        // An admin moves job 4 to another account: September shrinks to 60, but nobody sends it.
        var moved = run(4, "proj_y", "bob", cpus: 2, "2026-09-02T00:00:00Z", "2026-09-02T05:00:00Z")
        moved.state = "COMPLETED"
        try record([moved])
        seq.moved = try ledger.store.read { try $0.eventCount() } - 1
        try record([run(5, "proj_x", "alice", cpus: 2, "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z"),
                    run(6, "proj_x", "bob", cpus: 1, "2026-11-02T00:00:00Z", "2026-11-03T06:00:00Z")])
        try observe("2026-11-05T00:00:00Z")
        // November: 24 + 30 = 54 CPU-hours sent and confirmed.
        seq.novemberFirst = try submit("2026-11", [("cpu", "54.00", nil), ("mem", "54.00", nil)], date: "2026-11-04T23:55:00Z",
                                       after: [("cpu", "54.00"), ("mem", "54.00")], agreed: true)
        var seen = WaldurObservation(offering: offering, month: month("2026-11"), values: [ObservedValue(target: target("2026-11", "cpu", "alice"), amount: amount("24.00"))])
        seen.values.append(ObservedValue(target: UsageTarget(resource: "ffa0f810be1c43bbb651e8cbdbb90198", month: month("2026-11"), component: "cpu"), amount: amount("1.00")))
        seq.observation = try append(.waldurObserved(seen))
        // Job 6's end is corrected (30 h → 26 h): November drops to 50; the decrease is sent.
        try record([run(6, "proj_x", "bob", cpus: 1, "2026-11-02T00:00:00Z", "2026-11-03T02:00:00Z")])
        seq.corrected = try ledger.store.read { try $0.eventCount() } - 1
        try record([run(7, "proj_x", "carol", cpus: 3, "2026-12-01T00:00:00Z", nil)])
        try observe("2026-12-02T00:00:00Z")
        let decrease = SubmissionIntent(offering: offering, kind: .totals, resource: resource, month: month("2026-11"), date: t("2026-12-01T12:00:00Z"),
                                        items: [.init(target: target("2026-11", "cpu"), amount: amount("50.00"), basedOn: amount("54.00")),
                                                .init(target: target("2026-11", "mem"), amount: amount("50.00"), basedOn: amount("54.00"))],
                                        cause: [seq.corrected], configFingerprint: fingerprint)
        seq.novemberSecond = try append(.submissionIntended(decrease))
        _ = try append(.submissionOutcome(SubmissionOutcome(intent: seq.novemberSecond, result: .accepted)))
        _ = try append(.submissionConfirmed(SubmissionConfirmation(
            intent: seq.novemberSecond, observed: [ObservedValue(target: target("2026-11", "cpu"), amount: amount("50.00"), componentUsage: "cu11"),
                                                   ObservedValue(target: target("2026-11", "mem"), amount: amount("50.00"), componentUsage: "cu11")],
            agreed: true)))
        return (ledger, seq)
    }
}
