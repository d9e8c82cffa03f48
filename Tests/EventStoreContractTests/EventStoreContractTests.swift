import Foundation
import ReckonCore
import Testing

/// What every ``EventStore`` must do, run against each implementation (as pyeventsourcing runs
/// one recorder suite against every backend).
@Suite("EventStore contract")
struct EventStoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func appendedEventsGetDenseSequenceNumbersFromZeroAcrossTransactions(kind: StoreKind) throws {
        let fixture = try kind.make()
        let store = fixture.store
        #expect(try store.count() == 0)
        let first = try store.write { w in
            #expect(try w.eventCount() == 0)
            let seqs = try Samples.events(0..<3).map { try w.append($0) }
            #expect(try w.eventCount() == 3)
            return seqs
        }
        #expect(first == [0, 1, 2])
        let second = try store.write { w in try Samples.events(3..<5).map { try w.append($0) } }
        #expect(second == [3, 4])
        #expect(try store.write { w in try w.eventCount() } == 5)   // a write that appends nothing
        let third = try store.write { w in try w.append(Samples.event(5)) }
        #expect(third == 5)
        #expect(try store.count() == 6)
        // Encoded bytes lent for the call take the next number the same way, and read back as given.
        let encoded = EventCodec.encode(Samples.event(6))
        let fourth = try store.write { w in try encoded.withUnsafeBytes { try w.append(bytes: $0) } }
        #expect(fourth == 6)
        #expect(try store.read { r in try r.eventBytes(at: 6) } == encoded)
    }

    @Test(arguments: StoreKind.allCases)
    func readsBackTheBytesAndEventsThatWereWritten(kind: StoreKind) throws {
        let store = try kind.make().store
        let events = Samples.events(0..<40)
        let encoded = events.map(EventCodec.encode)
        try store.write { w in for e in encoded.prefix(25) { _ = try w.append(e) } }
        try store.write { w in for e in events.suffix(15) { try w.append(e) } }
        try store.read { r in
            #expect(try r.eventCount() == 40)
            for i in 0..<40 {
                #expect(try r.eventBytes(at: UInt64(i)) == encoded[i])
                #expect(try r.event(at: UInt64(i)) == events[i])
            }
            #expect(try r.eventBytes(at: 40) == nil)
            #expect(try r.event(at: 1_000_000) == nil)
            let stored = try r.events(from: 0, limit: 100)
            #expect(stored == events.enumerated().map { StoredEvent(sequence: UInt64($0.offset), event: $0.element) })
            #expect(try r.events(from: 38, limit: 100).map(\.sequence) == [38, 39])
            #expect(try r.events(from: 10, limit: 3).map(\.sequence) == [10, 11, 12])
        }
        #expect(try store.allEventBytes() == encoded)
    }

    @Test(arguments: StoreKind.allCases)
    func forEachEventStartsAtTheGivenSequenceAndStopsWhenTheBodySaysSo(kind: StoreKind) throws {
        let store = try kind.make().store
        let encoded = Samples.events(0..<10).map(EventCodec.encode)
        try store.write { w in for e in encoded { _ = try w.append(e) } }
        try store.read { r in
            var seen: [UInt64] = []
            try r.forEachEvent(from: 4) { seq, buf in
                #expect(Array(buf) == encoded[Int(seq)])
                seen.append(seq)
                return seq < 7
            }
            #expect(seen == [4, 5, 6, 7])

            seen = []
            try r.forEachEvent(from: 9) { seq, _ in seen.append(seq); return true }
            #expect(seen == [9])
            for start: UInt64 in [10, 11, .max] {
                try r.forEachEvent(from: start) { seq, _ in
                    Issue.record("event \(seq) visited from \(start), past the end")
                    return true
                }
            }
            var visits = 0
            try r.forEachEvent(from: 0) { _, _ in visits += 1; return false }
            #expect(visits == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aThrowingWriteCommitsNothing(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w in
            try w.append(Samples.event(0))
            try w.append(Samples.event(1))
            try w.put([1], in: .runs, key: [0xA])
            try w.put([2], in: .usage, key: [0xB])
            try w.setMeta("mark", [3])
        }
        let before = try StoreTable.allCases.map { try store.entries($0) }
        let bytesBefore = try store.allEventBytes()

        #expect(throws: PlannedFailure.self) {
            try store.write { w in
                try w.append(Samples.event(2))
                try w.append(Samples.event(3))
                try w.put([9], in: .runs, key: [0xA])
                try w.put([9], in: .openRuns, key: [0xC])
                try w.delete(in: .usage, key: [0xB])
                try w.clear(.meta)
                #expect(try w.eventCount() == 4)
                throw PlannedFailure()
            }
        }
        #expect(try store.count() == 2)
        #expect(try store.allEventBytes() == bytesBefore)
        #expect(try StoreTable.allCases.map { try store.entries($0) } == before)
        #expect(try store.write { w in try w.append(Samples.event(2)) } == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func aWriterSeesItsOwnChanges(kind: StoreKind) throws {
        let store = try kind.make().store
        _ = try store.write { w in try w.append(Samples.event(0)) }
        try store.write { w in
            let seq = try w.append(Samples.event(1))
            #expect(try w.event(at: seq) == Samples.event(1))
            try w.put([7], in: .runs, key: [1, 2])
            #expect(try w.value(in: .runs, key: [1, 2]) == [7])
            var seen: [UInt64] = []
            try w.forEachEvent(from: 0) { s, _ in seen.append(s); return true }
            #expect(seen == [0, 1])
            try w.delete(in: .runs, key: [1, 2])
            #expect(try w.value(in: .runs, key: [1, 2]) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func tablesPutGetDeleteAndClear(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w in
            try w.put([1, 1], in: .usage, key: Array("a".utf8))
            try w.put([2, 2], in: .usage, key: Array("b".utf8))
            try w.put([], in: .usage, key: Array("empty value".utf8))
        }
        try store.read { r throws in
            #expect(try r.value(in: .usage, key: Array("a".utf8)) == [1, 1])
            #expect(try r.value(in: .usage, key: Array("empty value".utf8)) == [])
            #expect(try r.value(in: .usage, key: Array("c".utf8)) == nil)
            #expect(try r.value(in: .usage, key: []) == nil)
        }
        try store.write { w in
            try w.put([3], in: .usage, key: Array("a".utf8))          // overwrite
            try w.delete(in: .usage, key: Array("b".utf8))
            try w.delete(in: .usage, key: Array("never there".utf8))  // no-op
        }
        #expect(try store.entries(.usage) == [Array("a".utf8): [3], Array("empty value".utf8): []])
        try store.write { w in try w.clear(.usage) }
        #expect(try store.entries(.usage).isEmpty)
        try store.write { w in try w.put([4], in: .usage, key: [0]) }   // usable after clear
        #expect(try store.entries(.usage) == [[0]: [4]])
    }

    @Test(arguments: StoreKind.allCases)
    func withEventBytesLendsTheSameBytesAsEventBytes(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w in
            _ = try w.append([1, 2, 3])
            _ = try w.append([])
            _ = try w.append(Array(repeating: 7, count: 5_000))
        }
        try store.read { r throws in
            for seq in 0..<3 as Range<Sequence64> {
                let lent = try r.withEventBytes(at: seq) { Array($0) }
                #expect(lent == (try r.eventBytes(at: seq)))
            }
            #expect(try r.withEventBytes(at: 3) { $0.count } == nil)   // past the end
        }
    }

    @Test(arguments: StoreKind.allCases)
    func insertIfAbsentPutsOnlyANewKeyAndReturnsWhatIsThere(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w throws in
            #expect(try w.insertIfAbsent([1], in: .runs, key: [7]) == nil)          // absent: inserted
            #expect(try w.insertIfAbsent([2], in: .runs, key: [7]) == [1])          // present: the old value, unchanged
            #expect(try w.value(in: .runs, key: [7]) == [1])
            #expect(try w.insertIfAbsent([], in: .runs, key: [8]) == nil)
            #expect(try w.insertIfAbsent([9], in: .runs, key: [8]) == [])           // an empty value is still a value
        }
        #expect(try store.entries(.runs) == [[7]: [1], [8]: []])
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.write { w throws in
                #expect(try w.insertIfAbsent([3], in: .runs, key: [9]) == nil)
                throw Boom()
            }
        }
        #expect(try store.entries(.runs) == [[7]: [1], [8]: []])                     // rolled back with the write
        #expect(throws: EventStoreError.self) {
            try store.write { w in _ = try w.insertIfAbsent([1], in: .runs, key: []) }
        }
    }

    /// LMDB appends a key that sorts after the table's last instead of searching for it, and
    /// remembers that last key within a transaction. Whatever the order of keys, and whatever
    /// puts, deletes and clears come between, the answers must be those of a plain map — with
    /// value and key passed as arrays or lent as buffers, at random: checked
    /// against a dictionary over 3,000 random operations in 60 transactions, with keys of one to
    /// three bytes from a small alphabet so that equal keys, prefixes and keys beyond the last all
    /// occur, in both ascending runs and random order. LMDB re-checks every append, so a wrong
    /// remembered key could only cost speed: debug builds stop at a refused append instead, which
    /// a remembered key left stale by a put makes this test hit.
    @Test(arguments: StoreKind.allCases)
    func insertIfAbsentAnswersAsAMapWhateverTheKeyOrder(kind: StoreKind) throws {
        let store = try kind.make().store
        var model: [[UInt8]: [UInt8]] = [:]
        var state: UInt64 = 0x5EED_0001
        func next(_ n: Int) -> Int {   // a fixed linear congruential sequence: the test repeats exactly
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: (state >> 33) % UInt64(n))
        }
        var ascending: UInt8 = 0
        for _ in 0..<60 {
            try store.write { w throws in
                for _ in 0..<50 {
                    let key: [UInt8]
                    if next(2) == 0 {
                        ascending &+= UInt8(next(3))   // runs of growing keys, as DBIndex grows
                        key = [9, ascending]
                    } else {
                        key = (0...next(3)).map { _ in UInt8(next(4)) + 7 }
                    }
                    let value = [UInt8(next(256))]
                    switch next(20) {
                    case 0..<14:
                        let found = next(2) == 0 ? try w.insertIfAbsent(value, in: .runs, key: key)
                            : try value.withUnsafeBytes { v in try key.withUnsafeBytes { k in try w.insertIfAbsent(valueBytes: v, in: .runs, keyBytes: k) } }
                        #expect(found == model[key], "insertIfAbsent \(key)")
                        if found == nil { model[key] = value }
                    case 14..<17:
                        try w.put(value, in: .runs, key: key)
                        model[key] = value
                    case 17..<19:
                        try w.delete(in: .runs, key: key)
                        model[key] = nil
                    default:
                        if next(10) == 0 { try w.clear(.runs); model = [:] }
                    }
                }
            }
            #expect(try store.entries(.runs) == model)
        }
        #expect(model.count > 20)   // the walk did not end empty
    }

    @Test(arguments: StoreKind.allCases)
    func putAfterLastTakesOnlyKeysBeyondTheLastAndRefusesOthersWithoutAChange(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w throws in
            try w.putAfterLast([1], in: .usage, key: [5])
            try w.putAfterLast([2], in: .usage, key: [5, 0])        // a longer key with the last as prefix sorts after it
            try w.putAfterLast([3], in: .usage, key: [6])
        }
        #expect(try store.entries(.usage) == [[5]: [1], [5, 0]: [2], [6]: [3]])
        // Equal to the last, before it, or before it by a prefix: refused, and nothing changes.
        for bad: [UInt8] in [[6], [5, 1], [4, 9, 9], [5]] {
            #expect(throws: EventStoreError.self) {
                try store.write { w in try w.putAfterLast([9], in: .usage, key: bad) }
            }
        }
        #expect(try store.entries(.usage) == [[5]: [1], [5, 0]: [2], [6]: [3]])
        // The last key follows other writes of the same transaction: a put, a delete, a clear.
        try store.write { w throws in
            try w.put([4], in: .usage, key: [8])
            #expect(throws: EventStoreError.self) { try w.putAfterLast([9], in: .usage, key: [7]) }
            try w.delete(in: .usage, key: [8])
            try w.putAfterLast([5], in: .usage, key: [7])
            try w.clear(.usage)
            try w.putAfterLast([6], in: .usage, key: [1])
        }
        #expect(try store.entries(.usage) == [[1]: [6]])
        // Within one transaction, after an append: a put or an insert of a greater key moves the
        // last key; deleting the last key moves it back.
        try store.write { w throws in
            try w.putAfterLast([1], in: .openRuns, key: [7])
            try w.put([1], in: .openRuns, key: [9])
            #expect(throws: EventStoreError.self) { try w.putAfterLast([1], in: .openRuns, key: [8]) }
            #expect(try w.insertIfAbsent([1], in: .openRuns, key: [9, 1]) == nil)
            #expect(throws: EventStoreError.self) { try w.putAfterLast([1], in: .openRuns, key: [9, 0]) }
            try w.delete(in: .openRuns, key: [9, 1])
            try w.delete(in: .openRuns, key: [9])
            try w.putAfterLast([2], in: .openRuns, key: [8])
        }
        #expect(try store.entries(.openRuns) == [[7]: [1], [8]: [2]])
        // Another table's keys do not count.
        try store.write { w throws in try w.putAfterLast([7], in: .runs, key: [0]) }
        #expect(throws: EventStoreError.self) {
            try store.write { w in try w.putAfterLast([1], in: .usage, key: []) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anEmptyKeyIsRefused(kind: StoreKind) throws {
        let store = try kind.make().store
        #expect(throws: EventStoreError.self) {
            try store.write { w in try w.put([1], in: .meta, key: []) }
        }
        #expect(try store.entries(.meta, prefix: []).keys.allSatisfy { !$0.isEmpty })
    }

    @Test(arguments: StoreKind.allCases)
    func prefixIterationVisitsKeysInBytewiseOrder(kind: StoreKind) throws {
        let store = try kind.make().store
        let keys: [[UInt8]] = [[0x80], [0x01, 0xFF], [0x02], [0x01], [0x7F, 0x00], [0xFF, 0x01], [0x01, 0x00], [0x00], [0x01, 0x00, 0x01]]
        try store.write { w in
            for (i, k) in keys.enumerated() { try w.put([UInt8(i)], in: .runs, key: k) }
        }
        // Both walks: entries copied out, and lent in place (valid only during the call).
        for inPlace in [false, true] {
            func visit(_ prefix: [UInt8], stopAfter limit: Int = .max) throws -> [[UInt8]] {
                try store.read { r in
                    var out: [[UInt8]] = []
                    func seen(_ k: [UInt8], _ v: [UInt8]) -> Bool {
                        #expect(v == [UInt8(keys.firstIndex(of: k) ?? 255)])
                        out.append(k)
                        return out.count < limit
                    }
                    if inPlace {
                        try r.forEachEntryInPlace(in: .runs, prefix: prefix) { k, v in seen(Array(k), Array(v)) }
                    } else {
                        try r.forEachEntry(in: .runs, prefix: prefix) { k, v in seen(k, v) }
                    }
                    return out
                }
            }
            #expect(try visit([]) == keys.sorted { $0.lexicographicallyPrecedes($1) })
            #expect(try visit([0x01]) == [[0x01], [0x01, 0x00], [0x01, 0x00, 0x01], [0x01, 0xFF]])
            #expect(try visit([0x01, 0x00]) == [[0x01, 0x00], [0x01, 0x00, 0x01]])
            #expect(try visit([0x01], stopAfter: 2) == [[0x01], [0x01, 0x00]])
            #expect(try visit([0x7F]) == [[0x7F, 0x00]])
            #expect(try visit([0x03]).isEmpty)
            #expect(try visit([0xFF, 0xFF]).isEmpty)
            #expect(try visit([0x01, 0x00, 0x01, 0x00]).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func tablesAreIsolatedFromEachOther(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w in
            for (i, table) in StoreTable.allCases.enumerated() { try w.put([UInt8(i)], in: table, key: [0x42]) }
            try w.append(Samples.event(0))
        }
        for (i, table) in StoreTable.allCases.enumerated() {
            #expect(try store.entries(table, prefix: [0x42]) == [[0x42]: [UInt8(i)]])
        }
        try store.write { w in
            try w.clear(.usage)
            try w.delete(in: .runs, key: [0x42])
        }
        #expect(try store.entries(.usage).isEmpty)
        #expect(try store.entries(.runs).isEmpty)
        #expect(try store.entries(.openRuns) == [[0x42]: [1]])
        #expect(try store.entries(.meta, prefix: [0x42]) == [[0x42]: [3]])
        #expect(try store.count() == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aReadSnapshotDoesNotSeeALaterWrite(kind: StoreKind) throws {
        let store = try kind.make().store
        try store.write { w in
            try w.append(Samples.event(0))
            try w.put([1], in: .usage, key: [1])
        }
        try store.read { r in
            #expect(try r.eventCount() == 1)
            try onAnotherThread {
                try store.write { w in
                    try w.append(Samples.event(1))
                    try w.put([2], in: .usage, key: [1])
                    try w.put([2], in: .usage, key: [2])
                }
            }
            #expect(try r.eventCount() == 1)
            #expect(try r.eventBytes(at: 1) == nil)
            #expect(try r.value(in: .usage, key: [1]) == [1])
            #expect(try r.value(in: .usage, key: [2]) == nil)
            var seen = 0
            try r.forEachEvent(from: 0) { _, _ in seen += 1; return true }
            #expect(seen == 1)
        }
        #expect(try store.count() == 2)
        #expect(try store.entries(.usage) == [[1]: [2], [2]: [2]])
    }

    @Test(arguments: StoreKind.allCases)
    func projectionTablesWrittenByTheRecorderMatchReplay(kind: StoreKind) throws {
        let store = try kind.make().store
        let settings = ProjectionSettings(calendar: try #require(MonthCalendar(timeZoneIdentifier: "UTC")), tresSource: .alloc)
        let recorder = JobRunRecorder(settings: settings)
        let runs = (0..<60).map(Samples.run)
        try store.write { w in _ = try recorder.record(Array(runs.prefix(30)), in: w) }
        try store.write { w in
            var changed = runs
            for i in stride(from: 0, to: 60, by: 6) { changed[i].end = changed[i].submit + 7_200 }   // running ones end
            _ = try recorder.record(changed, in: w)
            try recorder.recordObservation(Samples.observation(0), in: w)
        }
        try store.read { r in
            let replayed = try UsageProjection.replay(r, settings: settings)
            #expect(replayed.events == (try r.eventCount()))
            #expect(try UsageProjection.load(from: r) == replayed.projection)
            #expect(!replayed.projection.closed.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oneHundredThousandEventsInBatchesOfTenThousand(kind: StoreKind) throws {
        let store = try kind.make().store
        let distinct = Samples.events(0..<100).map(EventCodec.encode)
        let clock = ContinuousClock()
        var next: UInt64 = 0
        let elapsed = try clock.measure {
            for batch in 0..<10 {
                let seqs = try store.write { w in
                    try (0..<10_000).map { i in try w.append(distinct[(batch * 10_000 + i) % 100]) }
                }
                #expect(seqs.first == next && seqs.last == next + 9_999)
                #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 + 1 == $1 })
                next += 10_000
            }
        }
        #expect(try store.count() == 100_000)
        let scanned = try store.read { r in
            var expected: UInt64 = 0
            var mismatches = 0
            try r.forEachEvent(from: 0) { seq, buf in
                if seq != expected || !buf.elementsEqual(distinct[Int(seq % 100)]) { mismatches += 1 }
                expected += 1
                return true
            }
            #expect(mismatches == 0)
            #expect(try r.event(at: 99_999) == Samples.event(99))
            return expected
        }
        #expect(scanned == 100_000)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("[\(kind)] 100k appends in 10 transactions: \(String(format: "%.3f", seconds)) s, \(Int(100_000 / seconds)) appends/s")
    }
}
