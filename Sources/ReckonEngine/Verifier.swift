import Foundation
import ReckonConfig
import ReckonCore
import ReckonSacct

/// `reckon verify`: compares the log's usage with an independent recomputation from a fresh
/// `sacct --truncate --duplicates --allocations` call over the same half-open window (APEL's
/// "sync record" idea), and Waldur's stored values with the desired ones; every disagreement
/// is listed with both values, to the cent in Waldur units.
public enum Verifier {
    public struct Disagreement: Sendable, Equatable {
        public var against: String      // "sacct" or "waldur"
        public var resource: String     // account (sacct) or resource uuid (waldur)
        public var user: String?
        public var component: String
        public var period: String
        public var ours: WaldurAmount
        public var theirs: WaldurAmount
        public var difference: WaldurAmount { ours - theirs }
    }

    public struct Report: Sendable {
        public var compared = 0
        public var disagreements: [Disagreement] = []
        public var notes: [String] = []
        public var errors: [String] = []
        public var ok: Bool { disagreements.isEmpty && errors.isEmpty }
        public init() {}
    }

    /// Compares `[window.start, min(window.end, last observation))` of the log with sacct's own
    /// truncated accounting of the same window. Capping at the last observation makes running
    /// jobs count to the same instant on both sides (sacct caps them at its "now").
    public static func againstSacct(ledger: Ledger, window: TimeWindow, period: String, components: [Component]?,
                                    command makeCommand: (TimeWindow) -> SacctCommand, runner: SacctRunner,
                                    report: inout Report) throws {
        let query = UsageQuery(ledger: ledger)
        let (_, marks) = try query.nativeUsage(window: window)
        var end = window.end
        if let last = marks.values.max(), last < end { end = last }
        guard let w = TimeWindow(start: window.start, end: end), !w.isEmpty else {
            report.notes.append("nothing observed in \(period) yet: run reckon sync or reckon ingest first")
            return
        }
        if end < window.end { report.notes.append("compared up to the last sacct observation, \(SacctCommand.utcString(end))Z") }
        let (ours, _) = try query.nativeUsage(window: w)
        var fresh = TruncatedUsage(tresSource: ledger.settings.tresSource, label: BillingMonth(year: 1, month: 1)!)
        let stderr = try runner.run(makeCommand(w)) { fresh.consume($0) }
        fresh.finish()
        if !stderr.isEmpty { report.notes.append("sacct said: \(stderr)") }
        for m in fresh.malformed.prefix(10) { report.notes.append("fresh sacct output, \(m)") }
        var a: [String: [String: [String: Int128]]] = [:], b = a   // account → user → tres
        for (k, v) in ours { a[k.account, default: [:]][k.user, default: [:]][k.tres, default: 0] += v }
        for (k, v) in fresh.usage { b[k.account, default: [:]][k.user, default: [:]][k.tres, default: 0] += v }
        let comps = components ?? Set(ours.keys.map(\.tres)).union(fresh.usage.keys.map(\.tres)).sorted()
            .map { Component(name: $0, unitFactor: ExactDecimal(digits: 1, scale: 0)) }
        let before = report.disagreements.count
        for account in Set(a.keys).union(b.keys).sorted() {
            let users = Set((a[account] ?? [:]).keys).union((b[account] ?? [:]).keys).sorted()
            for c in comps {
                var totalA: Int128 = 0, totalB: Int128 = 0
                for u in users {
                    let x = a[account]?[u]?[c.name] ?? 0, y = b[account]?[u]?[c.name] ?? 0
                    totalA += x; totalB += y
                    compare(c, x, y, against: "sacct", resource: account, user: u, period: period, into: &report)
                }
                compare(c, totalA, totalB, against: "sacct", resource: account, user: nil, period: period, into: &report)
            }
        }
        if report.disagreements.count > before {
            report.notes.append("the log differs from a fresh sacct for \(period): late or changed records (or a window cutting through a suspension, see ARCHITECTURE.md). `reckon sync` re-scans the open months; `reckon backfill` corrects older ones")
        }
    }

    static func compare(_ c: Component, _ ours: Int128, _ theirs: Int128, against: String, resource: String, user: String?,
                        period: String, into report: inout Report) {
        let x = c.amount(fromNativeSeconds: ours) ?? .zero, y = c.amount(fromNativeSeconds: theirs) ?? .zero
        report.compared += 1
        if x != y {
            report.disagreements.append(Disagreement(against: against, resource: resource, user: user, component: c.name,
                                                     period: period, ours: x, theirs: y))
        }
    }

    /// Compares what Waldur stores for `month` (read fresh, recording nothing) with the desired values.
    public static func againstWaldur(reconciler: OfferingReconciler, month: BillingMonth, report: inout Report) async throws {
        var options = OfferingReconciler.Options()
        options.dryRun = true
        let run = try await reconciler.run(months: [month], options: options)
        report.notes += run.notes
        let state = reconciler.state
        guard let desired = run.desired[month] else {
            // The log knows nothing of the month (see OfferingReconciler.unobservedMonths): there
            // is nothing to compare Waldur with, which is not agreement.
            report.errors.append("\(month): the log holds no sacct observation of this month; ingest it first (reckon ingest --start … --end …)")
            return
        }
        var keys = Set(desired.values.keys)
        for (t, _) in state.confirmed where t.month == month && desired.values[t.total] != nil { keys.insert(t) }
        for t in keys.sorted() {
            let ours = desired.values[t] ?? .zero, theirs = state.confirmed[t] ?? .zero
            report.compared += 1
            if ours != theirs {
                report.disagreements.append(Disagreement(against: "waldur", resource: t.resource, user: t.user, component: t.component,
                                                         period: month.description, ours: ours, theirs: theirs))
            }
        }
        report.notes += desired.skipped
    }
}
