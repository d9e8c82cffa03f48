import Foundation
import ReckonCore
import ReckonSacct

/// Ingests sacct output into the ledger: from a saved dump (`reckon ingest --from`) or by running
/// sacct (`reckon ingest --start --end`, and the daemon's polls). Streams the output, records job
/// runs in batches of ``batchSize`` (one write transaction each), then appends one observation
/// record per cluster. A malformed record is kept in that record and never stops the import.
public struct IngestService {
    public let ledger: Ledger
    public var batchSize: Int = 50_000

    public init(ledger: Ledger) { self.ledger = ledger }

    /// What an ingest did.
    public struct Outcome: Sendable {
        public var observations: [SacctObservation]
        /// sacct's stderr (warnings), if any.
        public var warnings: [String]
        public var records: UInt64 { observations.reduce(0) { $0 + $1.records } }
        public var newVersions: UInt64 { observations.reduce(0) { $0 + $1.newVersions } }
        public var unchanged: UInt64 { observations.reduce(0) { $0 + $1.unchanged } }
        public var malformedCount: UInt64 { observations.reduce(0) { $0 + $1.malformedCount } }
        /// Records skipped unread because the daemon's line memory held them (counted as unchanged).
        public var recalled: UInt64 = 0
        public var malformed: [MalformedRecord] { observations.flatMap(\.malformed) }
    }

