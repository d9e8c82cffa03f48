import Foundation
import ReckonCore
@testable import ReckonEngine
import ReckonLMDB
import ReckonSacct
import Testing

/// An import writes the usage table once, at its end (``UsageTable``). These tests stop an
/// import after its batches committed and before that end — what a kill leaves behind — and
/// check that readers still see every committed run's usage, that replay agrees with the live
/// projection, and that the next writer to open the ledger folds the tail into the table.
@Suite(.serialized) struct DeferredUsageTests {
    let month = BillingMonth(year: 2026, month: 3)!
    let settings = ProjectionSettings(calendar: MonthCalendar(timeZoneIdentifier: "UTC")!, tresSource: .alloc)

    func lmdbLedger(_ dir: String) throws -> Ledger {
        try Ledger(store: try LMDBEventStore(directory: dir), settings: settings)
    }

    func ingest(_ ledger: Ledger, _ text: String, in dir: String) throws {
        let path = dir + "-dump.psv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try IngestService(ledger: ledger).ingestFile(path: path, timeZone: Fixtures.utc, observedAt: LineMemoryTests.t0 + 86_400,
                                                        defaultCluster: "hpc1")
    }

    func prepared(_ text: String) throws -> [JobRunRecorder.PreparedRun] {
        var parser = SacctStreamParser(timeZone: Fixtures.utc, defaultCluster: "hpc1")
        var runs: [JobRunRecorder.PreparedRun] = []
        try Array(text.utf8).withUnsafeBytes { try parser.consumePrepared($0) { runs.append($0) } }
        try parser.finishPrepared { runs.append($0) }
        return runs
    }

    func storedTable(_ ledger: Ledger) throws -> [UsageKey: Int128] {
        try ledger.store.read { try UsageProjection.load(from: $0).closed }   // the table as stored, no tail
    }

    @Test func aKilledImportsUsageIsReadFromTheLogUntilTheNextWriterWritesIt() throws {
        let base = NSTemporaryDirectory() + "reckon-deferred-\(UUID().uuidString)"
        defer { for d in ["-p", "-d", "-p-dump.psv", "-d-dump.psv"] { try? FileManager.default.removeItem(atPath: base + d) } }
        let plain = try lmdbLedger(base + "-p"), killed = try lmdbLedger(base + "-d")
        let first = LineMemoryTests.dump(LineMemoryTests.lines(count: 60, tick: 0))
        try ingest(plain, first, in: base + "-p")
        try ingest(killed, first, in: base + "-d")
        #expect(try storedTable(plain) == storedTable(killed))

        // The second import: new runs, runs that ran on, changed runs (their superseded versions
        // come out of the usage), and two clusters.
        let second = LineMemoryTests.dump(LineMemoryTests.lines(count: 90, tick: 1, changed: [3, 17, 44]))
        try ingest(plain, second, in: base + "-p")
        // The same runs recorded as an import's batches do, in two committed transactions, and
        // then nothing: no completion (the process was killed).
        let runs = try prepared(second)
        for part in [runs[..<45], runs[45...]] {
            try killed.store.write { w in
                try UsageTable.markPending(from: try w.eventCount(), in: w)
                _ = try killed.recorder.recordDeferringUsage(prepared: Array(part), in: w)
            }
        }
        #expect(try killed.store.read { try UsageTable.pendingFrom($0) } != nil)
        // The stored table is behind (so what follows is not trivially true)…
        #expect(try storedTable(killed) != storedTable(plain))
        // …but readers see the committed usage: the month's report, a read-only reader's, and replay.
        let want = try UsageQuery(ledger: plain).nativeUsage(month: month).usage
        #expect(!want.isEmpty)
        #expect(try UsageQuery(ledger: killed).nativeUsage(month: month).usage == want)
        let reader = try StateStore.openLedger(directory: base + "-d", settings: settings, maxMapSizeMB: 64, readOnly: true)
        #expect(try UsageQuery(ledger: reader).nativeUsage(month: month).usage == want)
        #expect(try ReplayCheck.run(killed, clock: { 0 }).identical)
        let live = try killed.store.read { try UsageProjection.load(from: $0, settings: settings) }
        #expect(try live.closed == plain.store.read { try UsageProjection.load(from: $0, settings: settings) }.closed)

        // The next writer to open the ledger writes the tail into the table and removes the mark.
        let reopened = try Ledger(store: killed.store, settings: settings)
        #expect(try reopened.store.read { try UsageTable.pendingFrom($0) } == nil)
        #expect(try storedTable(reopened) == storedTable(plain))
        #expect(try ReplayCheck.run(reopened, clock: { 0 }).identical)
    }

    /// Two imports whose batches interleave (the daemon's poll and a `reckon ingest` beside it:
    /// only the daemon holds the state lock). The first to end finds the mark it set, but the
    /// tail since it holds the other's batch too: its own sum would lose that batch for good.
    /// (Found in review.)
    @Test func interleavedImportsKeepEveryRunsUsage() throws {
        let ledger = try Fixtures.ledger()
        let lines = LineMemoryTests.lines(count: 40, tick: 0)
        var a = try prepared(LineMemoryTests.dump(Array(lines[..<20]))), b = try prepared(LineMemoryTests.dump(Array(lines[20...])))
        let first = BatchWriter(ledger: ledger), second = BatchWriter(ledger: ledger)
        try first.submit(&a); _ = try first.finish()     // sets the mark
        try second.submit(&b); _ = try second.finish()   // finds it set
        let aloneA = try ledger.store.write { try first.completeUsage(in: $0) }
        let aloneB = try ledger.store.write { try second.completeUsage(in: $0) }
        #expect(!aloneA && !aloneB)   // each saw the other record runs
        #expect(try ledger.store.read { try UsageTable.pendingFrom($0) } == nil)
        let check = try ReplayCheck.run(ledger, clock: { 0 })
        #expect(check.identical, "\(check.differences)")
        // The same runs recorded by one writer give the same table.
        let direct = try Fixtures.ledger()
        try direct.store.write { w in _ = try direct.recorder.record(prepared: try prepared(LineMemoryTests.dump(lines)), in: w) }
        #expect(try storedTable(ledger) == storedTable(direct))
    }

    /// A store whose next write transaction, once armed, waits for `gate` and then fails (a
    /// full disk); it counts the write transactions begun after arming.
    final class GatedFailingStore: EventStore, @unchecked Sendable {
        let inner = InMemoryEventStore()
        let gate = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var armed = false
        private(set) var writesSinceArmed = 0
        func arm() { lock.lock(); armed = true; lock.unlock() }
        func read<T>(_ body: (any EventStoreReader) throws -> T) throws -> T { try inner.read(body) }
        func write<T>(_ body: (any EventStoreWriter) throws -> T) throws -> T {
            lock.lock()
            let fail = armed && writesSinceArmed == 0
            if armed { writesSinceArmed += 1 }
            lock.unlock()
            if fail {
                gate.wait()
                throw EventStoreError.storage(operation: "commit", message: "No space left on device")
            }
            return try inner.write(body)
        }
    }

    /// Two batches may be handed to the writer at once; when the one being recorded fails, the
    /// one waiting behind it is dropped, not recorded after the gap, and the failure is thrown.
    @Test func aBatchWaitingBehindAFailedOneIsNotRecorded() throws {
        let store = GatedFailingStore()
        let ledger = try Ledger(store: store, settings: settings)
        let lines = LineMemoryTests.lines(count: 40, tick: 0)
        var a = try prepared(LineMemoryTests.dump(Array(lines[..<20])))
        nonisolated(unsafe) var b = try prepared(LineMemoryTests.dump(Array(lines[20...])))
        let writer = BatchWriter(ledger: ledger)
        store.arm()
        try writer.submit(&a)                 // recording, held at the gate
        let accepted = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var secondError: Error?
        DispatchQueue.global().async {
            do { try writer.submit(&b) } catch { secondError = error }
            accepted.signal()
        }
        // The second batch is taken while the first is still being recorded (two slots).
        let taken = accepted.wait(timeout: .now() + 10) == .success
        #expect(taken, "the writer did not take a second batch while the first was recorded")
        store.gate.signal()
        if !taken { _ = accepted.wait(timeout: .now() + 10) }
        #expect(secondError == nil)
        #expect(throws: EventStoreError.self) { _ = try writer.finish() }
        #expect(store.writesSinceArmed == 1, "the batch behind the failed one was recorded")
        #expect(try ledger.store.read { try $0.eventCount() } == 0)
    }

    /// A store that counts write transactions (each commits once).
    final class CountingStore: EventStore, @unchecked Sendable {
        let inner = InMemoryEventStore()
        var writes = 0
        func read<T>(_ body: (any EventStoreReader) throws -> T) throws -> T { try inner.read(body) }
        func write<T>(_ body: (any EventStoreWriter) throws -> T) throws -> T { writes += 1; return try inner.write(body) }
    }

    /// An import's last batch goes into the transaction that completes it (the usage table and
    /// the observation records), not into a commit of its own. By hand, for 10 runs printed at
    /// once (one chunk, whose runs stay together in one batch): a dump file is one commit
    /// whatever the batch size (its last chunk goes with the completion; two commits before);
    /// a sacct poll with batches of 3 commits the chunk's batch as it is read, then the
    /// completion: two; with batches of 16,384 the batch waits for the completion: one. The
    /// observation still counts every run, and the table is the one recording makes directly.
    @Test func theLastBatchIsCommittedWithTheCompletion() throws {
        let base = NSTemporaryDirectory() + "reckon-deferred-\(UUID().uuidString)"
        let sacct = try LineMemoryTests.StandIn()
        defer { try? FileManager.default.removeItem(atPath: base + "-dump.psv"); sacct.remove() }
        let text = LineMemoryTests.dump(LineMemoryTests.lines(count: 10, tick: 0))
        try text.write(toFile: base + "-dump.psv", atomically: true, encoding: .utf8)
        try sacct.prints(text)
        for (fromFile, batchSize, commits) in [(true, 3, 1), (true, 16_384, 1), (false, 3, 2), (false, 16_384, 1)] {
            let store = CountingStore()
            let ledger = try Ledger(store: store, settings: settings)
            let before = store.writes
            var service = IngestService(ledger: ledger)
            service.batchSize = batchSize
            let outcome: IngestService.Outcome
            if fromFile {
                outcome = try service.ingestFile(path: base + "-dump.psv", timeZone: Fixtures.utc, observedAt: LineMemoryTests.t0 + 86_400,
                                                 defaultCluster: "hpc1")
            } else {
                let window = LineMemoryTests().window
                outcome = try service.ingestSacct(command: SacctCommand(binDirectory: sacct.directory, window: window, cluster: nil),
                                                  window: window, runner: SacctRunner(timeoutSeconds: 60),
                                                  observedAt: LineMemoryTests.t0 + 86_400, defaultCluster: "hpc1")
            }
            let note: Comment = "\(fromFile ? "file" : "sacct"), batches of \(batchSize)"
            #expect(store.writes - before == commits, note)
            #expect(outcome.records == 10 && outcome.newVersions == 10, note)
            #expect(try ledger.store.read { try UsageTable.pendingFrom($0) } == nil, note)
            let direct = try Fixtures.ledger()
            try direct.store.write { w in _ = try direct.recorder.record(prepared: try prepared(text), in: w) }
            #expect(try storedTable(ledger) == storedTable(direct), note)
        }
    }

    @Test func anImportLeavesNoMarkAndTheSameTableAsRecordingBatchByBatch() throws {
        let base = NSTemporaryDirectory() + "reckon-deferred-\(UUID().uuidString)"
        defer { for d in ["-a", "-a-dump.psv"] { try? FileManager.default.removeItem(atPath: base + d) } }
        let imported = try lmdbLedger(base + "-a")
        let direct = try Fixtures.ledger()
        // The third dump is read newest first: its new runs fill the first batches, so the usage
        // of the batches after them is presumed (every run taken as new) while they hold known
        // runs, unchanged and changed, whose presumed usage the writer takes back out.
        let dumps = [LineMemoryTests.lines(count: 50, tick: 0), LineMemoryTests.lines(count: 70, tick: 2, changed: [1, 2, 30]),
                     LineMemoryTests.lines(count: 120, tick: 3, changed: [5, 31, 60]).reversed()]
        for (i, text) in dumps.map(LineMemoryTests.dump).enumerated() {
            var service = IngestService(ledger: imported)
            service.batchSize = 9   // many batches, so the import's usage is summed across several
            service.fileChunkSize = 700   // a few lines a chunk (a chunk's runs go into one batch)
            let path = base + "-a-dump.psv"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try service.ingestFile(path: path, timeZone: Fixtures.utc, observedAt: LineMemoryTests.t0 + 86_400, defaultCluster: "hpc1")
            // The reference: every run recorded with the table written in the same transaction.
            let runs = try prepared(text)
            try direct.store.write { w in _ = try direct.recorder.record(prepared: runs, in: w) }
            #expect(try imported.store.read { try UsageTable.pendingFrom($0) } == nil, "import \(i)")
            #expect(try storedTable(imported) == storedTable(direct), "import \(i)")
        }
    }
}
