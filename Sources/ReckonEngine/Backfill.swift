import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonSacct
import ReckonWaldur

/// `reckon backfill`: historical catch-up, month by month over whole months, with the same core
/// and the same intent/confirm protocol as the daemon: ingest the month's sacct window (one call
/// for all accounts), read back what Waldur holds for the whole offering (batched list calls),
/// and send only the differences, with a staff token so past months are accepted. Resumable:
/// what is confirmed agrees on a re-run and is not sent again.
public struct Backfill {
    /// A checked request: the months to cover.
    public struct Range: Sendable, Equatable {
        public var months: [BillingMonth]
    }

    /// Longest span accepted (the site-agent's loader allows the same 5 × 365 days).
    public static let maxSpanDays = 5 * 365

    /// Validates `YYYY-MM-DD` dates: strict format, end ≥ start, not in the future, span limited.
    public static func range(start: String, end: String, calendar: MonthCalendar, now: EpochSeconds) throws(BackfillError) -> Range {
        func date(_ s: String, _ option: String) throws(BackfillError) -> (BillingMonth, EpochSeconds) {
            let u = Array(s.utf8)
            guard u.count == 10, u[4] == 45, u[7] == 45, let y = Int(s.prefix(4)), let m = Int(s.dropFirst(5).prefix(2)),
                  let d = Int(s.suffix(2)), let bm = BillingMonth(year: y, month: m), let w = calendar.window(of: bm),
                  (1...31).contains(d) else {
                throw BackfillError.badDate(option: option, value: s)
            }
            let t = w.start + Int64(d - 1) * 86_400
            guard t < w.end else { throw BackfillError.badDate(option: option, value: s) }
            return (bm, t)
        }
        let (sm, st) = try date(start, "--start-date")
        let (em, et) = try date(end, "--end-date")
        guard et >= st else { throw BackfillError.endBeforeStart(start: start, end: end) }
        guard let today = calendar.month(containing: now), em <= today, st <= now else { throw BackfillError.future(end) }
        guard (et - st) / 86_400 <= Int64(maxSpanDays) else { throw BackfillError.tooLong(days: Int((et - st) / 86_400)) }
        var months: [BillingMonth] = []
        var m = sm
        while m <= em { months.append(m); m = m.next }
        return Range(months: months)
    }

    /// One month's result, for the summary table.
    public struct MonthResult: Sendable {
        public var month: BillingMonth
        public var resources = 0
        public var agreed = 0
        public var writes = 0
        public var confirmed = 0
        public var decreases = 0
        public var errors: [String] = []
        public var ok: Bool { errors.isEmpty }
    }

    let ledger: Ledger
    let config: ReckonConfiguration
    let offering: OfferingConfiguration
    let client: WaldurClient
    let clock: any WallClock
    let logger: Logger

    public init(ledger: Ledger, config: ReckonConfiguration, offering: OfferingConfiguration, client: WaldurClient,
                clock: any WallClock, logger: Logger) {
        self.ledger = ledger
        self.config = config
        self.offering = offering
        self.client = client
        self.clock = clock
        self.logger = logger
    }

    /// Refuses a token that is not staff (Waldur lets only staff backfill usage components).
    public func checkStaff() async throws {
        let me = try await client.me()
        guard me.isStaff else { throw BackfillError.notStaff(username: me.username) }
    }

