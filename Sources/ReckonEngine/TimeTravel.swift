import ReckonConfig
import ReckonCore

/// `reckon replay --until`: desired and confirmed values as they were at a point of the log.
/// A point is a sequence number, or an instant: then the log up to the last sacct observation made
/// at or before it, together with the Waldur-side events that followed that poll (a tick's poll
/// and its writes belong together); job runs recorded by a later poll are not included.
public enum TimeTravel {
    public struct Row: Sendable, Equatable {
        public var account: String
        public var resource: String?
        public var month: BillingMonth
        public var component: String
        public var desired: WaldurAmount
        public var confirmed: WaldurAmount?
    }

    public struct Snapshot: Sendable {
        public var lastSequence: Sequence64?
        public var rows: [Row]
    }

    /// The last sequence number at or before `instant` in the sense above (nil: before the log).
    public static func sequence(atOrBefore instant: EpochSeconds, in reader: any EventStoreReader) throws -> Sequence64? {
        var last: Sequence64?
        var inTail = false
        try reader.forEachEvent(from: 0) { seq, buf in
            switch buf.first {
            case 1:
                inTail = false
            case 2:
                guard case .sacctObserved(let o) = try EventCodec.decode(buf) else { return true }
                if o.observedAt > instant { return false }
                last = seq
                inTail = true
            default:
                if inTail { last = seq }
            }
            return true
        }
        return last
    }

    public static func snapshot(ledger: Ledger, until last: Sequence64, offering: OfferingConfiguration?) throws -> Snapshot {
        try ledger.store.read { r in
            let (p, _) = try UsageProjection.replay(r, settings: ledger.settings, until: last)
            let state = try ReconcileState.replay(r, until: last)
            var native = p.closed
            for (_, seq) in p.open {
                guard case .jobRunObserved(let e)? = try r.event(at: seq) else { continue }
                UsageContribution.forEachMonth(of: e.run, observedUntil: p.observedUntil[e.run.identity.cluster], settings: ledger.settings) { k, v in
                    native[k, default: 0] += v
                }
            }
            let components = (offering?.components.isEmpty ?? true) ? nil : offering?.components
            let directory = offering.flatMap { o in (try? o.validatedUUID()).flatMap { state.directories[$0] } }
            var totals: [String: [BillingMonth: [String: Int128]]] = [:]
            for (k, v) in native { totals[k.account, default: [:]][k.month, default: [:]][k.tres, default: 0] += v }
            var rows: [Row] = []
            for account in totals.keys.sorted() {
                let resource = directory?.resourcesByAccount[account]?.first?.uuid
                for (month, tres) in totals[account]!.sorted(by: { $0.key < $1.key }) {
                    let comps = components ?? tres.keys.sorted().map { Component(name: $0, unitFactor: ExactDecimal(digits: 1, scale: 0)) }
                    for c in comps {
                        let confirmed = resource.flatMap { state.confirmed[UsageTarget(resource: $0, month: month, component: c.name)] }
                        rows.append(Row(account: account, resource: resource, month: month, component: c.name,
                                        desired: c.amount(fromNativeSeconds: tres[c.name] ?? 0) ?? .zero, confirmed: confirmed))
                    }
                }
            }
            return Snapshot(lastSequence: last, rows: rows)
        }
    }
}
