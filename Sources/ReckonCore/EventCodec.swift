/// The binary form of events in the log: compact (a job-run version is ~60–90 bytes), versioned
/// per kind, and strict: anything it does not recognise — including a kind or version written by
/// a newer reckon — is an error, never a guess.
///
/// Layout: `[kind u8][kind version u8][payload]`. Strings are varint-length UTF-8; times are
/// zigzag varints, `start` relative to `submit` and `end` relative to `start`; well-known TRES
/// names are one byte.
public enum EventCodec {
    /// The newest on-disk format this build writes and reads (stored in the log's metadata).
    public static let formatVersion: UInt32 = 1

    enum Kind: UInt8 {
        case jobRunObserved = 1
        case sacctObserved = 2
        case directoryChanged = 3
        case waldurObserved = 4
        case submissionIntended = 5
        case submissionOutcome = 6
        case submissionConfirmed = 7
        case decreaseHeld = 8
    }

    /// TRES names that get a one-byte code (Slurm's built-in TRES, plus the common GPU gres).
    static let wellKnownTRES: [String] = ["cpu", "mem", "energy", "node", "billing", "fs/disk", "vmem", "pages", "gres/gpu"]
    static let tresCode: [String: UInt8] = {
        var d: [String: UInt8] = [:]
        for (i, n) in wellKnownTRES.enumerated() { d[n] = UInt8(i + 1) }
        return d
    }()

