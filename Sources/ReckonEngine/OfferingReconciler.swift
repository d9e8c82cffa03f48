import Foundation
import Logging
import ReckonConfig
import ReckonCore
import ReckonWaldur

/// Makes one Waldur offering agree with the desired usage, for a set of open billing months,
/// with an exactly-once *effect*: every write is preceded by a durable intent event, followed
/// by its outcome, and settled by reading the value back (confirmed or diverged). Deltas are
/// always computed from confirmed values. Ambiguous outcomes are resolved by reading back, never
/// by assuming; intents left open by a crash are resolved before any new work.
///
/// It keeps the folded ``ReconcileState`` between runs and is not safe for concurrent use: one
/// run at a time (``ReconcileTick``, an actor, is its only long-lived owner), hence the unchecked
/// `Sendable`.
public final class OfferingReconciler: @unchecked Sendable {
    public struct Options: Sendable {
        public var decision = ReconcileDecision.Options()
        /// Re-read resources and offering users (else the last recorded directory is used).
        public var refreshDirectory = true
        /// Re-read every user value of the open months (else the last confirmed ones are trusted).
        public var readUserUsages = true
        /// Plan only; send nothing and record nothing.
        public var dryRun = false
        /// The server's TIME_ZONE, when known (`reckon.waldur_time_zone`).
        public var serverCalendar: MonthCalendar?
        /// Only these resources (Waldur UUIDs, hex); nil = all (`backfill --resource`).
        public var resources: Set<String>?
        /// Leave per-user values alone (`backfill --skip-user-usage`).
        public var skipUserUsage = false
        /// The clusters other offerings of the config name: their sacct coverage says nothing of
        /// this offering's cluster (see ``unobservedMonths(_:excluding:)``).
        public var otherClusters: Set<String> = []
        public init() {}
    }

    /// What one run did, for logs, metrics and `plan`/`sync` output.
    public struct Report: Sendable {
        public var offering: String
        public var months: [BillingMonth] = []
        public var plan = ReconcileDecision.Plan()
        public var desired: [BillingMonth: DesiredUsage] = [:]
        public var resolvedIntents = 0
        public var writes = 0
        public var accepted = 0, rejected = 0, needsStaff = 0, ambiguous = 0
        public var confirmed = 0, diverged = 0
        public var decreases = 0
        public var heldRecorded = 0
        public var listCalls = 0
        public var notes: [String] = []
        public var errors: [String] = []
    }

    let ledger: Ledger
    let offering: OfferingConfiguration
    let offeringUUID: WaldurUUID
    let client: WaldurClient
    let clock: any WallClock
    let calendar: MonthCalendar
    let logger: Logger
    /// The folded Waldur side as of the last run (including what a dry run read).
    public private(set) var state: ReconcileState
    private var reportableComponents: [Component]?

    public init(ledger: Ledger, offering: OfferingConfiguration, client: WaldurClient, clock: any WallClock, logger: Logger) throws {
        self.ledger = ledger
        self.offering = offering
        let hex = try offering.validatedUUID()
        guard let uuid = WaldurUUID(hex) else { throw ReconcileError.configuration("offerings[\(offering.index)].waldur_offering_uuid: not a UUID") }
        self.offeringUUID = uuid
        self.client = client
        self.clock = clock
        self.calendar = ledger.settings.calendar
        self.logger = logger
        self.state = try ledger.store.read { try ReconcileState.replay($0) }
    }

    var offeringKey: String { offeringUUID.hex }

    /// The open billing months at `now`: the current one and `periods − 1` before it.
    public static func openMonths(calendar: MonthCalendar, now: EpochSeconds, periods: Int) -> [BillingMonth] {
        calendar.months(endingAt: now, count: periods)
    }

    // MARK: the run

