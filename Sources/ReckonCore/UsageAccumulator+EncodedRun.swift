/// ``UsageAccumulator``'s fast path for the recorder and replay: a finished run's usage read
/// straight from its encoded event, without decoding a `JobRun`.
extension UsageAccumulator {
    /// Adds the usage of an encoded event, read straight from its bytes, when it is the first
    /// version (no `supersedes`) of a run with a start and an end whose TRES are all well-known
    /// names, each once (nearly every run); returns false, having changed nothing, for anything
    /// else, which the caller decodes and adds with ``add(_:sign:settings:)`` — the same
    /// arithmetic (``ActiveTime``, the calendar's month split, amount × seconds).
    ///
    /// `ownerAt`, when not 0, is where the account's length starts (``JobRunRecorder/PreparedRun``
    /// knows it for bytes the sacct fast path wrote): the identity and the job id between are
    /// not read, as they do not bear on usage.
    public mutating func addFinishedFirstVersion(_ buf: UnsafeRawBufferPointer, settings: ProjectionSettings,
                                                 sign: Int128 = 1, ownerAt: Int = 0) -> Bool {
        var r = ByteReader(buf)
        guard let kind = r.peekU8(), kind == EventCodec.Kind.jobRunObserved.rawValue else { return false }
        r.skip(1)
        guard r.next() == 1, r.next() == 0 else { return false }   // version 1, supersedes nothing
        if ownerAt > 3 && ownerAt < buf.count {
            r.skip(ownerAt - 3)
        } else {
            switch r.next() {
            case 1: guard r.skipString(), r.skipVarint() else { return false }
            case 2: guard r.skipString(), r.skipVarint(), r.skipVarint() else { return false }
            case 3: guard r.skipString(), r.skipString(), r.skipVarint() else { return false }
            default: return false
            }
            guard r.skipString() else { return false }
        }
        guard let account = r.stringBytes(), let user = r.stringBytes() else { return false }
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
        var who: Int32 = -1
        var previous = -1
        settings.calendar.forEachMonth(overlapping: start, end) { month, part in
            let secs = ActiveTime.seconds(start: start, end: end, suspended: suspended, within: part.start, part.end)
            guard secs > 0 else { return }
            var t = ByteReader(list)
            guard let n = t.varintOrNil() else { return }
            for _ in 0..<n {
                guard let code = t.next(), let amount = t.zigzagOrNil() else { return }
                guard amount != 0 else { continue }
                let key = Self.cellKey(who < 0 ? owner(account: account, user: user) : who, month.ordinal, UInt16(code))
                if who < 0 {   // the run's first cell
                    who = Int32(truncatingIfNeeded: key >> 32)
                    previous = addFirstOfRun(key: key, sign * Int128(amount) * Int128(secs))
                } else {
                    previous = add(key: key, sign * Int128(amount) * Int128(secs), after: previous)
                }
            }
        }
        return true
    }
}
