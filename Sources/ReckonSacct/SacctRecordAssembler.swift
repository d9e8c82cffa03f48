/// Reassembles logical sacct records from physical lines, for the two ways `sacct -P` output
/// breaks the one-line-one-record rule (both seen in the real samples):
/// - a field holding a newline (a multi-line `--wrap` in `SubmitLine`) splits a record over
///   several lines: a record with too few fields is continued by the following lines that are
///   themselves too short to be records, until it has the header's field count (or more, when
///   the multi-line text also held `|`, resolved as below); a line long enough to be a record
///   ends the pending one, which is then reported as cut short;
/// - a free-text field holding `|` (a job named `a|b`) gives a record too many fields: the extra
///   separators are assigned to the free-text columns in every possible way; among the
///   assignments that parse, the one under which the most typed columns (ids, times, durations,
///   exit codes) are well-formed is taken, and a tie between different readings is reported as
///   ambiguous.
public struct SacctRecordAssembler {
    public let parser: SacctRecordParser
    private var pending: [Substring] = []
    private var pendingLine: UInt64 = 0
    private var pendingText: String = ""

    /// A finished logical record: where it started, its raw text, and what it parsed to.
    public struct Record {
        public let line: UInt64
        public let text: String
        public let outcome: SacctRecordParser.Outcome
    }

    public init(parser: SacctRecordParser) { self.parser = parser }

    /// Whether a record is waiting for continuation lines.
    public var hasPending: Bool { !pending.isEmpty }

    /// Feeds one physical line (without its newline); returns the records it completes.
    public mutating func feed(line: String, number: UInt64) -> [Record] {
        var l = Substring(line)
        if l.last == "\r" { l = l.dropLast() }
        let fields = l.split(separator: "|", omittingEmptySubsequences: false)
        let h = parser.header.count
        var out: [Record] = []
        if !pending.isEmpty {
            if fields.count < h {
                // A fragment: glue the last pending field and the first new one with the newline.
                let glued = Substring(String(pending[pending.count - 1]) + "\n" + String(fields[0]))
                pending[pending.count - 1] = glued
                pending.append(contentsOf: fields.dropFirst())
                pendingText += "\n" + line
                if pending.count == h {
                    out.append(Record(line: pendingLine, text: pendingText, outcome: parser.parse(pending)))
                    pending = []
                } else if pending.count > h {
                    // The multi-line field also held '|' (a shell `||` in a --wrap script).
                    out.append(Record(line: pendingLine, text: pendingText, outcome: resolveExtraSeparators(pending)))
                    pending = []
                }
                return out
            }
            // A line that is a whole record by itself: what was pending was cut short.
            out.append(flushPending())
        }
        if l.isEmpty { return out }
        // `-p` output ends each line with a separator: one empty trailing field too many.
        var fs = fields
        if fs.count == h + 1, fs.last?.isEmpty == true { fs.removeLast() }
        if fs.count == h {
            out.append(Record(line: number, text: line, outcome: parser.parse(fs)))
        } else if fs.count < h {
            pending = fs
            pendingLine = number
            pendingText = line
        } else {
            out.append(Record(line: number, text: line, outcome: resolveExtraSeparators(fs)))
        }
        return out
    }

    /// Call at the end of the output: a record still pending was cut short.
    public mutating func finish() -> [Record] {
        pending.isEmpty ? [] : [flushPending(reason: "record cut short at the end of the output")]
    }

    private mutating func flushPending(reason: String? = nil) -> Record {
        let r = Record(line: pendingLine, text: pendingText,
                       outcome: .malformed(reason ?? "has \(pending.count) fields, the header has \(parser.header.count)"))
        pending = []
        return r
    }

