import CLMDB
import Foundation
import ReckonCore
@testable import ReckonLMDB
import Synchronization
import Testing

/// What only the LMDB store has: durability across reopening, the format guard, the map's
/// limits and growth, other readers of the same directory, and refusals of misuse.
@Suite("LMDBEventStore")
struct LMDBEventStoreTests {
    static let kib = 1 << 10
    static let mib = 1 << 20

    @Test func eventsAndTablesSurviveCloseAndReopen() throws {
        let dir = try TemporaryDirectory()
        let encoded = Samples.events(0..<50).map(EventCodec.encode)
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in
                for e in encoded { _ = try w.append(e) }
                for table in StoreTable.allCases { try w.put(Array(table.rawValue.utf8), in: table, key: [1, 2, 3]) }
            }
        }
        do {
            let store = try LMDBEventStore(directory: dir.path)
            #expect(try store.allEventBytes() == encoded)
            for table in StoreTable.allCases {
                #expect(try store.entries(table, prefix: [1, 2]) == [[1, 2, 3]: Array(table.rawValue.utf8)])
            }
            #expect(try store.write { w in try w.append(Samples.event(50)) } == 50)
        }
        let reopened = try LMDBEventStore(directory: dir.path)
        #expect(try reopened.count() == 51)
    }

    @Test func createsTheDirectoryAndItsParentsPrivately() throws {
        let dir = try TemporaryDirectory()
        let nested = dir.path + "/state/reckon"
        let store = try LMDBEventStore(directory: nested)
        _ = try store.write { w in try w.append(Samples.event(0)) }
        for path in [dir.path, dir.path + "/state", nested] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700, "\(path)")
        }
        #expect(FileManager.default.fileExists(atPath: nested + "/data.mdb"))
        #expect(store.fileSize > 0)
    }

    @Test func aFileWhereTheDirectoryShouldBeIsAnError() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let file = dir.path + "/not-a-dir"
        try Data([1]).write(to: URL(fileURLWithPath: file))
        #expect(throws: EventStoreError.storage(operation: "open \(file)", message: "it exists and is not a directory")) {
            _ = try LMDBEventStore(directory: file)
        }
    }

    @Test func aFreshStoreRecordsTheCurrentFormat() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        var expected = ByteWriter()
        expected.u32BE(EventCodec.formatVersion)
        #expect(try store.read { try $0.meta(ProjectionMeta.format) } == expected.bytes)
    }

    @Test func aStoreFromANewerReckonIsRefused() throws {
        let dir = try TemporaryDirectory()
        let newer = EventCodec.formatVersion + 1
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in
                try w.append(Samples.event(0))
                var b = ByteWriter()
                b.u32BE(newer)
                try w.setMeta(ProjectionMeta.format, b.bytes)
            }
        }
        let refusal = EventStoreError.newerFormat(path: dir.path, found: newer, supported: EventCodec.formatVersion)
        #expect(throws: refusal) { _ = try LMDBEventStore(directory: dir.path) }
        #expect(throws: refusal) { _ = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true)) }
        // Refusing touched nothing: the newer format is still there.
        #expect(throws: refusal) { _ = try LMDBEventStore(directory: dir.path) }
    }

    @Test func aMalformedFormatEntryIsCorrupt() throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBEventStore(directory: dir.path)
            try store.write { w in try w.setMeta(ProjectionMeta.format, [0, 1]) }
        }
        #expect(throws: EventStoreError.corrupt("\(dir.path): the format entry is 2 bytes, expected a 4-byte big-endian number")) {
            _ = try LMDBEventStore(directory: dir.path)
        }
    }

    @Test func aFullMapIsReportedKeepsWhatWasCommittedAndRecoversWithABiggerMap() throws {
        let dir = try TemporaryDirectory()
        let size = 256 * Self.kib
        var committed: [[UInt8]] = []
        do {
            let store = try LMDBEventStore(directory: dir.path,
                                           options: .init(initialMapSize: size, maxMapSize: size, growthStep: 64 * Self.kib))
            var failure: EventStoreError?
            for batch in 0..<1_000 {
                let encoded = Samples.events(batch * 50..<(batch + 1) * 50).map(EventCodec.encode)
                do {
                    try store.write { w in for e in encoded { _ = try w.append(e) } }
                    committed += encoded
                } catch let error as EventStoreError {
                    failure = error
                    break
                }
            }
            #expect(failure == .mapFull(path: dir.path, mapSize: size))
            #expect(committed.count > 500)
            #expect(try store.allEventBytes() == committed)
            // A small write may still fit; a big one fails the same way, committing nothing.
            let before = try store.count()
            #expect(throws: EventStoreError.mapFull(path: dir.path, mapSize: size)) {
                try store.write { w in for _ in 0..<5_000 { try w.append(Samples.event(1)) } }
            }
            #expect(try store.count() == before)
            committed = try store.allEventBytes()
        }
        let bigger = try LMDBEventStore(directory: dir.path, options: .init(initialMapSize: 4 * Self.mib, maxMapSize: 4 * Self.mib))
        #expect(try bigger.allEventBytes() == committed)
        let seqs = try bigger.write { w in try (0..<500).map { _ in try w.append(Samples.event(7)) } }
        #expect(seqs.first == UInt64(committed.count))
        #expect(try bigger.count() == UInt64(committed.count + 500))
        #expect(try bigger.stats().mapSize == 4 * Self.mib)
    }

    @Test func aSmallMapGrowsTransparentlyByRerunningTheWrite() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path,
                                       options: .init(initialMapSize: 128 * Self.kib, maxMapSize: 64 * Self.mib, growthStep: 256 * Self.kib))
        #expect(try store.stats().mapSize == 128 * Self.kib)
        let encoded = Samples.events(0..<100).map(EventCodec.encode)
        let runs = Mutex(0)
        for batch in 0..<4 {
            let seqs = try store.write { w in
                runs.withLock { $0 += 1 }
                try w.put([UInt8(batch)], in: .meta, key: Array("batch".utf8))
                return try (0..<5_000).map { i in try w.append(encoded[i % 100]) }
            }
            #expect(seqs.first == UInt64(batch * 5_000) && seqs.count == 5_000)
        }
        let stats = try store.stats()
        #expect(runs.withLock { $0 } > 4, "the write closure was re-run after the map grew")
        #expect(stats.mapSize > 128 * Self.kib)
        #expect(stats.mapSize <= 64 * Self.mib)
        #expect(stats.events == 20_000)
        #expect(stats.entries[.meta] == 2)   // format and batch
        #expect(try store.read { try $0.meta("batch") } == [3])
        let all = try store.allEventBytes()
        #expect(all.count == 20_000)
        #expect(all.enumerated().allSatisfy { $0.element == encoded[$0.offset % 5_000 % 100] })
    }

    @Test func aWriteThatSwallowsTheMapFullErrorIsStillGrownAndRerun() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path,
                                       options: .init(initialMapSize: 64 * Self.kib, maxMapSize: 16 * Self.mib, growthStep: 1 * Self.mib))
        let appended = try store.write { w in
            var n = 0
            for _ in 0..<3_000 {
                do { try w.append(Samples.event(3)); n += 1 } catch { break }   // gives up quietly
            }
            return n
        }
        #expect(appended == 3_000)
        #expect(try store.count() == 3_000)
    }

    @Test func concurrentWritersAndReadersStayConsistentWhileTheMapGrows() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path,
                                       options: .init(initialMapSize: 64 * Self.kib, maxMapSize: 64 * Self.mib, growthStep: 128 * Self.kib))
        let threads = 4, writes = 10, perWrite = 300
        let group = DispatchGroup()
        let failures = Mutex<[String]>([])
        for t in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    for _ in 0..<writes {
                        try store.write { w in
                            for _ in 0..<perWrite { _ = try w.append(EventCodec.encode(Samples.event(t))) }
                        }
                        let count = try store.read { r in
                            var n: UInt64 = 0
                            try r.forEachEvent(from: 0) { seq, _ in
                                if seq != n { throw EventStoreError.corrupt("gap at \(n)") }
                                n += 1
                                return true
                            }
                            return n == (try r.eventCount()) ? n : 0
                        }
                        if count == 0 || count % UInt64(perWrite) != 0 { failures.withLock { $0.append("snapshot of \(count) events") } }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        group.wait()
        #expect(failures.withLock { $0 } == [])
        #expect(try store.count() == UInt64(threads * writes * perWrite))
        #expect(try store.stats().mapSize > 64 * Self.kib)
    }

    @Test func aReadOnlyStoreSeesCommittedDataOnly() throws {
        let dir = try TemporaryDirectory()
        let writer = try LMDBEventStore(directory: dir.path)
        try writer.write { w in
            try w.append(Samples.event(0))
            try w.put([1], in: .usage, key: [1])
        }
        let reader = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        #expect(reader.isReadOnly)
        try writer.write { w in
            try w.append(Samples.event(1))
            try onAnotherThread {
                try reader.read { r throws in
                    #expect(try r.eventCount() == 1)
                    #expect(try r.event(at: 0) == Samples.event(0))
                    #expect(try r.value(in: .usage, key: [1]) == [1])
                }
            }
        }
        #expect(try reader.count() == 2)
        #expect(throws: EventStoreError.storage(operation: "write to \(dir.path)", message: "the store was opened read-only")) {
            try reader.write { w in try w.append(Samples.event(2)) }
        }
    }

    @Test func aReadOnlyStoreOpenedFirstServesReadersOnly() throws {
        let dir = try TemporaryDirectory()
        do { _ = try LMDBEventStore(directory: dir.path) }
        let reader = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        #expect(throws: EventStoreError.self) { _ = try LMDBEventStore(directory: dir.path) }
        #expect(try reader.count() == 0)
    }

    @Test func twoStoresOnOneDirectoryShareOneEnvironment() throws {
        let dir = try TemporaryDirectory()
        let a = try LMDBEventStore(directory: dir.path)
        let b = try LMDBEventStore(directory: dir.path + "/.")
        #expect(a.environment === b.environment)
        _ = try a.write { w in try w.append(Samples.event(0)) }
        #expect(try b.write { w in try w.append(Samples.event(1)) } == 1)
        #expect(try a.count() == 2)
    }

    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_load") != nil, "needs mdb_load (Debian lmdb-utils)"))
    func aReaderAdoptsAMapGrownByAnotherProcess() throws {
        let dir = try TemporaryDirectory()
        let small = 256 * Self.kib, grown = 8 * Self.mib
        do {
            let store = try LMDBEventStore(directory: dir.path, options: .init(initialMapSize: small, maxMapSize: small))
            try store.write { w in for e in Samples.events(0..<10) { try w.append(e) } }
        }
        let reader = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        #expect(try reader.stats().mapSize == small)
        // Another process writes far more than our map holds, growing the map as it goes.
        var dump = "VERSION=3\nformat=print\ntype=btree\nmapsize=\(grown)\nHEADER=END\n"
        for i in 0..<600 { dump += " key\(100_000 + i)\n \(String(repeating: "x", count: 1_000))\n" }
        dump += "DATA=END\n"
        let dumpFile = dir.path + "/extra.dump"
        try Data(dump.utf8).write(to: URL(fileURLWithPath: dumpFile))
        let (status, output) = try Self.run(try #require(Self.tool("mdb_load")), ["-s", "extra", "-f", dumpFile, dir.path])
        try #require(status == 0, "mdb_load: \(output)")
        #expect(try reader.count() == 10)
        #expect(try reader.stats().mapSize == grown)
    }

    @Test(.enabled(if: LMDBEventStoreTests.tool("mdb_stat") != nil, "needs mdb_stat (Debian lmdb-utils)"))
    func anotherProcessReadsCommittedDataWhileAWriteIsOpen() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        // Counted in a table: the log groups a write's events into blocks (LMDBEventBlockTests).
        try store.write { w in for i in 0..<7 { try w.put([UInt8(i)], in: .runs, key: [UInt8(i)]) } }
        let seen = try store.write { w in
            for i in 7..<20 { try w.put([UInt8(i)], in: .runs, key: [UInt8(i)]) }
            return try Self.entriesSeenByAnotherProcess(dir.path, database: StoreTable.runs.rawValue)
        }
        #expect(seen == 7)
        #expect(try Self.entriesSeenByAnotherProcess(dir.path, database: StoreTable.runs.rawValue) == 20)
    }

    /// The entry count of `database` as `mdb_stat`, a separate process, reads it.
    static func entriesSeenByAnotherProcess(_ dir: String, database: String) throws -> Int? {
        let (status, text) = try run(try #require(tool("mdb_stat")), ["-s", database, dir])
        #expect(status == 0, "mdb_stat: \(text)")
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Entries:") }) else { return nil }
        return Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
    }

    /// The path of one of LMDB's command-line tools, if installed.
    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` to completion: its exit status and its output (stdout and stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func openingReadOnlyWhereThereIsNoStoreNamesThePath() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: EventStoreError.self) {
            _ = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        }
        do {
            _ = try LMDBEventStore(directory: dir.path, options: .init(readOnly: true))
        } catch {
            #expect("\(error)".contains(dir.path))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path), "a read-only open creates nothing")
    }

    @Test func nestedWritesAreRefusedInsteadOfDeadlocking() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        let other = try LMDBEventStore(directory: dir.path)
        try store.write { w in
            try w.append(Samples.event(0))
            #expect(throws: EventStoreError.self) { try store.write { _ in } }
            #expect(throws: EventStoreError.self) { try other.write { _ in } }
            #expect(try store.read { try $0.eventCount() } == 0)   // a nested read is fine
        }
        _ = try store.read { _ throws in
            #expect(throws: EventStoreError.self) { try store.write { _ in } }
        }
        #expect(try store.write { w in try w.append(Samples.event(1)) } == 1)
    }

    @Test func aReaderOrWriterUsedAfterItsClosureThrows() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        let reader = try store.read { $0 }
        let writer = try store.write { $0 }
        #expect(throws: EventStoreError.self) { _ = try reader.eventCount() }
        #expect(throws: EventStoreError.self) { _ = try writer.append(Samples.event(0)) }
        #expect(throws: EventStoreError.self) { try reader.forEachEntry(in: .meta, prefix: []) { _, _ in true } }
        #expect(try store.count() == 0)
    }

    @Test func keysLongerThanLMDBAllowsAreRefusedClearly() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path)
        let long = [UInt8](repeating: 7, count: 512)
        #expect(throws: EventStoreError.storage(operation: "put into runs (\(dir.path))",
                                                message: "key of 512 bytes; LMDB keys hold at most 511")) {
            try store.write { w in try w.put([1], in: .runs, key: long) }
        }
        #expect(try store.read { try $0.value(in: .runs, key: long) } == nil)
        try store.write { w in try w.put([1], in: .runs, key: Array(long.prefix(511))) }
        #expect(try store.entries(.runs).count == 1)
    }

    @Test func statsCountEntriesPerTable() throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBEventStore(directory: dir.path, options: .init(initialMapSize: 8 * Self.mib))
        try store.write { w in
            for e in Samples.events(0..<10) { try w.append(e) }
            try w.put([1], in: .runs, key: [1])
            try w.put([1], in: .runs, key: [2])
            try w.put([1], in: .usage, key: [1])
        }
        let stats = try store.stats()
        #expect(stats.events == 10)
        #expect(stats.entries == [.runs: 2, .openRuns: 0, .usage: 1, .meta: 1])
        #expect(stats.mapSize == 8 * Self.mib)
        #expect(stats.pageSize == 4_096)
        #expect(stats.fileSize == store.fileSize && stats.fileSize >= stats.pagesUsed * stats.pageSize)
    }

    @Test func impossibleOptionsAreRefusedWithTheirValues() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: EventStoreError.storage(operation: "open \(dir.path)",
                                                message: "maxMapSize 1048576 is smaller than initialMapSize 2097152")) {
            _ = try LMDBEventStore(directory: dir.path, options: .init(initialMapSize: 2 * Self.mib, maxMapSize: Self.mib))
        }
        #expect(throws: EventStoreError.storage(operation: "open \(dir.path)", message: "growthStep must be positive, got 0")) {
            _ = try LMDBEventStore(directory: dir.path, options: .init(growthStep: 0))
        }
    }

    @Test func systemAndLMDBErrorsMapToActionableCases() {
        let path = "/var/lib/reckon"
        #expect(LMDBStatus.error(ENOSPC, operation: "commit", path: path, mapSize: 1) == .diskFull(path: path))
        #expect(LMDBStatus.error(EDQUOT, operation: "commit", path: path, mapSize: 1) == .diskFull(path: path))
        #expect(LMDBStatus.error(MDB_MAP_FULL, operation: "append", path: path, mapSize: 42) == .mapFull(path: path, mapSize: 42))
        #expect(LMDBStatus.error(MDB_CORRUPTED, operation: "read", path: path, mapSize: 1)
                == .corrupt("read on \(path) failed: MDB_CORRUPTED: Located page was wrong type"))
        #expect(LMDBStatus.error(EACCES, operation: "open the environment", path: path, mapSize: 1)
                == .storage(operation: "open the environment (\(path))", message: "Permission denied"))
    }
}
