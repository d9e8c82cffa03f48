import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonSacct
import ReckonWaldur

/// One reconciliation tick, shared by `reckon sync` (one tick) and the daemon (a tick per
/// interval): poll sacct once for all accounts of the cluster over `[last poll − overlap, now)`
/// (or the whole open months on the slower re-scan cadence), then reconcile every offering for
/// its open months. A tick with nothing new appends only the poll record and writes nothing.
public actor ReconcileTick {
    public struct Result: Sendable {
        public var ingest: IngestService.Outcome?
        public var pollWindow: TimeWindow?
        public var rescan = false
        public var reports: [OfferingReconciler.Report] = []
        public var errors: [String] = []
        /// The tick was cancelled (the daemon is stopping) before every offering was reconciled.
        public var cancelled = false
        public var ok: Bool { errors.isEmpty && reports.allSatisfy { $0.errors.isEmpty } }
    }

    let ledger: Ledger
    let config: ReckonConfiguration
    let clock: any WallClock
    let logger: Logger
    let clients: [String: WaldurClient]
    var reconcilers: [String: OfferingReconciler] = [:]
    /// The daemon's memory of the sacct lines it has recorded (nil: none is kept, as in `reckon
    /// sync`, whose one poll would only pay to build it). See ``SacctLineMemory``.
    var lineMemory: SacctLineMemory?

    static let lastPollKey = "poll.last_end"
    static let lastRescanKey = "poll.last_rescan"
    static let directoryMark = "reconcile.directory_read."
    static let userReadMark = "reconcile.user_usages_read."

    public init(ledger: Ledger, config: ReckonConfiguration, clock: any WallClock, logger: Logger, clients: [String: WaldurClient]) {
        self.ledger = ledger
        self.config = config
        self.clock = clock
        self.logger = logger
        self.clients = clients
    }

    /// Keeps a memory of recorded sacct lines from tick to tick, so a poll that prints them
    /// again skips them unread (for the daemon, which holds the state lock for its lifetime).
    public func keepLineMemory() {
        if lineMemory == nil { lineMemory = SacctLineMemory() }
    }

    /// How many sacct lines the memory holds (0 without one).
    public var rememberedLines: Int { lineMemory?.count ?? 0 }

    /// Submissions still waiting for their read-back, from the reconcilers' folded state
    /// (no pass over the log).
    public func pendingIntents() -> Int {
        reconcilers.values.reduce(0) { $0 + $1.state.openIntents.count }
    }

    /// Runs one tick. `dryRun` plans without polling, recording or sending.
    public func run(dryRun: Bool = false, decision: ReconcileDecision.Options? = nil, pollSacct: Bool = true) async -> Result {
        var result = Result()
        let now = clock.now()
        if pollSacct && !dryRun {
            let sources = Self.sources(config.offerings)
            for (i, source) in sources.enumerated() {
                do { try poll(source, first: i == 0, keepMemory: sources.count == 1, now: now, result: &result) } catch {
                    let which = sources.count > 1 ? " (cluster \"\(source.cluster)\", \(source.binPath))" : ""
                    result.errors.append("sacct poll failed\(which): \(error)")
                    logger.error("sacct poll failed; reconciling with what the log already holds",
                                 metadata: ["error": "\(error)", "cluster": "\(source.cluster)"])
                }
            }
        }
        let months = OfferingReconciler.openMonths(calendar: config.calendar, now: now, periods: config.reportingPeriods)
        for offering in config.offerings {
            if Task.isCancelled { result.cancelled = true; break }
            guard let client = clients[offering.offeringUUID] else { continue }
            do {
                let key = try offering.validatedUUID()
                let reconciler = try reconcilers[key] ?? OfferingReconciler(ledger: ledger, offering: offering, client: client, clock: clock, logger: logger)
                reconcilers[key] = reconciler
                var options = OfferingReconciler.Options()
                options.dryRun = dryRun
                options.decision = decision ?? ReconcileDecision.Options(holdDecreases: config.reckon.holdDecreases)
                options.serverCalendar = config.reckon.waldurTimeZone.flatMap { MonthCalendar(timeZoneIdentifier: $0) }
                options.otherClusters = Set(config.offerings.map(\.clusterName)).subtracting([offering.clusterName, ""])
                // The cadences are kept in the log's metadata, so a `reckon sync` from cron follows them too.
                let marks = try ledger.store.read { r in
                    (try r.meta(Self.directoryMark + key).flatMap(StoreBytes.u64), try r.meta(Self.userReadMark + key).flatMap(StoreBytes.u64))
                }
                options.refreshDirectory = marks.0.map { now - Int64(bitPattern: $0) >= Int64(config.reckon.directoryRefreshMinutes) * 60 } ?? true
                options.readUserUsages = marks.1.map { now - Int64(bitPattern: $0) >= Int64(config.reckon.rescanMinutes) * 60 } ?? true
                let report = try await reconciler.run(months: months, options: options)
                if !dryRun && report.errors.isEmpty && (options.refreshDirectory || options.readUserUsages) {
                    try ledger.store.write { w in
                        if options.refreshDirectory { try w.setMeta(Self.directoryMark + key, StoreBytes.u64(UInt64(bitPattern: now))) }
                        if options.readUserUsages { try w.setMeta(Self.userReadMark + key, StoreBytes.u64(UInt64(bitPattern: now))) }
                    }
                }
                result.reports.append(report)
            } catch where Task.isCancelled {
                result.cancelled = true
                logger.info("tick cancelled: reckon is stopping; what is left is done at the next start", metadata: ["offering": "\(offering.offeringUUID)"])
                break
            } catch {
                result.errors.append("offering \(offering.name.isEmpty ? offering.offeringUUID : offering.name): \(error)")
                logger.error(dryRun ? "plan failed" : "reconcile failed", metadata: ["offering": "\(offering.offeringUUID)", "error": "\(error)"])
            }
        }
        return result
    }

    /// Where sacct is run: an offering's `slurm_bin_path` and `cluster_name`. A config whose
    /// offerings name several clusters is polled once per cluster each tick.
    struct SacctSource: Hashable {
        var binPath: String
        var cluster: String
    }

    /// The offerings' sources, each once, in the config's order.
    static func sources(_ offerings: [OfferingConfiguration]) -> [SacctSource] {
        var seen = Set<SacctSource>()
        return offerings.map { SacctSource(binPath: $0.slurmBinPath, cluster: $0.clusterName) }.filter { seen.insert($0).inserted }
    }

    /// The poll of one source: incremental with overlap, or a full re-scan of the open months
    /// when due. The first source keeps the poll marks of a one-cluster log; the others have
    /// marks of their own. Only a lone source keeps the daemon's line memory (it is tied to one
    /// cluster's output).
    func poll(_ source: SacctSource, first: Bool, keepMemory: Bool, now: EpochSeconds, result: inout Result) throws {
        let months = OfferingReconciler.openMonths(calendar: config.calendar, now: now, periods: config.reportingPeriods)
        guard let oldest = months.first, let openStart = config.calendar.window(of: oldest)?.start else { return }
        let suffix = first ? "" : ".\(source.cluster)@\(source.binPath)"
        let lastPollKey = Self.lastPollKey + suffix, lastRescanKey = Self.lastRescanKey + suffix
        let meta = try ledger.store.read { r in
            (try r.meta(lastPollKey).flatMap(StoreBytes.u64), try r.meta(lastRescanKey).flatMap(StoreBytes.u64))
        }
        let lastEnd = meta.0.map { Int64(bitPattern: $0) }
        let lastRescan = meta.1.map { Int64(bitPattern: $0) }
        let rescanDue = lastRescan.map { now - $0 >= Int64(config.reckon.rescanMinutes) * 60 } ?? true
        var start = openStart
        if !rescanDue, let lastEnd { start = max(openStart, lastEnd - Int64(config.reckon.pollOverlapMinutes) * 60) }
        guard let window = TimeWindow(start: min(start, now - 1), end: now) else { return }
        let cluster = source.cluster.isEmpty ? nil : source.cluster
        let command = SacctCommand(binDirectory: source.binPath, window: window, cluster: cluster)
        var memory = keepMemory ? lineMemory.take() : nil
        defer { if keepMemory { lineMemory = memory } }
        let outcome = try IngestService(ledger: ledger).ingestSacct(command: command, window: window,
                                                                   runner: SacctRunner(timeoutSeconds: config.reckon.sacctTimeoutSeconds),
                                                                   observedAt: now, defaultCluster: cluster ?? "default",
                                                                   memory: &memory, rescan: rescanDue)
        try ledger.store.write { w in
            try w.setMeta(lastPollKey, StoreBytes.u64(UInt64(bitPattern: now)))
            if rescanDue { try w.setMeta(lastRescanKey, StoreBytes.u64(UInt64(bitPattern: now))) }
        }
        if var merged = result.ingest {
            // A second cluster's poll: its observations join the first's (the summary shows the first window).
            merged.observations += outcome.observations
            merged.warnings += outcome.warnings
            merged.formatWarnings += outcome.formatWarnings
            merged.recalled += outcome.recalled
            result.ingest = merged
        } else {
            result.ingest = outcome
            result.pollWindow = window
            result.rescan = rescanDue
        }
        for w in outcome.warnings { logger.warning("sacct said: \(w)") }
        for w in outcome.formatWarnings { logger.warning("\(w)") }
        if outcome.malformedCount > 0 {
            logger.warning("sacct output had malformed records; the good ones were kept",
                           metadata: ["malformed": "\(outcome.malformedCount)", "lines": "\(outcome.malformed.prefix(10).map(\.line))"])
        }
        logger.info("sacct poll", metadata: ["cluster": "\(source.cluster)", "window": "\(window)", "records": "\(outcome.records)", "new_versions": "\(outcome.newVersions)",
                                             "rescan": "\(rescanDue)", "recalled": "\(outcome.recalled)"])
    }
}
