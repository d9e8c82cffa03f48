import Foundation
import ReckonCore
import ReckonSacct

/// Ingests sacct output into the ledger: from a saved dump (`reckon ingest --from`) or by running
/// sacct (`reckon ingest --start --end`, and the daemon's polls). Streams the output, records job
/// runs in batches (one write transaction each; ``firstBatchSize`` runs, doubling up to
/// ``batchSize``; in a file's last 3 MiB, every 1 MiB chunk's runs), and the last batch in the
/// transaction that completes the import: the usage table and one observation record per
/// cluster. A malformed record is kept in that record and never stops the import.
public struct IngestService {
    public let ledger: Ledger
    /// The most runs in one write transaction (`RECKON_INGEST_BATCH_RUNS` when set: see
    /// ``environmentBatchSize``).
    public var batchSize: Int = IngestService.environmentBatchSize ?? 16_384

    /// `RECKON_INGEST_BATCH_RUNS`, for tests: with it the crash harness makes the small polls of
    /// `reckon sync` commit their runs before the transaction that completes the poll, so that a
    /// kill can fall between the two (a chunk's runs stay together, and a file's last chunk goes
    /// into the completing transaction). Nothing else sets it.
    static let environmentBatchSize: Int? = {
        guard let v = ProcessInfo.processInfo.environment["RECKON_INGEST_BATCH_RUNS"], let n = Int(v), n > 0 else { return nil }
        return n
    }()
    /// The size of the first batch; each next one is twice the last, up to ``batchSize``. The
    /// recording thread starts after a few thousand runs instead of idling through a whole batch.
    public var firstBatchSize: Int = 4_096
    /// The bytes of a dump file read at a time (tests make it small, so that a small file is
    /// many chunks, hence many batches).
    var fileChunkSize = 1 << 20

    public init(ledger: Ledger) { self.ledger = ledger }

    /// What an ingest did.
    public struct Outcome: Sendable {
        public var observations: [SacctObservation]
        /// sacct's stderr (warnings), if any.
        public var warnings: [String]
        /// reckon's own remarks on the output's layout (``SacctHeader/warnings``).
        public var formatWarnings: [String] = []
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
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { session.bytesLeft = Int(st.st_size) }
        // The dump is read on a thread of its own, ahead of the parser; each chunk is hashed
        // beside its parsing, by whichever parsing thread is free first.
        let reader = DumpReader(fd: fd, chunkSize: fileChunkSize)
        let hasher = ContentHasher()
        do {
            while let chunk = try reader.next(path: path) {
                session.bytesLeft = session.bytesLeft.map { $0 - chunk.count }
                try chunk.withUnsafeBytes { bytes in
                    try session.consume(bytes, alongside: { chunk.withUnsafeBytes { hasher.update($0) } })
                }
            }
        } catch {
            reader.stop()
            session.drain()   // no batch is left being written behind the caller's back
            throw error
        }
        reader.stop()   // at the end of the file: the reading thread is done with `fd`
        let digest = hasher.finalizeHex()
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
    /// batch waits beside the one being recorded (``BatchWriter``); batches commit in order, and
    /// after a failed one nothing more is recorded (the error is thrown from the next `add` or
    /// from `finish`).
    struct Session {
        let service: IngestService
        var parser: SacctStreamParser
        var batch: [JobRunRecorder.PreparedRun] = []
        /// How many runs the current batch takes before it goes to the writer (see ``IngestService/firstBatchSize``).
        var batchLimit: Int
        let writer: BatchWriter
        /// The usage of every run handed over while the last batch was mostly new, as if each
        /// were new (``JobRunRecorder/presumeNew(_:into:)``): one sum for the whole import, kept
        /// on this thread; the writer corrects it by what it finds (``BatchWriter/adoptPresumed(_:)``).
        var presumedUsage = UsageAccumulator()
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
        /// Bytes of a file not read yet, when the input is a file of known size. Near its end
        /// every chunk's runs go to the writer at once, so that what is left to record after
        /// the last chunk is parsed — on one thread, the other idle — is one chunk's runs, not
        /// up to a full batch.
        var bytesLeft: Int?
        /// How near the end of a file (in bytes) every chunk is handed over.
        static let handOverEveryChunkWithin = 3 << 20

        init(service: IngestService, timeZone: TimeZone, defaultCluster: String) {
            self.service = service
            parser = SacctStreamParser(timeZone: timeZone, defaultCluster: defaultCluster)
            writer = BatchWriter(ledger: service.ledger)
            batchLimit = max(1, min(service.firstBatchSize, service.batchSize))
            batch.reserveCapacity(batchCapacity)
        }

        mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
            try parse { parser, append in try parser.consumePrepared(chunk, emit: append) }
        }

        /// ``consume(_:)``, with `alongside` done once for the chunk, beside its parsing
        /// (``SacctStreamParser/consumePrepared(_:alongside:emit:)``).
        mutating func consume(_ chunk: UnsafeRawBufferPointer, alongside: @escaping @Sendable () -> Void) throws {
            try parse { parser, append in try parser.consumePrepared(chunk, alongside: alongside, emit: append) }
        }

