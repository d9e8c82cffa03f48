import Foundation
import ReckonConfig
import ReckonCore
import ReckonEngine

/// Six months of one account (`proj_x`, Waldur resource backend_id `PROJ_X`), written into an
/// in-memory ledger with the ingest's recorder plus the Waldur-side events a reconciler appends:
/// desired cpu 40, 25, 60, 24, 50, 72 CPU-hours (July … December 2026), confirmed 40, 25, 70, –,
/// 50, – (four months sent). mem is 1 GiB per CPU, so its amounts equal cpu's.
enum AuditRenderFixture {
    static let offering = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
    static let resource = "50a0f810be1c43bbb651e8cbdbb90198"
    static let components = [
        Component(name: "cpu", unitFactor: ExactDecimal(parsing: "60")!, measuredUnit: "CPU-hours"),
        Component(name: "mem", unitFactor: ExactDecimal(parsing: "61440")!, measuredUnit: "GiB-hours"),
    ]
    static let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)
    static let offeringConfig = OfferingConfiguration(name: "HPC", apiURL: "http://127.0.0.1:1/api/", token: SecretToken("t"),
                                                      offeringUUID: offering, components: components)
    /// Months with a desired bar, and with a confirmed one (per chart).
    static let desiredBars = 6
    static let confirmedBars = 4

    static func t(_ iso: String) -> EpochSeconds { EpochSeconds(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970) }

    static func run(_ n: UInt64, _ user: String, cpus: Int64, _ start: String, _ end: String?) -> JobRun {
        JobRun(identity: .dbIndex(cluster: "c1", index: n), jobID: String(n), account: "proj_x", user: user,
               state: end == nil ? "RUNNING" : "COMPLETED", submit: t(start) - 60, start: t(start), end: end.map(t), suspended: 0,
               allocTRES: TRESQuantities([("cpu", cpus), ("mem", cpus * 1024), ("node", 1)]), reqTRES: nil)
    }

    static func build() throws -> Ledger {
        let ledger = try Ledger(store: InMemoryEventStore(), settings: settings)
        let fingerprint = AuditFingerprint.current(settings: settings, components: components)
        func append(_ e: Event) throws -> Sequence64 { try ledger.store.write { w in try w.append(e) } }
        func submit(_ m: String, _ cpu: String, _ basedOn: String?, date: String) throws {
            let month = BillingMonth(parsing: m)!
            let targets = components.map { UsageTarget(resource: resource, month: month, component: $0.name) }
            let s = try append(.submissionIntended(SubmissionIntent(
                offering: offering, kind: .totals, resource: resource, month: month, date: t(date),
                items: targets.map { .init(target: $0, amount: WaldurAmount(parsing: cpu)!, basedOn: basedOn.flatMap { WaldurAmount(parsing: $0) }) },
                configFingerprint: fingerprint)))
            _ = try append(.submissionOutcome(SubmissionOutcome(intent: s, result: .accepted)))
            _ = try append(.submissionConfirmed(SubmissionConfirmation(
                intent: s, observed: targets.map { ObservedValue(target: $0, amount: WaldurAmount(parsing: cpu), componentUsage: "cu" + m) }, agreed: true)))
        }
        var dir = DirectoryChange(offering: offering)
        dir.upsertedResources = [DirectoryResource(uuid: resource, backendID: "PROJ_X", state: "OK", name: "project x")]
        _ = try append(.directoryChanged(dir))
        try ledger.store.write { w in
            _ = try ledger.recorder.record([
                run(1, "alice", cpus: 4, "2026-07-10T00:00:00Z", "2026-07-10T10:00:00Z"),
                run(2, "bob", cpus: 5, "2026-08-03T00:00:00Z", "2026-08-03T05:00:00Z"),
                run(3, "alice", cpus: 7, "2026-09-01T00:00:00Z", "2026-09-01T10:00:00Z"),
            ], in: w)
        }
        try submit("2026-07", "40.00", nil, date: "2026-07-15T12:00:00Z")
        try submit("2026-08", "25.00", nil, date: "2026-08-15T12:00:00Z")
        try submit("2026-09", "70.00", nil, date: "2026-09-29T23:55:00Z")
        // Job 3 is corrected (7 → 6 CPUs): September drops to 60, not sent yet.
        try ledger.store.write { w in
            _ = try ledger.recorder.record([
                run(3, "alice", cpus: 6, "2026-09-01T00:00:00Z", "2026-09-01T10:00:00Z"),
                run(4, "alice", cpus: 2, "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z"),
                run(5, "bob", cpus: 1, "2026-11-02T00:00:00Z", "2026-11-03T02:00:00Z"),
                run(6, "carol", cpus: 3, "2026-12-01T00:00:00Z", nil),
            ], in: w)
            _ = try ledger.recorder.recordObservation(SacctObservation(source: .file(name: "dump.psv", sha256: "00"), cluster: "c1",
                                                                       observedAt: t("2026-12-02T00:00:00Z")), in: w)
        }
        try submit("2026-11", "50.00", nil, date: "2026-11-30T12:00:00Z")
        return ledger
    }
}
