import Foundation
import ReckonCore
import ReckonSacct

/// Ingests sacct output into the ledger: from a saved dump (`reckon ingest --from`) or by running
/// sacct (`reckon ingest --start --end`, and the daemon's polls). Streams the output, records job
/// runs in batches of ``batchSize`` (one write transaction each), then appends one observation
/// record per cluster. A malformed record is kept in that record and never stops the import.
public struct IngestService {
    public let ledger: Ledger
    public var batchSize: Int = 10_000

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
        var hasher = SHA256()
        let size = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf.baseAddress, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw IngestError.cannotRead(path: path, message: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buf[0..<n])
            hasher.update(chunk)
            try session.consume(chunk)
        }
        let name = (path as NSString).lastPathComponent
        return try session.finish(source: .file(name: name, sha256: hasher.finalizeHex()), observedAt: observedAt, warnings: [])
    }

    /// Runs sacct over `window` and ingests its output.
    public func ingestSacct(command: SacctCommand, window: TimeWindow, runner: SacctRunner, observedAt: EpochSeconds,
                            defaultCluster: String) throws -> Outcome {
        var session = Session(service: self, timeZone: TimeZone(identifier: "UTC") ?? TimeZone.current, defaultCluster: defaultCluster)
        let stderr = try runner.run(command) { chunk in try session.consume(chunk) }
        return try session.finish(source: .sacct(window: window), observedAt: observedAt, warnings: stderr.isEmpty ? [] : [stderr])
    }

    /// One ingest in progress: the parser, the pending batch and per-cluster counts.
    struct Session {
        let service: IngestService
        var parser: SacctStreamParser
        var batch: [JobRun] = []
        var perCluster: [String: JobRunRecorder.BatchResult] = [:]
        var recordsPerCluster: [String: UInt64] = [:]

        init(service: IngestService, timeZone: TimeZone, defaultCluster: String) {
            self.service = service
            parser = SacctStreamParser(timeZone: timeZone, defaultCluster: defaultCluster)
            batch.reserveCapacity(service.batchSize)
        }

        mutating func consume(_ chunk: UnsafeRawBufferPointer) throws {
            var pending: [JobRun] = []
            try parser.consume(chunk) { pending.append($0) }
            for run in pending { try add(run) }
        }

        mutating func add(_ run: JobRun) throws {
            batch.append(run)
            recordsPerCluster[run.identity.cluster, default: 0] += 1
            if batch.count >= service.batchSize { try flush() }
        }

        mutating func flush() throws {
            guard !batch.isEmpty else { return }
            let runs = batch
            let recorder = service.ledger.recorder
            let results: [String: JobRunRecorder.BatchResult] = try service.ledger.store.write { w in
                var byCluster: [String: [JobRun]] = [:]
                for r in runs { byCluster[r.identity.cluster, default: []].append(r) }
                var out: [String: JobRunRecorder.BatchResult] = [:]
                for (c, rs) in byCluster { out[c] = try recorder.record(rs, in: w) }
                FaultPoint.midIngestBatch.hit()
                return out
            }
            for (c, r) in results {
                perCluster[c, default: .init()].newVersions += r.newVersions
                perCluster[c, default: .init()].unchanged += r.unchanged
            }
            batch.removeAll(keepingCapacity: true)
        }

        mutating func finish(source: SacctObservation.Source, observedAt: EpochSeconds, warnings: [String]) throws -> Outcome {
            var pending: [JobRun] = []
            try parser.finish { pending.append($0) }
            for run in pending { try add(run) }
            try flush()
            var clusters = parser.clusters
            if clusters.isEmpty { clusters = [parser.defaultCluster] }
            var observations: [SacctObservation] = []
            for (i, c) in clusters.enumerated() {
                let r = perCluster[c] ?? .init()
                observations.append(SacctObservation(
                    source: source, cluster: c, observedAt: observedAt, records: recordsPerCluster[c] ?? 0,
                    skippedSteps: i == 0 ? parser.steps : 0, newVersions: r.newVersions, unchanged: r.unchanged,
                    malformedCount: i == 0 ? parser.malformedCount : 0, malformed: i == 0 ? parser.malformed : []))
            }
            let recorder = service.ledger.recorder
            try service.ledger.store.write { w in
                for o in observations { try recorder.recordObservation(o, in: w) }
            }
            return Outcome(observations: observations, warnings: warnings)
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