        /// Runs the parser with a sink that appends straight to the batch (moved out of `self`
        /// meanwhile, so the sink does not touch `self` while the parser, part of it, is mutated),
        /// then counts what was appended and hands on a full batch.
        mutating func parse(_ body: (inout SacctStreamParser, (consuming JobRunRecorder.PreparedRun) -> Void) throws -> Void) throws {
            var runs: [JobRunRecorder.PreparedRun] = []
            swap(&runs, &batch)
            defer { swap(&runs, &batch) }
            let first = runs.count
            try body(&parser) { runs.append($0) }
            try added(&runs, from: first)
        }

        /// Counts the runs appended from `first` per cluster, and hands the batch to the writer
        /// once it holds at least `batchLimit` runs (a chunk's runs stay together).
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
            let nearTheEnd = bytesLeft.map { $0 <= Self.handOverEveryChunkWithin } ?? false
            // The file's last chunk stays for the transaction that completes the import.
            let atTheEnd = bytesLeft == 0
            if !atTheEnd && (runs.count >= batchLimit || (nearTheEnd && !runs.isEmpty)) {
                var full = runs
                batchLimit = min(batchLimit * 2, max(1, service.batchSize))
                runs = []
                try submit(&full)
                runs = writer.spareBatch(capacity: batchCapacity)
            }
        }

        private mutating func countCluster() {
            if let l = lastCluster, lastClusterCount > 0 { recordsPerCluster[l, default: 0] += lastClusterCount }
            lastClusterCount = 0
        }

        /// The room every batch is given: the largest batch and one chunk's runs more, as a
        /// chunk's runs go into one batch (a megabyte of typical sacct lines is ~6,000 runs), so
        /// that filling it never moves it to a larger array and every recorded batch's array can
        /// be used again (memory not written to is not taken from the system).
        var batchCapacity: Int { max(1, service.batchSize) + 8_192 }

        /// Hands a batch to the writer. While most runs of the last batch were new (a first
        /// import), the batch's usage is presumed here, on the parsing thread, into the import's
        /// one sum, so the recording thread only corrects it for the runs it finds already
        /// recorded; when most were not (a re-scan of known jobs) the recorder does it all.
        mutating func submit(_ runs: inout [JobRunRecorder.PreparedRun]) throws {
            if parser.lineMemory != nil { note(runs) }
            if writer.lastBatchMostlyNew { service.ledger.recorder.presumeNew(&runs, into: &presumedUsage) }
            try writer.submit(&runs)
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
                handedOver.append((r.withKey { SacctLineMemory.digest($0) }, r.lineDigest, c))
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
            // The last batch is recorded in the transaction that completes the import, not in
            // one of its own: one commit (two disk flushes) less at the end of every import.
            var last = batch
            batch = []
            if parser.lineMemory != nil { note(last) }
            if !last.isEmpty && writer.lastBatchMostlyNew { service.ledger.recorder.presumeNew(&last, into: &presumedUsage) }
            countCluster()
            let committed = try writer.finish()
            writer.adoptPresumed(&presumedUsage)
            var clusters = parser.clusters
            if clusters.isEmpty { clusters = [parser.defaultCluster] }
            let recalled = parser.recalledPerCluster   // lines the memory held: read, and unchanged
            let recorder = service.ledger.recorder
            FaultPoint.beforeUsageCompletion.hit()   // earlier batches committed, usage pending: the crash harness kills here
            var attempts = 0
            let (alone, observations) = try service.ledger.store.write { [self] w in
                attempts += 1
                var perCluster = committed
                if !last.isEmpty {
                    for (c, r) in try writer.recordLast(last, in: w, attempt: attempts) {
                        perCluster[c, default: .init()].newVersions += r.newVersions
                        perCluster[c, default: .init()].unchanged += r.unchanged
                    }
                }
                var observations: [SacctObservation] = []
                for (i, c) in clusters.enumerated() {
                    let r = perCluster[c] ?? .init()
                    let known = recalled[c] ?? 0
                    observations.append(SacctObservation(
                        source: source, cluster: c, observedAt: observedAt, records: (recordsPerCluster[c] ?? 0) + known,
                        skippedSteps: i == 0 ? parser.steps : 0, newVersions: r.newVersions, unchanged: r.unchanged + known,
                        malformedCount: i == 0 ? parser.malformedCount : 0, malformed: i == 0 ? parser.malformed : []))
                }
                let alone = try writer.completeUsage(in: w)
                for o in observations { try recorder.recordObservation(o, in: w) }
                return (alone, observations)
            }
            self.alone = alone
            var outcome = Outcome(observations: observations, warnings: warnings)
            outcome.recalled = recalled.values.reduce(0, +)
            outcome.formatWarnings = parser.header?.warnings ?? []
            return outcome
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