    public func run(months: [BillingMonth], options: Options) async throws -> Report {
        var report = Report(offering: offeringKey, months: months)
        let startNow = clock.now()
        guard let currentMonth = calendar.month(containing: startNow) else { throw ReconcileError.configuration("the clock is outside 1970…2199") }
        if !options.dryRun { try await resolveOpenIntents(&report) }
        let components = try await components(&report)
        if options.refreshDirectory || state.directories[offeringKey] == nil { try await refreshDirectory(&report, record: !options.dryRun) }
        for m in months {
            try await readBack(month: m, users: options.readUserUsages, report: &report, record: !options.dryRun)
        }
        var desired: [BillingMonth: DesiredUsage] = [:]
        let query = UsageQuery(ledger: ledger)
        let unobserved = try unobservedMonths(months, excluding: options.otherClusters)
        for m in unobserved {
            let note = "\(m): sacct has not been observed since the month began, so its usage is unknown; it is not reconciled (it would send zeros)"
            logger.warning("\(note)", metadata: ["offering": "\(offeringKey)"])
            report.notes.append(note)
        }
        for m in months where !unobserved.contains(m) {
            var d = DesiredUsage.compute(directory: state.directories[offeringKey] ?? OfferingDirectory(), month: m,
                                         native: try query.nativeUsage(month: m).usage, components: components)
            if let only = options.resources { d.values = d.values.filter { only.contains($0.key.resource) } }
            if options.skipUserUsage { d.values = d.values.filter { $0.key.user == nil } }
            desired[m] = d
        }
        report.desired = desired
        var decision = options.decision
        decision.includeUsers = !options.skipUserUsage
        var plan = ReconcileDecision.plan(offering: offeringKey, desired: desired, state: state, options: decision)
        report.plan = plan
        if options.dryRun { return report }

        for h in plan.held where state.held[h.target]?.desired != h.desired {
            var held = h
            held.cause = try causes(resource: h.target.resource, month: h.target.month)
            _ = try record(.decreaseHeld(held))
            report.heldRecorded += 1
        }
        // Totals first (they create the ComponentUsage records user values hang under).
        try await execute(plan.totalWrites, currentMonth: currentMonth, startNow: startNow, options: options, report: &report)
        plan = ReconcileDecision.plan(offering: offeringKey, desired: desired, state: state, options: decision)
        try await execute(plan.userWrites, currentMonth: currentMonth, startNow: startNow, options: options, report: &report)
        report.plan.userWrites = plan.userWrites
        report.plan.deferredUsers = plan.deferredUsers
        report.plan.deferredUserItems = plan.deferredUserItems
        return report
    }

    // MARK: steps

    /// The months of `months` that no sacct observation in the log covers: the cluster's
    /// coverage (or, without a cluster name or a mark for it, that of any cluster not in
    /// `otherClusters` — a cluster name sacct spells otherwise) ends at or before the month's
    /// start. Their desired usage would be zero only for want of data — a fresh state directory
    /// whose first poll failed would otherwise zero every value Waldur holds. Coverage is
    /// ``SacctObservation/coveredUntil`` (a sacct window's end, not when it ran); a log written
    /// before that mark existed falls back to its observation times.
    func unobservedMonths(_ months: [BillingMonth], excluding otherClusters: Set<String> = []) throws -> Set<BillingMonth> {
        let (covered, observed) = try ledger.store.read { r in
            (try observationMarks(r, prefix: ProjectionMeta.coveredPrefix), try observationMarks(r))
        }
        var marks = observed
        marks.merge(covered) { _, c in c }
        for c in otherClusters where c != offering.clusterName { marks[c] = nil }
        let cluster = offering.clusterName
        let seen = (cluster.isEmpty ? nil : marks[cluster]) ?? marks.values.max()
        return Set(months.filter { m in
            guard let seen, let start = calendar.window(of: m)?.start else { return true }
            return seen <= start
        })
    }

    /// Settles every intent of this offering that has no confirmation yet (a crash, or an
    /// ambiguous answer) by reading the values back.
    func resolveOpenIntents(_ report: inout Report) async throws {
        let open = state.openIntents.filter { $0.value.offering == offeringKey }
        guard !open.isEmpty else { return }
        logger.info("resolving \(open.count) unsettled submission(s) by reading Waldur back", metadata: ["offering": "\(offeringKey)"])
        for month in Set(open.values.map(\.month)).sorted() {
            let intents = open.filter { $0.value.month == month }
            try await confirm(intents.keys.sorted(), month: month, report: &report)
        }
        report.resolvedIntents = open.count
    }

