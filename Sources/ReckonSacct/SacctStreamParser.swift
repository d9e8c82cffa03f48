import Foundation
import ReckonCore

/// Parses sacct `-P` output incrementally, chunk by chunk, so the whole output is never held in
/// memory: splits lines across chunk edges, reads the header from the first line, reassembles
/// records and hands each job run to the caller. Malformed records are counted and kept (the
/// first ``SacctObservation/maxKeptMalformed`` in full); they never stop the parse.
public struct SacctStreamParser {
    public let timeZone: TimeZone
    public let defaultCluster: String

    /// Whether plain records take the byte-level fast path (``SacctFastPath``). Off only in the
    /// differential tests, which compare both paths.
    public var usesFastPath = true

    /// Chunks of at least this many bytes (or the rest of the chunk the header was read from,
    /// when that is as large) have their plain lines read ahead on two threads (see
    /// ``consumePrepared(_:emit:)``); the differential tests lower it to split small inputs too.
    public var parallelMinBytes = 256 * 1024

    private var carry: [UInt8] = []
    private var fast = SacctFastPath(fieldCount: 16)
    /// The two threads' readers for lines read ahead. Scratch space only: a copy of the parser
    /// shares them, so two copies must not consume at the same time.
    private let lookahead = (LookaheadReader(), LookaheadReader())
    private var lineNumber: UInt64 = 0
    private var assembler: SacctRecordAssembler?
    /// The assembler's record parser, boxed for the fast path: binding it costs one retain per
    /// line instead of a copy of the parser and the assembler (a dozen retains and releases).
    private final class ParserBox: Sendable {
        let parser: SacctRecordParser
        init(_ parser: SacctRecordParser) { self.parser = parser }
    }
    private var parserBox: ParserBox?
    public private(set) var header: SacctHeader?

    public private(set) var records: UInt64 = 0
    public private(set) var steps: UInt64 = 0
    public private(set) var malformedCount: UInt64 = 0
    public private(set) var malformed: [MalformedRecord] = []
    /// Clusters of the runs read, in first-seen order.
    public private(set) var clusters: [String] = []

    /// Lines recorded before (the daemon's memory): a plain line found in it is counted and
    /// skipped, and every other plain line's run carries its digest for the memory to learn.
    public var lineMemory: SacctLineMemory?
    /// Lines skipped because ``lineMemory`` held them, per cluster index of the memory.
    private var recalled: [UInt64] = []

    public init(timeZone: TimeZone, defaultCluster: String) {
        self.timeZone = timeZone
        self.defaultCluster = defaultCluster
    }

