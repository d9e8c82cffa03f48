#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ReckonCore

/// The byte-level fast path of the sacct parser, for the records that make up nearly all real
/// output: one physical line, plain ASCII, exactly the header's field count, every typed field
/// in its usual form (epoch or ISO times, `[D-]HH:MM:SS` durations, plain TRES lists).
///
/// It reads fields straight from the input buffer, without a `String` per line or per field,
/// and builds only the strings a ``JobRun`` keeps. Whenever a record is anything else — a
/// non-ASCII byte, a field count that needs the assembler, a value the strict readers here do
/// not accept, a record that would be malformed — it answers nil and the general path
/// (``SacctRecordAssembler`` and ``SacctRecordParser/parse(_:)``) decides, so the two paths
/// cannot disagree on what a record means: the fast path only ever says what the general path
/// would say, and the differential tests in `Tests/ReckonSacctTests/FastPathTests.swift` hold it
/// to that on the real samples and on generated data.
struct SacctFastPath {
    /// Field boundaries of the current line (start, end) in bytes.
    private var starts: [Int]
    private var ends: [Int]
    /// Fields in the current line.
    private var fieldCount = 0
    /// More fields than this take the general path (sacct output has a few dozen at most).
    private static let maxFields = 256

    init(fieldCount: Int) {
        starts = Array(repeating: 0, count: Self.maxFields)
        ends = Array(repeating: 0, count: Self.maxFields)
    }

    /// The outcome for one physical line (without its newline), or nil to use the general path.
    /// Only `.run` and `.step` are ever returned.
    mutating func outcome(_ line: UnsafeRawBufferPointer, parser: SacctRecordParser) -> SacctRecordParser.Outcome? {
        guard let base = split(line, parser: parser) else { return nil }
        let n = fieldCount
        return starts.withUnsafeBufferPointer { s in
            ends.withUnsafeBufferPointer { e in
                FieldReader(base: base, starts: UnsafeBufferPointer(rebasing: s[0..<n]), ends: UnsafeBufferPointer(rebasing: e[0..<n])).run(parser)
            }
        }
    }

    /// What ``prepared(_:parser:)`` gives: a run ready for the recorder, or a step to skip.
    enum Prepared {
        case run(JobRunRecorder.PreparedRun)
        case step
    }

    /// The line transcoded straight into the recorder's bytes — the event of the run's first
    /// version and its run-index key — without building a ``JobRun``: exactly the bytes
    /// `PreparedRun(outcome's run)` would hold, or nil when the line needs ``outcome(_:parser:)``
    /// or the general path (including TRES lists sacct did not print sorted).
    mutating func prepared(_ line: UnsafeRawBufferPointer, parser: SacctRecordParser) -> Prepared? {
        guard let base = split(line, parser: parser) else { return nil }
        let n = fieldCount
        return starts.withUnsafeBufferPointer { s in
            ends.withUnsafeBufferPointer { e in
                FieldReader(base: base, starts: UnsafeBufferPointer(rebasing: s[0..<n]), ends: UnsafeBufferPointer(rebasing: e[0..<n]))
                    .prepared(parser, cache: &tresCache, arena: &arena)
            }
        }
    }

    private var tresCache = TRESEncodingCache()
    /// Where prepared runs are written (see ``PreparedRunArena``).
    private var arena = PreparedRunArena(capacity: PreparedRunArena.standardCapacity)

