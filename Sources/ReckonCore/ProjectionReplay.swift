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
    /// ``varint()`` without throwing: nil where it would throw.
    @inline(__always) mutating func varintOrNil() -> UInt64? {
        let n = bytes.count
        var i = offset
        guard i < n else { return nil }
        let first = bytes[i]
        if first < 0x80 { offset = i + 1; return UInt64(first) }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            let b = bytes[i]
            i += 1
            guard shift < 64 else { return nil }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { offset = i; return result }
            shift += 7
        }
        return nil
    }
    @inline(__always) mutating func zigzagOrNil() -> Int64? {
        guard let u = varintOrNil() else { return nil }
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
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