    /// Runs the backfill. `progress(i, n, month, result)` is called after each month.
    public func run(_ range: Range, resources backendIDs: [String], dryRun: Bool, skipUserUsage: Bool,
                    progress: (Int, Int, MonthResult) -> Void) async throws -> [MonthResult] {
        let reconciler = try OfferingReconciler(ledger: ledger, offering: offering, client: client, clock: clock, logger: logger)
        var results: [MonthResult] = []
        var resourceFilter: Set<String>?
        let now = clock.now()
        for (i, month) in range.months.enumerated() {
            var r = MonthResult(month: month)
            do {
                if let w = config.calendar.window(of: month), w.start < now, let win = TimeWindow(start: w.start, end: min(w.end, now)) {
                    let cluster = offering.clusterName.isEmpty ? nil : offering.clusterName
                    _ = try IngestService(ledger: ledger).ingestSacct(
                        command: SacctCommand(binDirectory: offering.slurmBinPath, window: win, cluster: cluster), window: win,
                        runner: SacctRunner(timeoutSeconds: config.reckon.sacctTimeoutSeconds), observedAt: now, defaultCluster: cluster ?? "default")
                }
                var options = OfferingReconciler.Options()
                options.dryRun = dryRun
                options.decision = ReconcileDecision.Options(holdDecreases: config.reckon.holdDecreases, staff: true)
                options.refreshDirectory = i == 0
                options.readUserUsages = !skipUserUsage
                options.skipUserUsage = skipUserUsage
                options.serverCalendar = config.reckon.waldurTimeZone.flatMap { MonthCalendar(timeZoneIdentifier: $0) }
                if i == 0 && !backendIDs.isEmpty {
                    // Resolve --resource names against Waldur's resources before the first write.
                    var probe = options
                    probe.dryRun = true
                    _ = try await reconciler.run(months: [month], options: probe)
                    let byAccount = reconciler.state.directories[reconciler.offeringKey]?.resourcesByAccount ?? [:]
                    var uuids = Set<String>()
                    for b in backendIDs {
                        guard let rs = byAccount[b.lowercased()], !rs.isEmpty else { throw BackfillError.unknownResource(b) }
                        uuids.formUnion(rs.map(\.uuid))
                    }
                    resourceFilter = uuids
                    options.refreshDirectory = false
                }
                options.resources = resourceFilter
                let rep = try await reconciler.run(months: [month], options: options)
                r.resources = Set((rep.desired[month]?.values.keys ?? [:].keys).map(\.resource)).count
                r.agreed = rep.plan.agreed
                r.writes = dryRun ? rep.plan.writeCount : rep.writes
                r.confirmed = rep.confirmed
                r.decreases = dryRun ? (rep.plan.totalWrites + rep.plan.userWrites).flatMap(\.items).filter(\.isDecrease).count : rep.decreases
                r.errors = rep.errors + (rep.diverged > 0 ? ["\(rep.diverged) write(s) diverged"] : [])
                    + (rep.desired[month] == nil ? rep.notes.filter { $0.contains("sacct has not been observed") } : [])
                    + (rep.needsStaff > 0 ? ["\(rep.needsStaff) write(s) refused: the token cannot backfill past months"] : [])
            } catch let e as BackfillError {
                throw e
            } catch {
                r.errors.append("\(error)")
                logger.error("backfill of \(month) failed; continuing with the next month", metadata: ["error": "\(error)"])
            }
            results.append(r)
            progress(i + 1, range.months.count, r)
        }
        return results
    }
}

/// Why a backfill cannot start.
public enum BackfillError: Error, CustomStringConvertible, Equatable {
    case badDate(option: String, value: String)
    case endBeforeStart(start: String, end: String)
    case future(String)
    case tooLong(days: Int)
    case notStaff(username: String)
    case unknownResource(String)

    public var description: String {
        switch self {
        case .badDate(let o, let v): return "\(o): expected a date YYYY-MM-DD, got \"\(v)\""
        case .endBeforeStart(let s, let e): return "--end-date \(e) is before --start-date \(s)"
        case .future(let e): return "--end-date \(e) is in the future"
        case .tooLong(let d): return "the range spans \(d) days; backfill covers at most \(Backfill.maxSpanDays) days (5 years) per run"
        case .notStaff(let u): return "the token belongs to \(u), who is not staff: Waldur lets only staff users backfill usage into past months. Give a staff token with --user-token-file or --user-token-env (or --no-staff-check to try anyway)"
        case .unknownResource(let b): return "--resource \(b): no resource of this offering has that backend_id"
        }
    }
}