    /// Splits a plain ASCII line into the header's fields; nil for anything else.
    private mutating func split(_ line: UnsafeRawBufferPointer, parser: SacctRecordParser) -> UnsafePointer<UInt8>? {
        var n = line.count
        guard n > 0, let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        if base[n - 1] == 13 { n -= 1 }   // the assembler drops one trailing CR
        guard n > 0 else { return nil }
        // Eight bytes at a time: the '|' positions from an exact zero-byte mask of the word
        // XOR "||||||||", and the OR of all bytes for the ASCII check.
        let found: Int? = starts.withUnsafeMutableBufferPointer { sp in
            ends.withUnsafeMutableBufferPointer { ep in
                var count = 0
                var fieldStart = 0
                var acc: UInt64 = 0
                var zero: UInt64 = 0   // non-zero when some byte was 0 (the classic exact "has a zero byte" test)
                var i = 0
                let low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f
                while i + 8 <= n {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                    acc |= word
                    zero |= (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
                    let x = word ^ 0x7c7c_7c7c_7c7c_7c7c
                    var bars = ~(((x & low7) &+ low7) | x | low7)   // high bit of each byte that was '|'
                    while bars != 0 {
                        let pos = i + bars.trailingZeroBitCount >> 3
                        guard count < Self.maxFields else { return nil }
                        sp[count] = fieldStart; ep[count] = pos; count += 1
                        fieldStart = pos + 1
                        bars &= bars &- 1
                    }
                    i += 8
                }
                while i < n {
                    let b = base[i]
                    acc |= UInt64(b)
                    if b == 0 { zero = 1 }
                    if b == 124 {
                        guard count < Self.maxFields else { return nil }
                        sp[count] = fieldStart; ep[count] = i; count += 1
                        fieldStart = i + 1
                    }
                    i += 1
                }
                guard count < Self.maxFields else { return nil }
                sp[count] = fieldStart; ep[count] = n; count += 1
                // Non-ASCII text takes the general path (grapheme-based splitting and Unicode
                // lower-casing are its business), and so does a NUL byte (which it reports in a name).
                guard acc & 0x8080_8080_8080_8080 == 0, zero == 0 else { return nil }
                return count
            }
        }
        guard var count = found else { return nil }
        let h = parser.header.count
        if count == h + 1, starts[h] == ends[h] { count -= 1 }   // `-p`
        guard count == h else { return nil }
        fieldCount = count
        return base
    }
}

/// Reads typed values from the fields of one ASCII line.
private struct FieldReader {
    let base: UnsafePointer<UInt8>
    let starts: UnsafeBufferPointer<Int>
    let ends: UnsafeBufferPointer<Int>

    /// Field `i` without surrounding spaces, tabs and CRs.
    @inline(__always)
    func trimmed(_ i: Int) -> (Int, Int) {
        var s = starts[i], e = ends[i]
        while s < e, isBlank(base[s]) { s += 1 }
        while e > s, isBlank(base[e - 1]) { e -= 1 }
        return (s, e)
    }

    @inline(__always)
    func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 }

    @inline(__always)
    func string(_ r: (Int, Int)) -> String {
        String(decoding: UnsafeBufferPointer(start: base + r.0, count: r.1 - r.0), as: UTF8.self)
    }

    func contains(_ r: (Int, Int), _ byte: UInt8) -> Bool {
        var i = r.0
        while i < r.1 { if base[i] == byte { return true }; i += 1 }
        return false
    }

    /// Digits only, at most 19 of them (no overflow): the value; otherwise nil.
    @inline(__always)
    func digits(_ r: (Int, Int)) -> UInt64? {
        let len = r.1 - r.0
        guard len > 0, len <= 19 else { return nil }
        var v: UInt64 = 0
        var i = r.0
        while i < r.1 {
            let d = base[i] &- 48
            guard d < 10 else { return nil }
            v = v &* 10 &+ UInt64(d)
            i += 1
        }
        return v
    }

    func equals(_ r: (Int, Int), _ word: StaticString) -> Bool {
        guard r.1 - r.0 == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for k in 0..<(r.1 - r.0) where base[r.0 + k] != w[k] { return false }
        return true
    }

    enum Time { case absent, at(Int64), unsure }

    /// As ``SacctValues/time(_:zone:)``: `Unknown`/`None`/`N/A`/empty, epoch digits, or an ISO local time.
    func time(_ i: Int, zone: LocalTimeConverter) -> Time {
        let r = trimmed(i)
        if r.0 == r.1 || equals(r, "Unknown") || equals(r, "None") || equals(r, "N/A") { return .absent }
        if let v = digits(r) {
            guard v <= UInt64(Int64.max) else { return .unsure }
            return .at(Int64(v))
        }
        guard r.1 - r.0 == 19, let t = zone.epoch(isoBytes: UnsafeBufferPointer(start: base + r.0, count: 19)) else { return .unsure }
        return .at(t)
    }