    /// Components reckon reports: configured ones that the Waldur offering has.
    func components(_ report: inout Report) async throws -> [Component] {
        if let c = reportableComponents { return c }
        guard !offering.components.isEmpty else {
            throw ReconcileError.configuration("offerings[\(offering.index)].backend_components: no components configured")
        }
        let waldur = try await client.offering(offeringUUID)
        let types = Set(waldur.components.map(\.type))
        let usable = offering.components.filter { types.contains($0.name) }
        let missing = offering.components.filter { !types.contains($0.name) }.map(\.name)
        if !missing.isEmpty {
            let note = "components \(missing.joined(separator: ", ")) are configured but not offered by Waldur offering \(offeringKey); they are not reported"
            logger.warning("\(note)")
            report.notes.append(note)
        }
        reportableComponents = usable
        return usable
    }

    func refreshDirectory(_ report: inout Report, record shouldRecord: Bool) async throws {
        let resources = try await client.providerResources(offeringUUID: offeringUUID)
        let users = try await client.offeringUsers(offeringUUID: offeringUUID)
        report.listCalls += 2
        var next = OfferingDirectory()
        for r in resources {
            next.resources[r.uuid.hex] = DirectoryResource(uuid: r.uuid.hex, backendID: r.backendID, state: r.state, name: r.name)
        }
        for u in users {
            guard let name = u.username, !name.isEmpty, let url = u.url else { continue }
            next.users[name] = url
        }
        let current = state.directories[offeringKey] ?? OfferingDirectory()
        if let change = current.change(to: next, offering: offeringKey) {
            if shouldRecord { _ = try record(.directoryChanged(change)) } else { state.apply(StoredEvent(sequence: 0, event: .directoryChanged(change))) }
        }
    }

    /// Reads what Waldur holds for the offering in `month` and records what differs from the
    /// last confirmed values (nothing, on an idle tick).
    func readBack(month: BillingMonth, users: Bool, report: inout Report, record shouldRecord: Bool) async throws {
        let directory = state.directories[offeringKey] ?? OfferingDirectory()
        var seen = try await readTotals(month: month, report: &report)
        if users { seen.merge(try await readUsers(month: month, report: &report)) { a, _ in a } }
        var changed: [ObservedValue] = []
        for (t, v) in seen.sorted(by: { $0.key < $1.key }) where directory.resources[t.resource] != nil {
            if state.confirmed[t] != v.amount || (t.user == nil && v.componentUsage != nil && state.componentUsages[t] != v.componentUsage) {
                changed.append(v)
            }
        }
        for (t, _) in state.confirmed where t.month == month && directory.resources[t.resource] != nil && seen[t] == nil && (t.user == nil || users) {
            changed.append(ObservedValue(target: t, amount: nil))
        }
        guard !changed.isEmpty else { return }
        let event = Event.waldurObserved(WaldurObservation(offering: offeringKey, month: month, values: changed.sorted { $0.target < $1.target }))
        if shouldRecord { _ = try record(event) } else { state.apply(StoredEvent(sequence: 0, event: event)) }
    }

    func readTotals(month: BillingMonth, report: inout Report) async throws -> [UsageTarget: ObservedValue] {
        guard let period = WaldurConnection.period(month) else { return [:] }
        let list = try await client.componentUsages(.offering(offeringUUID), billingPeriod: period)
        report.listCalls += 1
        var out: [UsageTarget: ObservedValue] = [:]
        for u in list {
            guard let r = u.resourceUUID else { continue }
            let t = UsageTarget(resource: r.hex, month: month, component: u.type)
            if let dup = out[t] {
                report.notes.append("Waldur holds more than one \(u.type) record for \(r.hex) in \(month) (\(dup.componentUsage ?? "?"), \(u.uuid.hex)); a new write consolidates them on current servers")
            }
            out[t] = ObservedValue(target: t, amount: WaldurConnection.toCore(u.usage), componentUsage: u.uuid.hex)
        }
        return out
    }

    func readUsers(month: BillingMonth, report: inout Report) async throws -> [UsageTarget: ObservedValue] {
        guard let period = WaldurConnection.period(month) else { return [:] }
        let list = try await client.componentUserUsages(.offering(offeringUUID), billingPeriod: period)
        report.listCalls += 1
        var parent: [String: UsageTarget] = [:]
        for (t, cu) in state.componentUsages where t.month == month { parent[cu] = t }
        var out: [UsageTarget: ObservedValue] = [:]
        for u in list {
            let total: UsageTarget
            if let p = parent[u.componentUsageUUID.hex] { total = p }
            else if let r = u.resourceUUID, let type = u.componentType { total = UsageTarget(resource: r.hex, month: month, component: type) }
            else { continue }
            let t = UsageTarget(resource: total.resource, month: month, component: total.component, user: u.username)
            out[t] = ObservedValue(target: t, amount: WaldurConnection.toCore(u.usage))
        }
        return out
    }

