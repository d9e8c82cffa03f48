/// The binary form of events in the log: compact (a job-run version is ~60–90 bytes), versioned
/// per kind, and strict: anything it does not recognise — including a kind or version written by
/// a newer reckon — is an error, never a guess.
///
/// Layout: `[kind u8][kind version u8][payload]`. Strings are varint-length UTF-8; times are
/// zigzag varints, `start` relative to `submit` and `end` relative to `start`; well-known TRES
/// names are one byte.
public enum EventCodec {
    /// The newest on-disk format this build writes and reads (stored in the log's metadata).
    /// Format 2 stores the events of a write in blocks (the LMDB store's `LMDBEventRecord`);
    /// the events themselves are encoded as in format 1, whose stores it reads as they are.
    public static let formatVersion: UInt32 = 2

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
    static let wellKnownTRES: [String] = ["cpu", "mem", "energy", "node", "billing", "fs/disk", "vmem", "pages", "gres/gpu",
                                          "gres/gpu:a100", "gres/gpu:h100", "gres/gpu:v100", "gres/gpu:a40", "gres/gpu:l40s",
                                          "gres/gpu:mi250x", "gres/gpu:mi300x"]

    /// One-byte code of a well-known TRES name (0: spelled out). A switch, not a dictionary:
    /// this runs for every TRES of every recorded run.
    @inline(__always)
    static func tresCode(_ name: String) -> UInt8 {
        switch name {
        case "cpu": return 1
        case "mem": return 2
        case "energy": return 3
        case "node": return 4
        case "billing": return 5
        case "fs/disk": return 6
        case "vmem": return 7
        case "pages": return 8
        case "gres/gpu": return 9
        case "gres/gpu:a100": return 10
        case "gres/gpu:h100": return 11
        case "gres/gpu:v100": return 12
        case "gres/gpu:a40": return 13
        case "gres/gpu:l40s": return 14
        case "gres/gpu:mi250x": return 15
        case "gres/gpu:mi300x": return 16
        default: return 0
        }
    }

    /// Slurm's job states, coded in one byte; a state with a suffix (`CANCELLED by 1001`) keeps
    /// the suffix as a string.
    static let wellKnownStates: [String] = ["COMPLETED", "RUNNING", "PENDING", "FAILED", "CANCELLED", "TIMEOUT", "REQUEUED",
                                            "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "SUSPENDED", "BOOT_FAIL", "DEADLINE",
                                            "RESIZING", "REVOKED", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT"]

    /// The one-byte code of a state word (1…18), 0 when it is not well known. Compares UTF-8
    /// bytes, and only with the states of the same length and first letter: this runs for
    /// every recorded run.
    static func stateCode(_ word: UnsafeBufferPointer<UInt8>) -> UInt8 {
        guard let first = word.first else { return 0 }
        for (i, known) in wellKnownStateBytes.enumerated() where known.count == word.count && known[0] == first {
            if known.withUnsafeBufferPointer({ k in memoryEqual(k, word) }) { return UInt8(i + 1) }
        }
        return 0
    }

    static let wellKnownStateBytes: [[UInt8]] = wellKnownStates.map { Array($0.utf8) }

    /// Byte equality, eight bytes at a time.
    @inline(__always)
    public static func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return true }   // both empty
        let n = a.count
        var i = 0
        while i + 8 <= n {
            if UnsafeRawPointer(pa + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(pb + i).loadUnaligned(as: UInt64.self) { return false }
            i += 8
        }
        while i < n { if pa[i] != pb[i] { return false }; i += 1 }
        return true
    }

