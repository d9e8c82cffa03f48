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

    private var carry: [UInt8] = []
    private var fast = SacctFastPath(fieldCount: 16)
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
        try consumeLines(chunk, transcodes: false, prepared: { _ in }, emit: emit)
    }

    /// ``consume(_:emit:)`` for the recorder: every job run as a ``JobRunRecorder/PreparedRun``.
    /// Plain lines are transcoded straight into the recorder's bytes; every other record is
    /// parsed as by `consume` and then prepared, so the bytes are the same either way.
    public mutating func consumePrepared(_ chunk: UnsafeRawBufferPointer, emit: (JobRunRecorder.PreparedRun) throws -> Void) throws {
        try consumeLines(chunk, transcodes: true, prepared: emit, emit: { try emit(JobRunRecorder.PreparedRun($0)) })
    }

    /// ``finish(emit:)`` for ``consumePrepared(_:emit:)``.
    public mutating func finishPrepared(emit: (JobRunRecorder.PreparedRun) throws -> Void) throws {
        try finish { try emit(JobRunRecorder.PreparedRun($0)) }
    }

    private mutating func consumeLines(_ chunk: UnsafeRawBufferPointer, transcodes: Bool, prepared: (JobRunRecorder.PreparedRun) throws -> Void,
                                       emit: (JobRun) throws -> Void) throws {
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
                    try handle(line: String(decoding: bytes, as: UTF8.self), emit: emit)
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
    private mutating func handleFast(_ line: UnsafeRawBufferPointer, transcodes: Bool, prepared: (JobRunRecorder.PreparedRun) throws -> Void,
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
                lineMemory?.forgetRun(key: run.key)
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