    /// Ingests a saved `sacct -P` dump with a header line.
    public func ingestFile(path: String, timeZone: TimeZone, observedAt: EpochSeconds, defaultCluster: String) throws -> Outcome {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw IngestError.cannotRead(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var session = Session(service: self, timeZone: timeZone, defaultCluster: defaultCluster)
        // The dump's SHA-256 is computed on a queue of its own, chunk by chunk in order, beside
        // the parsing and recording threads (a chunk is an immutable Data shared by both).
        let hasher = ContentHasher()
        let hashing = DispatchQueue(label: "reckon.ingest.hash")
        let size = 1 << 20
        do {
            while true {
                var chunk = Data(count: size)
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, size) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw IngestError.cannotRead(path: path, message: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                if n < size { chunk.count = n }
                let shared = chunk
                hashing.async { shared.withUnsafeBytes { hasher.update($0) } }
                try shared.withUnsafeBytes { try session.consume($0) }
            }
        } catch {
            hashing.sync {}
            session.drain()   // no batch is left being written behind the caller's back
            throw error
        }
        let digest = hashing.sync { hasher.finalizeHex() }
        let name = (path as NSString).lastPathComponent
        return try session.finishOrDrain(source: .file(name: name, sha256: digest), observedAt: observedAt, warnings: [])
    }

    /// Runs sacct over `window` and ingests its output.
    public func ingestSacct(command: SacctCommand, window: TimeWindow, runner: SacctRunner, observedAt: EpochSeconds,
                            defaultCluster: String) throws -> Outcome {
        var none: SacctLineMemory?
        return try ingestSacct(command: command, window: window, runner: runner, observedAt: observedAt,
                               defaultCluster: defaultCluster, memory: &none, rescan: false)
    }

    /// ``ingestSacct(command:window:runner:observedAt:defaultCluster:)`` with a memory of the lines
    /// recorded before (the daemon's): lines it holds are counted as unchanged without being
    /// read, and it learns the lines of every batch that commits. After a `rescan` (every open
    /// month polled) it forgets lines that were not printed again; after a failed ingest it
    /// forgets everything.
    public func ingestSacct(command: SacctCommand, window: TimeWindow, runner: SacctRunner, observedAt: EpochSeconds,
                            defaultCluster: String, memory: inout SacctLineMemory?, rescan: Bool) throws -> Outcome {
        var session = Session(service: self, timeZone: TimeZone(identifier: "UTC") ?? TimeZone.current, defaultCluster: defaultCluster)
        if var m = memory.take() {
            // Runs recorded by another process since the memory learnt may have moved a run's
            // latest version away from the line remembered for it.
            if m.generation != session.writer.startGeneration { m.forget() }
            m.beginTick()
            session.parser.lineMemory = m
        }
        let stderr: String
        do { stderr = try runner.run(command) { chunk in try session.consume(chunk) } } catch {
            session.drain()
            memory = session.forgetLines()
            throw error
        }
        do {
            let outcome = try session.finishOrDrain(source: .sacct(window: window), observedAt: observedAt,
                                                    warnings: stderr.isEmpty ? [] : [stderr])
            memory = session.learnLines(rescan: rescan)
            return outcome
        } catch {
            memory = session.forgetLines()
            throw error
        }
    }

    /// One ingest in progress: the parser, the pending batch and per-cluster counts.
    ///
    /// Parsing and recording overlap: a full batch goes to a ``BatchWriter``, which records it in
    /// its own write transaction on another thread while the next batch is parsed. At most one
    /// batch waits beside the one being recorded; batches commit in order, and after a failed
    /// one nothing more is submitted (the error is thrown from the next `add` or from `finish`).
    struct Session {
        let service: IngestService
        var parser: SacctStreamParser
        var batch: [JobRunRecorder.PreparedRun] = []
        let writer: BatchWriter
        var recordsPerCluster: [String: UInt64] = [:]
        /// The cluster of the previous run and how many runs of it are not yet in `recordsPerCluster`.
        var lastCluster: String?
        var lastClusterCount: UInt64 = 0
        /// With a line memory: every run handed to the writer (its run digest, line digest and
        /// memory cluster), learnt once the writer has committed them all.
        var handedOver: [(run: Int, line: Int?, cluster: UInt16)] = []
        var lastMemoryCluster: (name: String, index: UInt16)?
        /// Whether no other process recorded runs while this ingest ran (set at its end).
        var alone = false

        init(service: IngestService, timeZone: TimeZone, defaultCluster: String) {
            self.service = service
            parser = SacctStreamParser(timeZone: timeZone, defaultCluster: defaultCluster)
            writer = BatchWriter(ledger: service.ledger)
            batch.reserveCapacity(service.batchSize)
        }

        mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
            try parse { parser, append in try parser.consumePrepared(chunk, emit: append) }
        }

        /// Runs the parser with a sink that appends straight to the batch (moved out of `self`
        /// meanwhile, so the sink does not touch `self` while the parser, part of it, is mutated),
        /// then counts what was appended and hands on a full batch.
        mutating func parse(_ body: (inout SacctStreamParser, (JobRunRecorder.PreparedRun) -> Void) throws -> Void) throws {
            var runs: [JobRunRecorder.PreparedRun] = []
            swap(&runs, &batch)
            defer { swap(&runs, &batch) }
            let first = runs.count
            try body(&parser) { runs.append($0) }
            try added(&runs, from: first)
        }

        /// Counts the runs appended from `first` per cluster, and hands the batch to the writer
        /// once it holds at least ``IngestService/batchSize`` runs (a chunk's runs stay together).
        mutating func added(_ runs: inout [JobRunRecorder.PreparedRun], from first: Int) throws {
            var i = first
            while i < runs.count {
                let c = runs[i].cluster
                if c == lastCluster {
                    lastClusterCount += 1
                } else {
                    countCluster()
                    lastCluster = c
                    lastClusterCount = 1
                }
                i += 1
            }
            if runs.count >= service.batchSize {
                var full = runs
                runs = []
                runs.reserveCapacity(service.batchSize)
                try submit(&full)
            }
        }

        private mutating func countCluster() {
            if let l = lastCluster, lastClusterCount > 0 { recordsPerCluster[l, default: 0] += lastClusterCount }
            lastClusterCount = 0
        }

        mutating func flush() throws {
            guard !batch.isEmpty else { return }
            var full = batch
            batch = []
            batch.reserveCapacity(service.batchSize)
            try submit(&full)
        }

        /// Hands a batch to the writer. While most runs of the last batch were new (a first
        /// import), the batch's usage is presumed here, on the parsing thread, so the recording
        /// thread — the busier of the two — only corrects it for the runs it finds already
        /// recorded; when most were not (a re-scan of known jobs) the recorder does it all.
        mutating func submit(_ runs: inout [JobRunRecorder.PreparedRun]) throws {
            if parser.lineMemory != nil { note(runs) }
            let presumed = writer.lastBatchMostlyNew ? service.ledger.recorder.presumeNew(&runs) : nil
            try writer.submit(runs, presumed: presumed)
        }

        /// Keeps what the line memory will learn of `runs` once they are committed.
        private mutating func note(_ runs: [JobRunRecorder.PreparedRun]) {
            for r in runs {
                let c: UInt16
                if let last = lastMemoryCluster, last.name == r.cluster {
                    c = last.index
                } else {
                    c = parser.lineMemory?.clusterIndex(r.cluster) ?? 0
                    lastMemoryCluster = (r.cluster, c)
                }
                handedOver.append((r.key.withUnsafeBytes { SacctLineMemory.digest($0) }, r.lineDigest, c))
            }
        }

        /// The line memory after a successful ingest: it learns every committed run's line — or,
        /// when another process recorded runs during the poll, forgets everything.
        mutating func learnLines(rescan: Bool) -> SacctLineMemory? {
            guard var m = parser.lineMemory.take() else { return nil }
            guard alone else {
                m.forget()
                handedOver = []
                return m
            }
            m.generation = writer.lastGeneration
            m.reserve(m.count + handedOver.count)
            for h in handedOver { m.recorded(runDigest: h.run, lineDigest: h.line, cluster: h.cluster) }
            handedOver = []
            if rescan { m.forgetUnseen() }
            return m
        }

        /// The line memory after a failed ingest: empty (which batches committed is not known here).
        mutating func forgetLines() -> SacctLineMemory? {
            guard var m = parser.lineMemory.take() else { return nil }
            m.forget()
            handedOver = []
            return m
        }

        /// ``finish(source:observedAt:warnings:)``, and on an error the writer is drained first.
        mutating func finishOrDrain(source: SacctObservation.Source, observedAt: EpochSeconds, warnings: [String]) throws -> Outcome {
            do { return try finish(source: source, observedAt: observedAt, warnings: warnings) } catch {
                drain()
                throw error
            }
        }

        /// After an error: waits for the writer, then writes the usage of the batches that did
        /// commit into the table (if that fails too — a full disk — the mark stays, readers still
        /// see that usage, and the next writer to open the ledger writes it).
        func drain() {
            _ = try? writer.finish()
            _ = try? service.ledger.catchUpUsage()
        }

        mutating func finish(source: SacctObservation.Source, observedAt: EpochSeconds, warnings: [String]) throws -> Outcome {
            try parse { parser, append in try parser.finishPrepared(emit: append) }
            try flush()
            countCluster()
            let perCluster = try writer.finish()
            var clusters = parser.clusters
            if clusters.isEmpty { clusters = [parser.defaultCluster] }
            let recalled = parser.recalledPerCluster   // lines the memory held: read, and unchanged
            var observations: [SacctObservation] = []
            for (i, c) in clusters.enumerated() {
                let r = perCluster[c] ?? .init()
                let known = recalled[c] ?? 0
                observations.append(SacctObservation(
                    source: source, cluster: c, observedAt: observedAt, records: (recordsPerCluster[c] ?? 0) + known,
                    skippedSteps: i == 0 ? parser.steps : 0, newVersions: r.newVersions, unchanged: r.unchanged + known,
                    malformedCount: i == 0 ? parser.malformedCount : 0, malformed: i == 0 ? parser.malformed : []))
            }
            let recorder = service.ledger.recorder
            FaultPoint.beforeUsageCompletion.hit()   // batches committed, usage pending: the crash harness kills here
            alone = try service.ledger.store.write { w in
                let alone = try writer.completeUsage(in: w)
                for o in observations { try recorder.recordObservation(o, in: w) }
                return alone
            }
            var outcome = Outcome(observations: observations, warnings: warnings)
            outcome.recalled = recalled.values.reduce(0, +)
            return outcome
        }
    }
}