    /// How many writes share one commit of their intents and one of their outcomes.
    public static let writeChunk = 64

    /// Sends the writes: intents (durable) → calls → outcomes, then one read-back per month
    /// settles them. Writes go in chunks of ``writeChunk``: the chunk's intents are committed in
    /// one transaction before any of its calls, the calls are made one by one, and their outcomes
    /// are committed in one transaction — two commits per chunk instead of two per write. A crash
    /// (or a stop) inside a chunk leaves intents without an outcome, sent or not; like an intent
    /// whose process died before its call, they are settled by reading back before new work.
    func execute(_ writes: [ReconcileDecision.Write], currentMonth: BillingMonth, startNow: EpochSeconds,
                 options: Options, report: inout Report) async throws {
        var sent: [BillingMonth: [Sequence64]] = [:]
        var next = writes.startIndex
        while next < writes.endIndex {
            // The next chunk's intents.
            var chunk: [(write: ReconcileDecision.Write, intent: SubmissionIntent)] = []
            while chunk.count < Self.writeChunk && next < writes.endIndex {
                let w = writes[next]
                next += 1
                guard let date = SubmissionDate.choose(month: w.month, currentMonth: currentMonth, now: clock.now(), serverCalendar: options.serverCalendar) else {
                    report.notes.append("\(w.month) has not begun in every time zone yet; its writes wait for a later tick")
                    continue
                }
                try checkMonth(currentMonth)
                let decreasing = w.items.contains(where: \.isDecrease)
                chunk.append((w, SubmissionIntent(offering: offeringKey, kind: w.kind, resource: w.resource, month: w.month, date: date,
                                                  items: w.items, cause: decreasing ? try causes(resource: w.resource, month: w.month) : [],
                                                  configFingerprint: fingerprint, staff: options.decision.staff)))
            }
            guard !chunk.isEmpty else { continue }
            let seqs = try record(chunk.map { Event.submissionIntended($0.intent) })
            // The calls; their outcomes are committed together, also when the chunk stops early.
            var outcomes: [Event] = []
            var stop: (any Error)?
            for ((w, intent), seq) in zip(chunk, seqs) {
                FaultPoint.afterIntentCommit.hit()
                do { try checkMonth(currentMonth) } catch { stop = error; break }
                report.writes += 1
                if w.items.contains(where: \.isDecrease) { report.decreases += 1 }
                let result: SubmissionOutcome.Result
                do {
                    try await send(intent)
                    FaultPoint.afterRequestSent.hit()
                    result = .accepted
                } catch is CancellationError {
                    // Stopping: this intent (and the chunk's unsent ones) stay open and are resolved
                    // by reading back on the next start.
                    stop = CancellationError()
                    break
                } catch {
                    result = WaldurConnection.outcome(of: error)
                }
                outcomes.append(.submissionOutcome(SubmissionOutcome(intent: seq, result: result)))
                switch result {
                case .accepted: report.accepted += 1
                case .rejected(_, let m): report.rejected += 1; report.errors.append("write #\(seq) for \(w.resource) \(w.month) rejected: \(m)")
                case .needsStaff: report.needsStaff += 1
                case .ambiguous(let m): report.ambiguous += 1; logger.warning("write #\(seq) has no clear answer (\(m)); reading back")
                }
                if case .accepted = result { sent[w.month, default: []].append(seq) }
                if case .ambiguous = result { sent[w.month, default: []].append(seq) }
            }
            try record(outcomes)
            if let stop { throw stop }
        }
        if !sent.isEmpty { FaultPoint.beforeConfirmation.hit() }
        for (month, seqs) in sent.sorted(by: { $0.key < $1.key }) {
            try await confirm(seqs, month: month, report: &report)
        }
    }

    /// A month rollover during the tick stops it: the current month's writes would land in the past one.
    func checkMonth(_ currentMonth: BillingMonth) throws {
        if let nowMonth = calendar.month(containing: clock.now()), nowMonth != currentMonth {
            throw ReconcileError.monthRolledOver(from: currentMonth, to: nowMonth)
        }
    }