    public static func encode(_ event: Event) -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        switch event {
        case .jobRunObserved(let e):
            w.u8(Kind.jobRunObserved.rawValue); w.u8(1)
            if let s = e.supersedes { w.varint(s + 1) } else { w.varint(0) }
            encodeRun(e.run, into: &w)
        case .sacctObserved(let o):
            w.u8(Kind.sacctObserved.rawValue); w.u8(1)
            switch o.source {
            case .sacct(let win):
                w.u8(1); w.zigzag(win.start); w.zigzag(win.end)
            case .file(let name, let sha):
                w.u8(2); w.string(name); w.string(sha)
            }
            w.string(o.cluster)
            w.zigzag(o.observedAt)
            w.varint(o.records); w.varint(o.skippedSteps); w.varint(o.newVersions); w.varint(o.unchanged)
            w.varint(o.malformedCount)
            w.varint(UInt64(o.malformed.count))
            for m in o.malformed { w.varint(m.line); w.string(m.reason); w.string(m.text) }
        default:
            encodeWaldurEvent(event, into: &w)
        }
        return w.bytes
    }

    static func encodeRun(_ r: JobRun, into w: inout ByteWriter) {
        switch r.identity {
        case .dbIndex(let c, let i): w.u8(1); w.string(c); w.varint(i)
        case .jobIDRaw(let c, let id, let s): w.u8(2); w.string(c); w.varint(id); w.zigzag(s)
        case .jobID(let c, let id, let s): w.u8(3); w.string(c); w.string(id); w.zigzag(s)
        }
        w.string(r.jobID)
        w.string(r.account)
        w.string(r.user)
        w.string(r.state)
        w.zigzag(r.submit)
        var flags: UInt8 = 0
        if r.start != nil { flags |= 1 }
        if r.end != nil { flags |= 2 }
        if r.allocTRES != nil { flags |= 4 }
        if r.reqTRES != nil { flags |= 8 }
        w.u8(flags)
        if let s = r.start { w.zigzag(s - r.submit) }
        if let e = r.end { w.zigzag(e - (r.start ?? r.submit)) }
        w.zigzag(r.suspended)
        if let t = r.allocTRES { encodeTRES(t, into: &w) }
        if let t = r.reqTRES { encodeTRES(t, into: &w) }
    }

    static func encodeTRES(_ t: TRESQuantities, into w: inout ByteWriter) {
        w.varint(UInt64(t.entries.count))
        for e in t.entries {
            if let code = tresCode[e.name] { w.u8(code) } else { w.u8(0); w.string(e.name) }
            w.zigzag(e.amount)
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(ByteDecodingError) -> Event {
        let result: Result<Event, ByteDecodingError> = bytes.withUnsafeBytes { buf in
            Result { () throws(ByteDecodingError) -> Event in try decode(buf) }
        }
        return try result.get()
    }

    public static func decode(_ buf: UnsafeRawBufferPointer) throws(ByteDecodingError) -> Event {
        var r = ByteReader(buf)
        let kindByte = try r.u8()
        let version = try r.u8()
        guard let kind = Kind(rawValue: kindByte) else {
            throw ByteDecodingError("unknown event kind \(kindByte) (written by a newer reckon?)")
        }
        guard version == 1 else {
            throw ByteDecodingError("event kind \(kind) version \(version) is newer than this reckon understands (1)")
        }
        let event: Event
        switch kind {
        case .jobRunObserved:
            let sup = try r.varint()
            let run = try decodeRun(&r)
            event = .jobRunObserved(JobRunObserved(run: run, supersedes: sup == 0 ? nil : sup - 1))
        case .sacctObserved:
            let src: SacctObservation.Source
            switch try r.u8() {
            case 1:
                let s = try r.zigzag(), e = try r.zigzag()
                guard let win = TimeWindow(start: s, end: e) else { throw ByteDecodingError("bad window") }
                src = .sacct(window: win)
            case 2:
                let n = try r.string(), h = try r.string()
                src = .file(name: n, sha256: h)
            default:
                throw ByteDecodingError("bad observation source")
            }
            let cluster = try r.string()
            let at = try r.zigzag()
            var o = SacctObservation(source: src, cluster: cluster, observedAt: at)
            o.records = try r.varint(); o.skippedSteps = try r.varint()
            o.newVersions = try r.varint(); o.unchanged = try r.varint()
            o.malformedCount = try r.varint()
            let n = try r.varint()
            guard n <= UInt64(SacctObservation.maxKeptMalformed) else { throw ByteDecodingError("too many malformed records") }
            for _ in 0..<n {
                let line = try r.varint(), reason = try r.string(), text = try r.string()
                o.malformed.append(MalformedRecord(line: line, reason: reason, text: text))
            }
            event = .sacctObserved(o)
        default:
            event = try decodeWaldurEvent(kind: kind, &r)
        }
        guard r.isAtEnd else { throw ByteDecodingError("trailing bytes after event") }
        return event
    }

    static func decodeRun(_ r: inout ByteReader) throws(ByteDecodingError) -> JobRun {
        let identity: JobRunIdentity
        switch try r.u8() {
        case 1: identity = .dbIndex(cluster: try r.string(), index: try r.varint())
        case 2: identity = .jobIDRaw(cluster: try r.string(), id: try r.varint(), submit: try r.zigzag())
        case 3: identity = .jobID(cluster: try r.string(), id: try r.string(), submit: try r.zigzag())
        default: throw ByteDecodingError("bad job run identity tag")
        }
        let jobID = try r.string(), account = try r.string(), user = try r.string(), state = try r.string()
        let submit = try r.zigzag()
        let flags = try r.u8()
        let start: EpochSeconds? = (flags & 1) != 0 ? submit + (try r.zigzag()) : nil
        let end: EpochSeconds? = (flags & 2) != 0 ? (start ?? submit) + (try r.zigzag()) : nil
        let suspended = try r.zigzag()
        let alloc: TRESQuantities? = (flags & 4) != 0 ? try decodeTRES(&r) : nil
        let req: TRESQuantities? = (flags & 8) != 0 ? try decodeTRES(&r) : nil
        return JobRun(identity: identity, jobID: jobID, account: account, user: user, state: state,
                      submit: submit, start: start, end: end, suspended: suspended, allocTRES: alloc, reqTRES: req)
    }

    static func decodeTRES(_ r: inout ByteReader) throws(ByteDecodingError) -> TRESQuantities {
        let n = try r.varint()
        guard n <= 1024 else { throw ByteDecodingError("too many TRES entries") }
        var pairs: [(String, Int64)] = []
        pairs.reserveCapacity(Int(n))
        for _ in 0..<n {
            let code = try r.u8()
            let name: String
            if code == 0 { name = try r.string() } else {
                guard Int(code) <= wellKnownTRES.count else { throw ByteDecodingError("unknown TRES code \(code)") }
                name = wellKnownTRES[Int(code) - 1]
            }
            pairs.append((name, try r.zigzag()))
        }
        return TRESQuantities(pairs)
    }
}
