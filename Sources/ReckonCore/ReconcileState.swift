/// The Waldur side of the log, folded: per offering its directory; per target the last value
/// Waldur was seen to hold (*confirmed*, never merely sent); the ComponentUsage UUIDs that user
/// values hang under; intents not yet settled; resource-months that need a staff token; held
/// decreases. A pure function of the events, so every decision can be replayed.
public struct ReconcileState: Hashable, Sendable {
    public var directories: [String: OfferingDirectory] = [:]
    public var confirmed: [UsageTarget: WaldurAmount] = [:]
    /// Total target → ComponentUsage UUID (hex).
    public var componentUsages: [UsageTarget: String] = [:]
    /// Intents (by sequence number) without a confirmation or a definite refusal yet.
    public var openIntents: [Sequence64: SubmissionIntent] = [:]
    /// The last outcome recorded for each open intent.
    public var outcomes: [Sequence64: SubmissionOutcome.Result] = [:]
    /// Past resource-months whose write was refused for want of a staff token, with the intent.
    public var needsStaff: [ResourceMonth: Sequence64] = [:]
    /// Held decreases by target (the desired amount held back).
    public var held: [UsageTarget: HeldDecrease] = [:]
    /// Sequence number of the last settled write per resource-month (the cause scan starts there).
    public var lastSettled: [ResourceMonth: Sequence64] = [:]

    public init() {}

    public mutating func apply(_ e: StoredEvent) {
        switch e.event {
        case .jobRunObserved, .sacctObserved:
            break
        case .directoryChanged(let c):
            directories[c.offering, default: OfferingDirectory()].apply(c)
        case .waldurObserved(let o):
            for v in o.values { record(v) }
        case .submissionIntended(let i):
            openIntents[e.sequence] = i
        case .submissionOutcome(let o):
            guard let intent = openIntents[o.intent] else { return }
            switch o.result {
            case .accepted, .ambiguous:
                outcomes[o.intent] = o.result
            case .rejected:
                openIntents[o.intent] = nil
                outcomes[o.intent] = nil
            case .needsStaff:
                needsStaff[ResourceMonth(resource: intent.resource, month: intent.month)] = o.intent
                openIntents[o.intent] = nil
                outcomes[o.intent] = nil
            }
        case .submissionConfirmed(let c):
            for v in c.observed { record(v) }
            if let intent = openIntents[c.intent] {
                let rm = ResourceMonth(resource: intent.resource, month: intent.month)
                lastSettled[rm] = e.sequence
                if intent.staff || c.agreed { needsStaff[rm] = nil }
                for item in intent.items where held[item.target]?.desired == item.amount || c.agreed { held[item.target] = nil }
            }
            openIntents[c.intent] = nil
            outcomes[c.intent] = nil
        case .decreaseHeld(let h):
            held[h.target] = h
        }
    }

    mutating func record(_ v: ObservedValue) {
        if let a = v.amount { confirmed[v.target] = a } else { confirmed[v.target] = nil }
        if v.target.user == nil { componentUsages[v.target] = v.componentUsage ?? componentUsages[v.target] }
    }

    /// Targets that an open intent is about to change.
    public var pendingTargets: Set<UsageTarget> {
        Set(openIntents.values.flatMap { $0.items.map(\.target) })
    }

    /// Folds a whole store snapshot (the Waldur-side events only matter; job events are skipped).
    public static func replay(_ reader: any EventStoreReader, until last: Sequence64? = nil) throws -> ReconcileState {
        var s = ReconcileState()
        try reader.forEachEvent(from: 0) { seq, buf in
            if let last, seq > last { return false }
            // Job-run and sacct events (kinds 1 and 2) are the bulk of the log; skip them undecoded.
            if let kind = buf.first, kind <= 2 { return true }
            do { s.apply(StoredEvent(sequence: seq, event: try EventCodec.decode(buf))) } catch {
                throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
            }
            return true
        }
        return s
    }
}