    /// Tries every way of putting the surplus `|` back into free-text fields.
    ///
    ///
    /// The fields are joined once and split again, so that they are slices of one text, where
    /// fields `i...j` joined with `|` are that text from the start of field `i` to the end of
    /// field `j`: a candidate's merged field is then a slice instead of a new string. The
    /// slices are used only when they are exactly the fields given (else each merged field is
    /// joined as text).
    func resolveExtraSeparators(_ fields: [Substring]) -> SacctRecordParser.Outcome {
        var fs = fields
        let again = Substring(fields.joined(separator: "|")).split(separator: "|", omittingEmptySubsequences: false)
        let contiguous = again.count == fields.count && again.elementsEqual(fields)
        if contiguous { fs = again }
        let h = parser.header.count
        let extra = fs.count - h
        let free = parser.header.freeTextColumns
        guard !free.isEmpty else {
            return .malformed("has \(fs.count) fields, the header has \(h), and no free-text column could hold a '|'")
        }
        var found: [SacctRecordParser.Outcome] = []
        var bestScore = -1
        var tried = 0
        var alloc = [Int](repeating: 0, count: free.count)
        // Column → its place in `free` (or -1), once: every candidate is rebuilt from it.
        var freeSlot = [Int](repeating: -1, count: h)
        for (k, c) in free.enumerated() where c < h { freeSlot[c] = k }
        var candidate: [Substring] = []
        candidate.reserveCapacity(h)
        func rebuild() {
            candidate.removeAll(keepingCapacity: true)
            var src = 0
            for col in 0..<h {
                let k = freeSlot[col]
                let n = k >= 0 ? alloc[k] : 0
                if n > 0 {
                    if contiguous {
                        let first = fs[src], last = fs[src + n]
                        candidate.append(first.base[first.startIndex..<last.endIndex])
                    } else {
                        candidate.append(Substring(fs[src...(src + n)].joined(separator: "|")))
                    }
                    src += n + 1
                } else {
                    candidate.append(fs[src])
                    src += 1
                }
            }
        }
        func enumerate(_ k: Int, _ remaining: Int) {
            guard tried < 5000 else { return }
            if k == free.count - 1 {
                alloc[k] = remaining
                tried += 1
                rebuild()
                let o = parser.parse(candidate)
                if case .malformed = o {} else {
                    let score = plausibility(candidate)
                    if score > bestScore { found = [o]; bestScore = score } else if score == bestScore, !found.contains(o) { found.append(o) }
                }
                return
            }
            for n in 0...remaining {
                alloc[k] = n
                enumerate(k + 1, remaining - n)
            }
        }
        enumerate(0, extra)
        // Among placements that parse, the one under which the most typed columns hold
        // well-formed values wins; a tie between different readings is ambiguous.
        if found.count == 1, let only = found.first { return only }
        return .malformed(found.isEmpty
            ? "has \(fs.count) fields, the header has \(h); no placement of the \(extra) extra '|' gives a readable record"
            : "has \(fs.count) fields, the header has \(h); the \(extra) extra '|' can be placed in more than one way")
    }

    /// How many typed columns hold values of their type under a candidate field assignment.
    func plausibility(_ f: [Substring]) -> Int {
        var score = 0
        let h = parser.header
        for name in ["UID", "GID", "ElapsedRaw", "CPUTimeRAW", "ResvCPURAW", "AssocID", "DBIndex", "JobIDRaw", "NCPUS", "NNodes", "AllocCPUS", "ReqCPUS"] {
            if let i = h.position(of: name), f[i].isEmpty || SacctValues.unsigned(f[i]) != nil { score += 1 }
        }
        for name in ["Submit", "Eligible", "Start", "End"] {
            if let i = h.position(of: name), SacctValues.time(f[i], zone: parser.timeZone) != nil { score += 1 }
        }
        for name in ["Elapsed", "CPUTime", "TotalCPU", "SystemCPU", "UserCPU", "Suspended", "Timelimit", "ResvCPU"] {
            if let i = h.position(of: name) {
                let v = f[i]
                if v.isEmpty || v == "UNLIMITED" || v == "Partition_Limit" || SacctValues.duration(v) != nil { score += 1 }
            }
        }
        for name in ["ExitCode", "DerivedExitCode"] {
            if let i = h.position(of: name) {
                let parts = f[i].split(separator: ":", omittingEmptySubsequences: false)
                if f[i].isEmpty || (parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { score += 1 }
            }
        }
        return score
    }
}
