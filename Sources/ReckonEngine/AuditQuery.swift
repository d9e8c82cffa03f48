import Foundation
import ReckonConfig
import ReckonCore

/// Builds the ``AuditReport`` of one resource-month from a single read snapshot of the ledger.
///
/// The resource is named by its SLURM account (a Waldur `backend_id`, matched case-insensitively)
/// or by its Waldur UUID, and mapped to Waldur resources through the directories the log
/// recorded. Desired values come from the persisted projection (what the reconciler reads) via
/// ``DesiredUsage/compute(directory:month:native:components:)``; confirmed values from the folded
/// ``ReconcileState``; the per-run lineage from ``AuditRunLineage``, which is checked to add up
/// to the projection.
public struct AuditQuery {
    public let ledger: Ledger
    /// The configured offerings: their components and unit factors convert native usage.
    public let offerings: [OfferingConfiguration]

    /// The chart shows at most this many months either side of the audited one.
    public static let seriesReach = 60

    public init(ledger: Ledger, offerings: [OfferingConfiguration]) {
        self.ledger = ledger
        self.offerings = offerings
    }

    public func audit(resource selector: String, month: BillingMonth, component: String? = nil) throws -> AuditReport {
        let settings = ledger.settings
        guard let window = settings.calendar.window(of: month) else { throw AuditError.monthOutOfRange(month.description) }
        let wanted = selector.trimmingCharacters(in: .whitespaces)
        guard !wanted.isEmpty else { throw AuditError.emptyResource }
        return try ledger.store.read { r in
            let scan = try AuditLogScan(r, month: month)
            let marks = try observationMarks(r)
            var notes: [String] = []

            // Resources: by UUID, else every resource whose backend_id is the account.
            let hex = wanted.lowercased().filter { $0 != "-" }
            let byUUID = scan.resourcesSeen[hex]
            let account = byUUID?.resource.backendID.lowercased() ?? wanted.lowercased()
            let candidates = scan.resourcesSeen.values.filter { $0.resource.backendID.lowercased() == account || $0.resource.uuid == hex }
                .sorted { $0.resource.uuid < $1.resource.uuid }
            func isCurrent(_ c: (offering: String, resource: DirectoryResource)) -> Bool {
                scan.state.directories[c.offering]?.resources[c.resource.uuid] != nil
            }
            let current = candidates.filter(isCurrent)
            let primaryUUID: String?
            if let byUUID { primaryUUID = byUUID.resource.uuid }
            else if current.count == 1 { primaryUUID = current[0].resource.uuid }
            else if current.isEmpty && candidates.count == 1 { primaryUUID = candidates[0].resource.uuid }
            else { primaryUUID = nil }
            if candidates.isEmpty {
                notes.append("no Waldur resource with backend_id \(account) is recorded in the log (no sync has seen one): submissions and confirmed values are unknown")
            } else if primaryUUID == nil {
                notes.append("backend_id \(account) names \(current.count) resources (\(current.map(\.resource.uuid).joined(separator: ", "))): the reconciler reports none of them; give --resource UUID to pick one for the totals and the chart")
            }
            if let p = primaryUUID, let c = candidates.first(where: { $0.resource.uuid == p }), !isCurrent(c) {
                notes.append("resource \(p) is no longer in its offering's directory (removed from Waldur); its confirmed values are the last ones seen")
            }
            let primary = candidates.first { $0.resource.uuid == primaryUUID }

            // Components: the primary resource's offering, else the first configured one, else every TRES at factor 1.
            let offeringConfig = primary.flatMap { p in offerings.first { (try? $0.validatedUUID()) == p.offering } } ?? offerings.first
            let offeringKey: String? = primary?.offering ?? offeringConfig.flatMap { try? $0.validatedUUID() }
            var contributions = try AuditRunLineage.collect(r, account: account, month: month, window: window, settings: settings,
                                                            marks: marks, scan: scan)
            let projection = try Self.projection(r, account: account, settings: settings, marks: marks)
            var components: [Component]
            if let o = offeringConfig, !o.components.isEmpty {
                components = o.components
            } else {
                var tres = Set<String>()
                for (m, keys) in projection where m == month { for k in keys.keys { tres.insert(k.tres) } }
                for c in contributions { for v in [c.latest] + c.superseded { tres.formUnion(v.share.native.keys) } }
                components = tres.sorted().map { Component(name: $0, unitFactor: ExactDecimal(digits: 1, scale: 0)) }
                notes.append("no offering components configured: amounts are TRES-minutes (memory in MiB-minutes), unit factor 1")
            }
            if let wantedComponent = component {
                guard let c = components.first(where: { $0.name == wantedComponent }) else {
                    throw AuditError.unknownComponent(wantedComponent, known: components.map(\.name))
                }
                components = [c]
            }

            // The lineage must add up to the projection the reconciler reads.
            let monthNative = projection[month] ?? [:]
            var summed: [UsageKey: Int128] = [:]
            for c in contributions where c.contributesNow {
                for (tres, v) in c.latest.share.native { summed[UsageKey(month: month, account: account, user: c.user, tres: tres), default: 0] += v }
            }
            var differences: [(user: String, tres: String, contributions: Int128, projection: Int128)] = []
            for k in Set(summed.keys).union(monthNative.keys).sorted() where (summed[k] ?? 0) != (monthNative[k] ?? 0) {
                differences.append((k.user, k.tres, summed[k] ?? 0, monthNative[k] ?? 0))
            }
            if !differences.isEmpty {
                notes.append("the job runs listed do not add up to the stored projection for \(differences.count) (user, TRES) key(s): run `reckon replay` to check the projection")
            }
            // With fewer components (`--component`), runs without any of their TRES drop out.
            contributions = contributions.map { Self.restrict($0, to: components) }
                .filter { c in ([c.latest] + c.superseded).contains { !$0.share.native.isEmpty } }

            // Desired (as the reconciler computes it) and confirmed, for the month and the chart.
            let directory = offeringKey.flatMap { scan.state.directories[$0] }
            func desired(_ m: BillingMonth) -> (totals: [String: WaldurAmount?], users: [String: [String: WaldurAmount]], note: String?) {
                Self.desired(month: m, native: projection[m] ?? [:], primary: primaryUUID, directory: directory, account: account, components: components)
            }
            let (monthDesired, userDesired, desiredNote) = desired(month)
            if let desiredNote { notes.append(desiredNote) }
            func confirmed(_ m: BillingMonth, _ c: String, user: String? = nil) -> WaldurAmount? {
                primaryUUID.flatMap { scan.state.confirmed[UsageTarget(resource: $0, month: m, component: c, user: user)] }
            }
            let totals = components.map { c in
                AuditTotal(component: c.name, native: monthNative.filter { $0.key.tres == c.name }.values.reduce(0, +),
                           desired: monthDesired[c.name] ?? nil, confirmed: confirmed(month, c.name))
            }
            var userNames = Set(monthNative.keys.map(\.user))
            if let p = primaryUUID {
                for t in scan.state.confirmed.keys where t.resource == p && t.month == month && t.user != nil { userNames.insert(t.user!) }
            }
            var users: [AuditUserValue] = []
            for u in userNames.sorted() {
                for c in components {
                    let n = monthNative.filter { $0.key.user == u && $0.key.tres == c.name }.values.reduce(0, +)
                    let conf = confirmed(month, c.name, user: u)
                    let d: WaldurAmount? = (monthDesired[c.name] ?? nil) == nil ? nil : (userDesired[u]?[c.name] ?? .zero)
                    if n == 0 && conf == nil { continue }
                    users.append(AuditUserValue(user: u, component: c.name, native: n, desired: d, confirmed: conf))
                }
            }

            // Months of the chart: every month the log knows of for the account or the resource.
            var known: Set<BillingMonth> = [month]
            known.formUnion(projection.keys)
            if let p = primaryUUID {
                for t in scan.state.confirmed.keys where t.resource == p { known.insert(t.month) }
                known.formUnion(scan.intentMonths[p] ?? [])
            }
            let earliest = known.min() ?? month, latest = known.max() ?? month   // `known` holds `month`
            let lo = Swift.max(earliest.ordinal, month.ordinal - Self.seriesReach)
            let hi = Swift.min(latest.ordinal, month.ordinal + Self.seriesReach)
            if lo > earliest.ordinal || hi < latest.ordinal {
                notes.append("the chart shows \(Self.seriesReach) months either side of \(month); the log knows of \(earliest) … \(latest)")
            }
            var series: [AuditSeriesPoint] = []
            for ord in lo...hi {
                guard let m = BillingMonth(ordinal: ord) else { continue }
                let d = m == month ? monthDesired : desired(m).totals
                for c in components {
                    series.append(AuditSeriesPoint(month: m, component: c.name, desired: d[c.name] ?? nil, confirmed: confirmed(m, c.name)))
                }
            }

            // Submissions, observations and held decreases of the resource-month.
            let uuids = Set(candidates.map(\.resource.uuid))
            let names = Set(components.map(\.name))
            var submissions: [AuditSubmission] = []
            for (seq, i) in scan.intents.sorted(by: { $0.key < $1.key }) where uuids.contains(i.intent.resource) {
                let items = i.intent.items.filter { names.contains($0.target.component) }
                guard !items.isEmpty else { continue }
                let confirmation = scan.confirmations[seq].map { c in
                    AuditSubmission.Confirmation(sequence: c.sequence, agreed: c.confirmation.agreed,
                                                 observed: c.confirmation.observed.filter { names.contains($0.target.component) }
                                                     .map { ($0.target.component, $0.target.user, $0.amount) })
                }
                submissions.append(AuditSubmission(
                    sequence: seq, offering: i.intent.offering, resource: i.intent.resource, kind: i.intent.kind, date: i.intent.date,
                    staff: i.intent.staff, configFingerprint: i.intent.configFingerprint, cause: i.intent.cause,
                    items: items.map { .init(component: $0.target.component, user: $0.target.user, amount: $0.amount, basedOn: $0.basedOn, isDecrease: $0.isDecrease) },
                    afterObservation: i.afterObservation, outcome: scan.outcomes[seq], confirmation: confirmation))
            }
            let observations: [AuditObservation] = scan.observations.flatMap { o in
                let values = o.observation.values.filter { uuids.contains($0.target.resource) && names.contains($0.target.component) }
                return Dictionary(grouping: values, by: \.target.resource).sorted { $0.key < $1.key }.map { resource, vs in
                    AuditObservation(sequence: o.sequence, resource: resource, values: vs.map { ($0.target.component, $0.target.user, $0.amount) })
                }
            }
            let held = scan.held.filter { uuids.contains($0.held.target.resource) && names.contains($0.held.target.component) }.map {
                AuditHeld(sequence: $0.sequence, resource: $0.held.target.resource, component: $0.held.target.component, user: $0.held.target.user,
                          confirmed: $0.held.confirmed, desired: $0.held.desired, cause: $0.held.cause)
            }

            let resources = candidates.map { c in
                var conf: [String: WaldurAmount] = [:]
                for comp in components { conf[comp.name] = scan.state.confirmed[UsageTarget(resource: c.resource.uuid, month: month, component: comp.name)] }
                return AuditResource(uuid: c.resource.uuid, offering: c.offering, backendID: c.resource.backendID, name: c.resource.name,
                                     state: c.resource.state, inDirectory: isCurrent(c), primary: c.resource.uuid == primaryUUID, confirmed: conf)
            }
            let fingerprint = offeringConfig.map { AuditFingerprint.current(settings: settings, components: $0.components) }
            if let fingerprint, submissions.contains(where: { $0.configFingerprint != fingerprint }) {
                notes.append("some submissions were computed with another configuration than the current one (see their fingerprints)")
            }
            return AuditReport(account: account, month: month, window: window, timeZone: settings.calendar.timeZoneIdentifier,
                               tresSource: settings.tresSource, componentFilter: component, eventCount: try r.eventCount(),
                               currentFingerprint: fingerprint, offering: offeringKey, components: components.map(AuditComponent.init),
                               resources: resources, observedUntil: marks, contributions: contributions, users: users, totals: totals,
                               projectionCheck: AuditProjectionCheck(differences: differences), submissions: submissions,
                               observations: observations, held: held, series: series, notes: notes)
        }
    }

