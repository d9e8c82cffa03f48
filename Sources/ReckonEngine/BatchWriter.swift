import Foundation
import ReckonCore

/// Records batches of job runs on a background thread, one write transaction each, in order.
final class BatchWriter: @unchecked Sendable {
    private let ledger: Ledger
    private let queue = DispatchQueue(label: "reckon.ingest.batch-writer")
    /// Two batches may be handed over at once — one being recorded, one waiting — while the
    /// caller parses a third, so that the caller does not wait while a batch's commit flushes
    /// (~2 ms, two `fdatasync`s; the peer import's parsing thread waited 3.7–12.5 ms in all).
    private let slot = DispatchSemaphore(value: 2)
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

    /// Whether most runs of the last recorded batch were new; before the first batch, whether
    /// the log is empty (a daemon's poll of known jobs should not pay for a guess).
    var lastBatchMostlyNew: Bool { lock.lock(); defer { lock.unlock() }; return mostlyNew }
    private var mostlyNew: Bool

    /// Hands a batch over; waits while two handed over are not yet recorded. Throws the error
    /// of an earlier batch, if any (nothing more is recorded after it: a batch already waiting
    /// when an earlier one fails is dropped unrecorded).
    func submit(_ runs: inout [JobRunRecorder.PreparedRun]) throws {
        if let e = failed() { throw e }
        slot.wait()
        if let e = failed() { slot.signal(); throw e }
        let batch = Batch()
        swap(&batch.runs, &runs)
        queue.async { [self] in
            defer {
                // The array, emptied, is kept for a next batch (its memory already faulted in).
                batch.runs.removeAll(keepingCapacity: true)
                lock.lock()
                spare = batch.runs
                lock.unlock()
                slot.signal()
            }
            if failed() != nil { return }   // an earlier batch failed: nothing after it is recorded
            let count = batch.runs.count
            do {
                let recorded = try ledger.store.write { w in try Self.record(batch.runs, ledger: ledger, in: w) }
                let results = keep(recorded)
                let new = results.reduce(0) { $0 + $1.1.newVersions }
                lock.lock()
                mostlyNew = new * 2 >= UInt64(count)
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

    /// A batch's runs, moved into the recording thread's work and back out of it.
    private final class Batch: @unchecked Sendable {   // used by one thread at a time
        var runs: [JobRunRecorder.PreparedRun] = []
    }
    /// The array of the last recorded batch, emptied (guarded by `lock`).
    private var spare: [JobRunRecorder.PreparedRun]?

    /// An empty array for a next batch: the last recorded batch's, when it holds `capacity`.
    func spareBatch(capacity: Int) -> [JobRunRecorder.PreparedRun] {
        lock.lock()
        let s = spare
        spare = nil
        lock.unlock()
        if let s, s.capacity >= capacity { return s }
        var fresh: [JobRunRecorder.PreparedRun] = []
        fresh.reserveCapacity(capacity)
        return fresh
    }

    /// What ``record(_:ledger:in:)`` returns.
    typealias Recorded = ([(String, JobRunRecorder.BatchResult)], Sequence64?, [UsageAccumulator], generations: (before: UInt64, after: UInt64))

    /// Takes a recorded batch's bookkeeping: where the pending mark was set, the run generations
    /// (another process's runs in between make the import not alone), and its usage differences,
    /// added to the import's sum. Returns the batch's per-cluster results.
    private func keep(_ recorded: Recorded) -> [(String, JobRunRecorder.BatchResult)] {
        let (results, start, deltas, generations) = recorded
        if batches == 0 { deferredFrom = start }
        batches += 1
        if generations.before != lastGeneration { exclusive = false }
        lastGeneration = generations.after
        for d in deltas {
            if usage.isEmpty { usage = d } else { usage.add(d) }   // the first is taken, not copied cell by cell
        }
        return results
    }

    /// Takes the import's presumed usage — summed on the parsing thread over every batch handed
    /// over, and the last (``JobRunRecorder/presumeNew(_:into:)``) — as the sum that
    /// ``completeUsage(in:)`` writes, with the committed batches' differences (their
    /// corrections: runs that were not new after all, runs the presumption could not read) added
    /// to it. Called after ``finish()``, on the caller's thread; `presumed` is left empty.
    func adoptPresumed(_ presumed: inout UsageAccumulator) {
        guard !presumed.isEmpty else { return }
        swap(&usage, &presumed)
        usage.add(presumed)
        presumed = UsageAccumulator()
    }

    /// Records an import's last batch inside the caller's write transaction `w` — the one that
    /// then completes the usage table (``completeUsage(in:)``) — instead of a transaction and a
    /// commit of its own; called after ``finish()``, on the caller's thread. `attempt` counts the
    /// runs of the transaction's body: when it is run again (the map grew), the first run's
    /// usage was kept too, so the import no longer counts as alone and the completion folds the
    /// log instead. Returns the batch's per-cluster results.
    func recordLast(_ runs: [JobRunRecorder.PreparedRun], in w: any EventStoreWriter,
                    attempt: Int) throws -> [(String, JobRunRecorder.BatchResult)] {
        if attempt > 1 { exclusive = false }
        return keep(try Self.record(runs, ledger: ledger, in: w))
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

    /// A batch in the write transaction `w`: its runs per cluster, clusters in first-seen order.
    /// The usage table is left alone (marked pending from the batch's first event when it was
    /// not already); the batch's usage differences are returned, with where the batch started —
    /// for runs whose usage the import presumed (``JobRunRecorder/PreparedRun/usageCounted``),
    /// only the corrections.
    static func record(_ runs: [JobRunRecorder.PreparedRun], ledger: Ledger, in w: any EventStoreWriter) throws -> Recorded {
        let recorder = ledger.recorder
        let before = try JobRunRecorder.generation(w)
        guard let first = runs.first?.cluster else { return ([], nil, [], (before, before)) }
        let start = try w.eventCount()
        let fresh = try UsageTable.pendingFrom(w) == nil
        try UsageTable.markPending(from: start, in: w)
        if runs.allSatisfy({ $0.cluster == first }) {
            let (result, delta) = try recorder.recordDeferringUsage(prepared: runs, in: w)
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
        var results: [(String, JobRunRecorder.BatchResult)] = []
        var deltas: [UsageAccumulator] = []
        for c in order {
            let (r, d) = try recorder.recordDeferringUsage(prepared: byCluster[c] ?? [], in: w)
            results.append((c, r))
            deltas.append(d)
        }
        FaultPoint.midIngestBatch.hit()
        return (results, fresh ? start : nil, deltas, (before, try JobRunRecorder.generation(w)))
    }
}
