import Foundation
import ReckonCore
@testable import ReckonLMDB
import Testing

/// The log's layout in the LMDB store (format 2, ``LMDBEventRecord``): a write's events go into
/// blocks, and every event reads back the same whether it is still pending in the writer,
/// committed in a block, alone in a record of its own, or in a record of a format-1 store.
@Suite("LMDB event blocks")
struct LMDBEventBlockTests {
    /// Events of every shape the layout treats apart: the common size, the varint boundary of
    /// a length (127/128 bytes), an event beginning with the block marker 0 (short, and too
    /// large for a block), an empty one, the largest that no block can hold beside its
    /// header (479 bytes: 2 + 2 + 479 > 482), and one spilling into overflow pages.
    static func shapes() -> [[UInt8]] {
        func event(_ n: Int, first: UInt8 = 1, fill: UInt8) -> [UInt8] {
            n == 0 ? [] : [first] + [UInt8](repeating: fill, count: n - 1)
        }
        var out: [[UInt8]] = []
        for i in 0..<7 { out.append(event(92, fill: UInt8(i))) }
        out.append(event(127, fill: 20))
        out.append(event(128, fill: 21))
        out.append(event(10, first: 0, fill: 22))
        out.append([])
        out.append(event(92, fill: 23))
        out.append(event(479, fill: 24))
        out.append(event(92, fill: 25))
        out.append(event(5_000, fill: 26))
        out.append(event(600, first: 0, fill: 27))
        for i in 0..<6 { out.append(event(92, fill: UInt8(30 + i))) }
        return out
    }

    /// Every event by its sequence number, and the log read from every start.
    static func expectReadsBack(_ r: any EventStoreReader, _ expected: [[UInt8]], _ note: String) throws {
        #expect(try r.eventCount() == UInt64(expected.count), "\(note)")
        for (i, e) in expected.enumerated() {
            #expect(try r.eventBytes(at: UInt64(i)) == e, "\(note): event \(i)")
            #expect(try r.withEventBytes(at: UInt64(i)) { Array($0) } == e, "\(note): event \(i) in place")
        }
        #expect(try r.eventBytes(at: UInt64(expected.count)) == nil, "\(note): past the end")
        for start in 0...expected.count {
            var seen: [[UInt8]] = []
            var sequences: [UInt64] = []
            try r.forEachEvent(from: UInt64(start)) { s, b in sequences.append(s); seen.append(Array(b)); return true }
            #expect(seen == Array(expected[start...]), "\(note): from \(start)")
            #expect(sequences == Array(UInt64(start)..<UInt64(expected.count)), "\(note): sequence numbers from \(start)")
        }
    }