    /// The account's native usage per month as the reconciler reads it: the persisted usage table
    /// plus running runs counted up to their cluster's last observation (`UsageQuery.nativeUsage(month:)`,
    /// for every month at once and inside the audit's snapshot).
    static func projection(_ r: any EventStoreReader, account: String, settings: ProjectionSettings,
                           marks: [String: EpochSeconds]) throws -> [BillingMonth: [UsageKey: Int128]] {
        var out: [BillingMonth: [UsageKey: Int128]] = [:]
        try UsageTable.forEachCell(r, prefix: [], settings: settings) { k, amount in
            guard let key = UsageKey(bytes: k) else { throw EventStoreError.corrupt("undecodable usage row") }
            if key.account == account { out[key.month, default: [:]][key, default: 0] += amount }
        }
        try forEachOpenRun(r) { run in
            guard run.account == account else { return }
            UsageContribution.forEachMonth(of: run, observedUntil: marks[run.identity.cluster], settings: settings) { k, v in
                out[k.month, default: [:]][k, default: 0] += v
            }
        }
        return out
    }

    /// Desired totals and user values of the primary resource for one month, as
    /// ``DesiredUsage`` computes them for the reconciler (nil totals: the resource is skipped, with
    /// the reason). Without a resource in a current directory, the amounts are converted alone.
    static func desired(month: BillingMonth, native: [UsageKey: Int128], primary: String?, directory: OfferingDirectory?,
                        account: String, components: [Component])
        -> (totals: [String: WaldurAmount?], users: [String: [String: WaldurAmount]], note: String?) {
        var totals: [String: WaldurAmount?] = [:]
        var users: [String: [String: WaldurAmount]] = [:]
        if let primary, let directory, directory.resources[primary] != nil {
            let d = DesiredUsage.compute(directory: directory, month: month, native: native, components: components)
            for c in components { totals[c.name] = .some(d.values[UsageTarget(resource: primary, month: month, component: c.name)]) }
            for (t, a) in d.values where t.resource == primary { if let u = t.user { users[u, default: [:]][t.component] = a } }
            let reason = d.skipped.first { $0.contains(primary) }
            return (totals, users, reason.map { "the reconciler skips this resource: \($0)" })
        }
        for c in components {
            totals[c.name] = c.amount(fromNativeSeconds: native.filter { $0.key.tres == c.name }.values.reduce(0, +))
        }
        var perUser: [String: [String: Int128]] = [:]
        for (k, v) in native { perUser[k.user, default: [:]][k.tres, default: 0] += v }
        for (u, tres) in perUser {
            for c in components { if let n = tres[c.name], n != 0, let a = c.amount(fromNativeSeconds: n) { users[u, default: [:]][c.name] = a } }
        }
        return (totals, users, primary == nil ? nil : "resource \(primary!) is not in a current directory: desired values are converted as reckon would, but the reconciler does not report them")
    }

    /// Keeps the components' TRES of every version's share and converts each to a Waldur amount.
    static func restrict(_ c: AuditContribution, to components: [Component]) -> AuditContribution {
        func share(_ s: AuditShare) -> AuditShare {
            var native: [String: Int128] = [:], amounts: [String: WaldurAmount] = [:]
            for comp in components {
                guard let n = s.native[comp.name] else { continue }
                native[comp.name] = n
                amounts[comp.name] = comp.amount(fromNativeSeconds: n)
            }
            return AuditShare(native: native, amounts: amounts)
        }
        var out = c
        out.latest.share = share(c.latest.share)
        out.superseded = c.superseded.map { var v = $0; v.share = share(v.share); return v }
        return out
    }
}
