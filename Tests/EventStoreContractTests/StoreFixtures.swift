import Foundation
import ReckonCore
import ReckonLMDB
import Synchronization
import Testing

/// The implementations every contract test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory
    case lmdb

    var testDescription: String { rawValue }

    func make() throws -> StoreFixture {
        switch self {
        case .inMemory: return StoreFixture(store: InMemoryEventStore(), directory: nil)
        case .lmdb:
            let dir = try TemporaryDirectory()
            return StoreFixture(store: try LMDBEventStore(directory: dir.path), directory: dir)
        }
    }
}

/// A store under test and, for LMDB, the temporary directory it lives in.
struct StoreFixture {
    let store: any EventStore
    let directory: TemporaryDirectory?
}

/// A fresh directory under the system's temporary directory, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("reckon-store-tests").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base + "/" + UUID().uuidString
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Real events of both kinds, varied by `i`.
enum Samples {
    static func run(_ i: Int) -> JobRun {
        let submit: EpochSeconds = 1_719_792_000 + EpochSeconds(i) * 37
        return JobRun(identity: i % 3 == 0 ? .dbIndex(cluster: "alpha", index: UInt64(i))
                                           : .jobIDRaw(cluster: "alpha", id: UInt64(10_000 + i), submit: submit),
                      jobID: i % 4 == 0 ? "\(10_000 + i)_\(i % 9)" : "\(10_000 + i)",
                      account: "proj\(i % 7)", user: "user\(i % 13)",
                      state: i % 5 == 0 ? "CANCELLED by 1001" : "COMPLETED",
                      submit: submit, start: submit + 60, end: i % 6 == 0 ? nil : submit + 3_600 + EpochSeconds(i),
                      suspended: EpochSeconds(i % 2) * 30,
                      allocTRES: TRESQuantities([("cpu", Int64(1 + i % 64)), ("mem", 4_096), ("gres/gpu", Int64(i % 2))]),
                      reqTRES: i % 8 == 0 ? TRESQuantities([("cpu", 1), ("license/matlab", 1)]) : nil)
    }

    static func observation(_ i: Int) -> SacctObservation {
        let source: SacctObservation.Source
        if i % 2 == 0, let window = TimeWindow(start: 1_719_792_000, end: 1_719_792_000 + EpochSeconds(i + 1) * 300) {
            source = .sacct(window: window)
        } else {
            source = .file(name: "dump-\(i).txt", sha256: String(repeating: "ab", count: 32))
        }
        return SacctObservation(source: source, cluster: "alpha", observedAt: 1_719_800_000 + EpochSeconds(i),
                                records: UInt64(i), skippedSteps: 3, newVersions: UInt64(i / 2), unchanged: 1,
                                malformedCount: 1, malformed: [MalformedRecord(line: UInt64(i + 2), reason: "bad End", text: "1|x|y")])
    }

    /// Mostly job runs (some superseding earlier ones), every fifth an observation.
    static func event(_ i: Int) -> Event {
        if i % 5 == 4 { return .sacctObserved(observation(i)) }
        return .jobRunObserved(JobRunObserved(run: run(i), supersedes: i % 7 == 3 ? UInt64(i / 2) : nil))
    }

    static func events(_ range: Range<Int>) -> [Event] { range.map(event) }
}

struct PlannedFailure: Error, Equatable {}

/// Runs `body` on a new thread and waits for it, rethrowing what it threw.
func onAnotherThread(_ body: @escaping @Sendable () throws -> Void) throws {
    final class Outcome: Sendable {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
    }
    let outcome = Outcome()
    let thread = Thread {
        do { try body() } catch { outcome.failure.withLock { $0 = error } }
        outcome.done.signal()
    }
    thread.start()
    outcome.done.wait()
    if let error = outcome.failure.withLock({ $0 }) { throw error }
}

extension EventStore {
    func count() throws -> UInt64 { try read { try $0.eventCount() } }

    func entries(_ table: StoreTable, prefix: [UInt8] = []) throws -> [[UInt8]: [UInt8]] {
        try read { r in
            var out: [[UInt8]: [UInt8]] = [:]
            try r.forEachEntry(in: table, prefix: prefix) { k, v in out[k] = v; return true }
            return out
        }
    }

    func allEventBytes() throws -> [[UInt8]] {
        try read { r in
            var out: [[UInt8]] = []
            try r.forEachEvent(from: 0) { _, buf in out.append(Array(buf)); return true }
            return out
        }
    }
}