/// Records batches of job runs on a background thread, one write transaction each, in order.
final class BatchWriter: @unchecked Sendable {
    private let ledger: Ledger
    private let queue = DispatchQueue(label: "reckon.ingest.batch-writer")
    /// One batch may be recorded while the caller parses the next.
    private let slot = DispatchSemaphore(value: 1)
    private let lock = NSLock()
    private var failure: Error?
    private var perCluster: [String: JobRunRecorder.BatchResult] = [:]
    /// The usage of every committed batch, written into the table once, at the end (see
    /// ``UsageTable``); only the recording thread touches it until ``finish()``.
    private var usage = UsageAccumulator()
    /// The event the first batch started at, when that batch set the table's pending mark.
    private var deferredFrom: Sequence64?
    private var batches = 0
    /// The log's ``ProjectionMeta/runsGeneration`` when this import began, and after its last
    /// committed batch; `exclusive` stays true while every batch began where the previous one
    /// (or the import) left it — no other process recorded runs in between.
    let startGeneration: UInt64
    private(set) var lastGeneration: UInt64
    private var exclusive = true

    init(ledger: Ledger) {
        self.ledger = ledger
        let start = (try? ledger.store.read { r in (try r.eventCount(), try JobRunRecorder.generation(r)) }) ?? (1, 0)
        mostlyNew = start.0 == 0
        startGeneration = start.1
        lastGeneration = start.1
    }