    static func encodeState(_ state: String, into w: inout ByteWriter) {
        var s = state
        s.withUTF8 { all in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: all.count + 16) { buf in
                guard var c = ByteCursor(buf) else { return }
                encodeState(utf8: all, into: &c)
                w.raw(c.written)
            }
        }
    }

    /// ``encodeState(_:into:)`` of a state's UTF-8 bytes.
    public static func encodeState(utf8 all: UnsafeBufferPointer<UInt8>, into w: inout ByteCursor) {
        var n = 0
        while n < all.count && all[n] != 32 { n += 1 }   // the first word, up to a space
        let code = stateCode(UnsafeBufferPointer(rebasing: all[0..<n]))
        if code == 0 {
            w.u8(0)
            w.varint(UInt64(all.count)); w.raw(all)
        } else if n == all.count {
            w.u8(code)
        } else {
            w.u8(code | 0x80)
            let rest = UnsafeBufferPointer(rebasing: all[n...])
            w.varint(UInt64(rest.count)); w.raw(rest)
        }
    }

    static func decodeState(_ r: inout ByteReader) throws(ByteDecodingError) -> String {
        let code = try r.u8()
        if code == 0 { return try r.string() }
        let i = Int(code & 0x7f)
        guard i >= 1, i <= wellKnownStates.count else { throw ByteDecodingError("unknown job state code \(code)") }
        return code & 0x80 != 0 ? wellKnownStates[i - 1] + (try r.string()) : wellKnownStates[i - 1]
    }

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
        encodeState(r.state, into: &w)
        w.zigzag(r.submit)
        var flags: UInt8 = 0
        if r.start != nil { flags |= 1 }
        if r.end != nil { flags |= 2 }
        if r.allocTRES != nil { flags |= 4 }
        if r.reqTRES != nil { flags |= 8 }
        let sameTRES = r.allocTRES != nil && r.allocTRES == r.reqTRES
        if sameTRES { flags |= 16 }   // ReqTRES equals AllocTRES (most jobs): stored once
        w.u8(flags)
        if let s = r.start { w.zigzag(s - r.submit) }
        if let e = r.end { w.zigzag(e - (r.start ?? r.submit)) }
        w.zigzag(r.suspended)
        if let t = r.allocTRES { encodeTRES(t, into: &w) }
        if let t = r.reqTRES, !sameTRES { encodeTRES(t, into: &w) }
    }

    /// ``tresCode(_:)`` of a name's UTF-8 bytes: by length, then the bytes read as one or two
    /// little-endian words and compared with the known names' (`FastPathTests` check every
    /// known name and near misses against ``tresCode(_:)``).
    static func tresCode(bytes b: UnsafeBufferPointer<UInt8>) -> UInt8 {
        guard let p = b.baseAddress else { return 0 }
        let n = b.count
        @inline(__always) func word(_ from: Int, _ count: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<count { v |= UInt64(p[from + i]) << (8 * UInt64(i)) }
            return v
        }
        switch n {
        case 3:
            switch word(0, 3) { case 0x757063: return 1; case 0x6d656d: return 2; default: return 0 }   // cpu mem
        case 4:
            switch word(0, 4) { case 0x65646f6e: return 4; case 0x6d656d76: return 7; default: return 0 }   // node vmem
        case 5: return word(0, 5) == 0x7365676170 ? 8 : 0   // pages
        case 6: return word(0, 6) == 0x796772656e65 ? 3 : 0   // energy
        case 7:
            switch word(0, 7) { case 0x676e696c6c6962: return 5; case 0x6b7369642f7366: return 6; default: return 0 }   // billing fs/disk
        case 8, 12, 13, 15:
            guard word(0, 8) == 0x7570672f73657267 else { return 0 }   // "gres/gpu"
            switch (n, word(8, n - 8)) {
            case (8, 0): return 9
            case (13, 0x303031613a): return 10   // :a100
            case (13, 0x303031683a): return 11   // :h100
            case (13, 0x303031763a): return 12   // :v100
            case (12, 0x3034613a): return 13     // :a40
            case (13, 0x7330346c3a): return 14   // :l40s
            case (15, 0x78303532696d3a): return 15   // :mi250x
            case (15, 0x78303033696d3a): return 16   // :mi300x
            default: return 0
            }
        default: return 0
        }
    }

    /// Writes what `encodeTRES(TRESQuantities.parseASCII(text))` writes, straight from sacct's
    /// ASCII TRES text, or returns false (the writer may then hold a partial list) when the
    /// text is anything but a list in sacct's usual form: at most 16 items, no name twice, none
    /// longer than `maxNameBytes`, every amount readable. Items are put in name order, as the
    /// parsed value holds them (sacct prints `gres/gpu:a100=2,gres/gpu=2`).
    public static func encodeTRES(ascii text: UnsafeBufferPointer<UInt8>, maxNameBytes: Int, into w: inout ByteCursor) -> Bool {
        guard let base = text.baseAddress, !text.isEmpty else { w.u8(0); return true }
        return withUnsafeTemporaryAllocation(of: (start: Int, count: Int, amount: Int64).self, capacity: 16) { items -> Bool in
            var count = 0
            let read = TRESQuantities.forEachASCIIItem(text) { name, amount in
                guard name.count <= maxNameBytes, count < 16, let at = name.baseAddress else { return false }
                // insertion in name order; a name seen twice is the general reader's case
                var k = count
                while k > 0 {
                    let prev = UnsafeBufferPointer(start: base + items[k - 1].start, count: items[k - 1].count)
                    if prev.lexicographicallyPrecedes(name) { break }
                    if memoryEqual(prev, name) { return false }
                    items[k] = items[k - 1]
                    k -= 1
                }
                items[k] = (base.distance(to: at), name.count, amount)
                count += 1
                return true
            }
            guard read else { return false }
            w.u8(UInt8(count))
            for k in 0..<count {
                let name = UnsafeBufferPointer(start: base + items[k].start, count: items[k].count)
                let code = tresCode(bytes: name)
                if code != 0 { w.u8(code) } else { w.u8(0); w.varint(UInt64(name.count)); w.raw(name) }
                w.zigzag(items[k].amount)
            }
            return true
        }
    }

    static func encodeTRES(_ t: TRESQuantities, into w: inout ByteWriter) {
        w.varint(UInt64(t.entries.count))
        for e in t.entries {
            let code = tresCode(e.name)
            if code != 0 { w.u8(code) } else { w.u8(0); w.string(e.name) }
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
        let jobID = try r.string(), account = try r.string(), user = try r.string(), state = try decodeState(&r)
        let submit = try r.zigzag()
        let flags = try r.u8()
        let start: EpochSeconds? = (flags & 1) != 0 ? submit + (try r.zigzag()) : nil
        let end: EpochSeconds? = (flags & 2) != 0 ? (start ?? submit) + (try r.zigzag()) : nil
        let suspended = try r.zigzag()
        let alloc: TRESQuantities? = (flags & 4) != 0 ? try decodeTRES(&r) : nil
        let req: TRESQuantities? = (flags & 8) != 0 ? ((flags & 16) != 0 ? alloc : try decodeTRES(&r)) : nil
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