    @Test func everyShapeOfEventReadsBackPendingCommittedAndReopened() throws {
        let dir = try TemporaryDirectory()
        let shapes = Self.shapes()
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in
                for (i, e) in shapes.enumerated() {
                    #expect(try w.append(e) == UInt64(i))
                    // The writer reads its own appends, pending or already put.
                    #expect(try w.eventBytes(at: UInt64(i)) == e, "pending \(i)")
                }
                try Self.expectReadsBack(w, shapes, "in the writing transaction")
                // Appends after the writer's reads keep their order.
                #expect(try w.append([1, 2, 3]) == UInt64(shapes.count))
            }
            try store.read { try Self.expectReadsBack($0, shapes + [[1, 2, 3]], "committed") }
        }
        let reopened = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        try reopened.read { try Self.expectReadsBack($0, shapes + [[1, 2, 3]], "reopened") }
    }

    /// 100 events of 92 bytes in one write: a block takes 5 (a header of 2 bytes, then 5 × (1 +
    /// 92) = 467 ≤ 482; a sixth would make 560), so the log holds 20 records, as another process
    /// (`mdb_stat`) counts them. A second write of 3 starts a block of its own: 21 records.
    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_stat") != nil, "needs mdb_stat (Debian lmdb-utils)"))
    func aWritesEventsAreGroupedIntoBlocks() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        let events = (0..<100).map { i in [UInt8(1)] + [UInt8](repeating: UInt8(i), count: 91) }
        try store.write { w in for e in events { _ = try w.append(e) } }
        #expect(try LMDBEventStoreTests.entriesSeenByAnotherProcess(dir.path, database: "events") == 20)
        try store.write { w in for e in events.prefix(3) { _ = try w.append(e) } }
        #expect(try LMDBEventStoreTests.entriesSeenByAnotherProcess(dir.path, database: "events") == 21)
        try store.read { try Self.expectReadsBack($0, events + events.prefix(3), "two writes") }
    }

    /// Loads `records` (key, value) into the database `name` with `mdb_load`, outside reckon.
    static func load(_ dir: String, _ name: String, _ records: [([UInt8], [UInt8])]) throws {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        var dump = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
        for (k, v) in records { dump += " \(hex(k))\n \(hex(v))\n" }
        dump += "DATA=END\n"
        let file = dir + "/\(name).dump"
        try Data(dump.utf8).write(to: URL(fileURLWithPath: file))
        let (status, output) = try LMDBEventStoreTests.run(try #require(LMDBEventStoreTests.tool("mdb_load")), ["-s", name, "-f", file, dir])
        try #require(status == 0, "mdb_load: \(output)")
    }

    static func key(_ sequence: UInt64) -> [UInt8] { withUnsafeBytes(of: sequence.bigEndian) { Array($0) } }

    /// A store as format 1 wrote it — one event per record, the format entry 1 — made with
    /// `mdb_load`: read as it is, raised to format 2 by a writable open, and appended to in
    /// blocks after its last record.
    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_load") != nil, "needs mdb_load (Debian lmdb-utils)"))
    func aFormatOneStoreIsReadAsItIsAndGrowsInBlocks() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let old = Samples.events(0..<12).map(EventCodec.encode)
        try Self.load(dir.path, "events", old.enumerated().map { (Self.key(UInt64($0.offset)), $0.element) })
        try Self.load(dir.path, StoreTable.meta.rawValue, [(Array(ProjectionMeta.format.utf8), [0, 0, 0, 1])])
        for table in [StoreTable.runs, .openRuns, .usage] { try Self.load(dir.path, table.rawValue, []) }
        do {
            let reader = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
            try reader.read { try Self.expectReadsBack($0, old, "format 1") }
            #expect(try reader.read { try $0.meta(ProjectionMeta.format) } == [0, 0, 0, 1])
        }
        let store = try LMDBEventStore(directory: dir.path)
        #expect(try store.read { try $0.meta(ProjectionMeta.format) } == [0, 0, 0, 2])
        let new = Samples.events(12..<40).map(EventCodec.encode)
        try store.write { w in for e in new { _ = try w.append(e) } }
        try store.read { try Self.expectReadsBack($0, old + new, "format 1, then blocks") }
    }

    /// A format-1 reckon that had the store open before it was raised counts the log as its
    /// last key + 1 and appends one event per record: with blocks keyed by their last event,
    /// its next record gets the right number and the log stays dense. (A record is put here
    /// with `mdb_load`, as that older writer would put it after a block of events 0–4.)
    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_load") != nil, "needs mdb_load (Debian lmdb-utils)"))
    func aFormatOneWriterAfterABlockKeepsTheLogDense() throws {
        let dir = try TemporaryDirectory()
        let events = (0..<5).map { i in [UInt8(1)] + [UInt8](repeating: UInt8(i), count: 91) }
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in for e in events { _ = try w.append(e) } }   // one block: 5 × 93 + 2 bytes
        }
        let older: [UInt8] = [1, 2, 3]
        try Self.load(dir.path, "events", [(Self.key(5), older)])   // what "last key + 1" gives: 5
        let store = try LMDBEventStore(directory: dir.path)
        try store.read { try Self.expectReadsBack($0, events + [older], "a format-1 append after a block") }
        #expect(try store.write { w in try w.append([4]) } == 6)
    }

    /// A block whose count promises more events than it holds, put there outside reckon.
    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_load") != nil, "needs mdb_load (Debian lmdb-utils)"))
    func aDamagedBlockIsReportedAsCorrupt() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in _ = try w.append(EventCodec.encode(Samples.event(0))) }
        }
        // A block keyed by its last event, 3, that says it holds 3 events (1, 2, 3) and holds two
        // 2-byte ones.
        try Self.load(dir.path, "events", [(Self.key(3), [0, 3, 2, 1, 1, 2, 1, 2])])
        let store = try LMDBEventStore(directory: dir.path)
        let message = "\(dir.path): the block of events ending at 3 is damaged (its count or a length does not fit it)"
        #expect(try store.count() == 4)
        #expect(try store.read { try $0.eventBytes(at: 1) } == [1, 1])
        #expect(try store.read { try $0.eventBytes(at: 2) } == [1, 2])
        #expect(throws: EventStoreError.corrupt(message)) { try store.read { r in _ = try r.eventBytes(at: 3) } }
        #expect(throws: EventStoreError.corrupt(message)) { _ = try store.allEventBytes() }
    }
}