    private func failed() -> Error? { lock.lock(); defer { lock.unlock() }; return failure }

    /// Hands a batch over; waits while the previous one is still being recorded. Throws the
    /// error of an earlier batch, if any (nothing more is recorded after it).
    /// Whether most runs of the last recorded batch were new; before the first batch, whether
    /// the log is empty (a daemon's poll of known jobs should not pay for a guess).
    var lastBatchMostlyNew: Bool { lock.lock(); defer { lock.unlock() }; return mostlyNew }
    private var mostlyNew: Bool

    func submit(_ runs: [JobRunRecorder.PreparedRun], presumed: UsageAccumulator? = nil) throws {
        if let e = failed() { throw e }
        slot.wait()
        if let e = failed() { slot.signal(); throw e }
        queue.async { [self] in
            defer { slot.signal() }
            do {
                let (results, start, deltas, generations) = try Self.record(runs, presumed: presumed, ledger: ledger)
                if batches == 0 { deferredFrom = start }
                batches += 1
                if generations.before != lastGeneration { exclusive = false }
                lastGeneration = generations.after
                for d in deltas {
                    if usage.isEmpty && batches == 1 { usage = d } else { usage.add(d) }
                }
                let new = results.reduce(0) { $0 + $1.1.newVersions }
                lock.lock()
                mostlyNew = new * 2 >= UInt64(runs.count)
                for (c, r) in results {
                    perCluster[c, default: .init()].newVersions += r.newVersions
                    perCluster[c, default: .init()].unchanged += r.unchanged
                }
                lock.unlock()
            } catch {
                lock.lock()
                if failure == nil { failure = error }
                lock.unlock()
            }
        }
    }

    /// Waits for the last batch; returns the per-cluster results or throws the first error.
    func finish() throws -> [String: JobRunRecorder.BatchResult] {
        queue.sync {}
        lock.lock(); defer { lock.unlock() }
        if let failure { throw failure }
        return perCluster
    }

    /// Writes the usage of the committed batches into the table and removes its pending mark,
    /// inside the caller's write transaction (after ``finish()``). The sum kept in memory is used
    /// only when the tail since the mark is provably this import's alone: it set the mark, and
    /// no other process recorded runs since the import began. Otherwise (another `reckon ingest`
    /// beside the daemon, a failed batch) the tail is folded from the log. Returns whether the
    /// import was alone.
    @discardableResult
    func completeUsage(in w: any EventStoreWriter) throws -> Bool {
        let generation = try JobRunRecorder.generation(w)
        let alone = exclusive && failed() == nil && generation == lastGeneration
        guard let mark = try UsageTable.pendingFrom(w) else { return alone }
        if alone && mark == deferredFrom {
            try UsageTable.complete(with: usage, in: w)
        } else {
            try UsageTable.catchUp(in: w, settings: ledger.settings)
        }
        return alone
    }

