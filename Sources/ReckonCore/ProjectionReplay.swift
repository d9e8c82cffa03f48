/// Rebuilds the ``UsageProjection`` from an event log, fast: `reckon replay`, time travel and
/// projection rebuilds all go through it.
///
/// The common event — a finished job run seen for the first time, with well-known TRES — is
/// read straight from its bytes: the account and user are interned from their UTF-8 bytes, the
/// TRES list is read where it lies, and the contributions go into a ``UsageAccumulator``;
/// nothing is allocated. Every other event (a version that supersedes another, a run still
/// going, an observation, a Waldur event, an unusual TRES name) takes the general path: full
/// decode, then the same arithmetic as ``UsageProjection/apply(_:superseded:settings:)``. The
/// fast reader never judges an event: on anything unexpected it defers to the general path,
/// which is the definition (and reports a corrupt event with its sequence number).
struct ProjectionReplay {
    let settings: ProjectionSettings
    var usage = UsageAccumulator()
    var open: [[UInt8]: Sequence64] = [:]
    var observedUntil: [String: EpochSeconds] = [:]

    init(settings: ProjectionSettings) { self.settings = settings }

    mutating func fold(_ seq: Sequence64, _ buf: UnsafeRawBufferPointer, reader: any EventStoreReader) throws {
        if usage.addFinishedFirstVersion(buf, settings: settings) { return }
        let event: Event
        do { event = try EventCodec.decode(buf) } catch {
            throw EventStoreError.corrupt("event \(seq) does not decode: \(error)")
        }
        switch event {
        case .jobRunObserved(let e):
            let key = e.run.identity.keyBytes
            if let s = e.supersedes {
                guard case .jobRunObserved(let old)? = try reader.event(at: s) else {
                    throw EventStoreError.corrupt("event \(seq) supersedes \(s), which is not a job run")
                }
                if old.run.end != nil { usage.add(old.run, sign: -1, settings: settings) }
                open[key] = nil
            }
            if e.run.end != nil {
                usage.add(e.run, sign: 1, settings: settings)
            } else if e.run.start != nil {
                open[key] = seq
            }
        case .sacctObserved(let o):
            observedUntil[o.cluster] = Swift.max(observedUntil[o.cluster] ?? o.observedAt, o.observedAt)
        case .directoryChanged, .waldurObserved, .submissionIntended, .submissionOutcome, .submissionConfirmed, .decreaseHeld:
            break
        }
    }

    func finish() -> UsageProjection {
        var p = UsageProjection()
        p.closed = usage.closedUsage()
        p.open = open
        p.observedUntil = observedUntil
        return p
    }
}