    func send(_ intent: SubmissionIntent) async throws {
        guard let resource = WaldurUUID(intent.resource) else { throw ReconcileError.configuration("resource \(intent.resource) is not a UUID") }
        let date = Date(timeIntervalSince1970: TimeInterval(intent.date))
        switch intent.kind {
        case .totals:
            let items = try intent.items.map { WaldurUsageItem(type: $0.target.component, amount: try WaldurConnection.toWire($0.amount)) }
            try await client.setUsage(resourceUUID: resource, usages: items, date: date)
        case .userUsages(let cu):
            guard let parent = WaldurUUID(cu) else { throw ReconcileError.configuration("component usage \(cu) is not a UUID") }
            let items = try intent.items.map {
                WaldurUserUsageItem(username: $0.target.user ?? "", usage: try WaldurConnection.toWire($0.amount), offeringUserURL: $0.userURL)
            }
            _ = try await client.setUserUsages(componentUsageUUID: parent, usages: items, date: date)
        }
    }

    /// Reads `month` back once and records a confirmation (or divergence) for each intent.
    func confirm(_ seqs: [Sequence64], month: BillingMonth, report: inout Report) async throws {
        let intents = seqs.compactMap { s in state.openIntents[s].map { (s, $0) } }
        guard !intents.isEmpty else { return }
        let needUsers = intents.contains { if case .userUsages = $0.1.kind { return true } else { return false } }
        var seen = try await readTotals(month: month, report: &report)
        if needUsers { seen.merge(try await readUsers(month: month, report: &report)) { a, _ in a } }
        // One read settles them all, so their confirmations are recorded together (one commit).
        var confirmations: [Event] = []
        for (seq, intent) in intents {
            let observed = intent.items.map { item in
                seen[item.target] ?? ObservedValue(target: item.target, amount: nil)
            }
            let agreed = zip(intent.items, observed).allSatisfy { item, o in (o.amount ?? .zero) == item.amount }
            confirmations.append(.submissionConfirmed(SubmissionConfirmation(intent: seq, observed: observed, agreed: agreed)))
            if agreed { report.confirmed += 1 } else {
                report.diverged += 1
                logger.warning("write #\(seq) diverged: Waldur holds \(observed.map { "\($0.target)=\($0.amount?.description ?? "none")" }.joined(separator: ", "))")
            }
        }
        _ = try record(confirmations)
    }

    // MARK: helpers

    @discardableResult
    func record(_ event: Event) throws -> Sequence64 {
        let seq = try ledger.store.write { w in try w.append(event) }
        state.apply(StoredEvent(sequence: seq, event: event))
        return seq
    }

    /// Appends `events` in order in one write transaction (one durable commit) and folds them.
    @discardableResult
    func record(_ events: [Event]) throws -> [Sequence64] {
        guard !events.isEmpty else { return [] }
        let seqs = try ledger.store.write { w in try events.map { try w.append($0) } }
        for (seq, event) in zip(seqs, events) { state.apply(StoredEvent(sequence: seq, event: event)) }
        return seqs
    }

    /// The unit factors, TRES source and time zone behind every amount.
    var fingerprint: String { AuditFingerprint.current(settings: ledger.settings, components: offering.components) }

    /// Changed job-run versions of the resource's account that touch `month`, since the
    /// resource-month's last settled write (at most 100): the cause of a decrease.
    func causes(resource: String, month: BillingMonth) throws -> [Sequence64] {
        guard let account = state.directories[offeringKey]?.resources[resource]?.backendID.lowercased(),
              let window = calendar.window(of: month) else { return [] }
        let since = state.lastSettled[ResourceMonth(resource: resource, month: month)] ?? 0
        var out: [Sequence64] = []
        try ledger.store.read { r in
            try r.forEachEvent(from: since) { seq, buf in
                guard buf.first == 1, case .jobRunObserved(let e) = try EventCodec.decode(buf), e.run.account == account,
                      let old = e.supersedes else { return true }
                func touches(_ run: JobRun) -> Bool {
                    guard let s = run.start else { return false }
                    return s < window.end && (run.end ?? .max) > window.start
                }
                var hit = touches(e.run)
                if !hit, case .jobRunObserved(let prev)? = try r.event(at: old) { hit = touches(prev.run) }
                if hit { out.append(seq) }
                return out.count < 100
            }
        }
        return out
    }
}