    /// Consumes a chunk of output; calls `emit` for every job run completed by it.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer, emit: (JobRun) throws -> Void) throws {
        try consumeLines(chunk, transcodes: false, alongside: nil, prepared: { _ in }, emit: emit)
    }

    /// ``consume(_:emit:)`` for the recorder: every job run as a ``JobRunRecorder/PreparedRun``.
    /// Plain lines are transcoded straight into the recorder's bytes; every other record is
    /// parsed as by `consume` and then prepared, so the bytes are the same either way.
    ///
    /// A large chunk (``parallelMinBytes``; after the header, the rest of its chunk) without a line
    /// memory is read in two steps: its whole
    /// lines are split in two halves that two threads transcode ahead — what the fast path makes of
    /// each line depends on the line and the header only — and then every line is taken in order
    /// here, exactly as one by one: the read-ahead result is used where the fast path would be
    /// (no record left open by an earlier line), and any other line goes to the general path.
    public mutating func consumePrepared(_ chunk: UnsafeRawBufferPointer, emit: (consuming JobRunRecorder.PreparedRun) throws -> Void) throws {
        try consumeLines(chunk, transcodes: true, alongside: nil, prepared: emit, emit: { try emit(JobRunRecorder.PreparedRun($0)) })
    }

    /// ``consumePrepared(_:emit:)`` with other work for the same chunk — an import hashes it —
    /// done once, before this returns: beside the chunk's read-ahead, by whichever of the two
    /// threads is free first, so that it fills the time one of them would wait for the other;
    /// otherwise on this thread. It must not touch the parser.
    public mutating func consumePrepared(_ chunk: UnsafeRawBufferPointer, alongside: @escaping @Sendable () -> Void,
                                         emit: (consuming JobRunRecorder.PreparedRun) throws -> Void) throws {
        try consumeLines(chunk, transcodes: true, alongside: alongside, prepared: emit, emit: { try emit(JobRunRecorder.PreparedRun($0)) })
    }

    /// ``finish(emit:)`` for ``consumePrepared(_:emit:)``.
    public mutating func finishPrepared(emit: (consuming JobRunRecorder.PreparedRun) throws -> Void) throws {
        try finish { try emit(JobRunRecorder.PreparedRun($0)) }
    }

    private mutating func consumeLines(_ chunk: UnsafeRawBufferPointer, transcodes: Bool, alongside: (@Sendable () -> Void)?,
                                       prepared: (consuming JobRunRecorder.PreparedRun) throws -> Void,
                                       emit: (JobRun) throws -> Void) throws {
        if transcodes, usesFastPath, lineMemory == nil, let box = parserBox, chunk.count >= parallelMinBytes {
            try consumeReadingAhead(chunk, parser: box.parser, alongside: alongside, prepared: prepared, emit: emit)
            return
        }
        // Done here unless the chunk's rest is read ahead, which does it beside its reading.
        var alongside = alongside
        defer { alongside?() }
        var start = 0
        let n = chunk.count
        while start < n {
            guard let base = chunk.baseAddress, let hit = memchr(base + start, 10, n - start) else {
                carry.append(contentsOf: chunk[start..<n])
                return
            }
            let nl = base.distance(to: UnsafeRawPointer(hit))
            if carry.isEmpty {
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[start..<nl])
                if try !handleFast(bytes, transcodes: transcodes, prepared: prepared, emit: emit) {
                    let hadHeader = parserBox != nil
                    try handle(line: String(decoding: bytes, as: UTF8.self), emit: emit)
                    // The header was read from this chunk: the rest of a large chunk is read
                    // ahead too, instead of one by one.
                    if !hadHeader, let box = parserBox, transcodes, usesFastPath, lineMemory == nil, n - (nl + 1) >= parallelMinBytes {
                        let side = alongside
                        alongside = nil
                        try consumeReadingAhead(UnsafeRawBufferPointer(rebasing: chunk[(nl + 1)...]), parser: box.parser,
                                                alongside: side, prepared: prepared, emit: emit)
                        return
                    }
                }
            } else {
                carry.append(contentsOf: chunk[start..<nl])
                let done = try carry.withUnsafeBytes { try handleFast($0, transcodes: transcodes, prepared: prepared, emit: emit) }
                if !done { try handle(line: String(decoding: carry, as: UTF8.self), emit: emit) }
                carry.removeAll(keepingCapacity: true)
            }
            start = nl + 1
        }
    }

    /// ``consumeLines(_:transcodes:alongside:prepared:emit:)`` for a large chunk, its whole lines transcoded
    /// ahead on two threads (see ``consumePrepared(_:emit:)``).
    private mutating func consumeReadingAhead(_ chunk: UnsafeRawBufferPointer, parser: SacctRecordParser, alongside: (@Sendable () -> Void)?,
                                              prepared: (consuming JobRunRecorder.PreparedRun) throws -> Void,
                                              emit: (JobRun) throws -> Void) throws {
        // Done beside the reading ahead, or here if there is none (a chunk without a whole line).
        var alongside = alongside
        defer { alongside?() }
        guard let base = chunk.baseAddress else { return }
        let n = chunk.count
        var start = 0
        if !carry.isEmpty {   // the line the previous chunk began, read as one by one
            guard let hit = memchr(base, 10, n) else { carry.append(contentsOf: chunk); return }
            let nl = base.distance(to: UnsafeRawPointer(hit))
            carry.append(contentsOf: chunk[0..<nl])
            let done = try carry.withUnsafeBytes { try handleFast($0, transcodes: true, prepared: prepared, emit: emit) }
            if !done { try handle(line: String(decoding: carry, as: UTF8.self), emit: emit) }
            carry.removeAll(keepingCapacity: true)
            start = nl + 1
        }
        // The whole lines, [start, end), split after the first newline past their middle.
        var end = n
        while end > start && chunk[end - 1] != 10 { end -= 1 }
        guard end > start else {
            carry.append(contentsOf: chunk[start..<n])
            return
        }
        let middle = start + (end - start) / 2
        let split = memchr(base + middle, 10, end - middle).map { base.distance(to: UnsafeRawPointer($0)) + 1 } ?? end
        let readers = lookahead
        readers.0.region = UnsafeRawBufferPointer(rebasing: chunk[start..<split])
        readers.1.region = UnsafeRawBufferPointer(rebasing: chunk[split..<end])
        defer { readers.0.region = UnsafeRawBufferPointer(start: nil, count: 0); readers.1.region = readers.0.region }
        if let side = alongside {
            alongside = nil
            // The side work last: the thread that finishes its half first takes it.
            DispatchQueue.concurrentPerform(iterations: 3) { i in
                if i == 2 { side() } else { (i == 0 ? readers.0 : readers.1).read(parser: parser) }
            }
        } else {
            DispatchQueue.concurrentPerform(iterations: 2) { i in (i == 0 ? readers.0 : readers.1).read(parser: parser) }
        }
        // Every line in order: the read-ahead result where the fast path would take the line.
        for reader in [readers.0, readers.1] {
            let region = reader.region
            guard region.baseAddress != nil else { continue }
            var s = 0
            for i in reader.lineEnds.indices {
                let nl = reader.lineEnds[i]
                defer { s = nl + 1 }
                if assembler?.hasPending == false {
                    // Moved out (a step left in its place), so that the run is handed on without
                    // a copy: each copy of a run counts a reference to its arena, atomically.
                    switch reader.take(i) {
                    case .run(let run):
                        lineNumber += 1
                        countRun(cluster: run.cluster)
                        try prepared(run)
                        continue
                    case .step:
                        lineNumber += 1
                        steps += 1
                        continue
                    case .general:
                        break
                    }
                }
                try handle(line: String(decoding: UnsafeRawBufferPointer(rebasing: region[s..<nl]), as: UTF8.self), emit: emit)
            }
            reader.lines.removeAll(keepingCapacity: true)
            reader.lineEnds.removeAll(keepingCapacity: true)
        }
        if end < n { carry.append(contentsOf: chunk[end..<n]) }
    }

    /// Ends the stream: a final line without a newline is still read; a record left incomplete is malformed.
    public mutating func finish(emit: (JobRun) throws -> Void) throws {
        if !carry.isEmpty {
            let line = String(decoding: carry, as: UTF8.self)
            carry.removeAll()
            if assembler == nil {
                try handle(line: line, emit: emit)          // a header alone, without its newline
            } else {
                // sacct ends every record with a newline: a last line without one was cut short
                // (even if its fields happen to parse, its last value may be truncated).
                lineNumber += 1
                try deliver(SacctRecordAssembler.Record(line: lineNumber, text: line,
                                                        outcome: .malformed("the last line has no newline: the output was cut short")), emit: emit)
            }
        }
        if header == nil { throw SacctFormatError.noHeader }
        if var a = assembler {
            for r in a.finish() { try deliver(r, emit: emit) }
            assembler = a
        }
    }

    /// Reads a plain one-line record without building strings for it; false when the line
    /// needs the general path (header, continuation, anything unusual).
    private mutating func handleFast(_ line: UnsafeRawBufferPointer, transcodes: Bool, prepared: (consuming JobRunRecorder.PreparedRun) throws -> Void,
                                     emit: (JobRun) throws -> Void) throws -> Bool {
        guard usesFastPath, let box = parserBox, assembler?.hasPending == false else { return false }
        var digest: Int?
        if transcodes && lineMemory != nil {
            let d = SacctLineMemory.digest(line)
            if let c = lineMemory?.recall(d) {
                noteRecalled(cluster: c)
                return true
            }
            digest = d
        }
        if transcodes, let outcome = fast.prepared(line, parser: box.parser) {
            lineNumber += 1
            switch outcome {
            case .run(var run):
                countRun(cluster: run.cluster)
                run.lineDigest = digest
                if lineMemory != nil { run.withKey { lineMemory?.forgetRun(keyBytes: $0) } }
                try prepared(run)
            case .step:
                steps += 1
            }
            return true
        }
        switch fast.outcome(line, parser: box.parser) {
        case .run(let run)?:
            guard SacctRecordParser.oversizedName(run) == nil else { return false }   // the general path reports it
            lineNumber += 1
            countRun(cluster: run.identity.cluster)
            lineMemory?.forgetRun(key: run.identity.keyBytes)
            try emit(run)
        case .step?:
            lineNumber += 1
            steps += 1
        case .malformed?, nil:
            return false   // the fast path never judges a record; the general path does
        }
        return true
    }

    /// One more run read, of `cluster` (clusters are kept in first-seen order).
    private mutating func countRun(cluster: String) {
        records += 1
        if clusters.last != cluster && !clusters.contains(cluster) { clusters.append(cluster) }
    }

    /// A line ``lineMemory`` held: one more run read (and left as recorded), of memory cluster `c`.
    private mutating func noteRecalled(cluster c: UInt16) {
        lineNumber += 1
        records += 1
        let i = Int(c)
        if i >= recalled.count { recalled.append(contentsOf: repeatElement(0, count: i + 1 - recalled.count)) }
        if recalled[i] == 0, let names = lineMemory?.clusters, i < names.count {
            let name = names[i]
            if !clusters.contains(name) { clusters.append(name) }
        }
        recalled[i] += 1
    }

    /// The lines skipped because ``lineMemory`` held them, per cluster name.
    public var recalledPerCluster: [String: UInt64] {
        var out: [String: UInt64] = [:]
        let names = lineMemory?.clusters ?? []
        for (i, n) in recalled.enumerated() where n > 0 && i < names.count { out[names[i], default: 0] += n }
        return out
    }

    private mutating func handle(line: String, emit: (JobRun) throws -> Void) throws {
        lineNumber += 1
        guard var a = assembler else {
            if line.trimmingCharacters().isEmpty { return }
            let h = try SacctHeader(line: Substring(line))
            header = h
            if lineMemory != nil {
                var c = Hasher()
                c.combine(line)
                c.combine(timeZone.identifier)
                c.combine(defaultCluster)
                lineMemory?.bind(context: c.finalize())
            }
            let parser = SacctRecordParser(header: h, timeZone: timeZone, defaultCluster: defaultCluster)
            assembler = SacctRecordAssembler(parser: parser)
            parserBox = ParserBox(parser)
            return
        }
        let done = a.feed(line: line, number: lineNumber)
        assembler = a
        for r in done { try deliver(r, emit: emit) }
    }

    private mutating func deliver(_ r: SacctRecordAssembler.Record, emit: (JobRun) throws -> Void) throws {
        switch r.outcome {
        case .run(let run):
            countRun(cluster: run.identity.cluster)
            lineMemory?.forgetRun(key: run.identity.keyBytes)
            try emit(run)
        case .step:
            steps += 1
        case .malformed(let why):
            malformedCount += 1
            if malformed.count < SacctObservation.maxKeptMalformed {
                malformed.append(MalformedRecord(line: r.line, reason: why, text: String(r.text.prefix(4096))))
            }
        }
    }
}