    /// One write transaction: the batch's runs per cluster, clusters in first-seen order. The
    /// usage table is left alone (marked pending from the batch's first event when it was not
    /// already); the batch's usage differences are returned, with where the batch started.
    static func record(_ runs: [JobRunRecorder.PreparedRun], presumed: UsageAccumulator?, ledger: Ledger) throws
        -> ([(String, JobRunRecorder.BatchResult)], Sequence64?, [UsageAccumulator], generations: (before: UInt64, after: UInt64)) {
        let recorder = ledger.recorder
        return try ledger.store.write { w in
            let before = try JobRunRecorder.generation(w)
            guard let first = runs.first?.cluster else { return ([], nil, [], (before, before)) }
            let start = try w.eventCount()
            let fresh = try UsageTable.pendingFrom(w) == nil
            try UsageTable.markPending(from: start, in: w)
            if runs.allSatisfy({ $0.cluster == first }) {
                let (result, delta) = try recorder.recordDeferringUsage(prepared: runs, presumed: presumed, in: w)
                FaultPoint.midIngestBatch.hit()   // written, not committed: the crash harness kills here
                return ([(first, result)], fresh ? start : nil, [delta], (before, try JobRunRecorder.generation(w)))
            }
            var order: [String] = []
            var byCluster: [String: [JobRunRecorder.PreparedRun]] = [:]
            for r in runs {
                let c = r.cluster
                if byCluster[c] == nil { order.append(c) }
                byCluster[c, default: []].append(r)
            }
            // The presumed usage covers the whole batch: it goes in once, with the first cluster's
            // runs; every cluster's recorder takes back out what it finds was not new.
            var results: [(String, JobRunRecorder.BatchResult)] = []
            var deltas: [UsageAccumulator] = []
            for (i, c) in order.enumerated() {
                let (r, d) = try recorder.recordDeferringUsage(prepared: byCluster[c] ?? [], presumed: i == 0 ? presumed : nil, in: w)
                results.append((c, r))
                deltas.append(d)
            }
            FaultPoint.midIngestBatch.hit()
            return (results, fresh ? start : nil, deltas, (before, try JobRunRecorder.generation(w)))
        }
    }
}

/// Why an ingest could not run at all (as opposed to a malformed record, which is recorded).
public enum IngestError: Error, CustomStringConvertible {
    case cannotRead(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotRead(let p, let m): return "cannot read \(p): \(m)"
        }
    }
}

/// SHA-256 of an imported dump's content. The digest is the same either way; the system's
/// libcrypto (loaded at run time, when present) is used because it hashes with the CPU's SHA
/// instructions, an order of magnitude faster than the portable ``SHA256`` of the core, which
/// is the fallback. On a 1M-row dump (180 MB) the portable one alone costs seconds.
final class ContentHasher: @unchecked Sendable {   // used by one queue at a time
    private typealias Init = @convention(c) (UnsafeMutableRawPointer) -> Int32
    private typealias Update = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer?, Int) -> Int32
    private typealias Final = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutableRawPointer) -> Int32
    private struct Crypto: @unchecked Sendable {
        let initialize: Init
        let update: Update
        let final: Final
    }

    private static let crypto: Crypto? = {
        for name in ["libcrypto.so.3", "libcrypto.so"] {
            guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let i = dlsym(h, "SHA256_Init"), let u = dlsym(h, "SHA256_Update"), let f = dlsym(h, "SHA256_Final") else {
                dlclose(h)
                continue
            }
            return Crypto(initialize: unsafeBitCast(i, to: Init.self), update: unsafeBitCast(u, to: Update.self),
                          final: unsafeBitCast(f, to: Final.self))
        }
        return nil
    }()

    private var portable = SHA256()
    /// OpenSSL's SHA256_CTX (112 bytes), with room to spare.
    private var context: UnsafeMutableRawPointer?
    private let crypto: Crypto?

    deinit { context?.deallocate() }

    init() {
        crypto = Self.crypto
        if let c = crypto {
            let ctx = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
            if c.initialize(ctx) == 1 { context = ctx } else { ctx.deallocate() }
        }
    }

    func update(_ chunk: UnsafeRawBufferPointer) {
        if let ctx = context, let c = crypto {
            _ = c.update(ctx, chunk.baseAddress, chunk.count)
        } else {
            portable.update(chunk)
        }
    }

    /// The digest as 64 lower-case hex digits; the hasher is spent afterwards.
    func finalizeHex() -> String {
        guard let ctx = context, let c = crypto else { return portable.finalizeHex() }
        var digest = [UInt8](repeating: 0, count: 32)
        _ = c.final(&digest, ctx)
        ctx.deallocate()
        context = nil
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