    /// As ``SacctValues/duration(_:)`` for the strict forms `[D-]HH:MM:SS[.fff]` and `MM:SS[.fff]`; nil otherwise.
    func duration(_ r: (Int, Int)) -> Int64? {
        var i = r.0
        let e = r.1
        var nums: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)   // up to 4 numbers: days?, then 2–3 parts
        var count = 0
        var hasDays = false
        var v: Int64 = 0
        var len = 0
        var fracStart = -1
        while i < e {
            let b = base[i]
            if b &- 48 < 10 {
                v = v * 10 + Int64(b - 48); len += 1
                guard len <= 9 else { return nil }
            } else if b == 45 /* - */ {
                guard !hasDays, count == 0, len > 0 else { return nil }
                hasDays = true; nums.0 = v; v = 0; len = 0
            } else if b == 58 /* : */ {
                guard len > 0, count < 2 else { return nil }
                if count == 0 { nums.1 = v } else { nums.2 = v }
                count += 1; v = 0; len = 0
            } else if b == 46 /* . */ {
                fracStart = i + 1; break
            } else {
                return nil
            }
            i += 1
        }
        if fracStart >= 0 {
            var k = fracStart
            while k < e { guard base[k] &- 48 < 10 else { return nil }; k += 1 }
        }
        guard len > 0, count >= 1 else { return nil }
        let (h, m, s): (Int64, Int64, Int64) = count == 2 ? (nums.1, nums.2, v) : (0, nums.1, v)
        guard m < 60, s < 60 else { return nil }
        return nums.0 * 86_400 + h * 3_600 + m * 60 + s
    }

    /// Everything a plain record holds, as numbers and byte ranges: what both ``run(_:)`` and
    /// ``prepared(_:)`` build from, so they cannot read a line differently.
    struct Scan {
        var raw: (Int, Int), display: (Int, Int)
        var cluster: (Int, Int)?   // nil: the parser's default cluster
        var account: (Int, Int), accountHasUpper: Bool
        var user: (Int, Int)
        var state: (Int, Int)?
        var submit: Int64, start: Int64?, end: Int64?, suspended: Int64
        var dbIndex: UInt64, jobIDRaw: UInt64   // dbIndex > 0: that identity; else (cluster, JobIDRaw, Submit)
        var alloc: (Int, Int)?, req: (Int, Int)?
    }

    enum Scanned { case scan(Scan), step }

    func scan(_ p: SacctRecordParser) -> Scanned? {
        let raw = p.iJobIDRaw.map(trimmed) ?? (0, 0)
        let display = p.iJobID.map(trimmed) ?? raw
        if contains(raw, 46) || contains(display, 46) { return .step }
        guard raw.0 != raw.1 || display.0 != display.1 else { return nil }

        var cluster: (Int, Int)?
        if let i = p.iCluster { let c = trimmed(i); if c.0 != c.1 { cluster = c } }

        let a = trimmed(p.iAccount)
        guard a.0 != a.1 else { return nil }
        var upper = false
        for k in a.0..<a.1 where base[k] &- 65 < 26 { upper = true; break }
        let u = trimmed(p.iUser)
        guard u.0 != u.1 else { return nil }

        var submit: Int64 = 0
        if let i = p.iSubmit {
            switch time(i, zone: p.timeZone) {
            case .at(let t): submit = t
            case .absent: submit = 0
            case .unsure: return nil
            }
        }
        var start: Int64?
        switch time(p.iStart, zone: p.timeZone) {
        case .at(let t): start = t
        case .absent: start = nil
        case .unsure: return nil
        }
        var end: Int64?
        switch time(p.iEnd, zone: p.timeZone) {
        case .at(let t): end = t
        case .absent: end = nil
        case .unsure: return nil
        }
        if let s = start, let e = end, e < s { return nil }
        if start == nil { end = nil }
        if let t = start, t < 0 || t >= 7_258_118_400 { return nil }
        if let t = end, t < 0 || t >= 7_258_118_400 { return nil }

        var suspended: Int64 = 0
        if let i = p.iSuspended {
            let r = trimmed(i)
            if r.0 != r.1 {
                if let v = digits(r) { suspended = Int64(clamping: v) }
                else if let d = duration(r) { suspended = d }
                else { return nil }
            }
        }

        var db: UInt64 = 0
        if let i = p.iDBIndex {
            let r = trimmed(i)
            if r.0 != r.1 {
                if let v = digits(r) {
                    db = v
                } else {
                    // Over 19 digits may still be a UInt64 to the general path; anything that is
                    // not all digits it ignores, as here.
                    var allDigits = true
                    for k in r.0..<r.1 where base[k] &- 48 >= 10 { allDigits = false; break }
                    if allDigits { return nil }
                }
            }
        }
        var rawID: UInt64 = 0
        if db == 0 {
            guard let id = digits(raw), p.iSubmit != nil else { return nil }
            rawID = id
        }
        return .scan(Scan(raw: raw, display: display, cluster: cluster, account: a, accountHasUpper: upper, user: u,
                          state: p.iState.map(trimmed), submit: submit, start: start, end: end, suspended: suspended,
                          dbIndex: db, jobIDRaw: rawID, alloc: p.iAllocTRES.map(trimmed), req: p.iReqTRES.map(trimmed)))
    }

    func run(_ p: SacctRecordParser) -> SacctRecordParser.Outcome? {
        guard let scanned = scan(p) else { return nil }
        guard case .scan(let sc) = scanned else { return .step }
        let cluster = sc.cluster.map(string) ?? p.defaultCluster
        let a = sc.account
        let account: String
        if sc.accountHasUpper {
            account = String(unsafeUninitializedCapacity: a.1 - a.0) { buf in
                for k in 0..<(a.1 - a.0) {
                    let b = base[a.0 + k]
                    buf[k] = b &- 65 < 26 ? b + 32 : b
                }
                return a.1 - a.0
            }
        } else {
            account = string(a)
        }
        let identity: JobRunIdentity = sc.dbIndex > 0 ? .dbIndex(cluster: cluster, index: sc.dbIndex)
                                                     : .jobIDRaw(cluster: cluster, id: sc.jobIDRaw, submit: sc.submit)
        var alloc: TRESQuantities?
        var req: TRESQuantities?
        if let r = sc.alloc {
            guard let t = TRESQuantities.parseASCII(UnsafeBufferPointer(start: base + r.0, count: r.1 - r.0)) else { return nil }
            alloc = t
        }
        if let r = sc.req {
            if let a = alloc, let ar = sc.alloc, r.1 - r.0 == ar.1 - ar.0, memcmp(base + r.0, base + ar.0, r.1 - r.0) == 0 {
                req = a   // the same text (most jobs): the same value, sharing storage
            } else {
                guard let t = TRESQuantities.parseASCII(UnsafeBufferPointer(start: base + r.0, count: r.1 - r.0)) else { return nil }
                req = t
            }
        }
        let state = sc.state.map(string) ?? ""
        let jobID = sc.display.0 != sc.display.1 ? string(sc.display) : string(sc.raw)
        return .run(JobRun(identity: identity, jobID: jobID, account: account, user: string(sc.user), state: state,
                           submit: sc.submit, start: sc.start, end: sc.end, suspended: sc.suspended, allocTRES: alloc, reqTRES: req))
    }

    @inline(__always)
    func bytes(_ r: (Int, Int)) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base + r.0, count: r.1 - r.0) }

    /// ``run(_:)``'s run as the recorder's bytes, written directly into `arena`'s free end
    /// (replaced by a fresh one when it has too little room left; see ``SacctFastPath/prepared(_:parser:)``).
    func prepared(_ p: SacctRecordParser, cache: inout TRESEncodingCache, arena: inout PreparedRunArena) -> SacctFastPath.Prepared? {
        guard let scanned = scan(p) else { return nil }
        guard case .scan(let sc) = scanned else { return .step }
        let limit = SacctRecordParser.maxNameBytes
        let jobIDRange = sc.display.0 != sc.display.1 ? sc.display : sc.raw
        // Oversized names are the general path's to report.
        guard sc.account.1 - sc.account.0 <= limit, sc.user.1 - sc.user.0 <= limit, jobIDRange.1 - jobIDRange.0 <= limit,
              (sc.state.map { $0.1 - $0.0 } ?? 0) <= limit, (sc.cluster.map { $0.1 - $0.0 } ?? 0) <= limit else { return nil }
        guard p.defaultClusterUTF8Count <= limit else { return nil }
        let tresLimit = SacctRecordParser.maxTRESNameBytes
        // The line's own cluster is read in place; the default one (no Cluster column) is lent
        // for the call, which takes a reference to its text.
        if let c = sc.cluster { return write(cluster: bytes(c)) }
        var defaultCluster = p.defaultCluster
        return defaultCluster.withUTF8 { write(cluster: $0) }

        func write(cluster: UnsafeBufferPointer<UInt8>) -> SacctFastPath.Prepared? {
            // Room for the event and its key: the line's text plus every varint and code at its
            // widest, two TRES lists of at most 16 items, and the key. A write that would not
            // fit makes this line take the general path instead.
            let room = (ends.last ?? 0) + 4_096 + cluster.count + 32
            var free = arena.free
            if free.count < room {
                arena = PreparedRunArena(capacity: max(PreparedRunArena.standardCapacity, room))
                free = arena.free
            }
            guard var w = ByteCursor(free) else { return nil }
            w.u8(1); w.u8(1); w.varint(0)   // job run observed, version 1, supersedes nothing
            if sc.dbIndex > 0 {
                w.u8(1); w.varint(UInt64(cluster.count)); w.raw(cluster); w.varint(sc.dbIndex)
            } else {
                w.u8(2); w.varint(UInt64(cluster.count)); w.raw(cluster); w.varint(sc.jobIDRaw); w.zigzag(sc.submit)
            }
            w.varint(UInt64(jobIDRange.1 - jobIDRange.0)); w.raw(bytes(jobIDRange))
            let a = sc.account
            let ownerAt = w.count
            w.varint(UInt64(a.1 - a.0))
            if sc.accountHasUpper {
                for i in a.0..<a.1 { let b = base[i]; w.u8(b &- 65 < 26 ? b + 32 : b) }
            } else {
                w.raw(bytes(a))
            }
            w.varint(UInt64(sc.user.1 - sc.user.0)); w.raw(bytes(sc.user))
            EventCodec.encodeState(utf8: sc.state.map(bytes) ?? UnsafeBufferPointer(start: nil, count: 0), into: &w)
            w.zigzag(sc.submit)
            var flags: UInt8 = 0
            if sc.start != nil { flags |= 1 }
            if sc.end != nil { flags |= 2 }
            if sc.alloc != nil { flags |= 4 }
            if sc.req != nil { flags |= 8 }
            let flagsAt = w.count
            w.u8(flags)
            if let s = sc.start { w.zigzag(s - sc.submit) }
            if let e = sc.end { w.zigzag(e - (sc.start ?? sc.submit)) }
            w.zigzag(sc.suspended)
            let allocAt = w.count
            if let r = sc.alloc {
                guard cache.encode(bytes(r), maxNameBytes: tresLimit, into: &w) else { return nil }
            }
            let reqAt = w.count
            if let r = sc.req, let a = sc.alloc, EventCodec.memoryEqual(bytes(r), bytes(a)) {
                // The same text as AllocTRES (most jobs): the same encoding, stored once, with the flag.
                w.patch(at: flagsAt, flags | 16)
            } else if let r = sc.req {
                guard cache.encode(bytes(r), maxNameBytes: tresLimit, into: &w) else { return nil }
                // ReqTRES equal to AllocTRES (most jobs) is stored once, with a flag
                if sc.alloc != nil, w.count - reqAt == reqAt - allocAt,
                   EventCodec.memoryEqual(UnsafeBufferPointer(rebasing: w.written[allocAt..<reqAt]),
                                          UnsafeBufferPointer(rebasing: w.written[reqAt..<w.count])) {
                    w.truncate(to: reqAt)
                    w.patch(at: flagsAt, flags | 16)
                }
            }
            // The run-index key (``JobRunIdentity/keyBytes``), right after the event.
            let keyAt = w.count
            if sc.dbIndex > 0 {
                w.u8(1); w.varint(UInt64(cluster.count)); w.raw(cluster); w.u64BE(sc.dbIndex)
            } else {
                w.u8(2); w.varint(UInt64(cluster.count)); w.raw(cluster); w.u64BE(sc.jobIDRaw); w.u64BE(UInt64(bitPattern: sc.submit))
            }
            guard !w.overflowed else { return nil }
            let clusterName = sc.cluster.map(string) ?? p.defaultCluster
            let total = w.count
            let at = arena.seal(total)
            return .run(JobRunRecorder.PreparedRun(arena: arena, start: at, keyStart: at + keyAt, end: at + total, cluster: clusterName,
                                                   ownerAt: ownerAt))
        }
    }

}
