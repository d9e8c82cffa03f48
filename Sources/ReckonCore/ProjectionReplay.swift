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
        if foldFinishedRun(buf) { return }
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

    /// Folds a first version (no `supersedes`) of a run with a start and an end whose TRES are
    /// all well-known names, each once; returns false, having changed nothing, for anything else.
    mutating func foldFinishedRun(_ buf: UnsafeRawBufferPointer) -> Bool {
        var r = ByteReader(buf)
        guard let kind = r.peekU8(), kind == EventCodec.Kind.jobRunObserved.rawValue else { return false }
        r.skip(1)
        guard r.next() == 1, r.next() == 0 else { return false }   // version 1, supersedes nothing
        switch r.next() {
        case 1: guard r.skipString(), r.skipVarint() else { return false }
        case 2: guard r.skipString(), r.skipVarint(), r.skipVarint() else { return false }
        case 3: guard r.skipString(), r.skipString(), r.skipVarint() else { return false }
        default: return false
        }
        guard r.skipString(), let account = r.stringBytes(), let user = r.stringBytes() else { return false }
        guard let state = r.next() else { return false }
        if state == 0 || state & 0x80 != 0 { guard r.skipString() else { return false } }
        guard let submit = r.zigzagOrNil(), let flags = r.next(), flags & 3 == 3,
              let toStart = r.zigzagOrNil(), let toEnd = r.zigzagOrNil(), let suspended = r.zigzagOrNil() else { return false }
        let (start, o1) = submit.addingReportingOverflow(toStart)
        let (end, o2) = start.addingReportingOverflow(toEnd)
        guard !o1, !o2 else { return false }
        var alloc: UnsafeRawBufferPointer?
        var req: UnsafeRawBufferPointer?
        if flags & 4 != 0 { guard let l = r.wellKnownTRESList() else { return false }; alloc = l }
        if flags & 8 != 0 {
            if flags & 16 != 0 { req = alloc } else { guard let l = r.wellKnownTRESList() else { return false }; req = l }
        }
        guard r.isAtEnd else { return false }
        guard let list = settings.tresSource == .alloc ? alloc : req, end > start else { return true }
        var owner: Int32 = -1
        settings.calendar.forEachMonth(overlapping: start, end) { month, part in
            let secs = ActiveTime.seconds(start: start, end: end, suspended: suspended, within: part.start, part.end)
            guard secs > 0 else { return }
            var t = ByteReader(list)
            guard let n = t.varintOrNil() else { return }
            for _ in 0..<n {
                guard let code = t.next(), let amount = t.zigzagOrNil() else { return }
                guard amount != 0 else { continue }
                if owner < 0 { owner = usage.owner(account: account, user: user) }
                usage.add(owner: owner, monthOrdinal: month.ordinal, tres: UInt16(code), Int128(amount) * Int128(secs))
            }
        }
        return true
    }
}

extension ByteReader {
    /// The next byte without consuming it.
    @inline(__always) func peekU8() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }
    @inline(__always) mutating func skip(_ n: Int) { offset += n }
    /// The next byte, or nil at the end.
    @inline(__always) mutating func next() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    @inline(__always) mutating func varintOrNil() -> UInt64? { try? varint() }
    @inline(__always) mutating func zigzagOrNil() -> Int64? { try? zigzag() }
    @inline(__always) mutating func skipVarint() -> Bool { varintOrNil() != nil }
    /// The bytes of a length-prefixed string, without copying them.
    mutating func stringBytes() -> UnsafeRawBufferPointer? {
        guard let n = varintOrNil(), n <= UInt64(bytes.count - offset) else { return nil }
        let s = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(n)])
        offset += Int(n)
        return s
    }
    mutating func skipString() -> Bool { stringBytes() != nil }
    /// A TRES list whose names are all one-byte codes, each at most once: its bytes (count
    /// included), or nil for any other list.
    mutating func wellKnownTRESList() -> UnsafeRawBufferPointer? {
        let begin = offset
        guard let n = varintOrNil(), n <= 32 else { return nil }
        var seen: UInt32 = 0
        for _ in 0..<n {
            guard let code = next(), code >= 1, Int(code) <= EventCodec.wellKnownTRES.count, seen & (1 << code) == 0,
                  skipVarint() else { return nil }
            seen |= 1 << code
        }
        return UnsafeRawBufferPointer(rebasing: bytes[begin..<offset])
    }
}
