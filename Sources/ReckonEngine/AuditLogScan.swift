import ReckonCore

/// One pass over the event log for `reckon audit`: the folded ``ReconcileState`` (confirmed
/// values, directories), the sacct observation marks in log order, every resource the
/// directories ever named, and the month's submissions (intent, outcome, confirmation),
/// Waldur observations and held decreases. Job-run events, the bulk of the log, are skipped
/// undecoded (as ``ReconcileState/replay(_:until:)`` does); runs are read through the run index.
struct AuditLogScan {
    struct Mark {
        var sequence: Sequence64
        var cluster: String
        var observedAt: EpochSeconds
    }

    struct Intent {
        var intent: SubmissionIntent
        var afterObservation: (sequence: Sequence64, observedAt: EpochSeconds)?
    }

    var state = ReconcileState()
    /// Every sacct observation, in log order.
    var marks: [Mark] = []
    /// Resource UUID → (offering, the last directory record of it).
    var resourcesSeen: [String: (offering: String, resource: DirectoryResource)] = [:]
    /// Intents for the audited month, by sequence number.
    var intents: [Sequence64: Intent] = [:]
    var outcomes: [Sequence64: AuditSubmission.Outcome] = [:]
    var confirmations: [Sequence64: (sequence: Sequence64, confirmation: SubmissionConfirmation)] = [:]
    var observations: [(sequence: Sequence64, observation: WaldurObservation)] = []
    var held: [(sequence: Sequence64, held: HeldDecrease)] = []
    /// Resource UUID → months any intent was recorded for (for the chart's month range).
    var intentMonths: [String: Set<BillingMonth>] = [:]

    init(_ reader: any EventStoreReader, month: BillingMonth) throws {
        var last: (sequence: Sequence64, observedAt: EpochSeconds)?
        try reader.forEachEvent(from: 0) { seq, buf in
            guard let kind = buf.first, kind != 1 else { return true }   // 1: job runs, read via the run index
            let event: Event
            do { event = try EventCodec.decode(buf) } catch {
                throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
            }
            state.apply(StoredEvent(sequence: seq, event: event))
            switch event {
            case .jobRunObserved:
                break
            case .sacctObserved(let o):
                marks.append(Mark(sequence: seq, cluster: o.cluster, observedAt: o.observedAt))
                last = (seq, o.observedAt)
            case .directoryChanged(let c):
                for r in c.upsertedResources { resourcesSeen[r.uuid] = (c.offering, r) }
            case .submissionIntended(let i):
                intentMonths[i.resource, default: []].insert(i.month)
                if i.month == month { intents[seq] = Intent(intent: i, afterObservation: last) }
            case .submissionOutcome(let o):
                if intents[o.intent] != nil { outcomes[o.intent] = AuditSubmission.Outcome(sequence: seq, result: o.result) }
            case .submissionConfirmed(let c):
                if intents[c.intent] != nil { confirmations[c.intent] = (seq, c) }
            case .waldurObserved(let o):
                if o.month == month { observations.append((seq, o)) }
            case .decreaseHeld(let h):
                if h.target.month == month { held.append((seq, h)) }
            }
            return true
        }
    }

    /// What the projection counted a running run up to just before event `sequence`: the latest
    /// observation of its cluster recorded earlier (nil: none yet, so it counted nothing).
    func observedUntil(cluster: String, before sequence: Sequence64) -> EpochSeconds? {
        var out: EpochSeconds?
        for m in marks {
            if m.sequence >= sequence { break }
            if m.cluster == cluster { out = Swift.max(out ?? m.observedAt, m.observedAt) }
        }
        return out
    }
}