/// What the fast path makes of a line read ahead (see ``SacctStreamParser/consumePrepared(_:emit:)``):
/// a run ready for the recorder, a step, or a line only the general path may judge.
enum ReadAhead {
    case run(JobRunRecorder.PreparedRun)
    case step
    case general
}

/// One thread's part of reading ahead: its own fast path (buffers and TRES cache) and the results
/// for its lines, in order. Used by one thread at a time.
final class LookaheadReader: @unchecked Sendable {
    @exclusivity(unchecked) private var fast = SacctFastPath(fieldCount: 16)
    /// The lines to read: whole lines, each ending in a newline, of the chunk being consumed.
    var region = UnsafeRawBufferPointer(start: nil, count: 0)
    @exclusivity(unchecked) var lines: [ReadAhead] = []
    /// Where each of ``lines`` ends in ``region`` (its newline), so that the in-order pass
    /// need not search for it again.
    @exclusivity(unchecked) var lineEnds: [Int] = []

    /// Line `i`'s result, moved out of ``lines`` (``ReadAhead/step`` left in its place).
    @inline(__always)
    func take(_ i: Int) -> ReadAhead {
        var taken = ReadAhead.step
        swap(&taken, &lines[i])
        return taken
    }

    /// Reads every line of ``region`` as the fast path of ``SacctStreamParser`` would, without
    /// deciding anything the general path decides.
    func read(parser: SacctRecordParser) {
        lines.removeAll(keepingCapacity: true)
        lineEnds.removeAll(keepingCapacity: true)
        guard let base = region.baseAddress else { return }
        let n = region.count
        var s = 0
        while s < n {
            let nl = memchr(base + s, 10, n - s).map { base.distance(to: UnsafeRawPointer($0)) } ?? n
            let line = UnsafeRawBufferPointer(rebasing: region[s..<nl])
            s = nl + 1
            lineEnds.append(nl)
            if let outcome = fast.prepared(line, parser: parser) {
                switch consume outcome {
                case .run(let run): lines.append(.run(run))
                case .step: lines.append(.step)
                }
                continue
            }
            switch fast.outcome(line, parser: parser) {
            case .run(let run)? where SacctRecordParser.oversizedName(run) == nil:
                lines.append(.run(JobRunRecorder.PreparedRun(run)))
            case .step?:
                lines.append(.step)
            default:
                lines.append(.general)
            }
        }
    }
}
